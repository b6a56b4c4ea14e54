#version 450
// gap_grad: the input gradient of the global average pool, dx[b,q,c] = dy[b,c] / HW, written or
// (ACCUMULATE, the SE pool's path joining the gate's) added (include/vkdp/ops/grad_ops.h).
layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(constant_id = 0) const bool ACCUMULATE = false;
layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) buffer DX { float dx[]; };
layout(push_constant) uniform P { uint n, HW, C; } p;

void main()
{
    uint group = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    uint i = group * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (i >= p.n)
        return;
    uint c = i % p.C, b = i / (p.HW * p.C);
    float g = dy[b * p.C + c] / float(p.HW);
    dx[i] = ACCUMULATE ? dx[i] + g : g;
}
