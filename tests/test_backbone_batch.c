/* Batch independence of the whole backbone: an image's features must be bit-identical whether it
 * is run alone or inside batches (and micro-batches) of other sizes, at any position. Every
 * kernel variant is chosen by (shape, device), never by batch size, and no kernel sums across
 * images (no split-K, no float atomics); this is what lets ranks and batch sizes change without
 * changing the numbers. Random images at an odd size (partial tiles everywhere). Also the
 * fine-tuning boundary activations (vkdp_backbone_forward_to), and calls left in flight
 * (vkdp_backbone_submit / _collect) against the synchronous forward.
 * usage: test_backbone_batch WEIGHTS.h5 [async]   (async: that check only, for the validation
 * layer) */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "effnet_host_top.h"
#include "harness.h"
#include "vkdp/model/backbone.h"
#include "vkdp/model/effnet.h"
#include "vkdp/vk/vk.h"

enum { N = 7, H = 83, W = 101, F = VKDP_EFFNET_FEATURES };

/* Features of images[first .. first+B) through a backbone whose micro-batch is at most max_batch,
 * each compared bit for bit with the image run alone. */
static int check(vkdp_device *dev, const vkdp_effnet *net, const float *images, const float *alone,
                 int first, int B, int max_batch)
{
    size_t px = (size_t)H * W * 3;
    float *got = vkdp_xmalloc((size_t)B * F * sizeof(float));
    vkdp_backbone *bb = vkdp_backbone_create(dev, net, H, W, max_batch);
    vkdp_backbone_forward(bb, images + (size_t)first * px, B, got);
    char what[128];
    snprintf(what, sizeof what, "images %d..%d in a batch of %d, micro-batch %llu", first,
             first + B - 1, B, (unsigned long long)vkdp_backbone_micro_batch(bb));
    const float *ref = alone + (size_t)first * F;
    size_t n = (size_t)B * F, bad = 0, at = 0;
    for (size_t i = 0; i < n; i++)
        if (memcmp(&got[i], &ref[i], sizeof(float)) && bad++ == 0)
            at = i;
    int ok = bad == 0;
    printf("%-4s %-56s bit-identical to alone: %zu of %zu features differ\n", ok ? "ok" : "FAIL",
           what, bad, n);
    if (!ok)
        printf("     first: image %zu feature %zu: %.9g alone, %.9g here\n", first + at / F, at % F,
               (double)ref[at], (double)got[at]);
    vkdp_backbone_destroy(bb);
    free(got);
    return ok;
}

/* vkdp_backbone_forward_to: top_conv's input (boundary 16) through the folded top_conv, swish and
 * the average on the host gives the whole forward's features; block6a's input (boundary 11) is
 * bit-identical in micro-batches of 3 and alone. */
static int check_boundary(vkdp_device *dev, const vkdp_effnet *net, const float *images, const float *alone)
{
    size_t px = (size_t)H * W * 3;
    vkdp_backbone *bb = vkdp_backbone_create(dev, net, H, W, 3), *one = vkdp_backbone_create(dev, net, H, W, 1);
    size_t nt = vkdp_backbone_boundary_floats(bb, 16), n6 = vkdp_backbone_boundary_floats(bb, 11);
    float *top = vkdp_xmalloc(N * nt * sizeof(float)), *pooled = vkdp_xmalloc(N * F * sizeof(float));
    float *b6 = vkdp_xmalloc(N * n6 * sizeof(float)), *b6one = vkdp_xmalloc(N * n6 * sizeof(float));
    vkdp_backbone_forward_to(bb, images, N, NULL, 16, top);
    effnet_host_top(net, top, N, nt / 320, pooled);
    int ok = test_check("forward_to(top_conv) + host top_conv/swish/GAP vs forward", pooled, alone, N * F, 1e-5);
    vkdp_backbone_forward_to(bb, images, N, NULL, 11, b6);
    for (int i = 0; i < N; i++)
        vkdp_backbone_forward_to(one, images + i * px, 1, NULL, 11, b6one + i * n6);
    int same = memcmp(b6, b6one, N * n6 * sizeof(float)) == 0, differ = memcmp(b6, b6 + n6, n6 * sizeof(float)) != 0;
    printf("%-4s forward_to(block6a): %zu floats per image, micro-batches of 3 bit-identical to alone, images differ\n",
           same && differ ? "ok" : "FAIL", n6);
    ok &= same && differ;
    vkdp_backbone_destroy(bb);
    vkdp_backbone_destroy(one);
    free(top), free(pooled), free(b6), free(b6one);
    return ok;
}

/* Bit for bit against the image alone; prints what; 1 when equal. */
static int same_as_alone(const char *what, const float *got, const float *alone, int first, int B)
{
    size_t n = (size_t)B * F, bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += memcmp(&got[i], &alone[(size_t)first * F + i], sizeof(float)) != 0;
    printf("%-4s %-72s %zu of %zu features differ from alone\n", bad ? "FAIL" : "ok", what, bad, n);
    return bad == 0;
}

/* Calls left in flight: three calls of 3, 2 and 2 images through a micro-batch of 2 (tiles 2+1,
 * 2, 2: up to two tiles running while the host submits the next), collected late and out of
 * step with the submissions, each image bit-identical to the image run alone synchronously;
 * then a call of 7 left in flight is collected by a synchronous forward_to. */
static int check_async(vkdp_device *dev, const vkdp_effnet *net, const float *images, const float *alone)
{
    size_t px = (size_t)H * W * 3;
    vkdp_backbone *bb = vkdp_backbone_create(dev, net, H, W, 2);
    float *got = vkdp_xmalloc(N * F * sizeof(float)), *b6 = vkdp_xmalloc(vkdp_backbone_boundary_floats(bb, 11) * sizeof(float));
    printf("     async depth %d (VKDP_TUNE async_depth)\n", vkdp_backbone_async_depth(bb));
    memset(got, 0xff, N * F * sizeof(float)); /* NaNs: a feature never written differs */
    uint64_t t1 = vkdp_backbone_submit(bb, images, 3, got);
    uint64_t t2 = vkdp_backbone_submit(bb, images + 3 * px, 2, got + 3 * F);
    vkdp_backbone_collect(bb, t1);
    int ok = same_as_alone("call 1 (3 images) collected while call 2 is in flight", got, alone, 0, 3);
    uint64_t t3 = vkdp_backbone_submit(bb, images + 5 * px, 2, got + 5 * F);
    CHECK(t1 < t2 && t2 < t3, "tickets increase (%llu, %llu, %llu)", (unsigned long long)t1,
          (unsigned long long)t2, (unsigned long long)t3);
    vkdp_backbone_collect(bb, t3); /* and call 2 before it */
    ok &= same_as_alone("calls of 3, 2, 2 images in flight together, collected late", got, alone, 0, N);
    memset(got, 0xff, N * F * sizeof(float));
    vkdp_backbone_submit(bb, images, N, got);
    vkdp_backbone_forward_to(bb, images, 1, NULL, 11, b6);
    ok &= same_as_alone("a call of 7 in flight, collected by a synchronous forward_to", got, alone, 0, N);
    vkdp_backbone_destroy(bb);
    free(got), free(b6);
    return ok;
}

int main(int argc, char **argv)
{
    int async_only = argc == 3 && !strcmp(argv[2], "async");
    if (argc != 2 && !async_only) {
        fprintf(stderr, "usage: %s WEIGHTS.h5 [async]\n", argv[0]);
        return 2;
    }
    vkdp_effnet net;
    char err[1024];
    if (vkdp_effnet_load(&net, argv[1], 0, 0, err, sizeof(err)) != 0) {
        fprintf(stderr, "test_backbone_batch: %s\n", err);
        return 1;
    }
    vkdp_device *dev = vkdp_device_create(NULL);
    size_t px = (size_t)H * W * 3;
    float *images = vkdp_xmalloc(N * px * sizeof(float)), *alone = vkdp_xmalloc(N * F * sizeof(float));
    test_fill_uniform(images, N * px, 91, 0.0f, 255.0f);
    vkdp_backbone *one = vkdp_backbone_create(dev, &net, H, W, 1);
    for (int i = 0; i < N; i++)
        vkdp_backbone_forward(one, images + i * px, 1, alone + (size_t)i * F);
    vkdp_backbone_destroy(one);
    /* the control: features that differ between images, so equality above means something */
    CHECK(memcmp(alone, alone + F, F * sizeof(float)) != 0, "images 0 and 1 give different features");

    int ok = check_async(dev, &net, images, alone);
    if (!async_only) {
        ok &= check(dev, &net, images, alone, 0, N, N); /* one micro-batch of 7 */
        ok &= check(dev, &net, images, alone, 0, N, 3); /* micro-batches of 3, 3, 1 */
        ok &= check(dev, &net, images, alone, 2, 4, 4); /* 4 images at other positions */
        ok &= check(dev, &net, images, alone, 1, 2, 2);
        ok &= check_boundary(dev, &net, images, alone);
    }
    vkdp_device_destroy(dev);
    vkdp_effnet_free(&net);
    free(images), free(alone);
    printf("%s\n", ok ? "backbone batch independence: all ok" : "backbone batch independence: FAILED");
    return ok && failures == 0 ? 0 : 1;
}
