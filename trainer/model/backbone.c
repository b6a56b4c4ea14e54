/* EfficientNetB0 backbone forward on the device (see vkdp/backbone.h). */
#include "vkdp/model/backbone.h"

#include <stdlib.h>
#include <string.h>

#include "vkdp/ops/augment.h"
#include "vkdp/ops/backbone_ops.h"
#include "vkdp/ops/grad_ops.h"
#include "vkdp/core/common.h"
#include "vkdp/ops/ops.h"
#include "vkdp/ops/tune.h"

#define TOP_IN 320
/* Recorded command buffers kept per slot, one per micro-batch size seen (tiles are equal-sized,
 * so a workload needs at most two: the full tile and one smaller one). */
#define MAX_RECORDINGS 4
/* Tiles in flight at most: each slot has its own input, output and command buffers. */
#define MAX_SLOTS 2
/* Drop-connect scales of one block start 64 floats (256 bytes) apart in bb->drop: any device's
 * minStorageBufferOffsetAlignment (at most 256) divides the offset of a block's slice. */
#define DROP_ALIGN_FLOATS 64

typedef struct {
    uint32_t k, stride, in_ch, out_ch, exp_ch, se_ch, has_expand, has_residual;
    uint32_t h_in, w_in, h_out, w_out;
    vkdp_buf *expand_w, *expand_b, *dw_w, *dw_b, *se_reduce_w, *se_reduce_b, *se_expand_w,
        *se_expand_b, *project_w, *project_b;
} block_dev;

typedef struct {
    uint32_t nb;       /* images in this recording; 0 = slot unused */
    int augment;       /* the recording starts with the training augmentation */
    int drop;          /* drop connect on the residual blocks' branches (scales in bb->drop) */
    int stop;          /* ends before this block (16: before top_conv); -1: the whole forward */
    uint64_t last_use;
    vkdp_cmd *cmd;
} recording;

/* One tile's own buffers; the activations are shared, so its recordings start with a barrier
 * that orders them after the other slot's pass. */
typedef struct {
    vkdp_buf *input, *out;
    recording rec[MAX_RECORDINGS];
    vkdp_cmd *busy;    /* submitted, results not yet downloaded */
    float *dst;        /* where they go */
    uint32_t nb;
    uint64_t ticket, seq;
} slot;

struct vkdp_backbone {
    vkdp_device *dev;
    uint32_t h, w, stem_oh, stem_ow, top_oh, top_ow; /* input, stem output, top sides */
    uint32_t micro;
    float in_scale[3], in_shift[3];
    vkdp_buf *stem_w, *stem_b, *top_w, *top_b;
    int nblocks;
    block_dev blocks[VKDP_EFFNET_BLOCKS];
    vkdp_buf *act[3], *part, *pool, *se_s, *gate;
    vkdp_buf *aug_params, *aug_tmp, *aug_mean, *aug_out; /* made by the first augmented forward */
    vkdp_buf *drop;        /* [nblocks][drop_stride] scales, made by the first dropped forward */
    float *drop_host;
    slot slots[MAX_SLOTS]; /* the augmented and boundary forwards use slot 0 only */
    int depth;             /* slots used: the device's async_depth */
    int next_slot;
    uint64_t use_clock, tickets, seqs;
    vkdp_profile *prof;
};

static vkdp_buf *upload_weights(vkdp_device *dev, const float *src, size_t n, const char *what)
{
    if (!src)
        VKDP_FATAL("backbone: weights %s missing from the network struct", what);
    vkdp_buf *b = vkdp_buf_create(dev, n * sizeof(float), what);
    vkdp_buf_upload(b, 0, src, n * sizeof(float));
    return b;
}

vkdp_backbone *vkdp_backbone_create(vkdp_device *dev, const vkdp_effnet *net, int image_h,
                                    int image_w, int max_batch)
{
    if (image_h < 1 || image_w < 1 || max_batch < 1)
        VKDP_FATAL("backbone: bad image size %dx%d or max batch %d", image_h, image_w, max_batch);
    if (net->nblocks < 1 || net->nblocks > VKDP_EFFNET_BLOCKS)
        VKDP_FATAL("backbone: network has %d blocks (expected 1..%d)", net->nblocks,
                   VKDP_EFFNET_BLOCKS);
    vkdp_backbone *bb = vkdp_xcalloc(1, sizeof(*bb));
    bb->dev = dev;
    bb->h = (uint32_t)image_h;
    bb->w = (uint32_t)image_w;
    memcpy(bb->in_scale, net->in_scale, sizeof(bb->in_scale));
    memcpy(bb->in_shift, net->in_shift, sizeof(bb->in_shift));
    bb->stem_oh = (uint32_t)vkdp_conv_out_side(image_h, 3, 2);
    bb->stem_ow = (uint32_t)vkdp_conv_out_side(image_w, 3, 2);

    /* Shapes, and the largest activation of one image (floats) over every tensor the forward
     * writes: the arena buffers and the micro-batch follow from it. */
    uint64_t per_image = (uint64_t)image_h * image_w * 3;
    const char *largest = "input image";
#define CONSIDER(n, name)                                                                       \
    do {                                                                                        \
        if ((uint64_t)(n) > per_image) {                                                        \
            per_image = (n);                                                                    \
            largest = (name);                                                                   \
        }                                                                                       \
    } while (0)
    CONSIDER((uint64_t)bb->stem_oh * bb->stem_ow * 32, "stem output");
    uint32_t h = bb->stem_oh, w = bb->stem_ow, ch = 32;
    uint64_t max_exp = 1, max_se = 1, max_part = 1;
    bb->nblocks = net->nblocks;
    for (int i = 0; i < net->nblocks; i++) {
        const vkdp_mbconv *m = &net->blocks[i];
        block_dev *d = &bb->blocks[i];
        if ((uint32_t)m->in_ch != ch)
            VKDP_FATAL("backbone: block %s takes %d channels but receives %u", m->name, m->in_ch,
                       ch);
        d->k = (uint32_t)m->kernel;
        d->stride = (uint32_t)m->stride;
        d->in_ch = (uint32_t)m->in_ch;
        d->out_ch = (uint32_t)m->out_ch;
        d->exp_ch = (uint32_t)m->exp_ch;
        d->se_ch = (uint32_t)m->se_ch;
        d->has_expand = m->has_expand != 0;
        d->has_residual = m->has_residual != 0;
        d->h_in = h;
        d->w_in = w;
        d->h_out = (uint32_t)vkdp_conv_out_side((int)h, m->kernel, m->stride);
        d->w_out = (uint32_t)vkdp_conv_out_side((int)w, m->kernel, m->stride);
        CONSIDER((uint64_t)h * w * d->exp_ch, m->name);
        CONSIDER((uint64_t)d->h_out * d->w_out * d->exp_ch, m->name);
        CONSIDER((uint64_t)d->h_out * d->w_out * d->out_ch, m->name);
        uint64_t part = (uint64_t)vkdp_dwconv_tiles(dev, h, w, d->k, d->stride) * d->exp_ch;
        if (part > max_part)
            max_part = part;
        if (d->exp_ch > max_exp)
            max_exp = d->exp_ch;
        if (d->se_ch > max_se)
            max_se = d->se_ch;
        h = d->h_out;
        w = d->w_out;
        ch = d->out_ch;

        uint64_t k2 = (uint64_t)d->k * d->k;
        if (d->has_expand) {
            d->expand_w = upload_weights(dev, m->expand_w, (size_t)d->in_ch * d->exp_ch, "expand_w");
            d->expand_b = upload_weights(dev, m->expand_b, d->exp_ch, "expand_b");
        }
        d->dw_w = upload_weights(dev, m->dw_w, k2 * d->exp_ch, "dw_w");
        d->dw_b = upload_weights(dev, m->dw_b, d->exp_ch, "dw_b");
        d->se_reduce_w = upload_weights(dev, m->se_reduce_w, (size_t)d->exp_ch * d->se_ch, "se_reduce_w");
        d->se_reduce_b = upload_weights(dev, m->se_reduce_b, d->se_ch, "se_reduce_b");
        d->se_expand_w = upload_weights(dev, m->se_expand_w, (size_t)d->se_ch * d->exp_ch, "se_expand_w");
        d->se_expand_b = upload_weights(dev, m->se_expand_b, d->exp_ch, "se_expand_b");
        d->project_w = upload_weights(dev, m->project_w, (size_t)d->exp_ch * d->out_ch, "project_w");
        d->project_b = upload_weights(dev, m->project_b, d->out_ch, "project_b");
    }
    if (ch != TOP_IN)
        VKDP_FATAL("backbone: last block gives %u channels, the top conv takes %d", ch, TOP_IN);
    bb->top_oh = h;
    bb->top_ow = w;
    CONSIDER((uint64_t)h * w * VKDP_EFFNET_FEATURES, "top conv");
#undef CONSIDER

    uint64_t limit = vkdp_max_binding_bytes(dev);
    uint64_t fit = limit / (per_image * sizeof(float));
    if (fit < 1)
        VKDP_FATAL("backbone: one %ux%u image's %s activation (%llu bytes) exceeds the device's "
                   "binding limit of %llu bytes; use smaller images",
                   bb->h, bb->w, largest, (unsigned long long)(per_image * sizeof(float)),
                   (unsigned long long)limit);
    bb->micro = (uint32_t)(fit < (uint64_t)max_batch ? fit : (uint64_t)max_batch);
    bb->depth = vkdp_tune_get(dev)->async_depth >= 2 ? 2 : 1;
    vkdp_log("backbone: %ux%u images, largest activation %s %.2f MB/image, binding limit %.1f MiB "
             "-> %llu images fit, micro-batch %u, %d in flight\n",
             bb->h, bb->w, largest, per_image * 4.0 / 1e6, limit / 1048576.0,
             (unsigned long long)fit, bb->micro, bb->depth);

    bb->stem_w = upload_weights(dev, net->stem_w, 27 * 32, "stem_w");
    bb->stem_b = upload_weights(dev, net->stem_b, 32, "stem_b");
    bb->top_w = upload_weights(dev, net->top_w, (size_t)TOP_IN * VKDP_EFFNET_FEATURES, "top_w");
    bb->top_b = upload_weights(dev, net->top_b, VKDP_EFFNET_FEATURES, "top_b");

    uint64_t mb = bb->micro;
    for (int s = 0; s < bb->depth; s++) {
        bb->slots[s].input = vkdp_buf_create(dev, mb * bb->h * bb->w * 3 * sizeof(float), "backbone input");
        bb->slots[s].out = vkdp_buf_create(dev, mb * VKDP_EFFNET_FEATURES * sizeof(float), "backbone features");
    }
    for (int i = 0; i < 3; i++)
        bb->act[i] = vkdp_buf_create(dev, mb * per_image * sizeof(float), "backbone activations");
    bb->part = vkdp_buf_create(dev, mb * max_part * sizeof(float), "dwconv tile sums");
    bb->pool = vkdp_buf_create(dev, mb * max_exp * sizeof(float), "se pool");
    bb->se_s = vkdp_buf_create(dev, mb * max_se * sizeof(float), "se hidden");
    bb->gate = vkdp_buf_create(dev, mb * max_exp * sizeof(float), "se gate");
    return bb;
}

static void conv1x1(vkdp_cmd *c, vkdp_device *dev, uint32_t M, uint32_t K, uint32_t N,
                    vkdp_act act, vkdp_buf *x, vkdp_buf *w, vkdp_buf *bias, vkdp_buf *y,
                    vkdp_buf *residual, vkdp_buf *row_scale, uint32_t rows_per_group,
                    const char *label)
{
    vkdp_conv1x1_args a;
    memset(&a, 0, sizeof(a));
    a.M = M;
    a.K = K;
    a.N = N;
    a.act = act;
    a.x = vkdp_whole(x);
    a.w = vkdp_whole(w);
    a.bias = vkdp_whole(bias);
    a.y = vkdp_whole(y);
    if (residual)
        a.residual = vkdp_whole(residual);
    if (row_scale) {
        a.row_scale = vkdp_whole(row_scale);
        a.rows_per_group = rows_per_group;
    }
    vkdp_op_conv1x1(c, dev, &a, label);
}

/* Records the forward of nb images (slot's input buffer -> its out buffer). Activations rotate
 * through act[0..2]: the block input X and the expand/project output alternate between two of
 * them, the depthwise output always goes to the third. */
static uint64_t drop_stride(const vkdp_backbone *bb)
{
    return vkdp_div_up(bb->micro, DROP_ALIGN_FLOATS) * DROP_ALIGN_FLOATS;
}

static void record(vkdp_backbone *bb, const slot *sl, vkdp_cmd *c, uint32_t nb, int augment, int drop,
                   int stop)
{
    vkdp_device *dev = bb->dev;
    vkdp_buf *x = bb->act[0], *other = bb->act[1], *dw = bb->act[2];
    vkdp_cmd_begin(c);
    /* The other slot's pass may still be running on the shared activations when this one is
     * submitted: its reads and writes finish first (the recorder only sees this pass). Today
     * the previous pass's internal barriers already order all of it but its last dispatch
     * (gap_top: act[1] -> its own output), which the stem (input -> act[0]) does not touch;
     * this barrier keeps that from resting on the activation rotation. */
    vkdp_cmd_barrier(c);
    if (augment)
        vkdp_op_augment(c, dev, nb, bb->h, bb->w, 3, vkdp_whole(sl->input),
                        vkdp_whole(bb->aug_params), vkdp_whole(bb->aug_tmp),
                        vkdp_whole(bb->aug_mean), vkdp_whole(bb->aug_out), "augment");
    vkdp_op_stem(c, dev, nb, bb->h, bb->w, bb->in_scale, bb->in_shift,
                 vkdp_whole(augment ? bb->aug_out : sl->input),
                 vkdp_whole(bb->stem_w), vkdp_whole(bb->stem_b), vkdp_whole(x),
                 "stem_conv3x3_s2");
    for (int i = 0; i < (stop >= 0 ? stop : bb->nblocks); i++) {
        const block_dev *d = &bb->blocks[i];
        uint32_t hw_in = d->h_in * d->w_in, hw_out = d->h_out * d->w_out;
        vkdp_buf *src = x;
        if (d->has_expand) {
            conv1x1(c, dev, nb * hw_in, d->in_ch, d->exp_ch, VKDP_ACT_SWISH, x, d->expand_w,
                    d->expand_b, other, NULL, NULL, 0, "conv1x1_expand");
            src = other;
        }
        vkdp_op_dwconv(c, dev, nb, d->h_in, d->w_in, d->exp_ch, d->k, d->stride, vkdp_whole(src),
                       vkdp_whole(d->dw_w), vkdp_whole(d->dw_b), vkdp_whole(dw),
                       vkdp_whole(bb->part), NULL /* "dwconv<k>x<k>_s<stride>" */);
        vkdp_op_gap(c, dev, nb, vkdp_dwconv_tiles(dev, d->h_in, d->w_in, d->k, d->stride),
                    d->exp_ch, hw_out, vkdp_whole(bb->part), vkdp_whole(bb->pool), "se_squeeze");
        vkdp_op_se_excite(c, dev, nb, d->exp_ch, d->se_ch, vkdp_whole(bb->pool),
                          vkdp_whole(d->se_reduce_w), vkdp_whole(d->se_reduce_b),
                          vkdp_whole(d->se_expand_w), vkdp_whole(d->se_expand_b),
                          vkdp_whole(bb->se_s), vkdp_whole(bb->gate));
        /* The residual add is fused into the project GEMM; the SE gating too where the device's
         * table says the GEMM's row scale costs less than a pass of its own (through texel
         * buffers on lavapipe it costs nothing measurable; through storage buffers it made the
         * project GEMM 2x slower: 1.41 s -> 0.55 s + 0.09 s for the separate pass, 16 images).
         * Either way X' = X * gate is the same float product: the same bits. */
        int fused = vkdp_tune_get(dev)->gate_fused;
        if (!fused)
            vkdp_op_se_gate(c, dev, nb, hw_out, d->exp_ch, vkdp_whole(dw), vkdp_whole(bb->gate),
                            "se_gate");
        /* With drop connect the residual is added by its own pass, which scales the branch per
         * image first (Keras' Dropout(noise_shape=(None,1,1,1)) before add) */
        const int dropped = drop && d->has_residual;
        conv1x1(c, dev, nb * hw_out, d->exp_ch, d->out_ch, VKDP_ACT_NONE, dw, d->project_w,
                d->project_b, other, d->has_residual && !dropped ? x : NULL, fused ? bb->gate : NULL,
                hw_out, "conv1x1_project");
        if (dropped)
            vkdp_op_residual(c, dev, nb, (uint64_t)hw_out * d->out_ch, vkdp_whole(other), vkdp_whole(x),
                             vkdp_slice(bb->drop, (uint64_t)i * drop_stride(bb) * sizeof(float),
                                        (uint64_t)nb * sizeof(float)),
                             vkdp_whole(other), "drop_connect_residual");
        vkdp_buf *t = x;
        x = other;
        other = t;
    }
    if (stop >= 0) { /* the boundary activation stays in x = act[stop % 2] */
        vkdp_cmd_end(c);
        return;
    }
    uint32_t hw_top = bb->top_oh * bb->top_ow;
    conv1x1(c, dev, nb * hw_top, TOP_IN, VKDP_EFFNET_FEATURES, VKDP_ACT_SWISH, x, bb->top_w,
            bb->top_b, other, NULL, NULL, 0, "conv1x1_top");
    vkdp_op_gap(c, dev, nb, hw_top, VKDP_EFFNET_FEATURES, hw_top, vkdp_whole(other),
                vkdp_whole(sl->out), "gap_top");
    vkdp_cmd_end(c);
}

static vkdp_cmd *recording_for(vkdp_backbone *bb, slot *sl, uint32_t nb, int augment, int drop, int stop)
{
    recording *r = NULL, *rec = sl->rec;
    for (int i = 0; i < MAX_RECORDINGS; i++)
        if (rec[i].nb == nb && rec[i].augment == augment && rec[i].drop == drop && rec[i].stop == stop) {
            rec[i].last_use = ++bb->use_clock;
            return rec[i].cmd;
        }
    for (int i = 0; i < MAX_RECORDINGS; i++)
        if (!r || rec[i].last_use < r->last_use)
            r = &rec[i];
    if (!r->cmd)
        r->cmd = vkdp_cmd_create(bb->dev);
    record(bb, sl, r->cmd, nb, augment, drop, stop);
    r->nb = nb;
    r->augment = augment;
    r->drop = drop;
    r->stop = stop;
    r->last_use = ++bb->use_clock;
    return r->cmd;
}

/* Waits for a slot's pass and downloads its features to where its caller asked. */
static void finish(vkdp_backbone *bb, slot *sl)
{
    if (!sl->busy)
        return;
    vkdp_cmd_wait(sl->busy);
    if (bb->prof)
        vkdp_profile_add(bb->prof, sl->busy);
    vkdp_buf_download(sl->out, 0, sl->dst, (size_t)sl->nb * VKDP_EFFNET_FEATURES * sizeof(float));
    sl->busy = NULL;
}

/* The oldest slot in flight, or NULL. */
static slot *oldest(vkdp_backbone *bb)
{
    slot *o = NULL;
    for (int s = 0; s < bb->depth; s++)
        if (bb->slots[s].busy && (!o || bb->slots[s].seq < o->seq))
            o = &bb->slots[s];
    return o;
}

void vkdp_backbone_collect(vkdp_backbone *bb, uint64_t ticket)
{
    for (slot *o; (o = oldest(bb)) && o->ticket <= ticket;)
        finish(bb, o);
}

static void collect_all(vkdp_backbone *bb) { vkdp_backbone_collect(bb, UINT64_MAX); }

/* Equal tiles: 32 images with a micro-batch of 27 run as 2 x 16, not 27 + 5. */
static uint32_t tile_size(const vkdp_backbone *bb, int B)
{
    if (B < 1)
        VKDP_FATAL("backbone: forward of %d images", B);
    uint32_t ntiles = ((uint32_t)B + bb->micro - 1) / bb->micro;
    return ((uint32_t)B + ntiles - 1) / ntiles;
}

uint64_t vkdp_backbone_submit(vkdp_backbone *bb, const float *images, int B, float *pooled)
{
    uint32_t per = tile_size(bb, B);
    size_t img_floats = (size_t)bb->h * bb->w * 3;
    uint64_t ticket = ++bb->tickets;
    for (uint32_t off = 0; off < (uint32_t)B; off += per) {
        uint32_t nb = (uint32_t)B - off < per ? (uint32_t)B - off : per;
        slot *sl = &bb->slots[bb->next_slot];
        bb->next_slot = (bb->next_slot + 1) % bb->depth;
        finish(bb, sl); /* its input and output buffers are reused */
        vkdp_cmd *c = recording_for(bb, sl, nb, 0, 0, -1);
        vkdp_buf_upload(sl->input, 0, images + off * img_floats, nb * img_floats * sizeof(float));
        /* Staged, the other slot's download would wait for this pass as well (a copy on the same
         * queue): collect it now, so that the host works while this pass runs. */
        if (vkdp_buf_staged(bb->dev))
            collect_all(bb);
        vkdp_cmd_submit_async(c);
        sl->busy = c;
        sl->dst = pooled + (size_t)off * VKDP_EFFNET_FEATURES;
        sl->nb = nb;
        sl->ticket = ticket;
        sl->seq = ++bb->seqs;
        if (bb->depth == 1)
            finish(bb, sl);
    }
    return ticket;
}

int vkdp_backbone_async_depth(const vkdp_backbone *bb) { return bb->depth; }

/* The augmented, dropped and boundary forwards, synchronous, in slot 0 after every call in flight. */
static void forward(vkdp_backbone *bb, const float *images, int B, const float *aug_params,
                    const float *drop, int stop, float *out)
{
    uint32_t per = tile_size(bb, B);
    size_t img_floats = (size_t)bb->h * bb->w * 3;
    slot *sl = &bb->slots[0];
    collect_all(bb);
    for (uint32_t off = 0; off < (uint32_t)B; off += per) {
        uint32_t nb = (uint32_t)B - off < per ? (uint32_t)B - off : per;
        vkdp_cmd *c = recording_for(bb, sl, nb, aug_params != NULL, drop != NULL, stop);
        vkdp_buf_upload(sl->input, 0, images + off * img_floats, nb * img_floats * sizeof(float));
        if (drop) {
            const uint64_t ds = drop_stride(bb);
            for (int i = 0; i < bb->nblocks; i++)
                for (uint32_t j = 0; j < nb; j++)
                    bb->drop_host[i * ds + j] = drop[(size_t)(off + j) * VKDP_EFFNET_BLOCKS + (size_t)i];
            vkdp_buf_upload(bb->drop, 0, bb->drop_host, (size_t)bb->nblocks * ds * sizeof(float));
        }
        if (aug_params)
            vkdp_buf_upload(bb->aug_params, 0, aug_params + (size_t)off * VKDP_AUGMENT_PARAM_FLOATS,
                            (size_t)nb * VKDP_AUGMENT_PARAM_FLOATS * sizeof(float));
        vkdp_cmd_submit(c);
        if (bb->prof)
            vkdp_profile_add(bb->prof, c);
        size_t per_img = stop >= 0 ? vkdp_backbone_boundary_floats(bb, stop) : VKDP_EFFNET_FEATURES;
        vkdp_buf_download(stop >= 0 ? bb->act[stop % 2] : sl->out, 0, out + (size_t)off * per_img,
                          (size_t)nb * per_img * sizeof(float));
    }
}

void vkdp_backbone_forward(vkdp_backbone *bb, const float *images, int B, float *pooled)
{
    vkdp_backbone_collect(bb, vkdp_backbone_submit(bb, images, B, pooled));
}

static void ensure_augment(vkdp_backbone *bb)
{
    if (!bb->aug_out) {
        uint64_t mb = bb->micro, img = (uint64_t)bb->h * bb->w * 3 * sizeof(float);
        bb->aug_params = vkdp_buf_create(bb->dev, mb * VKDP_AUGMENT_PARAM_FLOATS * sizeof(float),
                                         "augment params");
        bb->aug_tmp = vkdp_buf_create(bb->dev, mb * img, "augment scratch");
        bb->aug_mean = vkdp_buf_create(bb->dev, mb * 3 * sizeof(float), "augment means");
        bb->aug_out = vkdp_buf_create(bb->dev, mb * img, "augmented input");
    }
}

void vkdp_backbone_forward_train(vkdp_backbone *bb, const float *images, int B, const float *params,
                                 const float *drop, int stop, float *out)
{
    if (stop != -1)
        vkdp_backbone_boundary_floats(bb, stop); /* checks stop */
    if (params)
        ensure_augment(bb);
    if (drop && !bb->drop) {
        uint64_t n = (uint64_t)bb->nblocks * drop_stride(bb);
        bb->drop = vkdp_buf_create(bb->dev, n * sizeof(float), "drop connect scales");
        bb->drop_host = vkdp_xcalloc(n, sizeof(float));
    }
    forward(bb, images, B, params, drop, stop, out);
}

size_t vkdp_backbone_boundary_floats(const vkdp_backbone *bb, int stop)
{
    if (stop < 0 || stop > bb->nblocks)
        VKDP_FATAL("backbone: boundary %d outside [0, %d]", stop, bb->nblocks);
    if (stop == bb->nblocks)
        return (size_t)bb->top_oh * bb->top_ow * TOP_IN;
    const block_dev *d = &bb->blocks[stop];
    return (size_t)d->h_in * d->w_in * d->in_ch;
}

void vkdp_backbone_forward_to(vkdp_backbone *bb, const float *images, int B, const float *params,
                              int stop, float *boundary)
{
    vkdp_backbone_boundary_floats(bb, stop); /* checks stop */
    vkdp_backbone_forward_train(bb, images, B, params, NULL, stop, boundary);
}

void vkdp_backbone_set_profile(vkdp_backbone *bb, vkdp_profile *prof) { bb->prof = prof; }

uint64_t vkdp_backbone_micro_batch(const vkdp_backbone *bb) { return bb->micro; }

void vkdp_backbone_destroy(vkdp_backbone *bb)
{
    if (!bb)
        return;
    /* Calls in flight are waited for (vkdp_cmd_destroy), their results dropped: the caller may
     * have freed where they were to go. */
    for (int s = 0; s < MAX_SLOTS; s++) {
        for (int i = 0; i < MAX_RECORDINGS; i++)
            if (bb->slots[s].rec[i].cmd)
                vkdp_cmd_destroy(bb->slots[s].rec[i].cmd);
        vkdp_buf *own[] = {bb->slots[s].input, bb->slots[s].out};
        for (size_t j = 0; j < VKDP_ARRAY_LEN(own); j++)
            if (own[j])
                vkdp_buf_destroy(own[j]);
    }
    for (int i = 0; i < bb->nblocks; i++) {
        block_dev *d = &bb->blocks[i];
        vkdp_buf *bufs[] = {d->expand_w, d->expand_b, d->dw_w, d->dw_b, d->se_reduce_w,
                            d->se_reduce_b, d->se_expand_w, d->se_expand_b, d->project_w,
                            d->project_b};
        for (size_t j = 0; j < VKDP_ARRAY_LEN(bufs); j++)
            if (bufs[j])
                vkdp_buf_destroy(bufs[j]);
    }
    vkdp_buf *bufs[] = {bb->stem_w, bb->stem_b, bb->top_w, bb->top_b, bb->act[0],
                        bb->act[1], bb->act[2], bb->part, bb->pool, bb->se_s, bb->gate,
                        bb->aug_params, bb->aug_tmp, bb->aug_mean, bb->aug_out, bb->drop};
    for (size_t j = 0; j < VKDP_ARRAY_LEN(bufs); j++)
        vkdp_buf_destroy(bufs[j]);
    free(bb->drop_host);
    free(bb);
}
