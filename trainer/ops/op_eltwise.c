#include "vkdp/ops/ops.h"

void vkdp_op_eltwise(vkdp_cmd *c, vkdp_device *dev, vkdp_elt_op op, vkdp_act act, uint32_t n, vkdp_view a,
                     vkdp_view b, vkdp_view y, const char *label)
{
    uint32_t spec[2] = {(uint32_t)op, (uint32_t)act};
    uint32_t push = n;
    vkdp_view v[3] = {a, b, y};
    vkdp_pipeline *p = vkdp_pipeline_get(dev, "eltwise", 3, sizeof push, spec, 2);
    uint32_t gx, gy;
    vkdp_grid(dev, ((uint64_t)n + 255) / 256, &gx, &gy);
    vkdp_cmd_dispatch(c, p, label, v, 3, 1u << 2, &push, gx, gy, 1);
}

void vkdp_ref_eltwise(vkdp_elt_op op, vkdp_act act, uint32_t n, const float *a, const float *b, float *y)
{
    for (uint32_t i = 0; i < n; i++)
        y[i] = vkdp_ref_act(act, op == VKDP_ELT_ADD ? a[i] + b[i] : a[i] * b[i]);
}
