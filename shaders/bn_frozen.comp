#version 450
// bn_frozen: an inference-mode BatchNormalization as a per-channel affine over the last axis,
// y = act(x * scale[c] + shift[c]) (include/vkdp/ops/grad_ops.h); the trainable part of the
// backbone runs it unfolded after each convolution. y may alias x.
#extension GL_GOOGLE_include_directive : require
#include "act.glsl"

layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(constant_id = 0) const int ACT = 0;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer S { float scale[]; };
layout(std430, binding = 2) readonly buffer T { float shift[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint n, C; } p;

void main()
{
    uint group = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    uint i = group * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (i >= p.n)
        return;
    uint c = i % p.C;
    float v = x[i] * scale[c];
    y[i] = act_apply(ACT, v + shift[c]);
}
