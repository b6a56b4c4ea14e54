/* Fine-tuning's forward and step on the device, with exact data-parallel updates (the state they
 * run on is ft_part.c's; see include/vkdp/model/ft_part.h). Everything runs batched over the
 * call's samples, in tiles of at most p->chunk samples with buffers of their own, so that no tensor
 * passes the device's binding limit however large a rank's batch (maxStorageBufferRange: 128 MiB
 * on lavapipe): the MBConv blocks' data path through vkdp_block_dev_forward /
 * vkdp_block_dev_backward_partials, top_conv's conv, BN, swish and GAP; only the weight gradients
 * are recorded once per sample (over that sample's rows), so that each sample's float partial is
 * rounded to int64 alone and every cross-sample sum is an integer one. */
#include "ft_part_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkdp/core/common.h"
#include "vkdp/core/rng.h"
#include "vkdp/dist/bucket.h"
#include "vkdp/model/block_dev.h"
#include "vkdp/model/effnet_grad.h"
#include "vkdp/model/head.h"
#include "vkdp/ops/backbone_ops.h"
#include "vkdp/ops/grad_ops.h"
#include "vkdp/ops/head_fx.h"
#include "vkdp/ops/head_ops.h"
#include "vkdp/ops/head_ref.h"
#include "vkdp/ops/map.h"
#include "vkdp/ops/ops.h"

float vkdp_ftpart_drop_scale(uint64_t seed, double connect_rate, uint32_t epoch, int64_t gpos, int b)
{
    double rate = vkdp_effnet_drop_rate(connect_rate, b);
    vkdp_dropout_key k = {seed, epoch, 1, (float)rate, 0};
    return vkdp_drop_connect_scale(rate, vkdp_dropout_keep(&k, (uint64_t)gpos, FT_DROP_STREAM + (uint32_t)b));
}

/* Submits the recorded commands and waits for them; their device times into --profile's table. */
static void submit(vkdp_ftpart *p)
{
    vkdp_cmd_submit(p->cmd);
    if (p->prof)
        vkdp_profile_add(p->prof, p->cmd);
}

static void check_n(const vkdp_ftpart *p, int n)
{
    if (n < 0 || n > p->cap)
        VKDP_FATAL("fine-tuning: %d samples in one call, at most %d", n, p->cap);
}

/* Bytes per sample of the activation at boundary k. */
static uint64_t boundary_bytes(const vkdp_ftpart *p, int k) { return (uint64_t)p->H[k] * p->H[k] * p->C[k] * 4; }

/* The first count samples of a tile's activation (or gradient) buffer at boundary k. */
static vkdp_view rows(const vkdp_ftpart *p, vkdp_buf *b, int k, int count)
{
    return vkdp_slice(b, 0, (uint64_t)count * boundary_bytes(p, k));
}

/* Tile ch's first sample and sample count of a call of n samples. */
static int tile_count(const vkdp_ftpart *p, int n, int ch, int *s)
{
    *s = ch * p->chunk;
    return n - *s < p->chunk ? n - *s : p->chunk;
}

/* Chunk ch's drop-connect scales in trainable block k (uploaded by forward), or none. */
static vkdp_view drop_view(const vkdp_ftpart *p, const int64_t *gpos, int ch, int k, int count)
{
    const vkdp_view none = {0};
    if (!gpos || p->drop_connect_rate <= 0 || !p->net->blocks[p->first + k].has_residual)
        return none;
    return vkdp_slice(p->drop, (uint64_t)(ch * p->nb + k) * ftp_drop_stride(p) * 4, (uint64_t)count * 4);
}

void vkdp_ftpart_forward(vkdp_ftpart *p, const float *x, int n, const int64_t *gpos, uint32_t epoch,
                         float *pooled)
{
    check_n(p, n);
    ftp_tapes_free(p);
    p->last_n = n;
    if (n == 0)
        return;
    const int G = p->chunk, chunks = (n + G - 1) / G;
    for (int ch = 0, s; ch < chunks; ch++) {
        const int m = tile_count(p, n, ch, &s);
        vkdp_buf_upload(p->tile[ch].act[0], 0, x + (size_t)s * (boundary_bytes(p, 0) / 4), (uint64_t)m * boundary_bytes(p, 0));
    }
    /* at rate 0 every scale is 1: no scales, and the blocks run without drop connect */
    if (gpos && p->nb > 0 && p->drop_connect_rate > 0) {
        for (int s = 0; s < n; s++)
            for (int k = 0; k < p->nb; k++)
                p->drop_host[(size_t)(s / G * p->nb + k) * ftp_drop_stride(p) + (size_t)(s % G)] =
                    vkdp_ftpart_drop_scale(p->seed, p->drop_connect_rate, epoch, gpos[s], p->first + k);
        vkdp_buf_upload(p->drop, 0, p->drop_host, (uint64_t)chunks * p->nb * ftp_drop_stride(p) * 4);
    }
    vkdp_cmd *c = p->cmd;
    vkdp_cmd_begin(c);
    /* tile by tile: the blocks batched over the tile's samples, each with its tape, then top_conv */
    for (int ch = 0, s; ch < chunks; ch++) {
        const int m = tile_count(p, n, ch, &s);
        ft_tile *t = &p->tile[ch];
        for (int k = 0; k < p->nb; k++)
            vkdp_block_dev_forward(c, p->dev, &p->bd[k], m, p->H[k], p->H[k], rows(p, t->act[k], k, m),
                                   drop_view(p, gpos, ch, k, m), &p->tape[ch * p->nb + k],
                                   rows(p, t->act[k + 1], k + 1, m));
        /* top_conv (no bias) -> frozen BN -> swish, keeping z = bn(conv) for swish's backward; both
         * from the conv's output with the same float operations (as block_dev does) */
        const size_t M = (size_t)m * p->P;
        vkdp_conv1x1_args ca = {.M = (uint32_t)M, .K = p->K, .N = p->N, .act = VKDP_ACT_NONE,
                                .x = vkdp_whole(t->act[p->nb]), .w = vkdp_whole(p->top_w),
                                .bias = vkdp_whole(p->zero), .y = vkdp_whole(t->a)};
        vkdp_op_conv1x1(c, p->dev, &ca, "ft_top_conv");
        vkdp_op_bn_frozen(c, p->dev, M * p->N, p->N, VKDP_ACT_NONE, vkdp_whole(t->a), vkdp_whole(p->scale),
                          vkdp_whole(p->shift), vkdp_whole(t->z), "ft_top_bn");
        vkdp_op_bn_frozen(c, p->dev, M * p->N, p->N, VKDP_ACT_SWISH, vkdp_whole(t->a), vkdp_whole(p->scale),
                          vkdp_whole(p->shift), vkdp_whole(t->a), "ft_top_bn");
        vkdp_op_gap(c, p->dev, (uint32_t)m, p->P, p->N, p->P, vkdp_whole(t->a), vkdp_whole(t->pooled), "ft_gap");
    }
    p->ntape = chunks;
    vkdp_cmd_end(c);
    submit(p);
    for (int ch = 0, s; ch < chunks; ch++) {
        const int m = tile_count(p, n, ch, &s);
        vkdp_buf_download(p->tile[ch].pooled, 0, pooled + (size_t)s * p->N, (uint64_t)m * p->N * sizeof *pooled);
    }
}

/* Records acc += the int64 fixed point of S per-sample partials g [S, stride] (numel values
 * each): one dispatch over samples packed without padding (in chunks within the binding limit),
 * else one per sample. Integer sums: the same result either way. */
static void fx_add(vkdp_ftpart *p, const ft_tensor *f, vkdp_view g, uint64_t numel, uint64_t stride, int S)
{
    const uint64_t gs = numel * 4, per = stride == numel ? vkdp_max_binding_bytes(p->dev) / gs : 1;
    if (per < 1)
        VKDP_FATAL("fine-tuning: one sample's gradient (%llu bytes) exceeds the device's binding limit",
                   (unsigned long long)gs);
    for (int s = 0; s < S; s += (int)per) {
        uint32_t k = (uint32_t)(S - s < (int)per ? S - s : (int)per);
        vkdp_op_grad_fx_add(p->cmd, p->dev, k, numel, VKDP_FX_GRAD_SHIFT,
                            vkdp_slice(g.buf, g.offset + (uint64_t)s * stride * 4, k * gs), vkdp_whole(f->acc),
                            vkdp_whole(f->ovf), "ft_grad_fx_add");
    }
}

/* What a block's backward hands each tensor's partials to. */
typedef struct {
    vkdp_ftpart *p;
    int block, S;
} fx_ctx;

static void block_partials(void *ctx, vkdp_block_grad_id id, vkdp_view part, uint64_t numel, uint64_t stride)
{
    const fx_ctx *x = ctx;
    for (int i = 0; i < x->p->nt; i++)
        if (x->p->ft[i].block == x->block && x->p->ft[i].gid == id)
            fx_add(x->p, &x->p->ft[i], part, numel, stride, x->S);
}

/* The tensors of trainable block k (-1: top_conv) are summed on the device: their int64 sums into
 * the bucket block, which starts the allreduce of every bucket they complete while the rest of the
 * backward runs; returns their overflow count. */
static int64_t hand_over(vkdp_ftpart *p, int k, int64_t *block)
{
    int64_t ovf = 0;
    for (int i = 0; i < p->nt; i++) {
        if (p->ft[i].block != k)
            continue;
        vkdp_buf_download(p->ft[i].acc, 0, block + vkdp_buckets_offset(p->bk, i), (uint64_t)p->t[i].numel * 8);
        vkdp_buf_download(p->ft[i].ovf, 0, p->ovf_host, (uint64_t)p->t[i].numel * 4);
        for (int64_t j = 0; j < p->t[i].numel; j++)
            ovf += p->ovf_host[j];
        vkdp_buckets_ready(p->bk, i);
    }
    return ovf;
}

/* This rank's exact weight-gradient sums into the bucket block, handed to the buckets block by
 * block as the backward completes them (one submission for top_conv, one per block); returns the
 * overflow count. */
static int64_t local_grads(vkdp_ftpart *p, const float *dpooled, int n, int64_t *block)
{
    const uint64_t xs = (uint64_t)p->P * p->K * 4, ys = (uint64_t)p->P * p->N * 4, gs = (uint64_t)p->t[0].numel * 4;
    for (int ch = 0, s; ch < p->ntape; ch++) {
        const int m = tile_count(p, n, ch, &s);
        vkdp_buf_upload(p->tile[ch].dp, 0, dpooled + (size_t)s * p->N, (uint64_t)m * p->N * sizeof *dpooled);
    }
    vkdp_cmd *c = p->cmd;
    const vkdp_view none = {0};
    vkdp_cmd_begin(c);
    for (int i = 0; i < p->nt; i++) {
        vkdp_cmd_fill(c, vkdp_whole(p->ft[i].acc), 0);
        vkdp_cmd_fill(c, vkdp_whole(p->ft[i].ovf), 0);
    }
    for (int ch = 0, s; ch < p->ntape; ch++) {
        const int m = tile_count(p, n, ch, &s);
        const ft_tile *t = &p->tile[ch];
        const size_t M = (size_t)m * p->P;
        /* GAP, swish and frozen BN backward into a (the activation itself is not needed again) */
        vkdp_op_gap_grad(c, p->dev, (uint32_t)m, p->P, p->N, 0, vkdp_whole(t->dp), vkdp_whole(t->a), NULL);
        vkdp_op_map(c, p->dev, &vkdp_rec_swish_grad, (uint32_t)(M * p->N),
                    (vkdp_view[]){vkdp_whole(t->z), vkdp_whole(t->a)}, vkdp_whole(t->a), NULL);
        vkdp_op_bn_frozen_grad(c, p->dev, M * p->N, p->N, vkdp_whole(t->a), vkdp_whole(p->scale),
                               vkdp_whole(t->a), NULL);
        /* one top_conv weight-gradient partial per sample (its own positions only: no cross-sample
         * float sum), added in int64 before the next tile reuses the scratch; its input gradient is
         * per row, so batched */
        vkdp_buf *x = t->act[p->nb];
        vkdp_op_conv1x1_grad_w_samples(c, p->dev, (uint32_t)m, p->P, p->K, p->N, vkdp_slice(x, 0, m * xs),
                                       vkdp_slice(t->a, 0, m * ys), vkdp_slice(p->partial, 0, m * gs), gs / 4,
                                       none, 0, "ft_top_conv_grad");
        fx_add(p, &p->ft[0], vkdp_whole(p->partial), (uint64_t)p->t[0].numel, (uint64_t)p->t[0].numel, m);
        if (p->nb > 0)
            vkdp_op_conv1x1_grad(c, p->dev, (uint32_t)M, p->K, p->N, vkdp_whole(x), vkdp_whole(p->top_w),
                                 vkdp_whole(t->a), vkdp_whole(t->dact[p->nb]), none, none, "ft_top_conv_dx");
    }
    vkdp_cmd_end(c);
    submit(p);
    int64_t ovf = hand_over(p, -1, block);
    /* the blocks backwards, batched per chunk, each tensor's per-sample partials added in int64
     * as soon as they are recorded (the scratch is then reused by the next tensor) */
    for (int k = p->nb - 1; k >= 0; k--) {
        vkdp_cmd_begin(c);
        for (int ch = 0, s; ch < p->ntape; ch++) {
            const int m = tile_count(p, n, ch, &s);
            fx_ctx x = {p, k, m};
            vkdp_block_dev_backward_partials(c, p->dev, &p->bd[k], &p->tape[ch * p->nb + k],
                                             rows(p, p->tile[ch].dact[k + 1], k + 1, m),
                                             k > 0 ? rows(p, p->tile[ch].dact[k], k, m) : none,
                                             vkdp_whole(p->partial), block_partials, &x);
        }
        vkdp_cmd_end(c);
        vkdp_cmd_submit_async(c);
        vkdp_buckets_progress(p->bk);
        vkdp_cmd_wait(c);
        if (p->prof)
            vkdp_profile_add(p->prof, c);
        ovf += hand_over(p, k, block);
    }
    return ovf;
}

void vkdp_ftpart_step(vkdp_ftpart *p, const float *dpooled, int n, double lr, int64_t iterations)
{
    check_n(p, n);
    if (n != p->last_n)
        VKDP_FATAL("fine-tuning: backward of %d samples after a forward of %d", n, p->last_n);
    int64_t *block = vkdp_buckets_data(p->bk);
    int64_t ovf = 0;
    if (n > 0) {
        ovf = local_grads(p, dpooled, n, block);
    } else { /* no samples here: zero sums, in the same collectives */
        memset(block, 0, (size_t)p->params * sizeof *block);
        for (int i = 0; i < p->nt; i++)
            vkdp_buckets_ready(p->bk, i);
    }
    ftp_tapes_free(p);
    block[vkdp_buckets_offset(p->bk, p->nt)] = ovf;
    vkdp_buckets_ready(p->bk, p->nt);
    p->wait_s += vkdp_buckets_wait(p->bk);
    ovf = block[vkdp_buckets_offset(p->bk, p->nt)];
    if (ovf != 0)
        VKDP_FATAL("fine-tuning: %lld backbone weight-gradient term(s) are not finite or beyond the "
                   "fixed-point range (|term| > 2^%d): the run diverged",
                   (long long)ovf, VKDP_FX_LIMIT_LOG2 - VKDP_FX_GRAD_SHIFT);
    /* Adam as the head's (trainer/model/head.c), every rank the same bits */
    float t = (float)(iterations + 1);
    float b1p = powf((float)p->beta1, t), b2p = powf((float)p->beta2, t);
    float alpha = (float)lr * sqrtf(1.0f - b2p) / (1.0f - b1p);
    vkdp_cmd_begin(p->cmd);
    for (int i = 0; i < p->nt; i++) {
        ft_tensor *f = &p->ft[i];
        vkdp_buf_upload(f->acc, 0, block + vkdp_buckets_offset(p->bk, i), (uint64_t)p->t[i].numel * 8);
        vkdp_op_adam(p->cmd, p->dev, vkdp_whole(f->acc), vkdp_whole(f->w), vkdp_whole(f->m), vkdp_whole(f->v),
                     p->t[i].numel, alpha, (float)(1.0 - p->beta1), (float)(1.0 - p->beta2), (float)p->epsilon);
    }
    vkdp_cmd_end(p->cmd);
    submit(p);
    p->last_n = -1;
}
