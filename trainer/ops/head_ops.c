/* Recording functions of the head shaders; push-constant structs mirror the shaders' blocks. */
#include "vkdp/ops/head_ops.h"

#include <math.h>

#include "vkdp/ops/head_fx.h"

#define HEAD_WG 64u

static uint32_t groups(int64_t n)
{
    int64_t g = (n + HEAD_WG - 1) / HEAD_WG;
    if (g > 65535)
        VKDP_FATAL("head op over %lld elements needs %lld workgroups (> 65535): use fewer samples "
                   "per call",
                   (long long)n, (long long)g);
    return g > 0 ? (uint32_t)g : 1u;
}

void vkdp_op_head_bn_stats(vkdp_cmd *c, vkdp_device *dev, vkdp_view x, vkdp_view mean,
                           vkdp_view sums, vkdp_view ovf, int n, int F, int mode)
{
    struct {
        uint32_t n, F, mode;
        float scale;
    } pc = {(uint32_t)n, (uint32_t)F, (uint32_t)mode, ldexpf(1.0f, VKDP_FX_STAT_SHIFT)};
    vkdp_view v[] = {x, mean, sums, ovf};
    vkdp_pipeline *p = vkdp_pipeline_get(dev, "head_bn_stats", 4, sizeof pc, NULL, 0);
    vkdp_cmd_dispatch(c, p, mode ? "head_bn_sqdev" : "head_bn_sum", v, 4, 0xC, &pc, groups(F), 1,
                      1);
}

void vkdp_op_head_bn_dropout(vkdp_cmd *c, vkdp_device *dev, vkdp_view x, vkdp_view stats,
                             vkdp_view params, vkdp_view gpos, vkdp_view xhat, vkdp_view xd, int n,
                             int F, const vkdp_dropout_key *k)
{
    struct {
        uint32_t n, F, seed_lo, seed_hi, epoch, use_dropout;
        float rate, keep_scale;
    } pc = {(uint32_t)n, (uint32_t)F, (uint32_t)k->seed, (uint32_t)(k->seed >> 32), k->epoch,
            (uint32_t)(k->use_dropout != 0), k->rate, k->keep_scale};
    vkdp_view v[] = {x, stats, params, gpos, xhat, xd};
    vkdp_pipeline *p = vkdp_pipeline_get(dev, "head_bn_dropout", 6, sizeof pc, NULL, 0);
    vkdp_cmd_dispatch(c, p, "head_bn_dropout", v, 6, 0x30, &pc, groups((int64_t)n * F), 1, 1);
}

void vkdp_op_head_logits_loss(vkdp_cmd *c, vkdp_device *dev, vkdp_view xd, vkdp_view params,
                              vkdp_view labels, vkdp_view probs, vkdp_view dl, vkdp_view loss,
                              vkdp_view correct, int n, int F, int C, float inv_batch)
{
    struct {
        uint32_t n, F, kernel_off, bias_off;
        float inv_batch;
    } pc = {(uint32_t)n, (uint32_t)F, (uint32_t)(2 * F), (uint32_t)(2 * F + F * C), inv_batch};
    uint32_t spec[] = {(uint32_t)C};
    vkdp_view v[] = {xd, params, labels, probs, dl, loss, correct};
    vkdp_pipeline *p = vkdp_pipeline_get(dev, "head_logits_loss", 7, sizeof pc, spec, 1);
    vkdp_cmd_dispatch(c, p, "head_logits_loss", v, 7, 0x78, &pc, groups(n), 1, 1);
}

void vkdp_op_head_grad_sums(vkdp_cmd *c, vkdp_device *dev, vkdp_view xhat, vkdp_view xd,
                            vkdp_view dl, vkdp_view params, vkdp_view gpos, vkdp_view loss,
                            vkdp_view correct, vkdp_view sums, vkdp_view ovf, int n, int F, int C,
                            int64_t first, const vkdp_dropout_key *k)
{
    struct {
        uint32_t n, F, C, first;
        float grad_scale, loss_scale;
        uint32_t seed_lo, seed_hi, epoch, use_dropout;
        float rate, keep_scale;
    } pc = {(uint32_t)n, (uint32_t)F, (uint32_t)C, (uint32_t)first,
            ldexpf(1.0f, VKDP_FX_GRAD_SHIFT), ldexpf(1.0f, VKDP_FX_LOSS_SHIFT),
            (uint32_t)k->seed, (uint32_t)(k->seed >> 32), k->epoch,
            (uint32_t)(k->use_dropout != 0), k->rate, k->keep_scale};
    int64_t P = 2 * (int64_t)F + (int64_t)F * C + C;
    vkdp_view v[] = {xhat, xd, dl, params, gpos, loss, correct, sums, ovf};
    vkdp_pipeline *p = vkdp_pipeline_get(dev, "head_grad_sums", 9, sizeof pc, NULL, 0);
    vkdp_cmd_dispatch(c, p, "head_grad_sums", v, 9, 0x180, &pc, groups(P + 2 - first), 1, 1);
}

void vkdp_op_adam(vkdp_cmd *c, vkdp_device *dev, vkdp_view grad, vkdp_view params, vkdp_view m,
                  vkdp_view v, int64_t P, float alpha, float one_minus_beta1,
                  float one_minus_beta2, float epsilon)
{
    struct {
        uint32_t P;
        float grad_unscale, alpha, one_minus_beta1, one_minus_beta2, epsilon;
    } pc = {(uint32_t)P, ldexpf(1.0f, -VKDP_FX_GRAD_SHIFT), alpha, one_minus_beta1,
            one_minus_beta2, epsilon};
    vkdp_view vv[] = {grad, params, m, v};
    vkdp_pipeline *p = vkdp_pipeline_get(dev, "adam", 4, sizeof pc, NULL, 0);
    vkdp_cmd_dispatch(c, p, "adam", vv, 4, 0xE, &pc, groups(P), 1, 1);
}
