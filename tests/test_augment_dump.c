/* Dumps the augmentation reference's results for tests/ref/augment_ref.py to compare with NumPy.
 *   test_augment_dump images IN.f32 N H W PARAMS.f32 NP OUT.f32
 *     IN [N,H,W,3], PARAMS [NP,6] (angle, dy, dx, flip_h, flip_v, contrast) ->
 *     OUT [N,NP,4,H,W,3]: after rotation, translation, flip, contrast (the last checked
 *     bit-identical to vkdp_augment_image).
 *   test_augment_dump draw SEED EPOCH GPOS0 COUNT H W FLIP OUT.f32
 *     OUT [COUNT,6]: vkdp_augment_draw for gpos GPOS0.., the default factors and flip mode FLIP
 *     (0 none, 1 horizontal, 2 vertical, 3 both). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "f32_io.h"
#include "vkdp/core/common.h"
#include "vkdp/ops/augment_ref.h"

static long num(const char *what, const char *s, long lo, long hi)
{
    long v;
    if (vkdp_parse_long("test_augment_dump", what, s, lo, hi, &v))
        exit(2);
    return v;
}

static int dump_images(char **a)
{
    const int N = (int)num("N", a[1], 1, 64), NP = (int)num("NP", a[5], 1, 64);
    const int H = (int)num("H", a[2], 1, 4096), W = (int)num("W", a[3], 1, 4096);
    const size_t img = (size_t)H * W * 3;
    float *in = f32_read(a[0], (size_t)N * img), *par = f32_read(a[4], (size_t)NP * 6);
    float *out = vkdp_xmalloc((size_t)N * NP * 4 * img * sizeof *out);
    float *whole = vkdp_xmalloc(img * sizeof *whole), *scratch = vkdp_xmalloc(img * sizeof *scratch);
    int ok = 1;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < NP; j++) {
            const float *q = par + (size_t)j * 6, *src = in + (size_t)i * img;
            vkdp_augment_params p = {q[0], q[1], q[2], q[3] != 0.0f, q[4] != 0.0f, q[5]};
            float *st = out + ((size_t)i * NP + j) * 4 * img, t[8];
            vkdp_augment_rotation_matrix(p.angle, H, W, t);
            vkdp_augment_transform(t, H, W, 3, src, st);
            vkdp_augment_translation_matrix(p.dy, p.dx, t);
            vkdp_augment_transform(t, H, W, 3, st, st + img);
            vkdp_augment_flip(p.flip_h, p.flip_v, H, W, 3, st + img, st + 2 * img);
            vkdp_augment_contrast(p.contrast, H, W, 3, st + 2 * img, st + 3 * img);
            vkdp_augment_image(&p, H, W, 3, src, whole, scratch);
            if (memcmp(whole, st + 3 * img, img * sizeof *whole)) {
                fprintf(stderr, "FAIL image %d params %d: vkdp_augment_image differs from its pieces\n", i,
                        j);
                ok = 0;
            }
        }
    f32_write(a[6], out, (size_t)N * NP * 4 * img);
    free(in), free(par), free(out), free(whole), free(scratch);
    return ok ? 0 : 1;
}

static int dump_draws(char **a)
{
    char *end;
    errno = 0;
    unsigned long long seed = strtoull(a[0], &end, 10);
    if (errno || *end || end == a[0])
        VKDP_FATAL("SEED '%s' is not an unsigned 64-bit integer", a[0]);
    const long epoch = num("EPOCH", a[1], 0, 0xffffffffL), gpos0 = num("GPOS0", a[2], 0, 1L << 40);
    const long count = num("COUNT", a[3], 1, 1L << 20);
    const long H = num("H", a[4], 1, 4096), W = num("W", a[5], 1, 4096);
    vkdp_augment_cfg cfg = vkdp_augment_default_cfg();
    cfg.flip = (vkdp_flip_mode)num("FLIP", a[6], 0, 3);
    float *out = vkdp_xmalloc((size_t)count * 6 * sizeof *out);
    for (long i = 0; i < count; i++) {
        vkdp_augment_params p;
        vkdp_augment_draw(&cfg, seed, (uint32_t)epoch, (uint64_t)(gpos0 + i), (int)H, (int)W, &p);
        float row[6] = {p.angle, p.dy, p.dx, (float)p.flip_h, (float)p.flip_v, p.contrast};
        memcpy(out + i * 6, row, sizeof row);
    }
    f32_write(a[7], out, (size_t)count * 6);
    free(out);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 9 && !strcmp(argv[1], "images"))
        return dump_images(argv + 2);
    if (argc == 10 && !strcmp(argv[1], "draw"))
        return dump_draws(argv + 2);
    fprintf(stderr, "usage: %s images IN.f32 N H W PARAMS.f32 NP OUT.f32\n"
                    "       %s draw SEED EPOCH GPOS0 COUNT H W FLIP OUT.f32\n", argv[0], argv[0]);
    return 2;
}
