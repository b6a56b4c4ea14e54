/* Fine-tuning's trainable part: its device tensors (weights, Adam moments, int64 sums), the tiles
 * a rank's samples run in, the gradient buckets, and their accessors; the forward and the step are
 * ft_pass.c. See include/vkdp/model/ft_part.h. */
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

size_t ftp_drop_stride(const vkdp_ftpart *p)
{
    return (size_t)vkdp_div_up((uint64_t)p->chunk, FT_ALIGN_FLOATS) * FT_ALIGN_FLOATS;
}

/* Samples per tile: cap, or fewer where a tensor of cap samples (a block's tape, a boundary
 * activation, top_conv's activations or any weight-gradient partials) would pass the device's
 * binding limit; VKDP_TEST_FT_CHUNK=N forces at most N (a test hook: tiled runs give the same bits:
 * every op is per row or per sample, and every cross-sample sum an int64 one). */
static int chunk_samples(const vkdp_ftpart *p, const vkdp_effnet *net, int *forced)
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
    const int want = force ? atoi(force) : 0;
    *forced = want > 0 && (uint64_t)want < fit && want < p->cap;
    if (*forced)
        fit = (uint64_t)want;
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
    p->chunk = chunk_samples(p, net, &p->chunk_forced);
    p->ntiles = (int)vkdp_div_up((uint64_t)p->cap, (uint64_t)p->chunk);
    p->tile = vkdp_xcalloc((size_t)p->ntiles, sizeof *p->tile);
    const size_t PN = (size_t)p->P * p->N;
    for (int ch = 0; ch < p->ntiles; ch++) {
        ft_tile *t = &p->tile[ch];
        /* the last tile holds only the rest of cap, so tiling costs no memory */
        const size_t c = (size_t)(p->cap - ch * p->chunk < p->chunk ? p->cap - ch * p->chunk : p->chunk);
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
    p->drop = fbuf(p->dev, slots * ftp_drop_stride(p), 4, "ft_drop_scale");
    p->drop_host = vkdp_xcalloc(slots * ftp_drop_stride(p), sizeof *p->drop_host);
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
                                size_t boundary_floats, int cap, uint64_t seed, double drop_connect_rate,
                                size_t bucket_bytes)
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
    p->drop_connect_rate = drop_connect_rate;
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

void ftp_tapes_free(vkdp_ftpart *p)
{
    for (int i = 0; i < p->ntape * p->nb; i++)
        vkdp_block_dev_tape_free(&p->tape[i]);
    p->ntape = 0;
}

void vkdp_ftpart_destroy(vkdp_ftpart *p)
{
    if (!p)
        return;
    ftp_tapes_free(p);
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

int vkdp_ftpart_count(const vkdp_ftpart *p) { return p->nt; }

int vkdp_ftpart_tile(const vkdp_ftpart *p) { return p->chunk; }
int vkdp_ftpart_tile_forced(const vkdp_ftpart *p) { return p->chunk_forced; }

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
