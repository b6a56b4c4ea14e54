/* Recording functions of the head's shaders, one op (and record, vkdp/ops/op.h) per shader;
 * plain-C twins in head_ref.h. Each records one dispatch into c; views are whole tensors laid out
 * as documented in the shader. Binding order = argument order. */
#ifndef VKDP_HEAD_OPS_H
#define VKDP_HEAD_OPS_H
#include <stdint.h>

#include "vkdp/ops/head_ref.h"
#include "vkdp/ops/op.h"
#include "vkdp/vk/vk.h"

extern const vkdp_op vkdp_rec_head_bn_stats, vkdp_rec_head_bn_dropout, vkdp_rec_head_logits_loss,
    vkdp_rec_head_grad_sums, vkdp_rec_adam;

/* head_bn_stats: sums[j] (int64) and ovf[j] (uint32) over n samples; mode 0 sum x, 1 sum (x-mean)^2. */
void vkdp_op_head_bn_stats(vkdp_cmd *c, vkdp_device *dev, vkdp_view x, vkdp_view mean,
                           vkdp_view sums, vkdp_view ovf, int n, int F, int mode);
/* head_bn_dropout: stats = mean[F] ++ inv_std[F]; gpos uint64 [n]; writes xhat, xd [n,F]. */
void vkdp_op_head_bn_dropout(vkdp_cmd *c, vkdp_device *dev, vkdp_view x, vkdp_view stats,
                             vkdp_view params, vkdp_view gpos, vkdp_view xhat, vkdp_view xd, int n,
                             int F, const vkdp_dropout_key *k);
/* head_logits_loss: writes probs, dl [n,C], loss (float) and correct (uint32) [n]. */
void vkdp_op_head_logits_loss(vkdp_cmd *c, vkdp_device *dev, vkdp_view xd, vkdp_view params,
                              vkdp_view labels, vkdp_view probs, vkdp_view dl, vkdp_view loss,
                              vkdp_view correct, int n, int F, int C, float inv_batch);
/* head_grad_sums: sums (int64) / ovf (uint32) [P+2], elements first..P+1. */
void vkdp_op_head_grad_sums(vkdp_cmd *c, vkdp_device *dev, vkdp_view xhat, vkdp_view xd,
                            vkdp_view dl, vkdp_view params, vkdp_view gpos, vkdp_view loss,
                            vkdp_view correct, vkdp_view sums, vkdp_view ovf, int n, int F, int C,
                            int64_t first, const vkdp_dropout_key *k);
/* adam: P parameters; grad int64 fixed point (VKDP_FX_GRAD_SHIFT). */
void vkdp_op_adam(vkdp_cmd *c, vkdp_device *dev, vkdp_view grad, vkdp_view params, vkdp_view m,
                  vkdp_view v, int64_t P, float alpha, float one_minus_beta1,
                  float one_minus_beta2, float epsilon);

#endif
