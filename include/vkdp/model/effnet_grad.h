/* Plain-C training forward and backward of one EfficientNetB0 MBConv block with its Keras tensors
 * unfolded, as fine-tuning needs it: the convolution, depthwise and squeeze-excite weights are
 * trainable; every BatchNormalization stays frozen in inference mode (Keras' advice for
 * fine-tuning, and what BatchNormalization(trainable=False) does), so BN is a per-channel affine
 * after the convolution instead of being folded into it.
 *
 * Keras' block (keras/applications/efficientnet.py block()):
 *   [expand_conv 1x1 -> expand_bn -> swish]            (expand ratio != 1)
 *   [ZeroPadding2D(correct_pad)] dwconv -> bn -> swish (padding only at stride 2)
 *   se: GAP -> se_reduce 1x1 (+bias, swish) -> se_expand 1x1 (+bias, sigmoid) -> multiply
 *   project_conv 1x1 -> project_bn
 *   [Dropout(drop_rate, noise_shape=(None,1,1,1)) -> add(input)]   (stride 1 and in == out)
 * The Dropout is "drop connect" (stochastic depth): at training time a whole sample's branch is
 * dropped with probability drop_rate, else scaled by 1/(1-drop_rate); drop_rate is
 * drop_connect_rate * b / 16 for the b-th block (0..15), drop_connect_rate 0.2 as EfficientNetB0's
 * default (trainer train --drop-connect-rate sets it). Callers pass the per-sample scale
 * (vkdp_drop_connect_scale), or NULL for inference / no drop connect. */
#ifndef VKDP_EFFNET_GRAD_H
#define VKDP_EFFNET_GRAD_H
#include <stddef.h>

#include "vkdp/model/effnet.h"
#include "vkdp/ops/grad_ref.h"

/* Keras' EfficientNetB0(drop_connect_rate=0.2): the default of trainer train --drop-connect-rate. */
#define VKDP_EFFNET_DROP_CONNECT_RATE 0.2

/* Keras' drop_connect_rate * b / blocks for block b (0-based): connect_rate * b / 16, in double as
 * Python. */
double vkdp_effnet_drop_rate(double connect_rate, int block);

typedef struct {
    const vkdp_mbconv *arch;  /* structure: kernel, stride, channels, flags */
    /* trainable, in Keras' layout (pointers into vkdp_effnet.tensors, or the caller's copies) */
    const float *expand_w;    /* [in, exp]; NULL without expand */
    const float *dw_w;        /* [k, k, exp] */
    const float *se_reduce_w, *se_reduce_b, *se_expand_w, *se_expand_b; /* [exp,se] [se] [se,exp] [exp] */
    const float *project_w;   /* [exp, out] */
    /* frozen BatchNormalization as y = x * scale + shift (owned) */
    float *expand_scale, *expand_shift;   /* [exp]; NULL without expand */
    float *bn_scale, *bn_shift;           /* [exp] */
    float *project_scale, *project_shift; /* [out] */
    double drop_rate;         /* Keras' rate of this block's drop connect at the default
                                 VKDP_EFFNET_DROP_CONNECT_RATE; 0 without residual */
} vkdp_block_weights;

/* Block `block` (0..nblocks-1) of a loaded network. Returns -1 with a message naming the tensor
 * in err when one is missing or a BN variance is not a finite value > -epsilon. */
int vkdp_block_weights_get(const vkdp_effnet *net, int block, vkdp_block_weights *w, char *err,
                           size_t errlen);
void vkdp_block_weights_free(vkdp_block_weights *w);

/* Gradients of the trainable tensors, same shapes and layouts as the weights. */
typedef struct {
    float *expand_w, *dw_w, *se_reduce_w, *se_reduce_b, *se_expand_w, *se_expand_b, *project_w;
} vkdp_block_grads;

void vkdp_block_grads_alloc(const vkdp_mbconv *arch, vkdp_block_grads *g);
void vkdp_block_grads_free(vkdp_block_grads *g);

/* What the backward needs from the forward. The reference keeps every intermediate for clarity;
 * docs/fine-tuning.md lists the minimal set a device implementation keeps. */
typedef struct {
    int B;
    vkdp_dw_geom geom;        /* the depthwise layer's: input H x W, output Ho x Wo */
    const float *x;           /* block input [B,H,W,in] (the caller's, not owned) */
    float *z1, *a1;           /* [B,H,W,exp] expand_bn output and its swish; NULL without expand */
    float *z2, *a2;           /* [B,Ho,Wo,exp] bn output and its swish */
    float *gate;              /* [B,exp] the SE gate */
    float *s;                 /* [B,Ho,Wo,exp] a2 * gate, project_conv's input */
    float *drop_scale;        /* [B] copy of the drop-connect scales, or NULL */
} vkdp_block_tape;

/* y [B,Ho,Wo,out] of input x [B,H,W,in]; drop_scale [B] or NULL. x must stay valid until the
 * backward has run. */
void vkdp_block_forward_train(const vkdp_block_weights *w, int B, int H, int W, const float *x,
                              const float *drop_scale, vkdp_block_tape *t, float *y);
/* From dy [B,Ho,Wo,out]: dx [B,H,W,in] (may be NULL) and every trainable gradient, summed over
 * the batch (overwritten, not accumulated). */
void vkdp_block_backward(const vkdp_block_weights *w, const vkdp_block_tape *t, const float *dy,
                         float *dx, vkdp_block_grads *g);
void vkdp_block_tape_free(vkdp_block_tape *t);

#endif
