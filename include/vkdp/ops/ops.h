/* Foundation ops: the register-blocked 1x1 convolution (GEMM + bias + activation, optional fused
 * SE gating of its input and residual add of its output), elementwise binary ops, and the map ops
 * (vkdp/ops/map.h). Each has a record (vkdp/ops/op.h), a dispatch function (records into a
 * vkdp_cmd) and a plain-C reference. */
#ifndef VKDP_OPS_H
#define VKDP_OPS_H
#include <stdint.h>

#include "vkdp/ops/act.h"
#include "vkdp/ops/op.h"
#include "vkdp/vk/vk.h"

extern const vkdp_op vkdp_rec_conv1x1;
extern const vkdp_op vkdp_rec_eltwise;
/* Map ops, recorded with vkdp_op_map (vkdp/ops/map.h). */
extern const vkdp_op vkdp_rec_swish_grad;   /* x, dy -> dx = dy * swish'(x) */

typedef struct {
    uint32_t M, K, N;          /* Y[M,N] = act(X'[M,K] * W[K,N] + bias[N]) (+ residual[M,N]) */
    vkdp_act act;
    vkdp_view x, w, bias, y;
    vkdp_view residual;        /* .buf == NULL: none. Added after the activation. */
    vkdp_view row_scale;       /* .buf == NULL: none. X'[m,k] = X[m,k] * row_scale[m / rows_per_group, k] */
    uint32_t rows_per_group;   /* e.g. H*W of one image (needed with row_scale) */
    /* Which shader: 0 the device's (vkdp/ops/tune.h), 1 the storage-buffer one, 2 the texel-buffer
     * one with block[0] rows x block[1] vec4 columns (0: the device's), 3 the shared-memory tiled
     * one (block unused). Tests and benchmarks. */
    uint32_t path, block[2];
} vkdp_conv1x1_args;

void vkdp_op_conv1x1(vkdp_cmd *c, vkdp_device *dev, const vkdp_conv1x1_args *a, const char *label);
/* residual and row_scale may be NULL. Accumulates in double. */
void vkdp_ref_conv1x1(uint32_t M, uint32_t K, uint32_t N, vkdp_act act, const float *x, const float *w,
                      const float *bias, const float *residual, const float *row_scale, uint32_t rows_per_group,
                      float *y);

typedef enum { VKDP_ELT_ADD = 0, VKDP_ELT_MUL = 1 } vkdp_elt_op;
/* y[i] = act(a[i] op b[i]) for i < n; y may alias a. */
void vkdp_op_eltwise(vkdp_cmd *c, vkdp_device *dev, vkdp_elt_op op, vkdp_act act, uint32_t n, vkdp_view a,
                     vkdp_view b, vkdp_view y, const char *label);
void vkdp_ref_eltwise(vkdp_elt_op op, vkdp_act act, uint32_t n, const float *a, const float *b, float *y);

#endif
