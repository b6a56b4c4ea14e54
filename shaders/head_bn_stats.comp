#version 450
// BatchNorm batch statistics of this rank's samples, in fixed point (include/vkdp/ops/head_fx.h):
// mode 0: sums[j] = sum_i fx(x[i,j]); mode 1: sums[j] = sum_i fx((x[i,j] - mean[j])^2).
// One invocation per feature loops over the samples: no atomics, and a sum that is exact, so
// the allreduced mean and variance do not depend on how the batch was split.
#include "head_common.glsl"
layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)

layout(std430, set = 0, binding = 0) readonly buffer X { float x[]; };        // [n, F]
layout(std430, set = 0, binding = 1) readonly buffer Stats { float mean[]; }; // [F] (mode 1)
layout(std430, set = 0, binding = 2) writeonly buffer Sums { int64_t sums[]; };
layout(std430, set = 0, binding = 3) writeonly buffer Ovf { uint ovf[]; };

layout(push_constant) uniform Push {
    uint n;
    uint F;
    uint mode;
    float scale;   // 2^VKDP_FX_STAT_SHIFT
} pc;

void main()
{
    uint j = gl_GlobalInvocationID.x;
    if (j >= pc.F)
        return;
    int64_t s = int64_t(0);
    uint o = 0u;
    if (pc.mode == 0u) {
        for (uint i = 0u; i < pc.n; i++)
            s += fx(x[i * pc.F + j], pc.scale, o);
    } else {
        float m = mean[j];
        for (uint i = 0u; i < pc.n; i++) {
            precise float d = x[i * pc.F + j] - m;
            precise float d2 = d * d;
            s += fx(d2, pc.scale, o);
        }
    }
    sums[j] = s;
    ovf[j] = o;
}
