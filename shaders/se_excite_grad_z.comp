#version 450
// se_excite_grad_z, pass 2 of the SE excitation's backward (include/vkdp/ops/grad_ops.h): the
// gate g = sigmoid(be[c] + sum_j swish(h[b,j]) we[j,c]) recomputed, and the gradient at the
// expand layer's pre-activation dz[b,c] = dgate[b,c] g (1 - g).
#extension GL_GOOGLE_include_directive : require
#include "act.glsl"

layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(std430, binding = 0) readonly buffer H { float h[]; };
layout(std430, binding = 1) readonly buffer WE { float we[]; };
layout(std430, binding = 2) readonly buffer BE { float be[]; };
layout(std430, binding = 3) readonly buffer DG { float dgate[]; };
layout(std430, binding = 4) writeonly buffer DZ { float dz[]; };
layout(push_constant) uniform P { uint B, C, se; } p;

void main()
{
    uint i = gl_GlobalInvocationID.x;
    if (i >= p.B * p.C)
        return;
    uint b = i / p.C, c = i % p.C;
    float a = be[c];
    for (uint j = 0; j < p.se; j++)
        a += swish(h[b * p.se + j]) * we[j * p.C + c];
    float g = sigmoid(a);
    dz[i] = dgate[i] * (g * (1.0 - g));
}
