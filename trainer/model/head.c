/* The classification head; see include/vkdp/model/head.h.
 *
 * Keras semantics (TF 2.11+):
 * - BatchNormalization on [n, F] is not fused: training normalises with the global batch mean and
 *   biased variance, y = x * s + (beta - mean * s), s = gamma * rsqrt(var + eps); the moving
 *   statistics follow var -= (var - value) * (1 - momentum) with the biased variance.
 * - Dropout keeps a unit when u >= rate and scales it by 1 / (1 - rate).
 * - Dense kernel [F, C] glorot_uniform, bias 0; softmax cross-entropy from the logits, the batch
 *   loss the mean over the global batch, so dlogits = (p - y) / B.
 * - Adam: alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t) (float32, t = iterations + 1),
 *   m += (g - m)(1 - beta1), v += (g^2 - v)(1 - beta2), p -= m * alpha / (sqrt(v) + epsilon).
 *
 * One step = four passes around three allreduces: sum x -> [allreduce] -> mean -> sum (x-mean)^2
 * -> [allreduce] -> var -> BN + dropout + dense + loss + gradient sums -> [allreduce: one int64
 * buffer with all gradients, loss, correct count, overflow count] -> Adam. */
#include "vkdp/model/head.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vkdp/core/rng.h"
#include "vkdp/dist/dist.h"
#include "vkdp/ops/head_fx.h"
#include "vkdp/ops/head_ops.h"
#include "vkdp/ops/head_ref.h"

/* Evaluation runs in chunks of at most this many samples per pass. */
#define HEAD_EVAL_CHUNK 1024

/* A tensor in a device buffer, or in host memory for the reference backend. */
typedef struct {
    vkdp_buf *buf;
    void *host;
    uint64_t bytes;
} htensor;

struct vkdp_head {
    vkdp_device *dev;
    vkdp_cmd *cmd;
    vkdp_head_cfg cfg;
    int F, C;
    int64_t P;            /* trainable parameters: gamma F, beta F, kernel F*C, bias C */
    int64_t iterations;
    float *moving_mean, *moving_var;
    float *stats_host;    /* mean[F], inv_std[F] of the pass being run */
    int64_t *sums_host;   /* [P + 3]: the gradient allreduce buffer */
    uint32_t *ovf_host;   /* [P + 2] */
    int cap;              /* samples the per-sample tensors hold */
    /* persistent */
    htensor params, adam_m, adam_v, stats, stat_sums, stat_ovf, sums, ovf;
    /* per sample */
    htensor x, labels, gpos, xhat, xd, probs, dl, loss, correct;
};

static void ht_create(vkdp_head *h, htensor *t, uint64_t bytes, const char *name)
{
    t->bytes = bytes ? bytes : 4;
    t->buf = NULL;
    t->host = NULL;
    if (h->dev) {
        t->buf = vkdp_buf_create(h->dev, t->bytes, name);
    } else {
        t->host = vkdp_xcalloc(1, t->bytes);
    }
}

static void ht_destroy(htensor *t)
{
    if (t->buf)
        vkdp_buf_destroy(t->buf);
    free(t->host);
    t->buf = NULL;
    t->host = NULL;
}

static void ht_upload(htensor *t, uint64_t off, const void *src, uint64_t bytes)
{
    if (bytes == 0)
        return;
    if (off + bytes > t->bytes)
        VKDP_FATAL("head: upload of %llu bytes at %llu overruns a %llu-byte tensor",
                   (unsigned long long)bytes, (unsigned long long)off, (unsigned long long)t->bytes);
    if (t->buf)
        vkdp_buf_upload(t->buf, off, src, bytes);
    else
        memcpy((char *)t->host + off, src, bytes);
}

static void ht_download(htensor *t, uint64_t off, void *dst, uint64_t bytes)
{
    if (bytes == 0)
        return;
    if (off + bytes > t->bytes)
        VKDP_FATAL("head: download of %llu bytes at %llu overruns a %llu-byte tensor",
                   (unsigned long long)bytes, (unsigned long long)off, (unsigned long long)t->bytes);
    if (t->buf)
        vkdp_buf_download(t->buf, off, dst, bytes);
    else
        memcpy(dst, (char *)t->host + off, bytes);
}

static vkdp_view ht_view(htensor *t) { return vkdp_whole(t->buf); }

#define HF(t) ((float *)(t).host)

static void pass_begin(vkdp_head *h)
{
    if (h->dev)
        vkdp_cmd_begin(h->cmd);
}

static void pass_run(vkdp_head *h)
{
    if (h->dev) {
        vkdp_cmd_end(h->cmd);
        vkdp_cmd_submit(h->cmd);
    }
}

static void ensure_capacity(vkdp_head *h, int n)
{
    if (n <= h->cap)
        return;
    int cap = h->cap ? h->cap : 32;
    while (cap < n)
        cap *= 2;
    htensor *ts[] = {&h->x, &h->labels, &h->gpos, &h->xhat, &h->xd, &h->probs, &h->dl, &h->loss,
                     &h->correct};
    for (size_t i = 0; i < VKDP_ARRAY_LEN(ts); i++)
        if (h->cap)
            ht_destroy(ts[i]);
    uint64_t nf = (uint64_t)cap * h->F * sizeof(float), nc = (uint64_t)cap * h->C * sizeof(float);
    ht_create(h, &h->x, nf, "head.x");
    ht_create(h, &h->labels, (uint64_t)cap * sizeof(int32_t), "head.labels");
    ht_create(h, &h->gpos, (uint64_t)cap * sizeof(uint64_t), "head.gpos");
    ht_create(h, &h->xhat, nf, "head.xhat");
    ht_create(h, &h->xd, nf, "head.xd");
    ht_create(h, &h->probs, nc, "head.probs");
    ht_create(h, &h->dl, nc, "head.dlogits");
    ht_create(h, &h->loss, (uint64_t)cap * sizeof(float), "head.loss");
    ht_create(h, &h->correct, (uint64_t)cap * sizeof(uint32_t), "head.correct");
    h->cap = cap;
}

void vkdp_head_cfg_default(vkdp_head_cfg *cfg)
{
    cfg->feat_dim = 1280;
    cfg->nclasses = 5;
    cfg->lr = 1e-2;
    cfg->beta1 = 0.9;
    cfg->beta2 = 0.999;
    cfg->epsilon = 1e-7;
    cfg->bn_momentum = 0.99;
    cfg->bn_epsilon = 1e-3;
    cfg->dropout = 0.2;
    cfg->seed = 0;
}

vkdp_head *vkdp_head_create(vkdp_device *dev, const vkdp_head_cfg *cfg)
{
    if (cfg->feat_dim < 1 || cfg->nclasses < 2 || cfg->nclasses > 64)
        VKDP_FATAL("head: feat_dim %d / nclasses %d out of range (feat_dim >= 1, 2 <= nclasses <= 64)",
                   cfg->feat_dim, cfg->nclasses);
    if ((int64_t)cfg->feat_dim * (cfg->nclasses + 2) + cfg->nclasses > (1 << 22))
        VKDP_FATAL("head: %d features x %d classes is too many parameters", cfg->feat_dim,
                   cfg->nclasses);
    if (!(cfg->dropout >= 0 && cfg->dropout < 1) || !(cfg->lr > 0) || !(cfg->epsilon > 0) ||
        !(cfg->bn_epsilon > 0) || !(cfg->beta1 >= 0 && cfg->beta1 < 1) ||
        !(cfg->beta2 >= 0 && cfg->beta2 < 1) || !(cfg->bn_momentum >= 0 && cfg->bn_momentum <= 1))
        VKDP_FATAL("head: bad hyper-parameters (dropout %g lr %g beta1 %g beta2 %g epsilon %g "
                   "bn_momentum %g bn_epsilon %g)",
                   cfg->dropout, cfg->lr, cfg->beta1, cfg->beta2, cfg->epsilon, cfg->bn_momentum,
                   cfg->bn_epsilon);
    if (dev && !vkdp_device_get_info(dev)->has_int64)
        VKDP_FATAL("head: device '%s' lacks shaderInt64, which the exact fixed-point sums need",
                   vkdp_device_get_info(dev)->name);
    vkdp_head *h = vkdp_xcalloc(1, sizeof *h);
    h->dev = dev;
    h->cfg = *cfg;
    h->F = cfg->feat_dim;
    h->C = cfg->nclasses;
    int F = h->F, C = h->C;
    h->P = 2 * (int64_t)F + (int64_t)F * C + C;
    h->cmd = dev ? vkdp_cmd_create(dev) : NULL;
    h->moving_mean = vkdp_xcalloc((size_t)F, sizeof(float));
    h->moving_var = vkdp_xmalloc((size_t)F * sizeof(float));
    for (int j = 0; j < F; j++)
        h->moving_var[j] = 1.0f;
    h->stats_host = vkdp_xcalloc(2 * (size_t)F, sizeof(float));
    h->sums_host = vkdp_xcalloc((size_t)h->P + 3, sizeof(int64_t));
    h->ovf_host = vkdp_xcalloc((size_t)h->P + 2, sizeof(uint32_t));

    uint64_t pb = (uint64_t)h->P * sizeof(float);
    ht_create(h, &h->params, pb, "head.params");
    ht_create(h, &h->adam_m, pb, "head.adam_m");
    ht_create(h, &h->adam_v, pb, "head.adam_v");
    ht_create(h, &h->stats, 2 * (uint64_t)F * sizeof(float), "head.stats");
    ht_create(h, &h->stat_sums, (uint64_t)F * sizeof(int64_t), "head.stat_sums");
    ht_create(h, &h->stat_ovf, (uint64_t)F * sizeof(uint32_t), "head.stat_ovf");
    ht_create(h, &h->sums, (uint64_t)(h->P + 2) * sizeof(int64_t), "head.grad_sums");
    ht_create(h, &h->ovf, (uint64_t)(h->P + 2) * sizeof(uint32_t), "head.grad_ovf");
    ensure_capacity(h, 32);

    /* gamma 1, beta 0, kernel glorot_uniform, bias 0; Adam moments 0. */
    float *p = vkdp_xcalloc((size_t)h->P, sizeof(float));
    for (int j = 0; j < F; j++)
        p[j] = 1.0f;
    double limit = sqrt(6.0 / (F + C));
    uint64_t s = cfg->seed ^ 0x6c8e9cf570932bd5ull;
    for (int64_t k = 0; k < (int64_t)F * C; k++) {
        double u = (double)(vkdp_splitmix64(&s) >> 11) * 0x1.0p-53;
        p[2 * F + k] = (float)(-limit + 2 * limit * u);
    }
    ht_upload(&h->params, 0, p, pb);
    memset(p, 0, pb);
    ht_upload(&h->adam_m, 0, p, pb);
    ht_upload(&h->adam_v, 0, p, pb);
    free(p);
    return h;
}

void vkdp_head_destroy(vkdp_head *h)
{
    if (!h)
        return;
    htensor *ts[] = {&h->params, &h->adam_m, &h->adam_v, &h->stats, &h->stat_sums, &h->stat_ovf,
                     &h->sums, &h->ovf, &h->x, &h->labels, &h->gpos, &h->xhat, &h->xd,
                     &h->probs, &h->dl, &h->loss, &h->correct};
    for (size_t i = 0; i < VKDP_ARRAY_LEN(ts); i++)
        ht_destroy(ts[i]);
    if (h->cmd)
        vkdp_cmd_destroy(h->cmd);
    free(h->moving_mean);
    free(h->moving_var);
    free(h->stats_host);
    free(h->sums_host);
    free(h->ovf_host);
    free(h);
}

static vkdp_dropout_key dropout_key(const vkdp_head *h, int epoch, int training)
{
    vkdp_dropout_key k;
    k.seed = h->cfg.seed;
    k.epoch = (uint32_t)epoch;
    k.use_dropout = training && h->cfg.dropout > 0;
    k.rate = (float)h->cfg.dropout;
    k.keep_scale = (float)(1.0 / (1.0 - h->cfg.dropout));
    return k;
}

static void upload_samples(vkdp_head *h, const float *x, const int *labels, const int64_t *gpos,
                           int n)
{
    ensure_capacity(h, n);
    for (int i = 0; i < n; i++)
        if (labels && (labels[i] < 0 || labels[i] >= h->C))
            VKDP_FATAL("head: label %d of local sample %d is outside [0, %d)", labels[i], i, h->C);
    ht_upload(&h->x, 0, x, (uint64_t)n * h->F * sizeof(float));
    if (labels) {
        ht_upload(&h->labels, 0, labels, (uint64_t)n * sizeof(int32_t));
    } else {
        int32_t *zero = vkdp_xcalloc((size_t)n + 1, sizeof *zero);
        ht_upload(&h->labels, 0, zero, (uint64_t)n * sizeof(int32_t));
        free(zero);
    }
    if (gpos)
        ht_upload(&h->gpos, 0, gpos, (uint64_t)n * sizeof(uint64_t));
}

/* Sums of BN statistics over this rank's samples into out[0..F), the overflow count in out[F]. */
static void bn_stats_local(vkdp_head *h, int n, int mode, int64_t *out)
{
    int F = h->F;
    pass_begin(h);
    if (h->dev)
        vkdp_op_head_bn_stats(h->cmd, h->dev, ht_view(&h->x), ht_view(&h->stats),
                              ht_view(&h->stat_sums), ht_view(&h->stat_ovf), n, F, mode);
    else
        head_ref_bn_stats(HF(h->x), n, F, mode, HF(h->stats), h->stat_sums.host,
                          h->stat_ovf.host);
    pass_run(h);
    ht_download(&h->stat_sums, 0, out, (uint64_t)F * sizeof(int64_t));
    ht_download(&h->stat_ovf, 0, h->ovf_host, (uint64_t)F * sizeof(uint32_t));
    int64_t o = 0;
    for (int j = 0; j < F; j++)
        o += h->ovf_host[j];
    out[F] = o;
}

static void check_overflow(int64_t count, const char *what)
{
    if (count)
        VKDP_FATAL("head: %lld per-sample terms of the %s exceed the fixed-point range (2^%d units, "
                   "include/vkdp/ops/head_fx.h) or are not finite: diverged or unnormalised inputs",
                   (long long)count, what, VKDP_FX_LIMIT_LOG2);
}

/* Forward + gradient sums of this rank's samples (elements `first`..P+1) into sums_host[0..P+2)
 * and the overflow count into sums_host[P+2]. */
static void forward_sums_local(vkdp_head *h, int n, float inv_batch, const vkdp_dropout_key *k,
                               int64_t first, float *probs_out)
{
    int F = h->F, C = h->C;
    int64_t P = h->P;
    pass_begin(h);
    if (h->dev) {
        vkdp_op_head_bn_dropout(h->cmd, h->dev, ht_view(&h->x), ht_view(&h->stats),
                                ht_view(&h->params), ht_view(&h->gpos), ht_view(&h->xhat),
                                ht_view(&h->xd), n, F, k);
        vkdp_op_head_logits_loss(h->cmd, h->dev, ht_view(&h->xd), ht_view(&h->params),
                                 ht_view(&h->labels), ht_view(&h->probs), ht_view(&h->dl),
                                 ht_view(&h->loss), ht_view(&h->correct), n, F, C, inv_batch);
        vkdp_op_head_grad_sums(h->cmd, h->dev, ht_view(&h->xhat), ht_view(&h->xd),
                               ht_view(&h->dl), ht_view(&h->params), ht_view(&h->gpos),
                               ht_view(&h->loss), ht_view(&h->correct), ht_view(&h->sums),
                               ht_view(&h->ovf), n, F, C, first, k);
    } else {
        head_ref_bn_dropout(HF(h->x), n, F, HF(h->stats), HF(h->params), h->gpos.host, k,
                            HF(h->xhat), HF(h->xd));
        head_ref_logits_loss(HF(h->xd), n, F, C, HF(h->params), 2 * F, 2 * F + (int64_t)F * C,
                             h->labels.host, inv_batch, HF(h->probs), HF(h->dl), HF(h->loss),
                             h->correct.host);
        head_ref_grad_sums(HF(h->xhat), HF(h->xd), HF(h->dl), HF(h->params), h->gpos.host,
                           HF(h->loss), h->correct.host, n, F, C, first, k, h->sums.host,
                           h->ovf.host);
    }
    pass_run(h);
    uint64_t cnt = (uint64_t)(P + 2 - first);
    memset(h->sums_host, 0, (size_t)(P + 3) * sizeof(int64_t));
    ht_download(&h->sums, (uint64_t)first * sizeof(int64_t), h->sums_host + first,
                cnt * sizeof(int64_t));
    ht_download(&h->ovf, (uint64_t)first * sizeof(uint32_t), h->ovf_host + first,
                cnt * sizeof(uint32_t));
    int64_t o = 0;
    for (int64_t e = first; e < P + 2; e++)
        o += h->ovf_host[e];
    h->sums_host[P + 2] = o;
    if (probs_out)
        ht_download(&h->probs, 0, probs_out, (uint64_t)n * C * sizeof(float));
}

/* dL/dx of this rank's samples for fine-tuning, from the step's reduced int64 gradient sums and
 * the parameters before Adam: BN in training mode makes every sample's dx depend on the batch
 * through dbeta = sum dy and dgamma = sum dy * xhat, which are the exact global sums, so dx is a
 * per-sample function of rank-independent values: the same bits for any split. */
static void input_grad(vkdp_head *h, int n, int64_t n_global, const vkdp_dropout_key *k,
                       float *dx)
{
    if (n == 0)
        return;
    int F = h->F, C = h->C;
    size_t nf = (size_t)n * F;
    float *xhat = vkdp_xmalloc(nf * sizeof *xhat), *dl = vkdp_xmalloc((size_t)n * C * sizeof *dl);
    float *p = vkdp_xmalloc(((size_t)2 * F + (size_t)F * C) * sizeof *p);
    uint64_t *gpos = vkdp_xmalloc((size_t)n * sizeof *gpos);
    ht_download(&h->xhat, 0, xhat, nf * sizeof *xhat);
    ht_download(&h->dl, 0, dl, (uint64_t)n * C * sizeof *dl);
    ht_download(&h->params, 0, p, ((uint64_t)2 * F + (uint64_t)F * C) * sizeof *p);
    ht_download(&h->gpos, 0, gpos, (uint64_t)n * sizeof *gpos);
    const float *gamma = p, *W = p + 2 * F, *inv_std = h->stats_host + F;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < F; j++) {
            double dy = 0;
            for (int c = 0; c < C; c++)
                dy += (double)W[(int64_t)j * C + c] * dl[(int64_t)i * C + c];
            if (k->use_dropout)
                dy = vkdp_dropout_keep(k, gpos[i], (uint32_t)j) ? dy * k->keep_scale : 0.0;
            double dgamma = vkdp_fx_to_double(h->sums_host[j], VKDP_FX_GRAD_SHIFT);
            double dbeta = vkdp_fx_to_double(h->sums_host[F + j], VKDP_FX_GRAD_SHIFT);
            double xh = xhat[(size_t)i * F + j];
            dx[(size_t)i * F + j] = (float)((double)gamma[j] * inv_std[j] *
                                            (dy - (dbeta + xh * dgamma) / (double)n_global));
        }
    free(xhat);
    free(dl);
    free(p);
    free(gpos);
}

void vkdp_head_train_step(vkdp_head *h, const float *x_local, const int *labels,
                          const int64_t *global_pos, int n_local, int64_t n_global, int epoch,
                          vkdp_head_result *res)
{
    vkdp_head_train_step_dx(h, x_local, labels, global_pos, n_local, n_global, epoch, res, NULL);
}

void vkdp_head_train_step_dx(vkdp_head *h, const float *x_local, const int *labels,
                             const int64_t *global_pos, int n_local, int64_t n_global, int epoch,
                             vkdp_head_result *res, float *dx_local)
{
    int F = h->F;
    int64_t P = h->P;
    if (n_local < 0 || n_global < 1 || n_global > VKDP_FX_MAX_SAMPLES || n_local > n_global)
        VKDP_FATAL("head: train step with %d local of %lld global samples (need 0 <= local <= "
                   "global, 1 <= global <= %d)",
                   n_local, (long long)n_global, VKDP_FX_MAX_SAMPLES);
    if (epoch < 0)
        VKDP_FATAL("head: negative epoch %d", epoch);
    if (n_local > 0 && (!x_local || !labels || !global_pos))
        VKDP_FATAL("head: train step needs features, labels and global positions");
    upload_samples(h, x_local, labels, global_pos, n_local);

    /* Batch mean: one allreduce of [sum x (F) | overflow | n_local]. */
    int64_t *st = vkdp_xmalloc(((size_t)F + 2) * sizeof(int64_t));
    bn_stats_local(h, n_local, 0, st);
    st[F + 1] = n_local;
    vkdp_allreduce_i64_sum(st, (size_t)F + 2);
    check_overflow(st[F], "BatchNorm sum");
    if (st[F + 1] != n_global)
        VKDP_FATAL("head: the ranks' local batches add up to %lld samples, not the global %lld",
                   (long long)st[F + 1], (long long)n_global);
    float *mean = h->stats_host, *inv_std = h->stats_host + F;
    for (int j = 0; j < F; j++)
        mean[j] = (float)(vkdp_fx_to_double(st[j], VKDP_FX_STAT_SHIFT) / (double)n_global);
    ht_upload(&h->stats, 0, mean, (uint64_t)F * sizeof(float));

    /* Biased variance from the exact mean's deviations: the second allreduce. */
    bn_stats_local(h, n_local, 1, st);
    vkdp_allreduce_i64_sum(st, (size_t)F + 1);
    check_overflow(st[F], "BatchNorm variance");
    float decay = (float)(1.0 - h->cfg.bn_momentum);
    for (int j = 0; j < F; j++) {
        double var = vkdp_fx_to_double(st[j], VKDP_FX_STAT_SHIFT) / (double)n_global;
        inv_std[j] = (float)(1.0 / sqrt(var + h->cfg.bn_epsilon));
        float dm = (h->moving_mean[j] - mean[j]) * decay;
        h->moving_mean[j] -= dm;
        float dv = (h->moving_var[j] - (float)var) * decay;
        h->moving_var[j] -= dv;
    }
    ht_upload(&h->stats, (uint64_t)F * sizeof(float), inv_std, (uint64_t)F * sizeof(float));
    free(st);

    /* Forward, loss and gradient sums; the one gradient allreduce. */
    vkdp_dropout_key k = dropout_key(h, epoch, 1);
    forward_sums_local(h, n_local, (float)(1.0 / (double)n_global), &k, 0, NULL);
    vkdp_allreduce_i64_sum(h->sums_host, (size_t)P + 3);
    check_overflow(h->sums_host[P + 2], "gradient/loss sums");
    if (res) {
        res->loss_sum = vkdp_fx_to_double(h->sums_host[P], VKDP_FX_LOSS_SHIFT);
        res->correct = h->sums_host[P + 1];
        res->count = n_global;
    }

    if (dx_local)
        input_grad(h, n_local, n_global, &k, dx_local);

    /* Adam, identical on every rank. */
    ht_upload(&h->sums, 0, h->sums_host, (uint64_t)P * sizeof(int64_t));
    float t = (float)(h->iterations + 1);
    float b1p = powf((float)h->cfg.beta1, t), b2p = powf((float)h->cfg.beta2, t);
    float alpha = (float)h->cfg.lr * sqrtf(1.0f - b2p) / (1.0f - b1p);
    float omb1 = (float)(1.0 - h->cfg.beta1), omb2 = (float)(1.0 - h->cfg.beta2);
    float eps = (float)h->cfg.epsilon;
    pass_begin(h);
    if (h->dev)
        vkdp_op_adam(h->cmd, h->dev, ht_view(&h->sums), ht_view(&h->params), ht_view(&h->adam_m),
                     ht_view(&h->adam_v), P, alpha, omb1, omb2, eps);
    else
        head_ref_adam(h->sums.host, HF(h->params), HF(h->adam_m), HF(h->adam_v), P, alpha, omb1,
                      omb2, eps);
    pass_run(h);
    h->iterations++;
}

void vkdp_head_evaluate(vkdp_head *h, const float *x_local, const int *labels, int n_local,
                        vkdp_head_result *res, float *probs_out)
{
    int F = h->F, C = h->C;
    int64_t P = h->P;
    if (n_local < 0 || (n_local > 0 && !x_local) || (res && n_local > 0 && !labels))
        VKDP_FATAL("head: evaluate of %d samples needs features (and labels for metrics)",
                   n_local);
    float *mean = h->stats_host, *inv_std = h->stats_host + F;
    for (int j = 0; j < F; j++) {
        mean[j] = h->moving_mean[j];
        inv_std[j] = (float)(1.0 / sqrt((double)h->moving_var[j] + h->cfg.bn_epsilon));
    }
    ht_upload(&h->stats, 0, h->stats_host, 2 * (uint64_t)F * sizeof(float));
    vkdp_dropout_key k = dropout_key(h, 0, 0);
    int64_t acc[4] = {0, 0, 0, n_local}; /* loss (fixed point), correct, overflow, samples */
    for (int i0 = 0; i0 < n_local; i0 += HEAD_EVAL_CHUNK) {
        int n = n_local - i0 < HEAD_EVAL_CHUNK ? n_local - i0 : HEAD_EVAL_CHUNK;
        upload_samples(h, x_local + (size_t)i0 * F, labels ? labels + i0 : NULL, NULL, n);
        forward_sums_local(h, n, 0.0f, &k, P, probs_out ? probs_out + (size_t)i0 * C : NULL);
        acc[0] += h->sums_host[P];
        acc[1] += h->sums_host[P + 1];
        acc[2] += h->sums_host[P + 2];
    }
    if (!res)
        return;
    vkdp_allreduce_i64_sum(acc, 4);
    check_overflow(acc[2], "evaluation loss");
    res->loss_sum = vkdp_fx_to_double(acc[0], VKDP_FX_LOSS_SHIFT);
    res->correct = acc[1];
    res->count = acc[3];
}

/* ---------------- named tensors ---------------- */
enum { T_GAMMA, T_BETA, T_MMEAN, T_MVAR, T_KERNEL, T_BIAS, T_NWEIGHTS };
static const char *const weight_names[T_NWEIGHTS] = {
    "head_bn/head_bn/gamma:0",           "head_bn/head_bn/beta:0",
    "head_bn/head_bn/moving_mean:0",     "head_bn/head_bn/moving_variance:0",
    "pred/pred/kernel:0",                "pred/pred/bias:0"};
/* Adam slots follow Keras 2.11's optimizer variable names ("m/<var>", under the optimizer). */
static const char *const adam_names[2][4] = {
    {"Adam/m/head_bn/gamma:0", "Adam/m/head_bn/beta:0", "Adam/m/pred/kernel:0",
     "Adam/m/pred/bias:0"},
    {"Adam/v/head_bn/gamma:0", "Adam/v/head_bn/beta:0", "Adam/v/pred/kernel:0",
     "Adam/v/pred/bias:0"}};

int vkdp_head_tensor_count(const vkdp_head *h)
{
    (void)h;
    return T_NWEIGHTS + 8;
}

/* Trainable index 0..3 (gamma, beta, kernel, bias) -> offset and size in the params layout. */
static void trainable_range(const vkdp_head *h, int t, int64_t *off, int64_t *size)
{
    int64_t F = h->F, C = h->C;
    const int64_t offs[4] = {0, F, 2 * F, 2 * F + F * C}, sizes[4] = {F, F, F * C, C};
    *off = offs[t];
    *size = sizes[t];
}

void vkdp_head_tensor_desc(const vkdp_head *h, int i, vkdp_head_tensor *d)
{
    if (i < 0 || i >= vkdp_head_tensor_count(h))
        VKDP_FATAL("head: tensor index %d out of range [0, %d)", i, vkdp_head_tensor_count(h));
    int trainable;
    if (i < T_NWEIGHTS) {
        d->name = weight_names[i];
        d->kind = VKDP_HEAD_WEIGHT;
        trainable = i == T_GAMMA ? 0 : i == T_BETA ? 1 : i == T_KERNEL ? 2 : i == T_BIAS ? 3 : -1;
    } else {
        int a = (i - T_NWEIGHTS) / 4;
        trainable = (i - T_NWEIGHTS) % 4;
        d->name = adam_names[a][trainable];
        d->kind = a ? VKDP_HEAD_ADAM_V : VKDP_HEAD_ADAM_M;
    }
    if (trainable == 2) {
        d->ndims = 2;
        d->dims[0] = h->F;
        d->dims[1] = h->C;
    } else {
        d->ndims = 1;
        d->dims[0] = trainable == 3 ? h->C : h->F;
        d->dims[1] = 1;
    }
    d->size = d->dims[0] * d->dims[1];
}

int vkdp_head_tensor_find(const vkdp_head *h, const char *name)
{
    for (int i = 0; i < vkdp_head_tensor_count(h); i++) {
        vkdp_head_tensor d;
        vkdp_head_tensor_desc(h, i, &d);
        if (!strcmp(d.name, name))
            return i;
    }
    return -1;
}

/* Where tensor i lives: a host array, or (tensor, element offset). */
static float *tensor_loc(vkdp_head *h, int i, htensor **t, int64_t *off, int64_t *size)
{
    vkdp_head_tensor d;
    vkdp_head_tensor_desc(h, i, &d);
    *size = d.size;
    *t = NULL;
    *off = 0;
    if (i == T_MMEAN)
        return h->moving_mean;
    if (i == T_MVAR)
        return h->moving_var;
    int tr = i < T_NWEIGHTS ? (i == T_GAMMA ? 0 : i == T_BETA ? 1 : i == T_KERNEL ? 2 : 3)
                            : (i - T_NWEIGHTS) % 4;
    int64_t sz;
    trainable_range(h, tr, off, &sz);
    *t = i < T_NWEIGHTS ? &h->params : i < T_NWEIGHTS + 4 ? &h->adam_m : &h->adam_v;
    return NULL;
}

void vkdp_head_tensor_get(vkdp_head *h, int i, float *dst)
{
    htensor *t;
    int64_t off, size;
    float *host = tensor_loc(h, i, &t, &off, &size);
    if (host)
        memcpy(dst, host, (size_t)size * sizeof(float));
    else
        ht_download(t, (uint64_t)off * sizeof(float), dst, (uint64_t)size * sizeof(float));
}

void vkdp_head_tensor_set(vkdp_head *h, int i, const float *src)
{
    htensor *t;
    int64_t off, size;
    float *host = tensor_loc(h, i, &t, &off, &size);
    if (host)
        memcpy(host, src, (size_t)size * sizeof(float));
    else
        ht_upload(t, (uint64_t)off * sizeof(float), src, (uint64_t)size * sizeof(float));
}

int64_t vkdp_head_iterations(const vkdp_head *h) { return h->iterations; }

void vkdp_head_set_iterations(vkdp_head *h, int64_t iterations)
{
    if (iterations < 0)
        VKDP_FATAL("head: negative Adam iteration count %lld", (long long)iterations);
    h->iterations = iterations;
}

uint64_t vkdp_head_checksum(vkdp_head *h)
{
    uint64_t pb = (uint64_t)h->P * sizeof(float);
    float *buf = vkdp_xmalloc((size_t)pb);
    uint64_t c = vkdp_fnv1a64(&h->iterations, sizeof h->iterations, 0);
    htensor *ts[] = {&h->params, &h->adam_m, &h->adam_v};
    for (size_t i = 0; i < VKDP_ARRAY_LEN(ts); i++) {
        ht_download(ts[i], 0, buf, pb);
        c = vkdp_fnv1a64(buf, (size_t)pb, c);
    }
    free(buf);
    c = vkdp_fnv1a64(h->moving_mean, (size_t)h->F * sizeof(float), c);
    return vkdp_fnv1a64(h->moving_var, (size_t)h->F * sizeof(float), c);
}

void vkdp_head_check_replicas(vkdp_head *h, int64_t step, int every)
{
    if (every > 0 && step % every == 0)
        vkdp_check_replicas(vkdp_head_checksum(h), step,
                            "head parameters, moving statistics, Adam state");
}

void vkdp_head_test_perturb(vkdp_head *h, int64_t index, float delta)
{
    if (index < 0 || index >= h->P)
        VKDP_FATAL("head: perturbed parameter %lld out of range [0, %lld)", (long long)index,
                   (long long)h->P);
    float v;
    ht_download(&h->params, (uint64_t)index * sizeof(float), &v, sizeof v);
    v += delta;
    ht_upload(&h->params, (uint64_t)index * sizeof(float), &v, sizeof v);
}
