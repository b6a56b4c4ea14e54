#version 450
// se_excite_grad_dh, pass 3 of the SE excitation's backward (include/vkdp/ops/grad_ops.h): the
// gradient at the reduce layer's pre-activation dh[b,j] = swish'(h[b,j]) sum_c dz[b,c] we[j,c].
#extension GL_GOOGLE_include_directive : require
#include "act.glsl"

layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(std430, binding = 0) readonly buffer H { float h[]; };
layout(std430, binding = 1) readonly buffer WE { float we[]; };
layout(std430, binding = 2) readonly buffer DZ { float dz[]; };
layout(std430, binding = 3) writeonly buffer DH { float dh[]; };
layout(push_constant) uniform P { uint B, C, se; } p;

void main()
{
    uint i = gl_GlobalInvocationID.x;
    if (i >= p.B * p.se)
        return;
    uint b = i / p.se, j = i % p.se;
    float a = 0.0;
    for (uint c = 0; c < p.C; c++)
        a += dz[b * p.C + c] * we[j * p.C + c];
    dh[i] = a * swish_grad(h[i]);
}
