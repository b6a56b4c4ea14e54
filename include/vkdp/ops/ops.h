/* Foundation ops: the register-blocked 1x1 convolution (GEMM + bias + activation, optional fused
 * SE gating of its input and residual add of its output) and elementwise binary ops. Each has a
 * dispatch function (records into a vkdp_cmd) and a plain-C reference. */
#ifndef VKDP_OPS_H
#define VKDP_OPS_H
#include <math.h>
#include <stdint.h>

#include "vkdp/vk/vk.h"

typedef enum { VKDP_ACT_NONE = 0, VKDP_ACT_SWISH = 1, VKDP_ACT_SIGMOID = 2 } vkdp_act;

typedef struct {
    uint32_t M, K, N;          /* Y[M,N] = act(X'[M,K] * W[K,N] + bias[N]) (+ residual[M,N]) */
    vkdp_act act;
    vkdp_view x, w, bias, y;
    vkdp_view residual;        /* .buf == NULL: none. Added after the activation. */
    vkdp_view row_scale;       /* .buf == NULL: none. X'[m,k] = X[m,k] * row_scale[m / rows_per_group, k] */
    uint32_t rows_per_group;   /* e.g. H*W of one image (needed with row_scale) */
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

static inline float vkdp_ref_act(vkdp_act act, float v)
{
    switch (act) {
    case VKDP_ACT_SWISH: return v / (1.0f + expf(-v));
    case VKDP_ACT_SIGMOID: return 1.0f / (1.0f + expf(-v));
    default: return v;
    }
}

#endif
