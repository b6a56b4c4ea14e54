#version 450
// grad_fx_add: acc[i] += sum over samples s of fx(g[s, i]) (include/vkdp/ops/grad_ops.h): per-sample
// weight-gradient partials rounded to int64 fixed point one by one and added in int64, so the sum
// is the same bits however the samples are split over micro-batches and ranks (docs/fine-tuning.md,
// section 5); ovf[i] counts the terms beyond the range. One invocation per element, no atomics.
#include "head_common.glsl"
layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(std430, binding = 0) readonly buffer G { float g[]; };   // [S, n]
layout(std430, binding = 1) buffer Acc { int64_t acc[]; };      // [n]
layout(std430, binding = 2) buffer Ovf { uint ovf[]; };         // [n]
layout(push_constant) uniform P { uint n, S; float scale; } p;

void main()
{
    uint group = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    uint i = group * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (i >= p.n)
        return;
    int64_t s = acc[i];
    uint o = ovf[i];
    for (uint k = 0u; k < p.S; k++)
        s += fx(g[k * p.n + i], p.scale, o);
    acc[i] = s;
    ovf[i] = o;
}
