/* One MBConv block's training forward and backward recorded on the device, step for step the
 * C reference's (trainer/model/effnet_block_grad.c) with the ops of vkdp/ops/grad_ops.h; the
 * backward's weight gradients summed over the batch, or per sample (one dispatch per sample over
 * its own rows) for fine-tuning's exact sums. */
#include "vkdp/model/block_dev.h"

#include <string.h>

#include "vkdp/core/common.h"
#include "vkdp/ops/backbone_ops.h"
#include "vkdp/ops/grad_ops.h"
#include "vkdp/ops/map.h"
#include "vkdp/ops/ops.h"

static vkdp_buf *upload(vkdp_device *dev, const float *src, size_t n, const char *name)
{
    if (!src)
        return NULL;
    vkdp_buf *b = vkdp_buf_create(dev, n * sizeof(float), name);
    vkdp_buf_upload(b, 0, src, n * sizeof(float));
    return b;
}

/* One sample's SE backward scratch, padded to 64 floats: 256 bytes, any offset alignment. */
static uint64_t work1_floats(int ex, int se)
{
    return (vkdp_se_excite_grad_work(1, (uint32_t)ex, (uint32_t)se) + 63) / 64 * 64;
}

static vkdp_buf *fbuf(vkdp_device *dev, size_t n, const char *name)
{
    return vkdp_buf_create(dev, (n ? n : 1) * sizeof(float), name);
}

void vkdp_block_dev_create(vkdp_device *dev, const vkdp_block_weights *w, vkdp_block_dev *d)
{
    const vkdp_mbconv *a = w->arch;
    const size_t in = (size_t)a->in_ch, ex = (size_t)a->exp_ch, se = (size_t)a->se_ch,
                 out = (size_t)a->out_ch, kk = (size_t)a->kernel * a->kernel;
    memset(d, 0, sizeof *d);
    d->arch = a;
    d->expand_w = upload(dev, a->has_expand ? w->expand_w : NULL, in * ex, "expand_w");
    d->dw_w = upload(dev, w->dw_w, kk * ex, "dw_w");
    d->se_reduce_w = upload(dev, w->se_reduce_w, ex * se, "se_reduce_w");
    d->se_reduce_b = upload(dev, w->se_reduce_b, se, "se_reduce_b");
    d->se_expand_w = upload(dev, w->se_expand_w, se * ex, "se_expand_w");
    d->se_expand_b = upload(dev, w->se_expand_b, ex, "se_expand_b");
    d->project_w = upload(dev, w->project_w, ex * out, "project_w");
    d->expand_scale = upload(dev, a->has_expand ? w->expand_scale : NULL, ex, "expand_scale");
    d->expand_shift = upload(dev, a->has_expand ? w->expand_shift : NULL, ex, "expand_shift");
    d->bn_scale = upload(dev, w->bn_scale, ex, "bn_scale");
    d->bn_shift = upload(dev, w->bn_shift, ex, "bn_shift");
    d->project_scale = upload(dev, w->project_scale, out, "project_scale");
    d->project_shift = upload(dev, w->project_shift, out, "project_shift");
    size_t nz = ex > out ? ex : out;
    d->zero = fbuf(dev, nz, "zero_bias");
    float zero[nz];
    memset(zero, 0, sizeof zero);
    vkdp_buf_upload(d->zero, 0, zero, sizeof zero);
}

void vkdp_block_dev_free(vkdp_block_dev *d)
{
    vkdp_buf *b[] = {d->expand_w, d->dw_w, d->se_reduce_w, d->se_reduce_b, d->se_expand_w,
                     d->se_expand_b, d->project_w, d->expand_scale, d->expand_shift, d->bn_scale,
                     d->bn_shift, d->project_scale, d->project_shift, d->zero};
    for (size_t i = 0; i < VKDP_ARRAY_LEN(b); i++)
        vkdp_buf_destroy(b[i]);
    memset(d, 0, sizeof *d);
}

void vkdp_block_dev_grads_create(vkdp_device *dev, const vkdp_mbconv *a, vkdp_block_dev_grads *g)
{
    const size_t ex = (size_t)a->exp_ch, se = (size_t)a->se_ch;
    g->expand_w = a->has_expand ? fbuf(dev, (size_t)a->in_ch * ex, "d_expand_w") : NULL;
    g->dw_w = fbuf(dev, (size_t)a->kernel * a->kernel * ex, "d_dw_w");
    g->se_reduce_w = fbuf(dev, ex * se, "d_se_reduce_w");
    g->se_reduce_b = fbuf(dev, se, "d_se_reduce_b");
    g->se_expand_w = fbuf(dev, se * ex, "d_se_expand_w");
    g->se_expand_b = fbuf(dev, ex, "d_se_expand_b");
    g->project_w = fbuf(dev, ex * a->out_ch, "d_project_w");
}

void vkdp_block_dev_grads_free(vkdp_block_dev_grads *g)
{
    vkdp_buf *b[] = {g->expand_w, g->dw_w, g->se_reduce_w, g->se_reduce_b, g->se_expand_w,
                     g->se_expand_b, g->project_w};
    for (size_t i = 0; i < VKDP_ARRAY_LEN(b); i++)
        vkdp_buf_destroy(b[i]);
    memset(g, 0, sizeof *g);
}

/* u [M,N] = x [M,K] w [K,N], a bias-free Keras Conv2D 1x1. */
static void conv1x1(vkdp_cmd *c, vkdp_device *dev, const vkdp_block_dev *d, size_t M, int K,
                    int N, vkdp_view x, vkdp_buf *w, vkdp_view u)
{
    vkdp_conv1x1_args a = {.M = (uint32_t)M, .K = (uint32_t)K, .N = (uint32_t)N,
                           .act = VKDP_ACT_NONE, .x = x, .w = vkdp_whole(w),
                           .bias = vkdp_whole(d->zero), .y = u};
    vkdp_op_conv1x1(c, dev, &a, "ft_conv1x1");
}

/* From a convolution's output u (overwritten): z = bn(u), u = swish(bn(u)). Both from u with the
 * same float operations, so u's final contents are swish(z) bit for bit. */
static void bn_swish(vkdp_cmd *c, vkdp_device *dev, size_t n, int C, vkdp_buf *scale,
                     vkdp_buf *shift, vkdp_buf *u, vkdp_buf *z)
{
    vkdp_op_bn_frozen(c, dev, n, (uint32_t)C, VKDP_ACT_NONE, vkdp_whole(u), vkdp_whole(scale),
                      vkdp_whole(shift), vkdp_whole(z), NULL);
    vkdp_op_bn_frozen(c, dev, n, (uint32_t)C, VKDP_ACT_SWISH, vkdp_whole(u), vkdp_whole(scale),
                      vkdp_whole(shift), vkdp_whole(u), NULL);
}

void vkdp_block_dev_forward(vkdp_cmd *c, vkdp_device *dev, const vkdp_block_dev *d, int B, int H,
                            int W, vkdp_view x, vkdp_view drop_scale, vkdp_block_dev_tape *t,
                            vkdp_view y)
{
    const vkdp_mbconv *a = d->arch;
    const int ex = a->exp_ch, out = a->out_ch, se = a->se_ch;
    memset(t, 0, sizeof *t);
    t->B = B;
    t->x = x;
    t->drop_scale = drop_scale;
    t->geom = vkdp_dw_geom_keras(H, W, ex, a->kernel, a->stride);
    const size_t M1 = (size_t)B * H * W, P2 = (size_t)t->geom.Ho * t->geom.Wo, M2 = (size_t)B * P2;
    vkdp_view dw_in = x;
    if (a->has_expand) {
        t->z1 = fbuf(dev, M1 * ex, "tape_z1");
        t->a1 = fbuf(dev, M1 * ex, "tape_a1");
        conv1x1(c, dev, d, M1, a->in_ch, ex, x, d->expand_w, vkdp_whole(t->a1));
        bn_swish(c, dev, M1 * ex, ex, d->expand_scale, d->expand_shift, t->a1, t->z1);
        dw_in = vkdp_whole(t->a1);
    }
    /* depthwise -> bn -> swish: a2; s = a2 * gate, its swish recomputed in place */
    t->z2 = fbuf(dev, M2 * ex, "tape_z2");
    t->a2 = fbuf(dev, M2 * ex, "tape_a2");
    t->s = fbuf(dev, M2 * ex, "tape_s");
    vkdp_op_dwconv_lin(c, dev, &t->geom, (uint32_t)B, dw_in, vkdp_whole(d->dw_w),
                       vkdp_whole(d->zero), vkdp_whole(t->s), NULL);
    vkdp_op_bn_frozen(c, dev, M2 * ex, (uint32_t)ex, VKDP_ACT_SWISH, vkdp_whole(t->s),
                      vkdp_whole(d->bn_scale), vkdp_whole(d->bn_shift), vkdp_whole(t->a2), NULL);
    bn_swish(c, dev, M2 * ex, ex, d->bn_scale, d->bn_shift, t->s, t->z2);
    t->pool = fbuf(dev, (size_t)B * ex, "tape_pool");
    t->gate = fbuf(dev, (size_t)B * ex, "tape_gate");
    t->se_scratch = fbuf(dev, (size_t)B * se, "se_scratch");
    vkdp_op_gap(c, dev, (uint32_t)B, (uint32_t)P2, (uint32_t)ex, (uint32_t)P2, vkdp_whole(t->a2),
                vkdp_whole(t->pool), "ft_se_squeeze");
    vkdp_op_se_excite(c, dev, (uint32_t)B, (uint32_t)ex, (uint32_t)se, vkdp_whole(t->pool),
                      vkdp_whole(d->se_reduce_w), vkdp_whole(d->se_reduce_b),
                      vkdp_whole(d->se_expand_w), vkdp_whole(d->se_expand_b),
                      vkdp_whole(t->se_scratch), vkdp_whole(t->gate));
    vkdp_op_se_gate(c, dev, (uint32_t)B, (uint32_t)P2, (uint32_t)ex, vkdp_whole(t->s),
                    vkdp_whole(t->gate), "ft_se_gate");
    /* project -> bn (-> drop connect + residual) */
    conv1x1(c, dev, d, M2, ex, out, vkdp_whole(t->s), d->project_w, y);
    vkdp_op_bn_frozen(c, dev, M2 * out, (uint32_t)out, VKDP_ACT_NONE, y,
                      vkdp_whole(d->project_scale), vkdp_whole(d->project_shift), y, NULL);
    if (a->has_residual) {
        if (drop_scale.buf)
            vkdp_op_residual(c, dev, (uint32_t)B, P2 * out, y, x, drop_scale, y, NULL);
        else
            vkdp_op_eltwise(c, dev, VKDP_ELT_ADD, VKDP_ACT_NONE, (uint32_t)(M2 * out), y, x, y,
                            "ft_residual");
    }
    /* the backward's scratch, allocated with the tape */
    t->d3 = fbuf(dev, M2 * out, "grad_d3");
    t->ds = fbuf(dev, M2 * ex, "grad_ds");
    t->d2 = fbuf(dev, M2 * ex, "grad_d2");
    t->d1 = a->has_expand ? fbuf(dev, M1 * ex, "grad_d1") : NULL;
    t->dgate = fbuf(dev, (size_t)B * ex, "grad_dgate");
    t->dpool = fbuf(dev, (size_t)B * ex, "grad_dpool");
    t->work = fbuf(dev, vkdp_se_excite_grad_work((uint32_t)B, (uint32_t)ex, (uint32_t)se),
                   "grad_se_work");
    /* one SE scratch per sample, 64 floats apart (any offset alignment) */
    t->work1 = fbuf(dev, (size_t)B * work1_floats(ex, se), "grad_se_work1");
}

uint64_t vkdp_block_grad_numel(const vkdp_mbconv *a, vkdp_block_grad_id id)
{
    const uint64_t in = (uint64_t)a->in_ch, ex = (uint64_t)a->exp_ch, se = (uint64_t)a->se_ch;
    switch (id) {
    case VKDP_BG_PROJECT_W: return ex * (uint64_t)a->out_ch;
    case VKDP_BG_SE_REDUCE_W: return ex * se;
    case VKDP_BG_SE_REDUCE_B: return se;
    case VKDP_BG_SE_EXPAND_W: return se * ex;
    case VKDP_BG_SE_EXPAND_B: return ex;
    case VKDP_BG_DW_W: return (uint64_t)a->kernel * a->kernel * ex;
    case VKDP_BG_EXPAND_W: return a->has_expand ? in * ex : 0;
    default: VKDP_FATAL("block gradient %d: no such tensor", (int)id);
    }
}

uint64_t vkdp_block_dev_partial_stride(const vkdp_device *dev, uint64_t numel)
{
    uint64_t align = vkdp_device_get_info(dev)->min_storage_buffer_offset_alignment / 4;
    align = align ? align : 1;
    return (numel + align - 1) / align * align;
}

uint64_t vkdp_block_dev_partials_bytes(const vkdp_device *dev, const vkdp_mbconv *a, int B)
{
    uint64_t most = 0, se = 0;
    for (int id = 0; id < VKDP_BG_COUNT; id++) {
        uint64_t st = vkdp_block_dev_partial_stride(dev, vkdp_block_grad_numel(a, (vkdp_block_grad_id)id));
        if (id >= VKDP_BG_SE_REDUCE_W && id <= VKDP_BG_SE_EXPAND_B)
            se += st; /* the SE backward writes its four tensors at once */
        else
            most = st > most ? st : most;
    }
    return (uint64_t)B * 4 * (se > most ? se : most);
}

/* n floats of v from float off on. */
static vkdp_view sub(vkdp_view v, uint64_t off, uint64_t n)
{
    return vkdp_slice(v.buf, v.offset + off * 4, n * 4);
}

/* The per-sample partials' destination: scratch, handed over tensor by tensor. */
typedef struct {
    vkdp_view scratch;
    int B;
    vkdp_block_partials_fn done;
    void *ctx;
    vkdp_device *dev;
    const vkdp_mbconv *a;
} partials;

/* Tensor id's region [B, stride] of the scratch, at float off; its stride in *stride. */
static vkdp_view region(const partials *p, vkdp_block_grad_id id, uint64_t off, uint64_t *stride)
{
    *stride = vkdp_block_dev_partial_stride(p->dev, vkdp_block_grad_numel(p->a, id));
    return sub(p->scratch, off, (uint64_t)p->B * *stride);
}

static void hand(const partials *p, vkdp_block_grad_id id, vkdp_view part, uint64_t stride)
{
    p->done(p->ctx, id, part, vkdp_block_grad_numel(p->a, id), stride);
}

/* A 1x1 convolution's weight gradient per sample (rows of M/B each) into tensor id's partials,
 * all B samples in one call. */
static void conv1x1_partials(vkdp_cmd *c, const partials *p, vkdp_block_grad_id id, uint64_t rows, uint32_t K,
                             uint32_t N, vkdp_view x, vkdp_view dy)
{
    const vkdp_view none = {0};
    uint64_t st;
    vkdp_view part = region(p, id, 0, &st);
    vkdp_op_conv1x1_grad_w_samples(c, p->dev, (uint32_t)p->B, (uint32_t)rows, K, N, sub(x, 0, p->B * rows * K),
                                   sub(dy, 0, p->B * rows * N), part, st, none, 0, "ft_conv1x1_grad_w");
    hand(p, id, part, st);
}

/* The SE excitation's backward one sample at a time: dpool, and its four tensors' partials. */
static void se_partials(vkdp_cmd *c, const partials *p, const vkdp_block_dev *d, const vkdp_block_dev_tape *t)
{
    const uint32_t ex = (uint32_t)p->a->exp_ch, se = (uint32_t)p->a->se_ch;
    const uint64_t w1 = work1_floats((int)ex, (int)se);
    vkdp_view part[4];
    uint64_t st[4], off = 0;
    for (int i = 0; i < 4; i++) {
        part[i] = region(p, (vkdp_block_grad_id)(VKDP_BG_SE_REDUCE_W + i), off, &st[i]);
        off += (uint64_t)p->B * st[i];
    }
    for (int s = 0; s < p->B; s++) {
        vkdp_se_excite_grad_args a = {
            1, ex, se, sub(vkdp_whole(t->pool), s * ex, ex), vkdp_whole(d->se_reduce_w),
            vkdp_whole(d->se_reduce_b), vkdp_whole(d->se_expand_w), vkdp_whole(d->se_expand_b),
            sub(vkdp_whole(t->dgate), s * ex, ex), sub(vkdp_whole(t->work1), s * w1, w1),
            sub(vkdp_whole(t->dpool), s * ex, ex), sub(part[0], s * st[0], (uint64_t)ex * se),
            sub(part[1], s * st[1], se), sub(part[2], s * st[2], (uint64_t)se * ex), sub(part[3], s * st[3], ex)};
        vkdp_op_se_excite_grad(c, p->dev, &a, "ft_se_excite_grad_w");
    }
    for (int i = 0; i < 4; i++)
        hand(p, (vkdp_block_grad_id)(VKDP_BG_SE_REDUCE_W + i), part[i], st[i]);
}

/* The backward, with the weight gradients summed over the batch into g, or per sample into pp
 * (then every batched op records its data path only). */
static void backward(vkdp_cmd *c, vkdp_device *dev, const vkdp_block_dev *d, const vkdp_block_dev_tape *t,
                     vkdp_view dy, vkdp_view dx, const vkdp_block_dev_grads *g, const partials *pp)
{
    const vkdp_mbconv *a = d->arch;
    const int ex = a->exp_ch, out = a->out_ch, B = t->B;
    const size_t HW = (size_t)t->geom.H * t->geom.W, M1 = (size_t)B * HW, P2 = (size_t)t->geom.Ho * t->geom.Wo;
    const size_t M2 = (size_t)B * P2;
    const vkdp_view none = {0};
#define GRAD(name) (pp ? none : vkdp_whole(g->name))
#define DX_LABEL(name) (pp ? name : NULL) /* --profile: the batched data path apart from the partials */
    /* project_bn <- drop connect (the residual's input path is added to dx at the end) */
    vkdp_view d3 = vkdp_whole(t->d3);
    if (a->has_residual && t->drop_scale.buf) {
        vkdp_op_residual_grad(c, dev, (uint32_t)B, P2 * out, dy, t->drop_scale, d3, NULL);
        vkdp_op_bn_frozen_grad(c, dev, M2 * out, (uint32_t)out, d3, vkdp_whole(d->project_scale),
                               d3, NULL);
    } else {
        vkdp_op_bn_frozen_grad(c, dev, M2 * out, (uint32_t)out, dy, vkdp_whole(d->project_scale),
                               d3, NULL);
    }
    /* project_conv, then squeeze-excite: d2 = d a2 */
    vkdp_view ds = vkdp_whole(t->ds), d2 = vkdp_whole(t->d2);
    vkdp_op_conv1x1_grad(c, dev, (uint32_t)M2, (uint32_t)ex, (uint32_t)out, vkdp_whole(t->s),
                         vkdp_whole(d->project_w), d3, ds, GRAD(project_w), none, DX_LABEL("ft_conv1x1_grad_dx"));
    if (pp)
        conv1x1_partials(c, pp, VKDP_BG_PROJECT_W, P2, (uint32_t)ex, (uint32_t)out, vkdp_whole(t->s), d3);
    vkdp_op_se_gate_grad(c, dev, (uint32_t)B, (uint32_t)P2, (uint32_t)ex, vkdp_whole(t->a2),
                         vkdp_whole(t->gate), ds, d2, vkdp_whole(t->dgate), NULL);
    if (pp) {
        se_partials(c, pp, d, t);
    } else {
        vkdp_se_excite_grad_args se = {
            (uint32_t)B, (uint32_t)ex, (uint32_t)a->se_ch, vkdp_whole(t->pool),
            vkdp_whole(d->se_reduce_w), vkdp_whole(d->se_reduce_b), vkdp_whole(d->se_expand_w),
            vkdp_whole(d->se_expand_b), vkdp_whole(t->dgate), vkdp_whole(t->work),
            vkdp_whole(t->dpool), vkdp_whole(g->se_reduce_w), vkdp_whole(g->se_reduce_b),
            vkdp_whole(g->se_expand_w), vkdp_whole(g->se_expand_b)};
        vkdp_op_se_excite_grad(c, dev, &se, NULL);
    }
    vkdp_op_gap_grad(c, dev, (uint32_t)B, (uint32_t)P2, (uint32_t)ex, 1, vkdp_whole(t->dpool), d2,
                     NULL);
    /* swish, bn, depthwise: d1 = d of the depthwise input */
    vkdp_op_map(c, dev, &vkdp_rec_swish_grad, (uint32_t)(M2 * ex),
                (vkdp_view[]){vkdp_whole(t->z2), d2}, d2, NULL);
    vkdp_op_bn_frozen_grad(c, dev, M2 * ex, (uint32_t)ex, d2, vkdp_whole(d->bn_scale), d2, NULL);
    vkdp_view d1 = a->has_expand ? vkdp_whole(t->d1) : dx;
    vkdp_view dw_in = a->has_expand ? vkdp_whole(t->a1) : t->x;
    vkdp_op_dwconv_grad(c, dev, &t->geom, (uint32_t)B, dw_in, vkdp_whole(d->dw_w), d2, d1, GRAD(dw_w), none,
                        DX_LABEL("ft_dwconv_grad_dx"));
    if (pp) {
        uint64_t st;
        vkdp_view part = region(pp, VKDP_BG_DW_W, 0, &st);
        vkdp_op_dwconv_grad_w_samples(c, dev, &t->geom, (uint32_t)B, sub(dw_in, 0, B * HW * ex),
                                      sub(d2, 0, B * P2 * ex), part, st, none, 0, "ft_dwconv_grad_w");
        hand(pp, VKDP_BG_DW_W, part, st);
    }
    if (a->has_expand) {
        vkdp_op_map(c, dev, &vkdp_rec_swish_grad, (uint32_t)(M1 * ex),
                    (vkdp_view[]){vkdp_whole(t->z1), d1}, d1, NULL);
        vkdp_op_bn_frozen_grad(c, dev, M1 * ex, (uint32_t)ex, d1, vkdp_whole(d->expand_scale), d1,
                               NULL);
        vkdp_op_conv1x1_grad(c, dev, (uint32_t)M1, (uint32_t)a->in_ch, (uint32_t)ex, t->x,
                             vkdp_whole(d->expand_w), d1, dx, GRAD(expand_w), none, DX_LABEL("ft_conv1x1_grad_dx"));
        if (pp)
            conv1x1_partials(c, pp, VKDP_BG_EXPAND_W, HW, (uint32_t)a->in_ch, (uint32_t)ex, t->x, d1);
    }
#undef GRAD
#undef DX_LABEL
    if (dx.buf && a->has_residual)
        vkdp_op_eltwise(c, dev, VKDP_ELT_ADD, VKDP_ACT_NONE, (uint32_t)(M1 * a->in_ch), dx, dy, dx,
                        "ft_residual_grad");
}

void vkdp_block_dev_backward(vkdp_cmd *c, vkdp_device *dev, const vkdp_block_dev *d,
                             const vkdp_block_dev_tape *t, vkdp_view dy, vkdp_view dx,
                             const vkdp_block_dev_grads *g)
{
    backward(c, dev, d, t, dy, dx, g, NULL);
}

void vkdp_block_dev_backward_partials(vkdp_cmd *c, vkdp_device *dev, const vkdp_block_dev *d,
                                      const vkdp_block_dev_tape *t, vkdp_view dy, vkdp_view dx,
                                      vkdp_view scratch, vkdp_block_partials_fn done, void *ctx)
{
    const uint64_t need = vkdp_block_dev_partials_bytes(dev, d->arch, t->B);
    const uint64_t have = scratch.size ? scratch.size : vkdp_buf_size(scratch.buf) - scratch.offset;
    if (have < need)
        VKDP_FATAL("block backward: %llu bytes of partials scratch, %llu needed for %d samples",
                   (unsigned long long)have, (unsigned long long)need, t->B);
    const partials p = {scratch, t->B, done, ctx, dev, d->arch};
    backward(c, dev, d, t, dy, dx, NULL, &p);
}

void vkdp_block_dev_tape_free(vkdp_block_dev_tape *t)
{
    vkdp_buf *b[] = {t->z1, t->a1, t->z2, t->a2, t->pool, t->gate, t->s, t->se_scratch,
                     t->d3, t->ds, t->d2, t->d1, t->dgate, t->dpool, t->work, t->work1};
    for (size_t i = 0; i < VKDP_ARRAY_LEN(b); i++)
        vkdp_buf_destroy(b[i]);
    memset(t, 0, sizeof *t);
}
