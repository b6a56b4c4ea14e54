/* The backward ops of the trainable part of the backbone (issue 12), and the unfused forward pieces
 * they are the adjoints of: each a record (vkdp/ops/op.h) + a dispatch function + its C reference
 * in vkdp/ops/grad_ref.h, which the generic op test (tests/test_ops.c) checks the shaders against,
 * and by central differences of the forward. Layouts as in grad_ref.h (NHWC, 1x1 weights [K,N],
 * depthwise [k,k,C]). Every backward overwrites its outputs (gap_grad can also accumulate); sums
 * are in float on the device. label: the op kind in the --profile table (NULL: the op's name). */
#ifndef VKDP_GRAD_OPS_H
#define VKDP_GRAD_OPS_H
#include <stdint.h>

#include "vkdp/ops/act.h"
#include "vkdp/ops/grad_ref.h"
#include "vkdp/ops/op.h"
#include "vkdp/vk/vk.h"

extern const vkdp_op vkdp_rec_conv1x1_grad, vkdp_rec_dwconv_lin, vkdp_rec_dwconv_grad, vkdp_rec_se_gate_grad,
    vkdp_rec_se_excite_grad, vkdp_rec_bn_frozen, vkdp_rec_bn_frozen_grad, vkdp_rec_residual,
    vkdp_rec_residual_grad, vkdp_rec_gap_grad, vkdp_rec_grad_fx_add;

/* 1x1 convolution y[M,N] = x[M,K] w[K,N] + b: dx = dy w^T (dx.buf NULL: skipped), dw = x^T dy
 * and db = sum_m dy (dw.buf NULL: both skipped; db.buf NULL: db skipped). */
void vkdp_op_conv1x1_grad(vkdp_cmd *c, vkdp_device *dev, uint32_t M, uint32_t K, uint32_t N,
                          vkdp_view x, vkdp_view w, vkdp_view dy, vkdp_view dx, vkdp_view dw,
                          vkdp_view db, const char *label);
/* The weight and bias gradients of S samples of rows rows each (x [S*rows,K], dy [S*rows,N]),
 * each sample's own: dw + s*dw_stride floats [K,N] = x_s^T dy_s, db + s*db_stride [N] = sum of
 * dy_s's rows (db.buf NULL: skipped), each output summed over its sample's rows in order, so a
 * sample's partial is the same bits alone and among others. One dispatch where the device's
 * table row has a texel GEMM block and K, N and the strides are multiples of 4, else one per
 * sample. */
void vkdp_op_conv1x1_grad_w_samples(vkdp_cmd *c, vkdp_device *dev, uint32_t S, uint32_t rows, uint32_t K,
                                    uint32_t N, vkdp_view x, vkdp_view dy, vkdp_view dw, uint64_t dw_stride,
                                    vkdp_view db, uint64_t db_stride, const char *label);

/* Depthwise convolution of geometry g over B samples (vkdp_dw_geom_keras for the network's),
 * no activation: y [B,Ho,Wo,C] = dwconv(x, w) + bias. */
void vkdp_op_dwconv_lin(vkdp_cmd *c, vkdp_device *dev, const vkdp_dw_geom *g, uint32_t B,
                        vkdp_view x, vkdp_view w, vkdp_view bias, vkdp_view y, const char *label);
/* Its backward: dx [B,H,W,C] (dx.buf NULL: skipped), dw [k,k,C] and db [C] (dw.buf NULL: both skipped; db.buf
 * NULL: db skipped). */
void vkdp_op_dwconv_grad(vkdp_cmd *c, vkdp_device *dev, const vkdp_dw_geom *g, uint32_t B,
                         vkdp_view x, vkdp_view w, vkdp_view dy, vkdp_view dx, vkdp_view dw,
                         vkdp_view db, const char *label);
/* The weight and bias gradients of S samples (x [S,H,W,C], dy [S,Ho,Wo,C]), each sample's own:
 * dw + s*dw_stride floats [k,k,C], db + s*db_stride [C] (db.buf NULL: skipped), each output
 * summed over its sample's output positions in order, so a sample's partial is the same bits
 * alone and among others. One dispatch where the device's table row has the texel depthwise and
 * C and the strides are multiples of 4 (k <= 5), else one per sample. */
void vkdp_op_dwconv_grad_w_samples(vkdp_cmd *c, vkdp_device *dev, const vkdp_dw_geom *g, uint32_t S,
                                   vkdp_view x, vkdp_view dy, vkdp_view dw, uint64_t dw_stride, vkdp_view db,
                                   uint64_t db_stride, const char *label);

/* SE gating y = x * gate: dx = dy * gate [B,P,C], dgate [B,C] = sum_p dy x. */
void vkdp_op_se_gate_grad(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint32_t P, uint32_t C,
                          vkdp_view x, vkdp_view gate, vkdp_view dy, vkdp_view dx,
                          vkdp_view dgate, const char *label);

/* SE excitation gate = sigmoid(swish(pool wr + br) we + be) from the pooled input pool [B,C] and
 * dgate [B,C]: dpool [B,C], dwr [C,se], dbr [se], dwe [se,C], dbe [C], weight gradients summed
 * over B. work: vkdp_se_excite_grad_work floats of scratch (h, dz, dh). */
uint64_t vkdp_se_excite_grad_work(uint32_t B, uint32_t C, uint32_t se);
typedef struct {
    uint32_t B, C, se;
    vkdp_view pool, wr, br, we, be, dgate;        /* in */
    vkdp_view work;                               /* scratch */
    vkdp_view dpool, dwr, dbr, dwe, dbe;          /* out */
} vkdp_se_excite_grad_args;
void vkdp_op_se_excite_grad(vkdp_cmd *c, vkdp_device *dev, const vkdp_se_excite_grad_args *a,
                            const char *label);

/* Frozen BatchNormalization over n elements of C channels: y = act(x * scale + shift) (y may
 * alias x); its backward dx = dy * scale (dx may alias dy). */
void vkdp_op_bn_frozen(vkdp_cmd *c, vkdp_device *dev, uint64_t n, uint32_t C, vkdp_act act,
                       vkdp_view x, vkdp_view scale, vkdp_view shift, vkdp_view y,
                       const char *label);
void vkdp_op_bn_frozen_grad(vkdp_cmd *c, vkdp_device *dev, uint64_t n, uint32_t C, vkdp_view dy,
                            vkdp_view scale, vkdp_view dx, const char *label);

/* Residual add with drop connect over B samples of N elements: y = branch * scale[b] + input
 * (y may alias input); its branch gradient dbranch = dy * scale[b] (the input's is dy). */
void vkdp_op_residual(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint64_t N, vkdp_view branch,
                      vkdp_view input, vkdp_view scale, vkdp_view y, const char *label);
void vkdp_op_residual_grad(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint64_t N, vkdp_view dy,
                           vkdp_view scale, vkdp_view dbranch, const char *label);

/* Global average pool over HW positions: dx [B,HW,C] = dy [B,C] / HW, or += when accumulate. */
void vkdp_op_gap_grad(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint32_t HW, uint32_t C,
                      int accumulate, vkdp_view dy, vkdp_view dx, const char *label);

/* The exact cross-sample sum of weight gradients (docs/fine-tuning.md, section 5): g [S, n] holds S
 * samples' partials (each summed over that sample's positions only); acc [n] (int64) +=
 * sum_s vkdp_fx(g[s, i], shift), ovf [n] (uint32) += the terms beyond the fixed-point range (which
 * add 0). Integer sums: the result does not depend on how samples are grouped. The C reference is
 * bit-identical. */
void vkdp_op_grad_fx_add(vkdp_cmd *c, vkdp_device *dev, uint32_t S, uint64_t n, int shift, vkdp_view g,
                         vkdp_view acc, vkdp_view ovf, const char *label);
void vkdp_grad_fx_add_ref(uint32_t S, uint64_t n, int shift, const float *g, int64_t *acc, uint32_t *ovf);

#endif
