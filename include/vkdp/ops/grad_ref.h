/* Plain-C references of the backward passes that fine-tuning the top of EfficientNetB0 needs, and
 * of the unfused forward pieces they are the adjoints of (the trainable part runs conv -> frozen
 * BN -> swish unfolded, so the forward ops of the frozen backbone, which fuse a folded bias and
 * swish, do not fit it). The later backward shaders are checked against these.
 *
 * Layouts are the forward ops' (NHWC activations; weights as in vkdp/model/effnet.h: 1x1 conv
 * [Cin, Cout] with Cout fastest, depthwise [k, k, C]). Every backward OVERWRITES its outputs
 * (vkdp_grad_gap can also accumulate); of several gradient outputs any may be NULL. Sums over
 * samples or positions (weight and bias gradients, the SE gate's and a 1x1 conv's input
 * gradient) accumulate in double, then round once to float. Each backward is the exact adjoint
 * of the forward named next to it: tests/test_grad_ref.c checks it against central differences
 * of that forward. */
#ifndef VKDP_GRAD_REF_H
#define VKDP_GRAD_REF_H
#include <stddef.h>
#include <stdint.h>

/* ---- 1x1 convolution: forward is vkdp_ref_conv1x1 (vkdp/ops/ops.h) with VKDP_ACT_NONE ----
 * y[M,N] = x[M,K] w[K,N] + bias[N]  ->  dx[M,K] = dy w^T, dw[K,N] = x^T dy, db[N] = sum_m dy. */
void vkdp_grad_conv1x1(uint32_t M, uint32_t K, uint32_t N, const float *x, const float *w,
                       const float *dy, float *dx, float *dw, float *db);

/* ---- depthwise k x k convolution, no activation ----
 * The geometry is explicit so that a test can build a wrong one and see it caught; use
 * vkdp_dw_geom_keras for the network's. */
typedef struct {
    int H, W, C, k, stride;
    int pad_top, pad_left;  /* implicit zero rows/columns before input row/column 0 */
    int Ho, Wo;
} vkdp_dw_geom;

/* Keras' layer: stride 1 "same" (k/2 each side), stride 2 ZeroPadding2D(correct_pad) + "valid"
 * (vkdp/ops/conv_geom.h); the same geometry as vkdp_ref_dwconv. */
vkdp_dw_geom vkdp_dw_geom_keras(int H, int W, int C, int k, int stride);

/* y[b,oy,ox,c] = bias[c] + sum_{ky,kx} x[b, oy*s+ky-pad_top, ox*s+kx-pad_left, c] w[ky,kx,c]
 * (outside the input: 0). x [B,H,W,C], y [B,Ho,Wo,C]; bias may be NULL (none). */
void vkdp_ref_dwconv_lin(const vkdp_dw_geom *g, int B, const float *x, const float *w,
                         const float *bias, float *y);
/* dx [B,H,W,C] (gathered per input pixel: no scatter, as a shader would), dw [k,k,C], db [C]. */
void vkdp_grad_dwconv(const vkdp_dw_geom *g, int B, const float *x, const float *w,
                      const float *dy, float *dx, float *dw, float *db);

/* ---- swish: forward vkdp_ref_act(VKDP_ACT_SWISH, x) = x / (1 + exp(-x)) ----
 * dx = dy * s * (1 + x (1 - s)), s = sigmoid(x). dx may alias dy. */
void vkdp_grad_swish(size_t n, const float *x, const float *dy, float *dx);

/* ---- frozen (inference-mode) BatchNormalization over the last axis of C channels ----
 * y = (x - mean) / sqrt(var + eps) * gamma + beta, computed as TF does: y = x * scale + shift with
 * scale = gamma / sqrt(var + eps), shift = beta - mean * scale (double, rounded once, as the
 * backbone's BN folding). var must be > -eps (checked by the weights loader's callers). */
void vkdp_bn_frozen_affine(int C, const float *gamma, const float *beta, const float *mean,
                           const float *var, float eps, float *scale, float *shift);
/* x, y [M, C]; y may alias x. */
void vkdp_ref_bn_frozen(size_t M, int C, const float *scale, const float *shift, const float *x,
                        float *y);
/* dx = dy * scale (gamma, beta and the statistics are frozen: no other gradient). */
void vkdp_grad_bn_frozen(size_t M, int C, const float *scale, const float *dy, float *dx);

/* ---- global average pool: forward vkdp_ref_gap (vkdp/ops/backbone_ops.h) ----
 * y [B,C] = mean over HW of x [B,HW,C]  ->  dx[b,p,c] = dy[b,c] / HW (accumulate != 0: +=). */
void vkdp_grad_gap(uint32_t B, uint32_t HW, uint32_t C, const float *dy, float *dx,
                   int accumulate);

/* ---- squeeze-and-excite on x [B,P,C] with se reduced channels ----
 * pool = gap(x); h = pool wr + br; r = swish(h); gate = sigmoid(r we + be); y = x * gate
 * (wr [C,se], br [se], we [se,C], be [C]). The forward is vkdp_ref_gap + vkdp_ref_se_excite +
 * vkdp_ref_se_gate (vkdp/ops/backbone_ops.h) chained; gate [B,C] may be NULL (not returned). */
void vkdp_ref_se(uint32_t B, uint32_t P, uint32_t C, uint32_t se, const float *x, const float *wr,
                 const float *br, const float *we, const float *be, float *y, float *gate);
/* The whole SE backward: dx [B,P,C] (gate path + pool path), dwr, dbr, dwe, dbe. */
void vkdp_grad_se(uint32_t B, uint32_t P, uint32_t C, uint32_t se, const float *x,
                  const float *wr, const float *br, const float *we, const float *be,
                  const float *dy, float *dx, float *dwr, float *dbr, float *dwe, float *dbe);
/* Its pieces, one per future shader:
 * gate multiply: dx = dy * gate (per channel), dgate[b,c] = sum_p dy[b,p,c] x[b,p,c]; */
void vkdp_grad_se_gate(uint32_t B, uint32_t P, uint32_t C, const float *x, const float *gate,
                       const float *dy, float *dx, float *dgate);
/* the two biased 1x1 convolutions with swish and sigmoid, from the pooled input (recomputed):
 * dpool [B,C], dwr [C,se], dbr [se], dwe [se,C], dbe [C] (weight gradients summed over B). */
void vkdp_grad_se_excite(uint32_t B, uint32_t C, uint32_t se, const float *pool, const float *wr,
                         const float *br, const float *we, const float *be, const float *dgate,
                         float *dpool, float *dwr, float *dbr, float *dwe, float *dbe);

/* ---- residual add with Keras' drop connect on the branch ----
 * y[b,i] = branch[b,i] * scale[b] + input[b,i] over B samples of N elements; scale NULL: 1.
 * scale[b] is Keras' Dropout(rate, noise_shape=(None,1,1,1)) at training time: 1/(1-rate) when
 * the sample's branch is kept, 0 when dropped (vkdp_drop_connect_scale). y may alias input. */
void vkdp_ref_residual(uint32_t B, size_t N, const float *branch, const float *input,
                       const float *scale, float *y);
/* dbranch = dy * scale[b], dinput = dy. */
void vkdp_grad_residual(uint32_t B, size_t N, const float *dy, const float *scale,
                        float *dbranch, float *dinput);
/* 1/(1-rate) as TF's dropout computes it (Python double, then float32), or 0 when dropped. */
float vkdp_drop_connect_scale(double rate, int keep);

#endif
