/* Fine-tuning's trainable part on the device with exact data-parallel updates; see
 * include/vkdp/model/ft_part.h. Everything runs batched over the call's samples, in tiles of at most
 * p->chunk samples with buffers of their own, so that no tensor passes the device's binding limit
 * however large a rank's batch (maxStorageBufferRange: 128 MiB on lavapipe): the MBConv blocks' data path through
 * vkdp_block_dev_forward / vkdp_block_dev_backward_partials, top_conv's conv, BN, swish and GAP;
 * only the weight gradients are recorded once per sample (over that sample's rows), so that each
 * sample's float partial is rounded to int64 alone and every cross-sample sum is an integer one. */
#include "vkdp/model/ft_part.h"

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

/* DDP's bucket sizes: a small first bucket so the first reduction starts early */
#define FT_FIRST_BUCKET_BYTES (1u << 20)
#define FT_BUCKET_BYTES (25u << 20)
#define FT_MAX_TENSORS 128
#define FT_TOP VKDP_EFFNET_BLOCKS
/* drop connect's Philox stream: counter word 0 (docs/fine-tuning.md section 6) */
#define FT_DROP_STREAM 0x44430000u
/* drop-connect scales of one block and chunk start 64 floats apart: any storage-buffer offset
 * alignment up to 256 */
#define FT_ALIGN_FLOATS 64

/* One tile's boundary activations (and their gradients) and top_conv's tensors, for at most
 * p->chunk samples: a tile is the unit every recorded op sees. */
typedef struct {
    vkdp_buf *act[VKDP_EFFNET_BLOCKS + 1], *dact[VKDP_EFFNET_BLOCKS + 1]; /* [chunk, H, W, C] at each boundary */
    vkdp_buf *z, *a, *pooled, *dp;
} ft_tile;

/* One trainable tensor's device state. */
typedef struct {
    vkdp_buf *w;        /* the master weights (top_conv: owned; a block's: its vkdp_block_dev's) */
    vkdp_buf *m, *v;    /* Adam moments */
    vkdp_buf *acc, *ovf;
    int block;          /* index among the trainable blocks; -1: top_conv */
    vkdp_block_grad_id gid; /* which of its block's tensors */
} ft_tensor;

struct vkdp_ftpart {
    vkdp_device *dev;
    vkdp_cmd *cmd;
    vkdp_finetune_tensor t[FT_MAX_TENSORS];
    ft_tensor ft[FT_MAX_TENSORS];
    int nt, cap;
    int64_t params;
    double beta1, beta2, epsilon;
    int first, nb;                    /* first trainable block, trainable block count */
    uint64_t seed;
    const vkdp_effnet *net;           /* the architecture (blocks' flags), not the weights */
    int chunk;                        /* samples per tile */
    int ntiles;                       /* tiles of cap samples */
    ft_tile *tile;
    vkdp_buf *drop;                   /* [chunks][nb][pad64(chunk)] drop-connect scales */
    float *drop_host;
    vkdp_block_dev bd[VKDP_EFFNET_BLOCKS];
    int H[VKDP_EFFNET_BLOCKS + 1], C[VKDP_EFFNET_BLOCKS + 1];
    vkdp_block_dev_tape *tape;        /* [chunks][nb], of the last forward's ntape chunks */
    int ntape;
    uint32_t P, K, N;                 /* top_conv: positions per image, input and output channels */
    vkdp_buf *top_w, *scale, *shift, *zero; /* top_bn frozen, and the bias-free conv's zero bias */
    vkdp_buf *partial;                /* a tile's per-sample weight-gradient partials: top_conv's, then each block's */
    int last_n;                       /* samples of the last forward */
    vkdp_buckets *bk;                 /* the trainable tensors, then one overflow counter */
    double wait_s;                    /* seconds waited for the buckets' allreduce, all steps */
    vkdp_profile *prof;               /* --profile's table, or NULL */
    uint32_t *ovf_host;
};

float vkdp_ftpart_drop_scale(uint64_t seed, uint32_t epoch, int64_t gpos, int b)
{
    double rate = vkdp_effnet_drop_rate(b);
    vkdp_dropout_key k = {seed, epoch, 1, (float)rate, 0};
    return vkdp_drop_connect_scale(rate, vkdp_dropout_keep(&k, (uint64_t)gpos, FT_DROP_STREAM + (uint32_t)b));
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

static size_t drop_stride(const vkdp_ftpart *p)
{
    return (size_t)vkdp_div_up((uint64_t)p->chunk, FT_ALIGN_FLOATS) * FT_ALIGN_FLOATS;
}

/* Samples per tile: cap, or fewer where a tensor of cap samples (a block's tape, a boundary
 * activation, top_conv's activations or any weight-gradient partials) would pass the device's
 * binding limit; VKDP_TEST_FT_CHUNK=N forces at most N (a test hook: tiled runs give the same bits:
 * every op is per row or per sample, and every cross-sample sum an int64 one). */
static int chunk_samples(const vkdp_ftpart *p, const vkdp_effnet *net)
{
    /* top_conv's activations and per-sample weight-gradient partial, and every boundary */
    uint64_t most = (uint64_t)p->P * p->N * 4;
    most = p->K * p->N * 4ull > most ? p->K * p->N * 4ull : most;
    for (int k = 0; k <= p->nb; k++) {
        const uint64_t b = (uint64_t)p->H[k] * p->H[k] * p->C[k] * 4;
        most = b > most ? b : most;
    }
    for (int k = 0; k < p->nb; k++) {
        const vkdp_mbconv *a = &net->blocks[p->first + k];
        const uint64_t hw = (uint64_t)p->H[k] * p->H[k], ho = (uint64_t)p->H[k + 1] * p->H[k + 1];
        const uint64_t ex = (uint64_t)a->exp_ch, in = (uint64_t)a->in_ch, out = (uint64_t)a->out_ch;
        const uint64_t floats[] = {hw * (ex > in ? ex : in), ho * (ex > out ? ex : out)};
        for (size_t i = 0; i < VKDP_ARRAY_LEN(floats); i++)
            most = floats[i] * 4 > most ? floats[i] * 4 : most;
        const uint64_t part = vkdp_block_dev_partials_bytes(p->dev, a, 1);
        most = part > most ? part : most;
    }
    uint64_t fit = vkdp_max_binding_bytes(p->dev) / most;
    if (fit < 1)
        VKDP_FATAL("fine-tuning: one sample's block tensors (%llu bytes) exceed the device's binding limit",
                   (unsigned long long)most);
    const char *force = getenv("VKDP_TEST_FT_CHUNK");
    if (force && atoi(force) > 0 && (uint64_t)atoi(force) < fit)
        fit = (uint64_t)atoi(force);
    return fit < (uint64_t)p->cap ? (int)fit : p->cap;
}

/* The trainable blocks on the device (weights from net's file tensors) and each boundary's shape. */
static void blocks_create(vkdp_ftpart *p, const vkdp_effnet *net, size_t boundary_floats)
{
    const int in0 = p->first < FT_TOP ? net->blocks[p->first].in_ch : (int)p->K;
    int H = (int)lround(sqrt((double)(boundary_floats / (size_t)in0)));
    if ((size_t)H * (size_t)H * (size_t)in0 != boundary_floats)
        VKDP_FATAL("fine-tuning: boundary of %zu floats is not a square image of %d channels", boundary_floats, in0);
    for (int k = 0; k < p->nb; k++) {
        const vkdp_mbconv *a = &net->blocks[p->first + k];
        char err[1024];
        vkdp_block_weights w;
        if (vkdp_block_weights_get(net, p->first + k, &w, err, sizeof err) != 0)
            VKDP_FATAL("%s", err);
        vkdp_block_dev_create(p->dev, &w, &p->bd[k]);
        vkdp_block_weights_free(&w);
        p->H[k] = H;
        p->C[k] = a->in_ch;
        H = vkdp_dw_geom_keras(H, H, a->exp_ch, a->kernel, a->stride).Ho;
    }
    p->H[p->nb] = H;
    p->C[p->nb] = (int)p->K;
    p->P = (uint32_t)(H * H);
    p->chunk = chunk_samples(p, net);
    p->ntiles = (int)vkdp_div_up((uint64_t)p->cap, (uint64_t)p->chunk);
    p->tile = vkdp_xcalloc((size_t)p->ntiles, sizeof *p->tile);
    const size_t c = (size_t)p->chunk, PN = (size_t)p->P * p->N;
    for (int ch = 0; ch < p->ntiles; ch++) {
        ft_tile *t = &p->tile[ch];
        for (int k = 0; k <= p->nb; k++) {
            size_t n = c * p->H[k] * p->H[k] * p->C[k];
            t->act[k] = fbuf(p->dev, n, 4, "ft_act");
            t->dact[k] = k > 0 ? fbuf(p->dev, n, 4, "ft_dact") : NULL;
        }
        t->z = fbuf(p->dev, c * PN, 4, "ft_tape_top_z");
        t->a = fbuf(p->dev, c * PN, 4, "ft_top_act");
        t->pooled = fbuf(p->dev, c * p->N, 4, "ft_pooled");
        t->dp = fbuf(p->dev, c * p->N, 4, "ft_dpooled");
    }
    const size_t slots = (size_t)p->ntiles * (size_t)(p->nb ? p->nb : 1);
    p->tape = vkdp_xcalloc(slots, sizeof *p->tape);
    p->drop = fbuf(p->dev, slots * drop_stride(p), 4, "ft_drop_scale");
    p->drop_host = vkdp_xcalloc(slots * drop_stride(p), sizeof *p->drop_host);
}

/* Tensor i's block and buffers, from its path "<block>_<layer>/<block>_<layer>/<weight>". */
static void bind_tensor(vkdp_ftpart *p, const vkdp_effnet *net, int i)
{
    const vkdp_finetune_tensor *t = &p->t[i];
    ft_tensor *f = &p->ft[i];
    f->m = fbuf(p->dev, (size_t)t->numel, 4, "ft_adam_m");
    f->v = fbuf(p->dev, (size_t)t->numel, 4, "ft_adam_v");
    f->acc = fbuf(p->dev, (size_t)t->numel, 8, "ft_grad_fx");
    f->ovf = fbuf(p->dev, (size_t)t->numel, 4, "ft_grad_ovf");
    if (!strcmp(t->path, "top_conv/top_conv/kernel:0")) {
        f->block = -1;
        f->w = p->top_w;
        return;
    }
    f->block = -1;
    for (int k = 0; k < p->nb; k++) {
        const char *bn = net->blocks[p->first + k].name;
        size_t l = strlen(bn);
        if (!strncmp(t->path, bn, l) && t->path[l] == '_')
            f->block = k;
    }
    const char *layer = f->block >= 0 ? t->path + strlen(net->blocks[p->first + f->block].name) + 1 : "";
    const char *weight = strrchr(t->path, '/') + 1;
    const int bias = !strcmp(weight, "bias:0");
    const vkdp_block_dev *d = f->block >= 0 ? &p->bd[f->block] : NULL;
#define LAYER(name) (!strncmp(layer, name "/", sizeof name))
    if (!d)
        f->w = NULL;
    else if (LAYER("expand_conv"))
        f->w = d->expand_w, f->gid = VKDP_BG_EXPAND_W;
    else if (LAYER("dwconv"))
        f->w = d->dw_w, f->gid = VKDP_BG_DW_W;
    else if (LAYER("se_reduce"))
        f->w = bias ? d->se_reduce_b : d->se_reduce_w, f->gid = bias ? VKDP_BG_SE_REDUCE_B : VKDP_BG_SE_REDUCE_W;
    else if (LAYER("se_expand"))
        f->w = bias ? d->se_expand_b : d->se_expand_w, f->gid = bias ? VKDP_BG_SE_EXPAND_B : VKDP_BG_SE_EXPAND_W;
    else if (LAYER("project_conv"))
        f->w = d->project_w, f->gid = VKDP_BG_PROJECT_W;
#undef LAYER
    if (!f->w || vkdp_buf_size(f->w) != (uint64_t)t->numel * 4 ||
        (d && vkdp_block_grad_numel(d->arch, f->gid) != (uint64_t)t->numel))
        VKDP_FATAL("fine-tuning: no device tensor for %s", t->path);
}

/* The gradient buckets over the tensors in backward order (vkdp_ftpart_create says how cut). */
static void make_buckets(vkdp_ftpart *p, size_t bucket_bytes)
{
    /* the tensors in backward order (top_conv first), then the step's overflow count */
    size_t elems[FT_MAX_TENSORS + 1];
    for (int i = 0; i < p->nt; i++)
        elems[i] = (size_t)p->t[i].numel;
    elems[p->nt] = 1;
    size_t first = bucket_bytes < FT_FIRST_BUCKET_BYTES ? bucket_bytes : FT_FIRST_BUCKET_BYTES;
    p->bk = vkdp_buckets_create(elems, p->nt + 1, first, bucket_bytes);
}

vkdp_ftpart *vkdp_ftpart_create(vkdp_device *dev, const vkdp_effnet *net, const vkdp_finetune_plan *plan,
                                size_t boundary_floats, int cap, uint64_t seed, size_t bucket_bytes)
{
    if (plan->first_block < 0 || plan->first_block > VKDP_EFFNET_BLOCKS)
        VKDP_FATAL("fine-tuning plan %s: first trainable block %d is not one of block1a..top_conv", plan->from,
                   plan->first_block);
    vkdp_ftpart *p = vkdp_xcalloc(1, sizeof *p);
    p->dev = dev;
    p->cmd = vkdp_cmd_create(dev);
    p->cap = cap < 1 ? 1 : cap;
    p->nt = vkdp_finetune_tensors(plan, p->t, FT_MAX_TENSORS);
    if (p->nt > FT_MAX_TENSORS || p->nt < 1 || strcmp(p->t[0].path, "top_conv/top_conv/kernel:0"))
        VKDP_FATAL("fine-tuning plan %s: unexpected trainable tensors", plan->from);
    p->params = plan->params;
    p->first = plan->first_block;
    p->nb = FT_TOP - p->first;
    p->seed = seed;
    p->net = net;
    vkdp_head_cfg hc;
    vkdp_head_cfg_default(&hc); /* one optimizer for head and backbone: the same Adam constants */
    p->beta1 = hc.beta1, p->beta2 = hc.beta2, p->epsilon = hc.epsilon;
    p->K = (uint32_t)p->t[0].shape[2];
    p->N = (uint32_t)p->t[0].shape[3];
    if (p->N != VKDP_EFFNET_FEATURES)
        VKDP_FATAL("fine-tuning plan %s: top_conv has %u outputs", plan->from, p->N);
    blocks_create(p, net, boundary_floats);
    top_bn(p, net);
    p->top_w = fbuf(dev, (size_t)p->t[0].numel, 4, "ft_top_conv_w");
    vkdp_buf_upload(p->top_w, 0, file_tensor(net, p->t[0].path, p->t[0].numel), (uint64_t)p->t[0].numel * 4);
    uint64_t part = (uint64_t)p->chunk * (uint64_t)p->t[0].numel * 4;
    for (int k = 0; k < p->nb; k++) {
        uint64_t b = vkdp_block_dev_partials_bytes(dev, &net->blocks[p->first + k], p->chunk);
        part = b > part ? b : part;
    }
    p->partial = fbuf(dev, part / 4, 4, "ft_grad_partials");
    size_t most = 0;
    for (int i = 0; i < p->nt; i++) {
        bind_tensor(p, net, i);
        most = (size_t)p->t[i].numel > most ? (size_t)p->t[i].numel : most;
    }
    vkdp_ftpart_reset_adam(p);
    p->ovf_host = vkdp_xmalloc(most * sizeof *p->ovf_host);
    make_buckets(p, bucket_bytes ? bucket_bytes : FT_BUCKET_BYTES);
    return p;
}

static void tapes_free(vkdp_ftpart *p)
{
    for (int i = 0; i < p->ntape * p->nb; i++)
        vkdp_block_dev_tape_free(&p->tape[i]);
    p->ntape = 0;
}

void vkdp_ftpart_destroy(vkdp_ftpart *p)
{
    if (!p)
        return;
    tapes_free(p);
    for (int i = 0; i < p->nt; i++) {
        vkdp_buf *b[] = {p->ft[i].m, p->ft[i].v, p->ft[i].acc, p->ft[i].ovf};
        for (size_t j = 0; j < VKDP_ARRAY_LEN(b); j++)
            vkdp_buf_destroy(b[j]);
    }
    for (int k = 0; k < p->nb; k++)
        vkdp_block_dev_free(&p->bd[k]);
    for (int ch = 0; ch < p->ntiles; ch++) {
        ft_tile *t = &p->tile[ch];
        for (int k = 0; k <= p->nb; k++) {
            vkdp_buf_destroy(t->act[k]);
            vkdp_buf_destroy(t->dact[k]);
        }
        vkdp_buf *tb[] = {t->z, t->a, t->pooled, t->dp};
        for (size_t i = 0; i < VKDP_ARRAY_LEN(tb); i++)
            vkdp_buf_destroy(tb[i]);
    }
    free(p->tile);
    vkdp_buf *b[] = {p->top_w, p->scale, p->shift, p->zero, p->partial, p->drop};
    for (size_t i = 0; i < VKDP_ARRAY_LEN(b); i++)
        vkdp_buf_destroy(b[i]);
    vkdp_buckets_destroy(p->bk);
    vkdp_cmd_destroy(p->cmd);
    free(p->tape);
    free(p->drop_host);
    free(p->ovf_host);
    free(p);
}

void vkdp_ftpart_set_profile(vkdp_ftpart *p, vkdp_profile *prof) { p->prof = prof; }

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
    if (!gpos || !p->net->blocks[p->first + k].has_residual)
        return none;
    return vkdp_slice(p->drop, (uint64_t)(ch * p->nb + k) * drop_stride(p) * 4, (uint64_t)count * 4);
}

void vkdp_ftpart_forward(vkdp_ftpart *p, const float *x, int n, const int64_t *gpos, uint32_t epoch,
                         float *pooled)
{
    check_n(p, n);
    tapes_free(p);
    p->last_n = n;
    if (n == 0)
        return;
    const int G = p->chunk, chunks = (n + G - 1) / G;
    for (int ch = 0, s; ch < chunks; ch++) {
        const int m = tile_count(p, n, ch, &s);
        vkdp_buf_upload(p->tile[ch].act[0], 0, x + (size_t)s * (boundary_bytes(p, 0) / 4), (uint64_t)m * boundary_bytes(p, 0));
    }
    if (gpos && p->nb > 0) {
        for (int s = 0; s < n; s++)
            for (int k = 0; k < p->nb; k++)
                p->drop_host[(size_t)(s / G * p->nb + k) * drop_stride(p) + (size_t)(s % G)] =
                    vkdp_ftpart_drop_scale(p->seed, epoch, gpos[s], p->first + k);
        vkdp_buf_upload(p->drop, 0, p->drop_host, (uint64_t)chunks * p->nb * drop_stride(p) * 4);
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
    tapes_free(p);
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

int vkdp_ftpart_count(const vkdp_ftpart *p) { return p->nt; }

int vkdp_ftpart_tile(const vkdp_ftpart *p) { return p->chunk; }

double vkdp_ftpart_allreduce_wait(const vkdp_ftpart *p) { return p->wait_s; }


vkdp_buckets *vkdp_ftpart_buckets(vkdp_ftpart *p) { return p->bk; }

uint64_t vkdp_ftpart_checksum(vkdp_ftpart *p)
{
    uint64_t c = 0;
    for (int i = 0; i < p->nt; i++) {
        float *buf = vkdp_xmalloc((size_t)p->t[i].numel * sizeof *buf);
        for (int k = VKDP_FT_WEIGHT; k <= VKDP_FT_ADAM_V; k++) {
            vkdp_ftpart_get(p, (vkdp_ft_kind)k, i, buf);
            c = vkdp_fnv1a64(buf, (size_t)p->t[i].numel * sizeof *buf, c);
        }
        free(buf);
    }
    return c;
}

const vkdp_finetune_tensor *vkdp_ftpart_tensor(const vkdp_ftpart *p, int i)
{
    if (i < 0 || i >= p->nt)
        VKDP_FATAL("fine-tuning tensor %d of %d", i, p->nt);
    return &p->t[i];
}

static vkdp_buf *kind_buf(vkdp_ftpart *p, vkdp_ft_kind k, int i)
{
    vkdp_ftpart_tensor(p, i);
    return k == VKDP_FT_WEIGHT ? p->ft[i].w : k == VKDP_FT_ADAM_M ? p->ft[i].m : p->ft[i].v;
}

void vkdp_ftpart_get(vkdp_ftpart *p, vkdp_ft_kind k, int i, float *dst)
{
    vkdp_buf_download(kind_buf(p, k, i), 0, dst, (uint64_t)p->t[i].numel * 4);
}

void vkdp_ftpart_set(vkdp_ftpart *p, vkdp_ft_kind k, int i, const float *src)
{
    vkdp_buf_upload(kind_buf(p, k, i), 0, src, (uint64_t)p->t[i].numel * 4);
}

void vkdp_ftpart_last_grad(vkdp_ftpart *p, int i, float *dst)
{
    const int64_t *g = vkdp_buckets_data(p->bk) + vkdp_buckets_offset(p->bk, i);
    for (int64_t j = 0; j < vkdp_ftpart_tensor(p, i)->numel; j++)
        dst[j] = (float)vkdp_fx_to_double(g[j], VKDP_FX_GRAD_SHIFT);
}

void vkdp_ftpart_reset_adam(vkdp_ftpart *p)
{
    for (int i = 0; i < p->nt; i++) {
        float *zero = vkdp_xcalloc((size_t)p->t[i].numel, sizeof *zero);
        vkdp_buf_upload(p->ft[i].m, 0, zero, (uint64_t)p->t[i].numel * 4);
        vkdp_buf_upload(p->ft[i].v, 0, zero, (uint64_t)p->t[i].numel * 4);
        free(zero);
    }
}
