#version 450
// swish_grad: dx = dy * swish'(x) (act.glsl), the backward of the swish activation. A map op
// (include/vkdp/ops/map.h): one invocation per element, group id spread over x and y.
#extension GL_GOOGLE_include_directive : require
#include "act.glsl"

layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) writeonly buffer DX { float dx[]; };
layout(push_constant) uniform P { uint n; } p;

void main()
{
    uint group = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    uint i = group * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (i < p.n)
        dx[i] = dy[i] * swish_grad(x[i]);
}
