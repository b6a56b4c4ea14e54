#version 450
// residual_grad: the branch gradient of the residual add with drop connect,
// dbranch[b,i] = dy[b,i] * scale[b] (the input's gradient is dy itself;
// include/vkdp/ops/grad_ops.h).
layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) readonly buffer S { float scale[]; };
layout(std430, binding = 2) writeonly buffer DB { float dbranch[]; };
layout(push_constant) uniform P { uint n, N; } p;

void main()
{
    uint group = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    uint i = group * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (i < p.n)
        dbranch[i] = dy[i] * scale[i / p.N];
}
