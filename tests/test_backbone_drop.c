/* The frozen backbone's training forward with drop connect (vkdp_backbone_forward_train,
 * --drop-connect all): every residual block's output against the plain-C training forward of that
 * block (vkdp_block_forward_train, BN unfolded) on the device's own block input, with a pattern
 * of dropped and kept images; a dropped image's block output is its input, bit for bit; the pooled
 * features against the boundary before top_conv finished on the host; micro-batches bit-identical
 * to the image alone (what -np independence rests on); and the forward without scales, recorded
 * after the dropped ones, still the plain forward's bits.
 * usage: test_backbone_drop WEIGHTS.h5 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "effnet_host_top.h"
#include "harness.h"
#include "vkdp/model/backbone.h"
#include "vkdp/model/effnet.h"
#include "vkdp/model/effnet_grad.h"
#include "vkdp/vk/vk.h"

enum { N = 5, H = 83, W = 101, F = VKDP_EFFNET_FEATURES, NB = VKDP_EFFNET_BLOCKS };

/* Image s's scale in block b: dropped where (s + b) % 3 == 0, else 1/(1 - rate) at Keras' default
 * rate (vkdp_drop_connect_scale's kept value); every image is dropped somewhere, kept elsewhere. */
static float scale_of(int s, int b)
{
    return (s + b) % 3 == 0 ? 0.0f : vkdp_drop_connect_scale(vkdp_effnet_drop_rate(VKDP_EFFNET_DROP_CONNECT_RATE, b), 1);
}

/* The side of block b's input: the stem and every stride-2 block before b halve it, rounding up
 * (Keras' 'same' and correct_pad). */
static int side_in(const vkdp_effnet *net, int side, int b)
{
    side = (side + 1) / 2;
    for (int i = 0; i < b; i++)
        if (net->blocks[i].stride == 2)
            side = (side + 1) / 2;
    return side;
}

/* Every residual block: the device's output vs the C block on the device's input. */
static int check_blocks(vkdp_backbone *bb, const vkdp_effnet *net, const float *images, const float *drop)
{
    int ok = 1, nres = 0;
    for (int b = 0; b < NB; b++) {
        const vkdp_mbconv *a = &net->blocks[b];
        if (!a->has_residual)
            continue;
        nres++;
        size_t nin = vkdp_backbone_boundary_floats(bb, b), nout = vkdp_backbone_boundary_floats(bb, b + 1);
        float *x = vkdp_xmalloc(N * nin * sizeof(float)), *y = vkdp_xmalloc(N * nout * sizeof(float));
        float *ref = vkdp_xmalloc(N * nout * sizeof(float)), sc[N];
        vkdp_backbone_forward_train(bb, images, N, NULL, drop, b, x);
        vkdp_backbone_forward_train(bb, images, N, NULL, drop, b + 1, y);
        for (int s = 0; s < N; s++)
            sc[s] = drop[s * NB + b];
        vkdp_block_weights w;
        char err[512];
        CHECK(vkdp_block_weights_get(net, b, &w, err, sizeof err) == 0, "block %d weights: %s", b, err);
        vkdp_block_tape tape;
        int hs = side_in(net, H, b), ws = side_in(net, W, b);
        CHECK((size_t)hs * ws * a->in_ch == nin, "block %d input %dx%dx%d, backbone says %zu floats", b, hs, ws,
              a->in_ch, nin);
        vkdp_block_forward_train(&w, N, hs, ws, x, sc, &tape, ref);
        char what[96];
        snprintf(what, sizeof what, "block %d (residual) with drop connect vs C block", b);
        ok &= test_check(what, y, ref, N * nout, 1e-5);
        int same = 1, kept_differs = 1;
        for (int s = 0; s < N; s++) {
            int eq = memcmp(x + s * nin, y + s * nout, nin * sizeof(float)) == 0;
            if (sc[s] == 0.0f)
                same &= eq;
            else
                kept_differs &= !eq;
        }
        printf("%-4s block %d: dropped images' output is their input bit for bit, kept images' is not\n",
               same && kept_differs ? "ok" : "FAIL", b);
        ok &= same && kept_differs;
        vkdp_block_tape_free(&tape);
        vkdp_block_weights_free(&w);
        free(x), free(y), free(ref);
    }
    CHECK(nres == 9, "EfficientNetB0 has 9 residual blocks, found %d", nres);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s WEIGHTS.h5\n", argv[0]);
        return 2;
    }
    vkdp_effnet net;
    char err[1024];
    if (vkdp_effnet_load(&net, argv[1], 0, 0, err, sizeof(err)) != 0) {
        fprintf(stderr, "test_backbone_drop: %s\n", err);
        return 1;
    }
    vkdp_device *dev = vkdp_device_create(NULL);
    size_t px = (size_t)H * W * 3;
    float *images = vkdp_xmalloc(N * px * sizeof(float)), drop[N * NB];
    test_fill_uniform(images, N * px, 17, 0.0f, 255.0f);
    for (int s = 0; s < N; s++)
        for (int b = 0; b < NB; b++)
            drop[s * NB + b] = scale_of(s, b);
    vkdp_backbone *bb = vkdp_backbone_create(dev, &net, H, W, 2), *one = vkdp_backbone_create(dev, &net, H, W, 1);
    /* the plain forward first, so that a dropped recording cannot be mistaken for it below */
    float *plain = vkdp_xmalloc(N * F * sizeof(float)), *again = vkdp_xmalloc(N * F * sizeof(float));
    float *got = vkdp_xmalloc(N * F * sizeof(float)), *alone = vkdp_xmalloc(N * F * sizeof(float));
    vkdp_backbone_forward(bb, images, N, plain);

    int ok = check_blocks(bb, &net, images, drop);

    /* the whole forward: pooled features vs the boundary before top_conv, finished on the host */
    size_t nt = vkdp_backbone_boundary_floats(bb, 16);
    float *top = vkdp_xmalloc(N * nt * sizeof(float)), *pooled = vkdp_xmalloc(N * F * sizeof(float));
    vkdp_backbone_forward_train(bb, images, N, NULL, drop, 16, top);
    effnet_host_top(&net, top, N, nt / 320, pooled);
    vkdp_backbone_forward_train(bb, images, N, NULL, drop, -1, got);
    ok &= test_check("pooled with drop connect vs its top_conv input + host top", got, pooled, N * F, 1e-5);
    int differ = 1;
    for (int s = 0; s < N; s++)
        differ &= memcmp(got + s * F, plain + s * F, F * sizeof(float)) != 0;
    printf("%-4s every image's features differ from the forward without drop connect\n", differ ? "ok" : "FAIL");
    ok &= differ;

    /* micro-batches of 2, 2, 1 vs each image alone with its own scales */
    for (int s = 0; s < N; s++)
        vkdp_backbone_forward_train(one, images + s * px, 1, NULL, drop + s * NB, -1, alone + (size_t)s * F);
    int same = memcmp(got, alone, N * F * sizeof(float)) == 0;
    printf("%-4s dropped forward in micro-batches of 2 bit-identical to each image alone\n", same ? "ok" : "FAIL");
    ok &= same;

    /* the plain forward again, its recording looked up after the dropped ones were made */
    vkdp_backbone_forward_train(bb, images, N, NULL, NULL, -1, again);
    same = memcmp(again, plain, N * F * sizeof(float)) == 0;
    printf("%-4s forward_train without scales bit-identical to the plain forward\n", same ? "ok" : "FAIL");
    ok &= same;

    vkdp_backbone_destroy(bb);
    vkdp_backbone_destroy(one);
    vkdp_device_destroy(dev);
    vkdp_effnet_free(&net);
    free(images), free(plain), free(again), free(got), free(alone), free(top), free(pooled);
    printf("%s\n", ok ? "backbone drop connect: all ok" : "backbone drop connect: FAILED");
    return ok && failures == 0 ? 0 : 1;
}
