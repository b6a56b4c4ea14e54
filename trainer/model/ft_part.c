/* Fine-tuning's trainable part on the device with exact data-parallel updates; see
 * include/vkdp/model/ft_part.h. */
#include "vkdp/model/ft_part.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkdp/core/common.h"
#include "vkdp/core/errmsg.h"
#include "vkdp/dist/bucket.h"
#include "vkdp/model/head.h"
#include "vkdp/ops/backbone_ops.h"
#include "vkdp/ops/grad_ops.h"
#include "vkdp/ops/head_fx.h"
#include "vkdp/ops/head_ops.h"
#include "vkdp/ops/map.h"
#include "vkdp/ops/ops.h"

/* DDP's bucket sizes: a small first bucket so the first reduction starts early */
#define FT_FIRST_BUCKET_BYTES (1u << 20)
#define FT_BUCKET_BYTES (25u << 20)
#define FT_MAX_TENSORS 128

struct vkdp_ftpart {
    vkdp_device *dev;
    vkdp_cmd *cmd;
    vkdp_finetune_tensor t[FT_MAX_TENSORS];
    int nt, cap;
    int64_t params;
    double beta1, beta2, epsilon;
    uint32_t P, K, N;                 /* top_conv: positions per image, input and output channels */
    vkdp_buf *w, *m, *v;              /* flat blocks, tensor i at t[i].offset */
    vkdp_buf *scale, *shift, *zero;   /* top_bn frozen, and the bias-free conv's zero bias */
    vkdp_buf *x, *z, *a, *pooled, *dp;
    vkdp_buf *partial, *acc, *ovf;
    int last_n;                       /* samples of the last forward */
    vkdp_buckets *bk;                 /* the trainable tensors, then one overflow counter */
    uint32_t *ovf_host;
};

int vkdp_ftpart_supported(const vkdp_finetune_plan *plan, char *err, size_t errlen)
{
    if (plan->first_block != VKDP_EFFNET_BLOCKS)
        return vkdp_seterr(err, errlen,
                           "training MBConv blocks (%s here) is not in this build yet: only top_conv "
                           "trains (--fine-tune-from top_conv, or --trainable-top 7)",
                           plan->from);
    return 0;
}

static vkdp_buf *fbuf(vkdp_device *dev, size_t n, size_t elem, const char *name)
{
    return vkdp_buf_create(dev, (n ? n : 1) * elem, name);
}

static const float *file_tensor(const vkdp_effnet *net, const char *name, int64_t numel)
{
    const vkdp_tensor *t = vkdp_effnet_tensor(net, name);
    if (!t)
        VKDP_FATAL("%s: tensor %s not loaded", net->path, name);
    int64_t k = 1;
    for (int i = 0; i < t->rank; i++)
        k *= t->shape[i];
    if (k != numel)
        VKDP_FATAL("%s: tensor %s has %lld values, expected %lld", net->path, name, (long long)k,
                   (long long)numel);
    return t->data;
}

/* top_bn as scale/shift, with the variance checked as the block references do */
static void top_bn(vkdp_ftpart *p, const vkdp_effnet *net)
{
    static const char *const names[4] = {"gamma:0", "beta:0", "moving_mean:0", "moving_variance:0"};
    const float *bn[4];
    for (int i = 0; i < 4; i++) {
        char name[64];
        snprintf(name, sizeof name, "top_bn/top_bn/%s", names[i]);
        bn[i] = file_tensor(net, name, p->N);
    }
    for (uint32_t c = 0; c < p->N; c++)
        if (!isfinite(bn[3][c]) || !(bn[3][c] + VKDP_EFFNET_BN_EPS > 0))
            VKDP_FATAL("%s: top_bn/moving_variance:0[%u] = %g: not a variance", net->path, c, (double)bn[3][c]);
    float *scale = vkdp_xmalloc(p->N * sizeof *scale), *shift = vkdp_xmalloc(p->N * sizeof *shift);
    vkdp_bn_frozen_affine((int)p->N, bn[0], bn[1], bn[2], bn[3], VKDP_EFFNET_BN_EPS, scale, shift);
    p->scale = fbuf(p->dev, p->N, 4, "ft_top_bn_scale");
    p->shift = fbuf(p->dev, p->N, 4, "ft_top_bn_shift");
    p->zero = fbuf(p->dev, p->N, 4, "ft_zero_bias");
    vkdp_buf_upload(p->scale, 0, scale, p->N * sizeof *scale);
    vkdp_buf_upload(p->shift, 0, shift, p->N * sizeof *shift);
    memset(scale, 0, p->N * sizeof *scale);
    vkdp_buf_upload(p->zero, 0, scale, p->N * sizeof *scale);
    free(scale);
    free(shift);
}

vkdp_ftpart *vkdp_ftpart_create(vkdp_device *dev, const vkdp_effnet *net, const vkdp_finetune_plan *plan,
                                size_t boundary_floats, int cap)
{
    char err[512];
    if (vkdp_ftpart_supported(plan, err, sizeof err) != 0)
        VKDP_FATAL("%s", err);
    vkdp_ftpart *p = vkdp_xcalloc(1, sizeof *p);
    p->dev = dev;
    p->cmd = vkdp_cmd_create(dev);
    p->cap = cap < 1 ? 1 : cap;
    p->nt = vkdp_finetune_tensors(plan, p->t, FT_MAX_TENSORS);
    p->params = plan->params;
    vkdp_head_cfg hc;
    vkdp_head_cfg_default(&hc); /* one optimizer for head and backbone: the same Adam constants */
    p->beta1 = hc.beta1, p->beta2 = hc.beta2, p->epsilon = hc.epsilon;
    p->K = (uint32_t)p->t[0].shape[2];
    p->N = (uint32_t)p->t[0].shape[3];
    if (p->nt != 1 || p->N != VKDP_EFFNET_FEATURES || boundary_floats % p->K)
        VKDP_FATAL("fine-tuning plan %s: unexpected trainable tensors", plan->from);
    p->P = (uint32_t)(boundary_floats / p->K);
    /* the weights, and the Adam moments at zero */
    p->w = fbuf(dev, (size_t)p->params, 4, "ft_params");
    p->m = fbuf(dev, (size_t)p->params, 4, "ft_adam_m");
    p->v = fbuf(dev, (size_t)p->params, 4, "ft_adam_v");
    for (int i = 0; i < p->nt; i++)
        vkdp_buf_upload(p->w, (uint64_t)p->t[i].offset * 4, file_tensor(net, p->t[i].path, p->t[i].numel),
                        (uint64_t)p->t[i].numel * 4);
    vkdp_ftpart_reset_adam(p);
    top_bn(p, net);
    /* the tape and scratch for cap samples */
    const size_t c = (size_t)p->cap, P = p->P;
    p->x = fbuf(dev, c * P * p->K, 4, "ft_top_conv_in");
    p->z = fbuf(dev, c * P * p->N, 4, "ft_tape_top_z");
    p->a = fbuf(dev, c * P * p->N, 4, "ft_top_act");
    p->pooled = fbuf(dev, c * p->N, 4, "ft_pooled");
    p->dp = fbuf(dev, c * p->N, 4, "ft_dpooled");
    p->partial = fbuf(dev, c * (size_t)p->params, 4, "ft_grad_partials");
    p->acc = fbuf(dev, (size_t)p->params, 8, "ft_grad_fx");
    p->ovf = fbuf(dev, (size_t)p->params, 4, "ft_grad_ovf");
    p->ovf_host = vkdp_xmalloc((size_t)p->params * sizeof *p->ovf_host);
    size_t elems[FT_MAX_TENSORS + 1];
    for (int i = 0; i < p->nt; i++)
        elems[i] = (size_t)p->t[i].numel;
    elems[p->nt] = 1;
    p->bk = vkdp_buckets_create(elems, p->nt + 1, FT_FIRST_BUCKET_BYTES, FT_BUCKET_BYTES);
    return p;
}

void vkdp_ftpart_destroy(vkdp_ftpart *p)
{
    if (!p)
        return;
    vkdp_buf *b[] = {p->w, p->m, p->v, p->scale, p->shift, p->zero, p->x, p->z,
                     p->a, p->pooled, p->dp, p->partial, p->acc, p->ovf};
    for (size_t i = 0; i < VKDP_ARRAY_LEN(b); i++)
        vkdp_buf_destroy(b[i]);
    vkdp_buckets_destroy(p->bk);
    vkdp_cmd_destroy(p->cmd);
    free(p->ovf_host);
    free(p);
}

static void check_n(const vkdp_ftpart *p, int n)
{
    if (n < 0 || n > p->cap)
        VKDP_FATAL("fine-tuning: %d samples in one call, at most %d", n, p->cap);
}

void vkdp_ftpart_forward(vkdp_ftpart *p, const float *x, int n, float *pooled)
{
    check_n(p, n);
    p->last_n = n;
    if (n == 0)
        return;
    const size_t M = (size_t)n * p->P;
    vkdp_buf_upload(p->x, 0, x, M * p->K * sizeof *x);
    vkdp_cmd *c = p->cmd;
    vkdp_cmd_begin(c);
    /* conv (no bias) -> frozen BN -> swish, keeping z = bn(conv) for swish's backward; both from the
     * conv's output with the same float operations (as block_dev does) */
    vkdp_conv1x1_args ca = {.M = (uint32_t)M, .K = p->K, .N = p->N, .act = VKDP_ACT_NONE,
                            .x = vkdp_whole(p->x), .w = vkdp_whole(p->w), .bias = vkdp_whole(p->zero),
                            .y = vkdp_whole(p->a)};
    vkdp_op_conv1x1(c, p->dev, &ca, "ft_top_conv");
    vkdp_op_bn_frozen(c, p->dev, M * p->N, p->N, VKDP_ACT_NONE, vkdp_whole(p->a), vkdp_whole(p->scale),
                      vkdp_whole(p->shift), vkdp_whole(p->z), "ft_top_bn");
    vkdp_op_bn_frozen(c, p->dev, M * p->N, p->N, VKDP_ACT_SWISH, vkdp_whole(p->a), vkdp_whole(p->scale),
                      vkdp_whole(p->shift), vkdp_whole(p->a), "ft_top_bn");
    vkdp_op_gap(c, p->dev, (uint32_t)n, p->P, p->N, p->P, vkdp_whole(p->a), vkdp_whole(p->pooled), "ft_gap");
    vkdp_cmd_end(c);
    vkdp_cmd_submit(c);
    vkdp_buf_download(p->pooled, 0, pooled, (uint64_t)n * p->N * sizeof *pooled);
}

/* This rank's exact weight-gradient sums into the bucket block, and its overflow count. */
static int64_t local_grads(vkdp_ftpart *p, const float *dpooled, int n, int64_t *block)
{
    const size_t M = (size_t)n * p->P;
    const uint64_t xs = (uint64_t)p->P * p->K * 4, ys = (uint64_t)p->P * p->N * 4, gs = (uint64_t)p->params * 4;
    vkdp_buf_upload(p->dp, 0, dpooled, (uint64_t)n * p->N * sizeof *dpooled);
    vkdp_cmd *c = p->cmd;
    const vkdp_view none = {0};
    vkdp_cmd_begin(c);
    /* GAP, swish and frozen BN backward into a (the activation itself is not needed again) */
    vkdp_op_gap_grad(c, p->dev, (uint32_t)n, p->P, p->N, 0, vkdp_whole(p->dp), vkdp_whole(p->a), NULL);
    vkdp_op_map(c, p->dev, &vkdp_rec_swish_grad, (uint32_t)(M * p->N),
                (vkdp_view[]){vkdp_whole(p->z), vkdp_whole(p->a)}, vkdp_whole(p->a), NULL);
    vkdp_op_bn_frozen_grad(c, p->dev, M * p->N, p->N, vkdp_whole(p->a), vkdp_whole(p->scale),
                           vkdp_whole(p->a), NULL);
    /* one weight-gradient partial per sample (its own positions only: no cross-sample float sum) */
    for (int s = 0; s < n; s++)
        vkdp_op_conv1x1_grad(c, p->dev, p->P, p->K, p->N, vkdp_slice(p->x, s * xs, xs), vkdp_whole(p->w),
                             vkdp_slice(p->a, s * ys, ys), none, vkdp_slice(p->partial, s * gs, gs), none,
                             "ft_top_conv_grad");
    vkdp_cmd_fill(c, vkdp_whole(p->acc), 0);
    vkdp_cmd_fill(c, vkdp_whole(p->ovf), 0);
    uint64_t per = vkdp_max_binding_bytes(p->dev) / gs;
    if (per < 1)
        VKDP_FATAL("fine-tuning: one sample's gradient (%llu bytes) exceeds the device's binding limit",
                   (unsigned long long)gs);
    for (int s = 0; s < n; s += (int)per) {
        uint32_t S = (uint32_t)(n - s < (int)per ? n - s : (int)per);
        vkdp_op_grad_fx_add(c, p->dev, S, (uint64_t)p->params, VKDP_FX_GRAD_SHIFT,
                            vkdp_slice(p->partial, s * gs, S * gs), vkdp_whole(p->acc), vkdp_whole(p->ovf),
                            "ft_grad_fx_add");
    }
    vkdp_cmd_end(c);
    vkdp_cmd_submit(c);
    vkdp_buf_download(p->acc, 0, block, (uint64_t)p->params * 8);
    vkdp_buf_download(p->ovf, 0, p->ovf_host, (uint64_t)p->params * 4);
    int64_t ovf = 0;
    for (int64_t i = 0; i < p->params; i++)
        ovf += p->ovf_host[i];
    return ovf;
}

void vkdp_ftpart_step(vkdp_ftpart *p, const float *dpooled, int n, double lr, int64_t iterations)
{
    check_n(p, n);
    if (n != p->last_n)
        VKDP_FATAL("fine-tuning: backward of %d samples after a forward of %d", n, p->last_n);
    int64_t *block = vkdp_buckets_data(p->bk);
    int64_t ovf = 0;
    if (n > 0)
        ovf = local_grads(p, dpooled, n, block);
    else
        memset(block, 0, (size_t)p->params * sizeof *block);
    block[vkdp_buckets_offset(p->bk, p->nt)] = ovf;
    for (int i = 0; i <= p->nt; i++)
        vkdp_buckets_ready(p->bk, i);
    vkdp_buckets_wait(p->bk);
    ovf = block[vkdp_buckets_offset(p->bk, p->nt)];
    if (ovf != 0)
        VKDP_FATAL("fine-tuning: %lld backbone weight-gradient term(s) are not finite or beyond the "
                   "fixed-point range (|term| > 2^%d): the run diverged",
                   (long long)ovf, VKDP_FX_LIMIT_LOG2 - VKDP_FX_GRAD_SHIFT);
    /* Adam as the head's (trainer/model/head.c), every rank the same bits */
    vkdp_buf_upload(p->acc, 0, block, (uint64_t)p->params * 8);
    float t = (float)(iterations + 1);
    float b1p = powf((float)p->beta1, t), b2p = powf((float)p->beta2, t);
    float alpha = (float)lr * sqrtf(1.0f - b2p) / (1.0f - b1p);
    vkdp_cmd_begin(p->cmd);
    vkdp_op_adam(p->cmd, p->dev, vkdp_whole(p->acc), vkdp_whole(p->w), vkdp_whole(p->m), vkdp_whole(p->v),
                 p->params, alpha, (float)(1.0 - p->beta1), (float)(1.0 - p->beta2), (float)p->epsilon);
    vkdp_cmd_end(p->cmd);
    vkdp_cmd_submit(p->cmd);
    p->last_n = -1;
}

int vkdp_ftpart_count(const vkdp_ftpart *p) { return p->nt; }

const vkdp_finetune_tensor *vkdp_ftpart_tensor(const vkdp_ftpart *p, int i)
{
    if (i < 0 || i >= p->nt)
        VKDP_FATAL("fine-tuning tensor %d of %d", i, p->nt);
    return &p->t[i];
}

static vkdp_buf *kind_buf(vkdp_ftpart *p, vkdp_ft_kind k)
{
    return k == VKDP_FT_WEIGHT ? p->w : k == VKDP_FT_ADAM_M ? p->m : p->v;
}

void vkdp_ftpart_get(vkdp_ftpart *p, vkdp_ft_kind k, int i, float *dst)
{
    const vkdp_finetune_tensor *t = vkdp_ftpart_tensor(p, i);
    vkdp_buf_download(kind_buf(p, k), (uint64_t)t->offset * 4, dst, (uint64_t)t->numel * 4);
}

void vkdp_ftpart_set(vkdp_ftpart *p, vkdp_ft_kind k, int i, const float *src)
{
    const vkdp_finetune_tensor *t = vkdp_ftpart_tensor(p, i);
    vkdp_buf_upload(kind_buf(p, k), (uint64_t)t->offset * 4, src, (uint64_t)t->numel * 4);
}

void vkdp_ftpart_reset_adam(vkdp_ftpart *p)
{
    float *zero = vkdp_xcalloc((size_t)p->params, sizeof *zero);
    vkdp_buf_upload(p->m, 0, zero, (uint64_t)p->params * 4);
    vkdp_buf_upload(p->v, 0, zero, (uint64_t)p->params * 4);
    free(zero);
}
