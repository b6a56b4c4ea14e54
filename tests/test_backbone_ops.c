/* Backbone ops (stem, depthwise conv, global average pool, SE excitation): each shader against
 * its plain-C reference on seeded random inputs, with odd spatial sizes, channel counts that are
 * not multiples of 4 or 8, and batch > 1. */
#include <stdlib.h>

#include "harness.h"
#include "vkdp/ops/backbone_ops.h"
#include "vkdp/model/effnet.h"
#include "vkdp/vk/vk.h"

static vkdp_buf *upload(vkdp_device *dev, const float *x, size_t n, const char *name)
{
    vkdp_buf *b = vkdp_buf_create(dev, n * sizeof(float), name);
    vkdp_buf_upload(b, 0, x, n * sizeof(float));
    return b;
}

static float *random_array(size_t n, uint64_t seed, float lo, float hi)
{
    float *x = vkdp_xmalloc(n * sizeof(float));
    test_fill_uniform(x, n, seed, lo, hi);
    return x;
}

static int test_stem(vkdp_device *dev, vkdp_cmd *cmd, uint32_t B, uint32_t H, uint32_t W)
{
    uint32_t Ho = (uint32_t)vkdp_conv_out_side((int)H, 3, 2);
    uint32_t Wo = (uint32_t)vkdp_conv_out_side((int)W, 3, 2);
    size_t nx = (size_t)B * H * W * 3, ny = (size_t)B * Ho * Wo * 32;
    float scale[3] = {1.0f / 58.4f, 1.0f / 57.1f, 1.0f / 57.4f};
    float shift[3] = {-2.1f, -2.0f, -1.8f};
    float *x = random_array(nx, 1000 + H, 0.0f, 255.0f);
    float *w = random_array(27 * 32, 1001, -0.5f, 0.5f);
    float *bias = random_array(32, 1002, -0.5f, 0.5f);
    float *ref = vkdp_xmalloc(ny * sizeof(float)), *got = vkdp_xmalloc(ny * sizeof(float));
    vkdp_buf *bx = upload(dev, x, nx, "x"), *bw = upload(dev, w, 27 * 32, "w");
    vkdp_buf *bb = upload(dev, bias, 32, "b"), *by = vkdp_buf_create(dev, ny * 4, "y");

    vkdp_cmd_begin(cmd);
    vkdp_op_stem(cmd, dev, B, H, W, scale, shift, vkdp_whole(bx), vkdp_whole(bw), vkdp_whole(bb),
                 vkdp_whole(by), NULL);
    vkdp_cmd_end(cmd);
    vkdp_cmd_submit(cmd);
    vkdp_buf_download(by, 0, got, ny * 4);
    vkdp_ref_stem(B, H, W, scale, shift, x, w, bias, ref);

    char what[96];
    snprintf(what, sizeof(what), "stem B=%u %ux%u -> %ux%u", B, H, W, Ho, Wo);
    int ok = test_check(what, got, ref, ny, 1e-5);
    vkdp_buf_destroy(bx), vkdp_buf_destroy(bw), vkdp_buf_destroy(bb), vkdp_buf_destroy(by);
    free(x), free(w), free(bias), free(ref), free(got);
    return ok;
}

static int test_dwconv(vkdp_device *dev, vkdp_cmd *cmd, uint32_t B, uint32_t H, uint32_t W,
                       uint32_t C, uint32_t k, uint32_t s)
{
    uint32_t Ho = (uint32_t)vkdp_conv_out_side((int)H, (int)k, (int)s);
    uint32_t Wo = (uint32_t)vkdp_conv_out_side((int)W, (int)k, (int)s);
    size_t nx = (size_t)B * H * W * C, ny = (size_t)B * Ho * Wo * C, nw = (size_t)k * k * C;
    uint64_t seed = 2000 + H * 131 + W * 7 + C + k * 3 + s;
    float *x = random_array(nx, seed, -3.0f, 3.0f);
    float *w = random_array(nw, seed + 1, -0.5f, 0.5f);
    float *bias = random_array(C, seed + 2, -0.5f, 0.5f);
    float *ref = vkdp_xmalloc(ny * sizeof(float)), *got = vkdp_xmalloc(ny * sizeof(float));
    vkdp_buf *bx = upload(dev, x, nx, "x"), *bw = upload(dev, w, nw, "w");
    vkdp_buf *bb = upload(dev, bias, C, "b"), *by = vkdp_buf_create(dev, ny * 4, "y");
    uint32_t tiles = vkdp_dwconv_tiles(H, W, k, s);
    vkdp_buf *bpart = vkdp_buf_create(dev, (size_t)B * tiles * C * 4, "part");
    vkdp_buf *bpool = vkdp_buf_create(dev, (size_t)B * C * 4, "pool");

    /* the fused squeeze: tile sums, then their average */
    vkdp_cmd_begin(cmd);
    vkdp_op_dwconv(cmd, dev, B, H, W, C, k, s, vkdp_whole(bx), vkdp_whole(bw), vkdp_whole(bb),
                   vkdp_whole(by), vkdp_whole(bpart), NULL);
    vkdp_op_gap(cmd, dev, B, tiles, C, Ho * Wo, vkdp_whole(bpart), vkdp_whole(bpool), NULL);
    vkdp_cmd_end(cmd);
    vkdp_cmd_submit(cmd);
    vkdp_buf_download(by, 0, got, ny * 4);
    vkdp_ref_dwconv(B, H, W, C, k, s, x, w, bias, ref);

    char what[96];
    snprintf(what, sizeof(what), "dwconv%ux%u_s%u B=%u %ux%ux%u -> %ux%u", k, k, s, B, H, W, C,
             Ho, Wo);
    int ok = test_check(what, got, ref, ny, 1e-5);

    float *pool = vkdp_xmalloc((size_t)B * C * 4), *pool_ref = vkdp_xmalloc((size_t)B * C * 4);
    vkdp_buf_download(bpool, 0, pool, (size_t)B * C * 4);
    vkdp_ref_gap(B, Ho * Wo, C, ref, pool_ref);
    snprintf(what, sizeof(what), "  + squeeze of its %u tile sums", tiles);
    ok &= test_check(what, pool, pool_ref, (size_t)B * C, 1e-5);

    vkdp_buf_destroy(bx), vkdp_buf_destroy(bw), vkdp_buf_destroy(bb), vkdp_buf_destroy(by);
    vkdp_buf_destroy(bpart), vkdp_buf_destroy(bpool);
    free(x), free(w), free(bias), free(ref), free(got), free(pool), free(pool_ref);
    return ok;
}

static int test_gap(vkdp_device *dev, vkdp_cmd *cmd, uint32_t B, uint32_t HW, uint32_t C)
{
    size_t nx = (size_t)B * HW * C, ny = (size_t)B * C;
    float *x = random_array(nx, 3000 + HW + C, -2.0f, 4.0f);
    float *ref = vkdp_xmalloc(ny * sizeof(float)), *got = vkdp_xmalloc(ny * sizeof(float));
    vkdp_buf *bx = upload(dev, x, nx, "x"), *by = vkdp_buf_create(dev, ny * 4, "y");

    vkdp_cmd_begin(cmd);
    vkdp_op_gap(cmd, dev, B, HW, C, HW, vkdp_whole(bx), vkdp_whole(by), NULL);
    vkdp_cmd_end(cmd);
    vkdp_cmd_submit(cmd);
    vkdp_buf_download(by, 0, got, ny * 4);
    vkdp_ref_gap(B, HW, C, x, ref);

    char what[96];
    snprintf(what, sizeof(what), "gap B=%u HW=%u C=%u", B, HW, C);
    /* float accumulation over up to 112*112 terms against a double reference */
    int ok = test_check(what, got, ref, ny, 1e-4);
    vkdp_buf_destroy(bx), vkdp_buf_destroy(by);
    free(x), free(ref), free(got);
    return ok;
}

static int test_se(vkdp_device *dev, vkdp_cmd *cmd, uint32_t B, uint32_t C, uint32_t se, double tol)
{
    uint64_t seed = 4000 + C * 3 + se;
    float *pool = random_array((size_t)B * C, seed, -1.0f, 3.0f);
    float *wr = random_array((size_t)C * se, seed + 1, -0.3f, 0.3f);
    float *br = random_array(se, seed + 2, -0.5f, 0.5f);
    float *we = random_array((size_t)se * C, seed + 3, -0.8f, 0.8f);
    float *be = random_array(C, seed + 4, -0.5f, 0.5f);
    size_t ny = (size_t)B * C;
    float *ref = vkdp_xmalloc(ny * sizeof(float)), *got = vkdp_xmalloc(ny * sizeof(float));
    vkdp_buf *bp = upload(dev, pool, ny, "pool"), *bwr = upload(dev, wr, (size_t)C * se, "wr");
    vkdp_buf *bbr = upload(dev, br, se, "br"), *bwe = upload(dev, we, (size_t)se * C, "we");
    vkdp_buf *bbe = upload(dev, be, C, "be");
    vkdp_buf *bs = vkdp_buf_create(dev, (size_t)B * se * 4, "s");
    vkdp_buf *bg = vkdp_buf_create(dev, ny * 4, "gate");

    vkdp_cmd_begin(cmd);
    vkdp_op_se_excite(cmd, dev, B, C, se, vkdp_whole(bp), vkdp_whole(bwr), vkdp_whole(bbr),
                      vkdp_whole(bwe), vkdp_whole(bbe), vkdp_whole(bs), vkdp_whole(bg));
    vkdp_cmd_end(cmd);
    vkdp_cmd_submit(cmd);
    vkdp_buf_download(bg, 0, got, ny * 4);
    vkdp_ref_se_excite(B, C, se, pool, wr, br, we, be, ref);

    char what[96];
    snprintf(what, sizeof(what), "se_excite B=%u C=%u se=%u", B, C, se);
    int ok = test_check(what, got, ref, ny, tol);
    vkdp_buf_destroy(bp), vkdp_buf_destroy(bwr), vkdp_buf_destroy(bbr);
    vkdp_buf_destroy(bwe), vkdp_buf_destroy(bbe), vkdp_buf_destroy(bs), vkdp_buf_destroy(bg);
    free(pool), free(wr), free(br), free(we), free(be), free(ref), free(got);
    return ok;
}

static int test_gate(vkdp_device *dev, vkdp_cmd *cmd, uint32_t B, uint32_t P, uint32_t C)
{
    size_t nx = (size_t)B * P * C;
    float *x = random_array(nx, 5000 + P + C, -3.0f, 3.0f);
    float *gate = random_array((size_t)B * C, 5001 + C, 0.0f, 1.0f);
    float *got = vkdp_xmalloc(nx * sizeof(float));
    vkdp_buf *bx = upload(dev, x, nx, "x"), *bg = upload(dev, gate, (size_t)B * C, "gate");

    vkdp_cmd_begin(cmd);
    vkdp_op_se_gate(cmd, dev, B, P, C, vkdp_whole(bx), vkdp_whole(bg), NULL);
    vkdp_cmd_end(cmd);
    vkdp_cmd_submit(cmd);
    vkdp_buf_download(bx, 0, got, nx * 4);
    vkdp_ref_se_gate(B, P, C, x, gate);

    char what[96];
    snprintf(what, sizeof(what), "se_gate B=%u P=%u C=%u", B, P, C);
    int ok = test_check(what, got, x, nx, 1e-6);
    vkdp_buf_destroy(bx), vkdp_buf_destroy(bg);
    free(x), free(gate), free(got);
    return ok;
}

int main(void)
{
    vkdp_device_opts opts;
    vkdp_device_opts_default(&opts);
    vkdp_device *dev = vkdp_device_create(&opts);
    vkdp_cmd *cmd = vkdp_cmd_create(dev);
    int ok = 1;

    ok &= test_stem(dev, cmd, 2, 15, 15);
    ok &= test_stem(dev, cmd, 3, 13, 16);
    ok &= test_stem(dev, cmd, 1, 32, 29);

    static const uint32_t shapes[][3] = {{7, 9, 24}, {15, 15, 40}, {13, 16, 12}, {8, 8, 7}, {5, 6, 10}};
    for (size_t i = 0; i < VKDP_ARRAY_LEN(shapes); i++)
        for (uint32_t k = 3; k <= 5; k += 2)
            for (uint32_t s = 1; s <= 2; s++)
                ok &= test_dwconv(dev, cmd, i % 2 ? 3 : 2, shapes[i][0], shapes[i][1],
                                  shapes[i][2], k, s);
    ok &= test_dwconv(dev, cmd, 1, 1, 1, 8, 3, 1);
    ok &= test_dwconv(dev, cmd, 1, 2, 3, 5, 5, 2);
    ok &= test_dwconv(dev, cmd, 2, 28, 28, 24, 5, 2);
    ok &= test_dwconv(dev, cmd, 2, 29, 30, 16, 3, 1);

    ok &= test_gap(dev, cmd, 3, 7 * 9, 37);
    ok &= test_gap(dev, cmd, 2, 15 * 15, 96);
    ok &= test_gap(dev, cmd, 2, 112 * 112, 32);
    ok &= test_gap(dev, cmd, 1, 1, 1280);

    ok &= test_gate(dev, cmd, 3, 7 * 9, 24);
    ok &= test_gate(dev, cmd, 2, 15 * 15, 37);
    ok &= test_gate(dev, cmd, 2, 13 * 16, 1152);

    ok &= test_se(dev, cmd, 3, 96, 4, 1e-5);
    ok &= test_se(dev, cmd, 2, 37, 6, 1e-5);
    /* float sums of 1152 products against the double reference */
    ok &= test_se(dev, cmd, 2, 1152, 48, 1e-4);

    vkdp_cmd_destroy(cmd);
    vkdp_device_destroy(dev);
    printf("%s\n", ok ? "backbone_ops: all ok" : "backbone_ops: FAILED");
    return ok ? 0 : 1;
}
