/* Head shaders vs their plain-C twins on seeded random inputs. The fixed-point sums (BN
 * statistics, gradient sums) must match bit-for-bit given the same float inputs; the float
 * outputs within 1e-5 normwise; Adam over several steps within 1e-5. */
#include <stdlib.h>

#include "harness.h"
#include "vkdp/ops/head_fx.h"
#include "vkdp/ops/head_ops.h"

static int fail;

static vkdp_buf *upload(vkdp_device *dev, const void *src, size_t bytes, const char *name)
{
    vkdp_buf *b = vkdp_buf_create(dev, bytes ? bytes : 4, name);
    if (bytes)
        vkdp_buf_upload(b, 0, src, bytes);
    return b;
}

static void check_i64(const char *what, const int64_t *got, const int64_t *ref, size_t n)
{
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < n; i++)
        if (got[i] != ref[i] && bad++ == 0)
            first = i;
    printf("%-4s %-48s n=%-9zu bit-exact mismatches=%zu\n", bad ? "FAIL" : "ok", what, n, bad);
    if (bad) {
        printf("     first at %zu: got %lld ref %lld\n", first, (long long)got[first],
               (long long)ref[first]);
        fail++;
    }
}

static void check_u32(const char *what, const uint32_t *got, const uint32_t *ref, size_t n)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += got[i] != ref[i];
    printf("%-4s %-48s n=%-9zu mismatches=%zu\n", bad ? "FAIL" : "ok", what, n, bad);
    if (bad)
        fail++;
}

static void check_f(const char *what, const float *got, const float *ref, size_t n, double tol)
{
    if (!test_check(what, got, ref, n, tol))
        fail++;
}

static void test_case(vkdp_device *dev, vkdp_cmd *cmd, int n, int F, int C, uint64_t seed)
{
    printf("-- n=%d F=%d C=%d\n", n, F, C);
    int64_t P = 2 * (int64_t)F + (int64_t)F * C + C;
    size_t nf = (size_t)n * F, nc = (size_t)n * C;
    float *x = vkdp_xmalloc((nf + 1) * 4), *params = vkdp_xmalloc((size_t)P * 4);
    float *stats = vkdp_xmalloc(2 * (size_t)F * 4);
    int *labels = vkdp_xmalloc(((size_t)n + 1) * sizeof(int));
    uint64_t *gpos = vkdp_xmalloc(((size_t)n + 1) * 8);
    test_fill_uniform(x, nf, seed, -1.0f, 4.0f);
    test_fill_uniform(params, (size_t)P, seed + 1, -0.5f, 0.5f);
    for (int j = 0; j < F; j++)
        params[j] += 1.0f; /* gamma around 1 */
    test_fill_uniform(stats, (size_t)F, seed + 2, 0.5f, 2.0f);
    test_fill_uniform(stats + F, (size_t)F, seed + 3, 0.5f, 3.0f);
    test_rng r = {seed + 4};
    for (int i = 0; i < n; i++) {
        labels[i] = (int)(test_rng_u64(&r) % (uint64_t)C);
        gpos[i] = 1000003ull * (uint64_t)i + (test_rng_u64(&r) & 0xffffffffffull);
    }
    vkdp_dropout_key k = {seed * 0x9E3779B97F4A7C15ull, 3, 1, 0.2f, 1.25f};

    vkdp_buf *bx = upload(dev, x, nf * 4, "x"), *bp = upload(dev, params, (size_t)P * 4, "params");
    vkdp_buf *bst = upload(dev, stats, 2 * (size_t)F * 4, "stats");
    vkdp_buf *blab = upload(dev, labels, (size_t)n * 4, "labels");
    vkdp_buf *bg = upload(dev, gpos, (size_t)n * 8, "gpos");
    vkdp_buf *bsum = vkdp_buf_create(dev, (size_t)(P + 2) * 8, "sums");
    vkdp_buf *bovf = vkdp_buf_create(dev, (size_t)(P + 2) * 4, "ovf");
    vkdp_buf *bxh = vkdp_buf_create(dev, nf * 4 + 4, "xhat"), *bxd = vkdp_buf_create(dev, nf * 4 + 4, "xd");
    vkdp_buf *bpr = vkdp_buf_create(dev, nc * 4 + 4, "probs"), *bdl = vkdp_buf_create(dev, nc * 4 + 4, "dl");
    vkdp_buf *bl = vkdp_buf_create(dev, (size_t)n * 4 + 4, "loss"), *bc = vkdp_buf_create(dev, (size_t)n * 4 + 4, "correct");

    int64_t *sums = vkdp_xmalloc((size_t)(P + 2) * 8), *rsums = vkdp_xmalloc((size_t)(P + 2) * 8);
    uint32_t *ovf = vkdp_xmalloc((size_t)(P + 2) * 4), *rovf = vkdp_xmalloc((size_t)(P + 2) * 4);
    char what[96];

    /* BN statistics, both modes */
    for (int mode = 0; mode < 2; mode++) {
        vkdp_cmd_begin(cmd);
        vkdp_op_head_bn_stats(cmd, dev, vkdp_whole(bx), vkdp_whole(bst), vkdp_whole(bsum),
                              vkdp_whole(bovf), n, F, mode);
        vkdp_cmd_end(cmd);
        vkdp_cmd_submit(cmd);
        vkdp_buf_download(bsum, 0, sums, (size_t)F * 8);
        vkdp_buf_download(bovf, 0, ovf, (size_t)F * 4);
        head_ref_bn_stats(x, n, F, mode, stats, rsums, rovf);
        snprintf(what, sizeof what, "head_bn_stats mode %d sums", mode);
        check_i64(what, sums, rsums, (size_t)F);
        snprintf(what, sizeof what, "head_bn_stats mode %d overflow counts", mode);
        check_u32(what, ovf, rovf, (size_t)F);
    }

    /* BN + dropout, with and without dropout */
    float *xhat = vkdp_xmalloc(nf * 4 + 4), *xd = vkdp_xmalloc(nf * 4 + 4);
    float *rxhat = vkdp_xmalloc(nf * 4 + 4), *rxd = vkdp_xmalloc(nf * 4 + 4);
    for (int drop = 0; drop < 2; drop++) {
        vkdp_dropout_key kk = k;
        kk.use_dropout = drop;
        vkdp_cmd_begin(cmd);
        vkdp_op_head_bn_dropout(cmd, dev, vkdp_whole(bx), vkdp_whole(bst), vkdp_whole(bp),
                                vkdp_whole(bg), vkdp_whole(bxh), vkdp_whole(bxd), n, F, &kk);
        vkdp_cmd_end(cmd);
        vkdp_cmd_submit(cmd);
        vkdp_buf_download(bxh, 0, xhat, nf * 4);
        vkdp_buf_download(bxd, 0, xd, nf * 4);
        head_ref_bn_dropout(x, n, F, stats, params, gpos, &kk, rxhat, rxd);
        snprintf(what, sizeof what, "head_bn_dropout xhat (dropout %d)", drop);
        check_f(what, xhat, rxhat, nf, 1e-5);
        snprintf(what, sizeof what, "head_bn_dropout xd (dropout %d)", drop);
        check_f(what, xd, rxd, nf, 1e-5);
        if (drop && nf) {
            size_t dropped = 0, mask_diff = 0;
            for (size_t e = 0; e < nf; e++) {
                dropped += rxd[e] == 0.0f;
                mask_diff += (xd[e] == 0.0f) != (rxd[e] == 0.0f);
            }
            double frac = (double)dropped / (double)nf;
            int ok = mask_diff == 0 && (nf < 1000 || (frac > 0.18 && frac < 0.22));
            printf("%-4s dropout masks: %zu differ, dropped fraction %.4f (rate 0.2)\n",
                   ok ? "ok" : "FAIL", mask_diff, frac);
            fail += !ok;
        }
    }

    /* logits + loss on the dropout output */
    float inv_batch = 1.0f / 64.0f;
    float *probs = vkdp_xmalloc(nc * 4 + 4), *dl = vkdp_xmalloc(nc * 4 + 4);
    float *loss = vkdp_xmalloc((size_t)n * 4 + 4);
    uint32_t *corr = vkdp_xmalloc((size_t)n * 4 + 4);
    float *rprobs = vkdp_xmalloc(nc * 4 + 4), *rdl = vkdp_xmalloc(nc * 4 + 4);
    float *rloss = vkdp_xmalloc((size_t)n * 4 + 4);
    uint32_t *rcorr = vkdp_xmalloc((size_t)n * 4 + 4);
    vkdp_cmd_begin(cmd);
    vkdp_op_head_logits_loss(cmd, dev, vkdp_whole(bxd), vkdp_whole(bp), vkdp_whole(blab),
                             vkdp_whole(bpr), vkdp_whole(bdl), vkdp_whole(bl), vkdp_whole(bc), n,
                             F, C, inv_batch);
    vkdp_cmd_end(cmd);
    vkdp_cmd_submit(cmd);
    vkdp_buf_download(bpr, 0, probs, nc * 4);
    vkdp_buf_download(bdl, 0, dl, nc * 4);
    vkdp_buf_download(bl, 0, loss, (size_t)n * 4);
    vkdp_buf_download(bc, 0, corr, (size_t)n * 4);
    head_ref_logits_loss(xd, n, F, C, params, 2 * F, 2 * F + (int64_t)F * C, labels, inv_batch,
                         rprobs, rdl, rloss, rcorr);
    check_f("head_logits_loss probs", probs, rprobs, nc, 1e-5);
    check_f("head_logits_loss dlogits", dl, rdl, nc, 1e-5);
    check_f("head_logits_loss loss", loss, rloss, (size_t)n, 1e-5);
    check_u32("head_logits_loss correct", corr, rcorr, (size_t)n);

    /* gradient sums from the shader's own forward outputs: the reference gets the same floats,
     * so the int64 sums must be identical. Also the evaluation-only tail (first = P). */
    for (int part = 0; part < 2; part++) {
        int64_t first = part ? P : 0;
        vkdp_cmd_begin(cmd);
        vkdp_op_head_grad_sums(cmd, dev, vkdp_whole(bxh), vkdp_whole(bxd), vkdp_whole(bdl),
                               vkdp_whole(bp), vkdp_whole(bg), vkdp_whole(bl), vkdp_whole(bc),
                               vkdp_whole(bsum), vkdp_whole(bovf), n, F, C, first, &k);
        vkdp_cmd_end(cmd);
        vkdp_cmd_submit(cmd);
        vkdp_buf_download(bsum, (size_t)first * 8, sums, (size_t)(P + 2 - first) * 8);
        vkdp_buf_download(bovf, (size_t)first * 4, ovf, (size_t)(P + 2 - first) * 4);
        head_ref_grad_sums(xhat, xd, dl, params, gpos, loss, corr, n, F, C, first, &k, rsums, rovf);
        snprintf(what, sizeof what, "head_grad_sums from %lld", (long long)first);
        check_i64(what, sums, rsums + first, (size_t)(P + 2 - first));
        check_u32("head_grad_sums overflow counts", ovf, rovf + first, (size_t)(P + 2 - first));
    }

    /* Adam over 5 steps: gradients are fresh random fixed-point sums each step */
    float *m = vkdp_xcalloc((size_t)P, 4), *v = vkdp_xcalloc((size_t)P, 4);
    float *rp = vkdp_xmalloc((size_t)P * 4), *rm = vkdp_xcalloc((size_t)P, 4), *rv = vkdp_xcalloc((size_t)P, 4);
    memcpy(rp, params, (size_t)P * 4);
    vkdp_buf *bm = upload(dev, m, (size_t)P * 4, "m"), *bv = upload(dev, v, (size_t)P * 4, "v");
    float *g = vkdp_xmalloc((size_t)P * 4);
    for (int t = 1; t <= 5; t++) {
        test_fill_uniform(g, (size_t)P, seed + 100 + (uint64_t)t, -0.01f, 0.01f);
        for (int64_t p = 0; p < P; p++)
            rsums[p] = (int64_t)llrint(ldexp(g[p], VKDP_FX_GRAD_SHIFT));
        vkdp_buf_upload(bsum, 0, rsums, (size_t)P * 8);
        float b1p = powf(0.9f, (float)t), b2p = powf(0.999f, (float)t);
        float alpha = 1e-2f * sqrtf(1.0f - b2p) / (1.0f - b1p);
        vkdp_cmd_begin(cmd);
        vkdp_op_adam(cmd, dev, vkdp_whole(bsum), vkdp_whole(bp), vkdp_whole(bm), vkdp_whole(bv),
                     P, alpha, 0.1f, 0.001f, 1e-7f);
        vkdp_cmd_end(cmd);
        vkdp_cmd_submit(cmd);
        head_ref_adam(rsums, rp, rm, rv, P, alpha, 0.1f, 0.001f, 1e-7f);
    }
    float *gp = vkdp_xmalloc((size_t)P * 4);
    vkdp_buf_download(bp, 0, gp, (size_t)P * 4);
    vkdp_buf_download(bm, 0, m, (size_t)P * 4);
    vkdp_buf_download(bv, 0, v, (size_t)P * 4);
    /* the update itself: params moved by ~5 lr, compare the moved amount */
    for (int64_t p = 0; p < P; p++) {
        gp[p] -= params[p];
        rp[p] -= params[p];
    }
    check_f("adam 5 steps: parameter change", gp, rp, (size_t)P, 1e-5);
    check_f("adam 5 steps: m", m, rm, (size_t)P, 1e-5);
    check_f("adam 5 steps: v", v, rv, (size_t)P, 1e-5);

    vkdp_buf *bufs[] = {bx, bp, bst, blab, bg, bsum, bovf, bxh, bxd, bpr, bdl, bl, bc, bm, bv};
    for (size_t i = 0; i < VKDP_ARRAY_LEN(bufs); i++)
        vkdp_buf_destroy(bufs[i]);
    void *ptrs[] = {x, params, stats, labels, gpos, sums, rsums, ovf, rovf, xhat, xd, rxhat, rxd,
                    probs, dl, loss, corr, rprobs, rdl, rloss, rcorr, m, v, rp, rm, rv, g, gp};
    for (size_t i = 0; i < VKDP_ARRAY_LEN(ptrs); i++)
        free(ptrs[i]);
}

/* Non-finite and out-of-range terms must count as overflows on the device exactly as in C (a
 * compiler turning !(|q| <= limit) into |q| > limit would let NaN through). */
static void test_overflow(vkdp_device *dev, vkdp_cmd *cmd)
{
    enum { n = 6, F = 3 };
    float x[n * F];
    for (int i = 0; i < n * F; i++)
        x[i] = 0.25f * (float)i;
    x[1] = NAN;
    x[5] = INFINITY;
    x[8] = -1e30f;
    x[9] = 262144.0f;  /* exactly 2^18: the largest stat term, allowed */
    x[12] = 262176.0f; /* just beyond */
    float mean[F] = {0, 0, 0};
    int64_t sums[F], rsums[F];
    uint32_t ovf[F], rovf[F];
    vkdp_buf *bx = upload(dev, x, sizeof x, "x"), *bm = upload(dev, mean, sizeof mean, "mean");
    vkdp_buf *bs = vkdp_buf_create(dev, sizeof sums, "sums"), *bo = vkdp_buf_create(dev, sizeof ovf, "ovf");
    vkdp_cmd_begin(cmd);
    vkdp_op_head_bn_stats(cmd, dev, vkdp_whole(bx), vkdp_whole(bm), vkdp_whole(bs), vkdp_whole(bo),
                          n, F, 0);
    vkdp_cmd_end(cmd);
    vkdp_cmd_submit(cmd);
    vkdp_buf_download(bs, 0, sums, sizeof sums);
    vkdp_buf_download(bo, 0, ovf, sizeof ovf);
    head_ref_bn_stats(x, n, F, 0, mean, rsums, rovf);
    check_i64("fixed point with NaN/Inf/out-of-range terms: sums", sums, rsums, F);
    check_u32("fixed point with NaN/Inf/out-of-range terms: overflows", ovf, rovf, F);
    int ok = rovf[0] == 1 && rovf[1] == 1 && rovf[2] == 2; /* columns: 2^18+32 | NaN | Inf, -1e30 */
    printf("%-4s reference counts NaN, Inf, -1e30 and 2^18+32 as overflows, 2^18 not\n",
           ok ? "ok" : "FAIL");
    fail += !ok;
    vkdp_buf_destroy(bx);
    vkdp_buf_destroy(bm);
    vkdp_buf_destroy(bs);
    vkdp_buf_destroy(bo);
}

/* Keras' Adam formula written out in double for one parameter, against head_ref_adam. */
static void test_adam_formula(void)
{
    double p = 0.3, m = 0, v = 0;
    float fp = 0.3f, fm = 0, fv = 0;
    double worst = 0;
    for (int t = 1; t <= 20; t++) {
        double g = 0.05 * sin(t * 1.3) + 0.01;
        double alpha = 1e-2 * sqrt(1 - pow(0.999, t)) / (1 - pow(0.9, t));
        m += (g - m) * (1 - 0.9);
        v += (g * g - v) * (1 - 0.999);
        p -= m * alpha / (sqrt(v) + 1e-7);
        int64_t gi = (int64_t)llrint(ldexp(g, VKDP_FX_GRAD_SHIFT));
        float fa = 1e-2f * sqrtf(1.0f - powf(0.999f, (float)t)) / (1.0f - powf(0.9f, (float)t));
        head_ref_adam(&gi, &fp, &fm, &fv, 1, fa, 0.1f, 0.001f, 1e-7f);
        double e = fabs(fp - p) / fabs(0.3 - p);
        if (e > worst)
            worst = e;
    }
    int ok = worst < 1e-4;
    printf("%-4s adam reference vs Keras formula in double, 20 steps: rel err of the change %.2e\n",
           ok ? "ok" : "FAIL", worst);
    fail += !ok;
}

int main(void)
{
    vkdp_device *dev = vkdp_device_create(NULL);
    vkdp_cmd *cmd = vkdp_cmd_create(dev);
    test_adam_formula();
    test_overflow(dev, cmd);
    test_case(dev, cmd, 37, 1280, 5, 11);
    test_case(dev, cmd, 5, 67, 3, 12);
    test_case(dev, cmd, 0, 64, 2, 13);
    test_case(dev, cmd, 200, 96, 7, 14);
    vkdp_cmd_destroy(cmd);
    vkdp_device_destroy(dev);
    printf("%s\n", fail ? "FAILED" : "all passed");
    return fail ? 1 : 0;
}
