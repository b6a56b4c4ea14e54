#version 450
// bn_frozen_grad: the input gradient of a frozen BatchNormalization, dx = dy * scale[c] (gamma,
// beta and the statistics are not trained; include/vkdp/ops/grad_ops.h). dx may alias dy.
layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) readonly buffer S { float scale[]; };
layout(std430, binding = 2) writeonly buffer DX { float dx[]; };
layout(push_constant) uniform P { uint n, C; } p;

void main()
{
    uint group = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    uint i = group * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (i < p.n)
        dx[i] = dy[i] * scale[i % p.C];
}
