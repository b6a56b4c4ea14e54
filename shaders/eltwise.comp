#version 450
// y = act(a OP b), four elements per invocation.
#extension GL_GOOGLE_include_directive : require
#include "act.glsl"

layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(constant_id = 0) const int OP = 0;   // 0 add, 1 mul
layout(constant_id = 1) const int ACT = 0;

layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint n; } p;

void main()
{
    uint group = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    uint i0 = (group * gl_WorkGroupSize.x + gl_LocalInvocationID.x) * 4u;
    for (uint i = i0; i < min(i0 + 4u, p.n); i++) {
        float v = OP == 0 ? a[i] + b[i] : a[i] * b[i];
        y[i] = act_apply(ACT, v);
    }
}
