/* conv2d_1x1 shader vs plain-C reference on seeded random inputs, on the backbone's real shapes
 * and on sizes that are not multiples of the 8x8 tile (scalar path), with every fused option. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vkdp/ops/ops.h"

typedef struct {
    uint32_t M, K, N;
    vkdp_act act;
    int res, scale;
    uint32_t rpg;
} shape;

static int run(vkdp_device *dev, vkdp_cmd *cmd, const shape *s, uint64_t seed)
{
    size_t nx = (size_t)s->M * s->K, nw = (size_t)s->K * s->N, ny = (size_t)s->M * s->N;
    size_t groups = s->scale ? (s->M + s->rpg - 1) / s->rpg : 1;
    float *x = vkdp_xmalloc(nx * 4), *w = vkdp_xmalloc(nw * 4), *b = vkdp_xmalloc(s->N * 4);
    float *r = vkdp_xmalloc(ny * 4), *sc = vkdp_xmalloc(groups * s->K * 4);
    float *ref = vkdp_xmalloc(ny * 4), *got = vkdp_xmalloc(ny * 4);
    test_fill_uniform(x, nx, seed, -1, 1);
    test_fill_uniform(w, nw, seed + 1, -0.5f, 0.5f);
    test_fill_uniform(b, s->N, seed + 2, -1, 1);
    test_fill_uniform(r, ny, seed + 3, -1, 1);
    test_fill_uniform(sc, groups * s->K, seed + 4, 0, 1);

    vkdp_buf *bx = vkdp_buf_create(dev, nx * 4, "x"), *bw = vkdp_buf_create(dev, nw * 4, "w");
    vkdp_buf *bb = vkdp_buf_create(dev, s->N * 4, "b"), *by = vkdp_buf_create(dev, ny * 4, "y");
    vkdp_buf *br = vkdp_buf_create(dev, ny * 4, "r"), *bs = vkdp_buf_create(dev, groups * s->K * 4, "s");
    vkdp_buf_upload(bx, 0, x, nx * 4);
    vkdp_buf_upload(bw, 0, w, nw * 4);
    vkdp_buf_upload(bb, 0, b, s->N * 4);
    vkdp_buf_upload(br, 0, r, ny * 4);
    vkdp_buf_upload(bs, 0, sc, groups * s->K * 4);
    memset(got, 0xff, ny * 4); /* NaN: unwritten outputs fail the check */
    vkdp_buf_upload(by, 0, got, ny * 4);

    vkdp_conv1x1_args a = {
        .M = s->M, .K = s->K, .N = s->N, .act = s->act,
        .x = vkdp_whole(bx), .w = vkdp_whole(bw), .bias = vkdp_whole(bb), .y = vkdp_whole(by),
        .residual = s->res ? vkdp_whole(br) : (vkdp_view){0},
        .row_scale = s->scale ? vkdp_whole(bs) : (vkdp_view){0},
        .rows_per_group = s->rpg,
    };
    vkdp_cmd_begin(cmd);
    vkdp_op_conv1x1(cmd, dev, &a, "conv1x1");
    vkdp_cmd_end(cmd);
    vkdp_cmd_submit(cmd);
    vkdp_buf_download(by, 0, got, ny * 4);
    vkdp_ref_conv1x1(s->M, s->K, s->N, s->act, x, w, b, s->res ? r : NULL, s->scale ? sc : NULL, s->rpg, ref);

    char what[128];
    snprintf(what, sizeof what, "conv1x1 M=%u K=%u N=%u act=%d res=%d scale=%d", s->M, s->K, s->N, s->act,
             s->res, s->scale);
    int ok = test_check(what, got, ref, ny, 1e-5);
    vkdp_buf_destroy(bx); vkdp_buf_destroy(bw); vkdp_buf_destroy(bb);
    vkdp_buf_destroy(by); vkdp_buf_destroy(br); vkdp_buf_destroy(bs);
    free(x); free(w); free(b); free(r); free(sc); free(ref); free(got);
    return ok;
}

int main(void)
{
    vkdp_device *dev = vkdp_device_create(NULL);
    vkdp_cmd *cmd = vkdp_cmd_create(dev);
    const shape shapes[] = {
        {100352, 32, 16, VKDP_ACT_NONE, 0, 0, 0},
        {25088, 24, 144, VKDP_ACT_SWISH, 0, 0, 0},
        {1568, 112, 672, VKDP_ACT_SWISH, 0, 0, 0},
        {392, 320, 1280, VKDP_ACT_SWISH, 0, 0, 0},
        {1001, 37, 23, VKDP_ACT_NONE, 0, 0, 0},
        {1001, 37, 23, VKDP_ACT_SIGMOID, 1, 1, 49},
        {98, 672, 112, VKDP_ACT_NONE, 1, 1, 49},    /* project conv with SE gate + residual, 2 images */
        {3, 5, 1, VKDP_ACT_SWISH, 0, 0, 0},
        {17, 12, 20, VKDP_ACT_NONE, 1, 1, 7},      /* vec4 path, N % 8 == 4 */
    };
    int fails = 0;
    for (size_t i = 0; i < VKDP_ARRAY_LEN(shapes); i++)
        fails += !run(dev, cmd, &shapes[i], 1000 + i);
    vkdp_cmd_destroy(cmd);
    vkdp_device_destroy(dev);
    printf("%zu passed, %d failed\n", VKDP_ARRAY_LEN(shapes) - (size_t)fails, fails);
    return fails ? 1 : 0;
}
