/* Writes what tests/ref/head_keras_ref.py needs to replay a few training steps of the head
 * independently (torch autograd in float64, Keras' formulas): the initial kernel, each step's
 * batch, labels and dropout mask, each step's loss, the tensors after every step and the
 * held-out probabilities at the end. Raw little-endian arrays in DIR.
 * usage: test_head_dump DIR [--ref] */
#include <stdlib.h>

#include "harness.h"
#include "vkdp/model/head.h"
#include "vkdp/ops/head_ref.h"

enum { F = 96, C = 5, B = 24, STEPS = 4, NVAL = 10 };

static void dump(const char *dir, const char *name, const void *p, size_t bytes)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, bytes, f) != bytes || fclose(f) != 0)
        VKDP_FATAL("cannot write %s: %s", path, vkdp_errno_str());
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "--ref")))
        VKDP_FATAL("usage: test_head_dump DIR [--ref]");
    const char *dir = argv[1];
    vkdp_device *dev = argc == 3 ? NULL : vkdp_device_create(NULL);
    vkdp_head_cfg cfg;
    vkdp_head_cfg_default(&cfg);
    cfg.feat_dim = F;
    cfg.nclasses = C;
    cfg.seed = 99;
    vkdp_head *h = vkdp_head_create(dev, &cfg);
    int ntensors = vkdp_head_tensor_count(h);
    float *kernel = vkdp_xmalloc((size_t)F * C * 4);
    vkdp_head_tensor_get(h, vkdp_head_tensor_find(h, "pred/pred/kernel:0"), kernel);
    dump(dir, "kernel0.f32", kernel, (size_t)F * C * 4);

    float *x = vkdp_xmalloc((size_t)STEPS * B * F * 4);
    int *y = vkdp_xmalloc((size_t)STEPS * B * sizeof(int));
    unsigned char *keep = vkdp_xmalloc((size_t)STEPS * B * F);
    double loss[STEPS];
    test_fill_uniform(x, (size_t)STEPS * B * F, 5, -1.0f, 3.0f);
    test_rng r = {6};
    for (int i = 0; i < STEPS * B; i++)
        y[i] = (int)(test_rng_u64(&r) % C);
    for (int s = 0; s < STEPS; s++) {
        int epoch = s / 2;
        int64_t pos[B];
        for (int i = 0; i < B; i++)
            pos[i] = (s % 2) * B + i;
        vkdp_dropout_key k = {cfg.seed, (uint32_t)epoch, 1, (float)cfg.dropout, 1.25f};
        for (int i = 0; i < B; i++)
            for (int j = 0; j < F; j++)
                keep[((size_t)s * B + i) * F + j] =
                    (unsigned char)vkdp_dropout_keep(&k, (uint64_t)pos[i], (uint32_t)j);
        vkdp_head_result res;
        vkdp_head_train_step(h, x + (size_t)s * B * F, y + s * B, pos, B, B, epoch, &res);
        loss[s] = res.loss_sum / res.count;
        for (int t = 0; t < ntensors; t++) {
            vkdp_head_tensor d;
            vkdp_head_tensor_desc(h, t, &d);
            float *buf = vkdp_xmalloc((size_t)d.size * 4);
            vkdp_head_tensor_get(h, t, buf);
            char name[64];
            snprintf(name, sizeof name, "step%d_t%02d.f32", s, t);
            dump(dir, name, buf, (size_t)d.size * 4);
            free(buf);
        }
    }
    float *xv = vkdp_xmalloc((size_t)NVAL * F * 4), *probs = vkdp_xmalloc((size_t)NVAL * C * 4);
    test_fill_uniform(xv, (size_t)NVAL * F, 7, -1.0f, 3.0f);
    vkdp_head_evaluate(h, xv, NULL, NVAL, NULL, probs);
    dump(dir, "x.f32", x, (size_t)STEPS * B * F * 4);
    dump(dir, "y.i32", y, (size_t)STEPS * B * sizeof(int));
    dump(dir, "keep.u8", keep, (size_t)STEPS * B * F);
    dump(dir, "loss.f64", loss, sizeof loss);
    dump(dir, "xval.f32", xv, (size_t)NVAL * F * 4);
    dump(dir, "probs.f32", probs, (size_t)NVAL * C * 4);
    char meta[256];
    int len = snprintf(meta, sizeof meta, "%d %d %d %d %d %d\n", F, C, B, STEPS, NVAL, ntensors);
    dump(dir, "meta.txt", meta, (size_t)len);
    free(kernel); free(x); free(y); free(keep); free(xv); free(probs);
    vkdp_head_destroy(h);
    if (dev)
        vkdp_device_destroy(dev);
    return 0;
}
