/* The plain-C EfficientNetB0 forward vs the independent PyTorch reference (tests/ref/effnet_torch.py,
 * float64, unfolded BN) on identical inputs made by tests/ref/make_effnet_inputs.py.
 * usage: test_effnet_ref WEIGHTS.h5 DIR */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "vkdp/core/common.h"
#include "vkdp/model/effnet.h"

static float *read_f32(const char *path, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        VKDP_FATAL("cannot open %s: %s (run the effnet_ref_inputs fixture first)", path, vkdp_errno_str());
    float *p = vkdp_xmalloc(n * sizeof *p);
    size_t got = fread(p, sizeof *p, n, f);
    int extra = fgetc(f) != EOF;
    fclose(f);
    if (got != n || extra)
        VKDP_FATAL("%s: expected exactly %zu floats", path, n);
    return p;
}

static void write_f32(const char *path, const float *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, sizeof *p, n, f) != n || fclose(f) != 0)
        VKDP_FATAL("cannot write %s: %s", path, vkdp_errno_str());
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s WEIGHTS.h5 DIR\n", argv[0]);
        return 2;
    }
    static const struct {
        const char *name;
        int B, H, W;
    } cases[] = {{"flowers224", 8, 224, 224}, {"odd189x162", 2, 189, 162}};

    char err[1024];
    vkdp_effnet net;
    if (vkdp_effnet_load(&net, argv[1], 0, 0, err, sizeof err)) {
        fprintf(stderr, "FAIL %s\n", err);
        return 1;
    }
    int ok = 1;
    for (size_t i = 0; i < VKDP_ARRAY_LEN(cases); i++) {
        char path[4200];
        size_t nin = (size_t)cases[i].B * cases[i].H * cases[i].W * 3;
        size_t nout = (size_t)cases[i].B * VKDP_EFFNET_FEATURES;
        snprintf(path, sizeof path, "%s/%s.images.f32", argv[2], cases[i].name);
        float *images = read_f32(path, nin);
        float *feats = vkdp_xmalloc(nout * sizeof *feats);
        double t0 = vkdp_now();
        vkdp_effnet_forward_ref(&net, images, cases[i].B, cases[i].H, cases[i].W, feats);
        double dt = vkdp_now() - t0;
        snprintf(path, sizeof path, "%s/%s.c.f32", argv[2], cases[i].name);
        write_f32(path, feats, nout);
        snprintf(path, sizeof path, "%s/%s.torch.f32", argv[2], cases[i].name);
        float *ref = read_f32(path, nout);

        /* criterion: relative L2 over all features; the normwise max error is reported too */
        test_err e = test_compare(feats, ref, nout);
        int pass = e.nonfinite == 0 && e.l2_rel <= 1e-4;
        printf("%-4s effnet ref vs torch %-12s %dx%dx%d: l2_rel=%.3e (tol 1e-4) max_abs=%.3e max_ref=%.3e "
               "rel=%.3e, %.1f s\n",
               pass ? "ok" : "FAIL", cases[i].name, cases[i].B, cases[i].H, cases[i].W, e.l2_rel, e.max_abs,
               e.max_ref, e.rel, dt);
        ok &= pass;
        free(ref);
        free(feats);
        free(images);
    }
    vkdp_effnet_free(&net);
    return ok ? 0 : 1;
}
