/* The head's backward (shaders: BN stats -> BN + dropout -> logits/loss -> fixed-point gradient
 * sums) vs central finite differences of a double-precision C forward of the same batch loss
 * (global-batch BatchNorm, the same dropout mask, Dense, mean softmax cross-entropy), for gamma,
 * beta, kernel and bias (<= 1e-3 normwise per tensor), and vkdp_head_train_step_dx's input
 * gradient (<= 1e-4). */
#include <stdlib.h>

#include "harness.h"
#include "vkdp/ops/head_fx.h"
#include "vkdp/model/head.h"
#include "vkdp/ops/head_ops.h"

typedef struct {
    int n, F, C;
    const float *x;
    const int *labels;
    const unsigned char *keep;
    double keep_scale, eps;
    double *p; /* gamma F, beta F, kernel F*C, bias C */
} fwd;

static double loss_double(const fwd *f)
{
    int n = f->n, F = f->F, C = f->C;
    const double *gamma = f->p, *beta = f->p + F, *W = f->p + 2 * F, *b = f->p + 2 * F + F * C;
    double *z = vkdp_xcalloc((size_t)n * C, sizeof(double));
    for (int j = 0; j < F; j++) {
        double mean = 0, var = 0;
        for (int i = 0; i < n; i++)
            mean += f->x[i * F + j];
        mean /= n;
        for (int i = 0; i < n; i++)
            var += (f->x[i * F + j] - mean) * (f->x[i * F + j] - mean);
        var /= n;
        double inv = 1.0 / sqrt(var + f->eps);
        for (int i = 0; i < n; i++) {
            double xd = f->keep[i * F + j] ? (gamma[j] * (f->x[i * F + j] - mean) * inv + beta[j]) *
                                                 f->keep_scale
                                           : 0.0;
            for (int c = 0; c < C; c++)
                z[i * C + c] += xd * W[j * C + c];
        }
    }
    double L = 0;
    for (int i = 0; i < n; i++) {
        double mx = -INFINITY, s = 0;
        for (int c = 0; c < C; c++)
            mx = fmax(mx, z[i * C + c] + b[c]);
        for (int c = 0; c < C; c++)
            s += exp(z[i * C + c] + b[c] - mx);
        L += log(s) - (z[i * C + f->labels[i]] + b[f->labels[i]] - mx);
    }
    free(z);
    return L / n;
}

static int run_case(vkdp_device *dev, int n, int F, int C, int stride, uint64_t seed)
{
    int64_t P = 2 * (int64_t)F + (int64_t)F * C + C;
    size_t nf = (size_t)n * F;
    float *x = vkdp_xmalloc(nf * 4), *params = vkdp_xmalloc((size_t)P * 4);
    int *labels = vkdp_xmalloc((size_t)n * sizeof(int));
    uint64_t *gpos = vkdp_xmalloc((size_t)n * 8);
    test_fill_uniform(x, nf, seed, -1.0f, 3.0f);
    test_fill_uniform(params, (size_t)P, seed + 1, -0.3f, 0.3f);
    for (int j = 0; j < F; j++)
        params[j] += 1.0f;
    test_rng r = {seed + 2};
    for (int i = 0; i < n; i++) {
        labels[i] = (int)(test_rng_u64(&r) % (uint64_t)C);
        gpos[i] = 5000u + 3u * (uint64_t)i;
    }
    vkdp_dropout_key k = {seed, 1, 1, 0.2f, 1.25f};
    double eps = 1e-3;

    /* analytic gradient through the shaders, as vkdp_head_train_step runs them */
    vkdp_cmd *cmd = vkdp_cmd_create(dev);
    vkdp_buf *bx = vkdp_buf_create(dev, nf * 4, "x"), *bp = vkdp_buf_create(dev, (size_t)P * 4, "p");
    vkdp_buf *bst = vkdp_buf_create(dev, 2 * (size_t)F * 4, "stats");
    vkdp_buf *bl = vkdp_buf_create(dev, (size_t)n * 4, "labels"), *bg = vkdp_buf_create(dev, (size_t)n * 8, "gpos");
    vkdp_buf *bs = vkdp_buf_create(dev, (size_t)(P + 2) * 8, "sums"), *bo = vkdp_buf_create(dev, (size_t)(P + 2) * 4, "ovf");
    vkdp_buf *bxh = vkdp_buf_create(dev, nf * 4, "xhat"), *bxd = vkdp_buf_create(dev, nf * 4, "xd");
    vkdp_buf *bpr = vkdp_buf_create(dev, (size_t)n * C * 4, "probs"), *bdl = vkdp_buf_create(dev, (size_t)n * C * 4, "dl");
    vkdp_buf *blo = vkdp_buf_create(dev, (size_t)n * 4, "loss"), *bc = vkdp_buf_create(dev, (size_t)n * 4, "correct");
    vkdp_buf_upload(bx, 0, x, nf * 4);
    vkdp_buf_upload(bp, 0, params, (size_t)P * 4);
    vkdp_buf_upload(bl, 0, labels, (size_t)n * 4);
    vkdp_buf_upload(bg, 0, gpos, (size_t)n * 8);
    float *stats = vkdp_xmalloc(2 * (size_t)F * 4);
    int64_t *sums = vkdp_xmalloc((size_t)(P + 2) * 8);
    for (int mode = 0; mode < 2; mode++) {
        vkdp_cmd_begin(cmd);
        vkdp_op_head_bn_stats(cmd, dev, vkdp_whole(bx), vkdp_whole(bst), vkdp_whole(bs),
                              vkdp_whole(bo), n, F, mode);
        vkdp_cmd_end(cmd);
        vkdp_cmd_submit(cmd);
        vkdp_buf_download(bs, 0, sums, (size_t)F * 8);
        for (int j = 0; j < F; j++) {
            double s = vkdp_fx_to_double(sums[j], VKDP_FX_STAT_SHIFT) / n;
            if (mode == 0)
                stats[j] = (float)s;
            else
                stats[F + j] = (float)(1.0 / sqrt(s + eps));
        }
        vkdp_buf_upload(bst, 0, stats, 2 * (size_t)F * 4);
    }
    vkdp_cmd_begin(cmd);
    vkdp_op_head_bn_dropout(cmd, dev, vkdp_whole(bx), vkdp_whole(bst), vkdp_whole(bp),
                            vkdp_whole(bg), vkdp_whole(bxh), vkdp_whole(bxd), n, F, &k);
    vkdp_op_head_logits_loss(cmd, dev, vkdp_whole(bxd), vkdp_whole(bp), vkdp_whole(bl),
                             vkdp_whole(bpr), vkdp_whole(bdl), vkdp_whole(blo), vkdp_whole(bc), n,
                             F, C, 1.0f / (float)n);
    vkdp_op_head_grad_sums(cmd, dev, vkdp_whole(bxh), vkdp_whole(bxd), vkdp_whole(bdl),
                           vkdp_whole(bp), vkdp_whole(bg), vkdp_whole(blo), vkdp_whole(bc),
                           vkdp_whole(bs), vkdp_whole(bo), n, F, C, 0, &k);
    vkdp_cmd_end(cmd);
    vkdp_cmd_submit(cmd);
    vkdp_buf_download(bs, 0, sums, (size_t)(P + 2) * 8);

    /* finite differences of the double forward */
    unsigned char *keep = vkdp_xmalloc(nf);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < F; j++)
            keep[(size_t)i * F + j] = (unsigned char)vkdp_dropout_keep(&k, gpos[i], (uint32_t)j);
    fwd f = {n, F, C, x, labels, keep, 1.25, eps, vkdp_xmalloc((size_t)P * sizeof(double))};
    for (int64_t p = 0; p < P; p++)
        f.p[p] = params[p];
    double loss0 = loss_double(&f);
    double mean_loss = vkdp_fx_to_double(sums[P], VKDP_FX_LOSS_SHIFT) / n;
    float lg = (float)mean_loss, lr = (float)loss0;
    int ok = test_check("batch loss: shaders vs double forward", &lg, &lr, 1, 1e-5);

    const char *names[4] = {"dgamma", "dbeta", "dkernel", "dbias"};
    const int64_t offs[4] = {0, F, 2 * F, 2 * F + (int64_t)F * C};
    const int64_t sizes[4] = {F, F, (int64_t)F * C, C};
    for (int t = 0; t < 4; t++) {
        int64_t step = t == 3 ? 1 : stride, cnt = 0;
        float *got = vkdp_xmalloc((size_t)sizes[t] * 4), *ref = vkdp_xmalloc((size_t)sizes[t] * 4);
        for (int64_t e = 0; e < sizes[t]; e += step) {
            int64_t p = offs[t] + e;
            double h = 1e-3, save = f.p[p];
            f.p[p] = save + h;
            double lp = loss_double(&f);
            f.p[p] = save - h;
            double lm = loss_double(&f);
            f.p[p] = save;
            ref[cnt] = (float)((lp - lm) / (2 * h));
            got[cnt] = (float)vkdp_fx_to_double(sums[p], VKDP_FX_GRAD_SHIFT);
            cnt++;
        }
        char what[96];
        snprintf(what, sizeof what, "%s vs finite differences (F=%d C=%d n=%d)", names[t], F, C, n);
        ok &= test_check(what, got, ref, (size_t)cnt, 1e-3);
        free(got);
        free(ref);
    }
    vkdp_buf *bufs[] = {bx, bp, bst, bl, bg, bs, bo, bxh, bxd, bpr, bdl, blo, bc};
    for (size_t i = 0; i < VKDP_ARRAY_LEN(bufs); i++)
        vkdp_buf_destroy(bufs[i]);
    vkdp_cmd_destroy(cmd);
    free(x); free(params); free(labels); free(gpos); free(stats); free(sums); free(keep); free(f.p);
    return ok;
}

/* vkdp_head_train_step_dx's input gradient vs finite differences of the same double forward in x
 * (BatchNorm with batch statistics couples the samples; the head's own init, dropout keyed by the
 * head's seed and the epoch), every `stride`-th element. */
static int dx_case(vkdp_device *dev, int n, int F, int C, int stride, int epoch)
{
    vkdp_head_cfg cfg;
    vkdp_head_cfg_default(&cfg);
    cfg.feat_dim = F;
    cfg.nclasses = C;
    cfg.seed = 7;
    vkdp_head *h = vkdp_head_create(dev, &cfg);
    int64_t P = 2 * (int64_t)F + (int64_t)F * C + C;
    size_t nf = (size_t)n * F;
    float *x = vkdp_xmalloc(nf * 4), *dx = vkdp_xmalloc(nf * 4);
    int *labels = vkdp_xmalloc((size_t)n * sizeof(int));
    int64_t *gpos = vkdp_xmalloc((size_t)n * 8);
    test_fill_uniform(x, nf, 31, -1.0f, 3.0f);
    test_rng r = {32};
    for (int i = 0; i < n; i++) {
        labels[i] = (int)(test_rng_u64(&r) % (uint64_t)C);
        gpos[i] = 100 + 7 * i;
    }
    fwd f = {n, F, C, x, labels, vkdp_xmalloc(nf), 1.25, cfg.bn_epsilon, vkdp_xmalloc((size_t)P * sizeof(double))};
    vkdp_dropout_key k = {cfg.seed, (uint32_t)epoch, 1, 0.2f, 1.25f};
    for (size_t e = 0; e < nf; e++)
        ((unsigned char *)f.keep)[e] = (unsigned char)vkdp_dropout_keep(&k, (uint64_t)gpos[e / F], (uint32_t)(e % F));
    /* the parameters before the step: gamma, beta, kernel, bias (tensors 0, 1, 4, 5) */
    const int ti[4] = {0, 1, 4, 5};
    const int64_t offs[4] = {0, F, 2 * F, 2 * F + (int64_t)F * C}, sizes[4] = {F, F, (int64_t)F * C, C};
    for (int t = 0; t < 4; t++) {
        float *tmp = vkdp_xmalloc((size_t)sizes[t] * 4);
        vkdp_head_tensor_get(h, ti[t], tmp);
        for (int64_t e = 0; e < sizes[t]; e++)
            f.p[offs[t] + e] = tmp[e];
        free(tmp);
    }
    vkdp_head_result res;
    vkdp_head_train_step_dx(h, x, labels, gpos, n, n, epoch, &res, dx);
    size_t cnt = 0;
    float *got = vkdp_xmalloc(nf * 4), *ref = vkdp_xmalloc(nf * 4);
    for (size_t e = 0; e < nf; e += (size_t)stride) {
        float save = x[e];
        x[e] = save + 0x1p-8f;
        double up = x[e] - (double)save;
        double lp = loss_double(&f);
        x[e] = save - 0x1p-8f;
        double dn = (double)save - x[e];
        double lm = loss_double(&f);
        x[e] = save;
        ref[cnt] = (float)((lp - lm) / (up + dn));
        got[cnt++] = dx[e];
    }
    char what[96];
    snprintf(what, sizeof what, "head dx vs finite differences (F=%d C=%d n=%d)", F, C, n);
    int ok = test_check(what, got, ref, cnt, 1e-4);
    /* the check can fail: all-zero differences would pass anything close to zero */
    float mx = 0;
    for (size_t e = 0; e < cnt; e++)
        mx = fmaxf(mx, fabsf(ref[e]));
    if (!(mx > 1e-6f)) {
        printf("FAIL %s: finite differences are all ~0 (max %g)\n", what, mx);
        ok = 0;
    }
    vkdp_head_destroy(h);
    free(x); free(dx); free(labels); free(gpos); free((void *)f.keep); free(f.p); free(got); free(ref);
    return ok;
}

int main(void)
{
    vkdp_device *dev = vkdp_device_create(NULL);
    int ok = run_case(dev, 24, 96, 5, 1, 21);
    ok &= run_case(dev, 32, 1280, 5, 97, 22);
    ok &= dx_case(dev, 12, 40, 5, 1, 3);
    ok &= dx_case(NULL, 12, 40, 5, 1, 3);
    ok &= dx_case(dev, 16, 1280, 5, 61, 0);
    vkdp_device_destroy(dev);
    printf("%s\n", ok ? "all passed" : "FAILED");
    return ok ? 0 : 1;
}
