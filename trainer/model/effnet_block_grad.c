/* Training forward and backward of one MBConv block with frozen, unfolded BN, chained from the
 * ops' gradient references (see vkdp/model/effnet_grad.h). */
#include "vkdp/model/effnet_grad.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkdp/core/common.h"
#include "vkdp/ops/ops.h"

double vkdp_effnet_drop_rate(double connect_rate, int block) { return connect_rate * block / 16.0; }

static const float *find(const vkdp_effnet *net, const char *block, const char *layer,
                         const char *weight, char *err, size_t errlen)
{
    char name[128];
    snprintf(name, sizeof name, "%s_%s/%s_%s/%s", block, layer, block, layer, weight);
    const vkdp_tensor *t = vkdp_effnet_tensor(net, name);
    if (!t) {
        snprintf(err, errlen, "%s: tensor %s not loaded", net->path, name);
        return NULL;
    }
    return t->data;
}

/* The frozen BN `layer` of the block as scale/shift [C]; 0, or -1 with err set. */
static int frozen_bn(const vkdp_effnet *net, const char *block, const char *layer, int C,
                     float **scale, float **shift, char *err, size_t errlen)
{
    static const char *const names[4] = {"gamma:0", "beta:0", "moving_mean:0", "moving_variance:0"};
    const float *t[4];
    for (int i = 0; i < 4; i++)
        if (!(t[i] = find(net, block, layer, names[i], err, errlen)))
            return -1;
    for (int c = 0; c < C; c++)
        if (!isfinite(t[3][c]) || !(t[3][c] + VKDP_EFFNET_BN_EPS > 0)) {
            snprintf(err, errlen, "%s: %s_%s/moving_variance:0[%d] = %g: not a variance", net->path,
                     block, layer, c, (double)t[3][c]);
            return -1;
        }
    *scale = vkdp_xmalloc((size_t)C * sizeof **scale);
    *shift = vkdp_xmalloc((size_t)C * sizeof **shift);
    vkdp_bn_frozen_affine(C, t[0], t[1], t[2], t[3], VKDP_EFFNET_BN_EPS, *scale, *shift);
    return 0;
}

int vkdp_block_weights_get(const vkdp_effnet *net, int block, vkdp_block_weights *w, char *err,
                           size_t errlen)
{
    memset(w, 0, sizeof *w);
    if (block < 0 || block >= net->nblocks) {
        snprintf(err, errlen, "block %d out of range 0..%d", block, net->nblocks - 1);
        return -1;
    }
    const vkdp_mbconv *b = &net->blocks[block];
    const char *n = b->name;
    w->arch = b;
    w->drop_rate = b->has_residual ? vkdp_effnet_drop_rate(VKDP_EFFNET_DROP_CONNECT_RATE, block) : 0.0;
    int ok = (!b->has_expand || (w->expand_w = find(net, n, "expand_conv", "kernel:0", err, errlen))) &&
             (w->dw_w = find(net, n, "dwconv", "depthwise_kernel:0", err, errlen)) &&
             (w->se_reduce_w = find(net, n, "se_reduce", "kernel:0", err, errlen)) &&
             (w->se_reduce_b = find(net, n, "se_reduce", "bias:0", err, errlen)) &&
             (w->se_expand_w = find(net, n, "se_expand", "kernel:0", err, errlen)) &&
             (w->se_expand_b = find(net, n, "se_expand", "bias:0", err, errlen)) &&
             (w->project_w = find(net, n, "project_conv", "kernel:0", err, errlen)) &&
             (!b->has_expand ||
              !frozen_bn(net, n, "expand_bn", b->exp_ch, &w->expand_scale, &w->expand_shift, err, errlen)) &&
             !frozen_bn(net, n, "bn", b->exp_ch, &w->bn_scale, &w->bn_shift, err, errlen) &&
             !frozen_bn(net, n, "project_bn", b->out_ch, &w->project_scale, &w->project_shift, err, errlen);
    if (!ok) {
        vkdp_block_weights_free(w);
        return -1;
    }
    return 0;
}

void vkdp_block_weights_free(vkdp_block_weights *w)
{
    free(w->expand_scale);
    free(w->expand_shift);
    free(w->bn_scale);
    free(w->bn_shift);
    free(w->project_scale);
    free(w->project_shift);
    memset(w, 0, sizeof *w);
}

static float *falloc(size_t n) { return vkdp_xmalloc((n ? n : 1) * sizeof(float)); }

void vkdp_block_grads_alloc(const vkdp_mbconv *a, vkdp_block_grads *g)
{
    size_t ex = (size_t)a->exp_ch;
    g->expand_w = a->has_expand ? falloc((size_t)a->in_ch * ex) : NULL;
    g->dw_w = falloc((size_t)a->kernel * a->kernel * ex);
    g->se_reduce_w = falloc(ex * a->se_ch);
    g->se_reduce_b = falloc((size_t)a->se_ch);
    g->se_expand_w = falloc((size_t)a->se_ch * ex);
    g->se_expand_b = falloc(ex);
    g->project_w = falloc(ex * a->out_ch);
}

void vkdp_block_grads_free(vkdp_block_grads *g)
{
    free(g->expand_w);
    free(g->dw_w);
    free(g->se_reduce_w);
    free(g->se_reduce_b);
    free(g->se_expand_w);
    free(g->se_expand_b);
    free(g->project_w);
    memset(g, 0, sizeof *g);
}

/* y [M,N] = bn(x [M,K] w [K,N]): a bias-free Keras Conv2D 1x1 then its frozen BN. */
static void conv1x1_bn(size_t M, int K, int N, const float *x, const float *w, const float *scale,
                       const float *shift, float *y)
{
    float *zero = vkdp_xcalloc((size_t)N, sizeof *zero);
    vkdp_ref_conv1x1((uint32_t)M, (uint32_t)K, (uint32_t)N, VKDP_ACT_NONE, x, w, zero, NULL, NULL, 0, y);
    vkdp_ref_bn_frozen(M, N, scale, shift, y, y);
    free(zero);
}

static void swish_of(size_t n, const float *z, float *a)
{
    for (size_t i = 0; i < n; i++)
        a[i] = vkdp_ref_act(VKDP_ACT_SWISH, z[i]);
}

void vkdp_block_forward_train(const vkdp_block_weights *w, int B, int H, int W, const float *x,
                              const float *drop_scale, vkdp_block_tape *t, float *y)
{
    const vkdp_mbconv *a = w->arch;
    const int ex = a->exp_ch;
    memset(t, 0, sizeof *t);
    t->B = B;
    t->x = x;
    t->geom = vkdp_dw_geom_keras(H, W, ex, a->kernel, a->stride);
    const size_t M1 = (size_t)B * H * W, P2 = (size_t)t->geom.Ho * t->geom.Wo, M2 = (size_t)B * P2;
    const float *dw_in = x;
    if (a->has_expand) {
        t->z1 = falloc(M1 * ex);
        t->a1 = falloc(M1 * ex);
        conv1x1_bn(M1, a->in_ch, ex, x, w->expand_w, w->expand_scale, w->expand_shift, t->z1);
        swish_of(M1 * ex, t->z1, t->a1);
        dw_in = t->a1;
    }
    t->z2 = falloc(M2 * ex);
    t->a2 = falloc(M2 * ex);
    vkdp_ref_dwconv_lin(&t->geom, B, dw_in, w->dw_w, NULL, t->z2);
    vkdp_ref_bn_frozen(M2, ex, w->bn_scale, w->bn_shift, t->z2, t->z2);
    swish_of(M2 * ex, t->z2, t->a2);
    t->gate = falloc((size_t)B * ex);
    t->s = falloc(M2 * ex);
    vkdp_ref_se((uint32_t)B, (uint32_t)P2, (uint32_t)ex, (uint32_t)a->se_ch, t->a2, w->se_reduce_w,
                w->se_reduce_b, w->se_expand_w, w->se_expand_b, t->s, t->gate);
    conv1x1_bn(M2, ex, a->out_ch, t->s, w->project_w, w->project_scale, w->project_shift, y);
    if (a->has_residual) {
        if (drop_scale) {
            t->drop_scale = falloc((size_t)B);
            memcpy(t->drop_scale, drop_scale, (size_t)B * sizeof *drop_scale);
        }
        vkdp_ref_residual((uint32_t)B, P2 * a->out_ch, y, x, drop_scale, y);
    }
}

void vkdp_block_backward(const vkdp_block_weights *w, const vkdp_block_tape *t, const float *dy,
                         float *dx, vkdp_block_grads *g)
{
    const vkdp_mbconv *a = w->arch;
    const int ex = a->exp_ch, B = t->B;
    const size_t M1 = (size_t)B * t->geom.H * t->geom.W, P2 = (size_t)t->geom.Ho * t->geom.Wo;
    const size_t M2 = (size_t)B * P2;
    /* project_bn <- drop connect (the residual's input path is added to dx at the end) */
    float *d3 = falloc(M2 * a->out_ch);
    if (a->has_residual)
        vkdp_grad_residual((uint32_t)B, P2 * a->out_ch, dy, t->drop_scale, d3, NULL);
    else
        memcpy(d3, dy, M2 * a->out_ch * sizeof *d3);
    vkdp_grad_bn_frozen(M2, a->out_ch, w->project_scale, d3, d3);
    /* project_conv, then squeeze-excite: d2 = d a2 */
    float *ds = falloc(M2 * ex), *d2 = falloc(M2 * ex);
    vkdp_grad_conv1x1((uint32_t)M2, (uint32_t)ex, (uint32_t)a->out_ch, t->s, w->project_w, d3, ds,
                      g->project_w, NULL);
    free(d3);
    vkdp_grad_se((uint32_t)B, (uint32_t)P2, (uint32_t)ex, (uint32_t)a->se_ch, t->a2, w->se_reduce_w,
                 w->se_reduce_b, w->se_expand_w, w->se_expand_b, ds, d2, g->se_reduce_w,
                 g->se_reduce_b, g->se_expand_w, g->se_expand_b);
    free(ds);
    /* swish, bn, depthwise: d1 = d of the depthwise input */
    vkdp_grad_swish(M2 * ex, t->z2, d2, d2);
    vkdp_grad_bn_frozen(M2, ex, w->bn_scale, d2, d2);
    float *d1 = falloc(M1 * ex);
    vkdp_grad_dwconv(&t->geom, B, a->has_expand ? t->a1 : t->x, w->dw_w, d2, d1, g->dw_w, NULL);
    free(d2);
    if (a->has_expand) {
        vkdp_grad_swish(M1 * ex, t->z1, d1, d1);
        vkdp_grad_bn_frozen(M1, ex, w->expand_scale, d1, d1);
        vkdp_grad_conv1x1((uint32_t)M1, (uint32_t)a->in_ch, (uint32_t)ex, t->x, w->expand_w, d1, dx,
                          g->expand_w, NULL);
    } else if (dx) {
        memcpy(dx, d1, M1 * ex * sizeof *dx);
    }
    free(d1);
    if (dx && a->has_residual)
        for (size_t i = 0; i < M1 * a->in_ch; i++)
            dx[i] += dy[i];
}

void vkdp_block_tape_free(vkdp_block_tape *t)
{
    free(t->z1);
    free(t->a1);
    free(t->z2);
    free(t->a2);
    free(t->gate);
    free(t->s);
    free(t->drop_scale);
    memset(t, 0, sizeof *t);
}
