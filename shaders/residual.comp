#version 450
// residual: y[b,i] = branch[b,i] * scale[b] + input[b,i], the residual add after Keras' drop
// connect (scale: 1/(1-rate) for a kept sample, 0 for a dropped one; include/vkdp/ops/grad_ops.h).
// y may alias input.
layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(std430, binding = 0) readonly buffer BR { float branch[]; };
layout(std430, binding = 1) readonly buffer IN { float inp[]; };
layout(std430, binding = 2) readonly buffer S { float scale[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint n, N; } p;

void main()
{
    uint group = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    uint i = group * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (i < p.n)
        y[i] = branch[i] * scale[i / p.N] + inp[i];
}
