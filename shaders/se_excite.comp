#version 450
// One squeeze-and-excitation GEMV per image: y[b,n] = act(sum_k x[b,k] * w[k,n] + bias[n]).
// The SE gate is two of these: reduce (ACT=1 swish) then expand (ACT=2 sigmoid).
// x [B,K]; w [K,N]; bias [N]; y [B,N]. One invocation = one (image, n); the image is the
// workgroup's z index, so x loads are uniform.
#extension GL_GOOGLE_include_directive : require
#include "act.glsl"

layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(constant_id = 0) const uint ACT = 1;   // 1 swish, 2 sigmoid

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Wt { float w[]; };
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };

layout(push_constant) uniform P {
    uint K, N;
} p;

void main()
{
    uint n = gl_GlobalInvocationID.x;
    if (n >= p.N)
        return;
    uint b = gl_WorkGroupID.z;
    float a = bias[n];
    for (uint k = 0; k < p.K; k++)
        a += x[b * p.K + k] * w[k * p.N + n];
    y[b * p.N + n] = ACT == 1 ? swish(a) : sigmoid(a);
}
