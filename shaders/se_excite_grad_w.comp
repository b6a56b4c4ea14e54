#version 450
// se_excite_grad_w, pass 4 of the SE excitation's backward (include/vkdp/ops/grad_ops.h), every
// sum in float, in ranges of the invocation index:
//   [0, B*C)        dpool[b,c] = sum_j dh[b,j] wr[c,j]
//   next C*se       dwr[c,j]   = sum_b pool[b,c] dh[b,j]
//   next se         dbr[j]     = sum_b dh[b,j]
//   next se*C       dwe[j,c]   = sum_b swish(h[b,j]) dz[b,c]
//   next C          dbe[c]     = sum_b dz[b,c]
#extension GL_GOOGLE_include_directive : require
#include "act.glsl"

layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(std430, binding = 0) readonly buffer POOL { float pool[]; };
layout(std430, binding = 1) readonly buffer WR { float wr[]; };
layout(std430, binding = 2) readonly buffer H { float h[]; };
layout(std430, binding = 3) readonly buffer DZ { float dz[]; };
layout(std430, binding = 4) readonly buffer DH { float dh[]; };
layout(std430, binding = 5) writeonly buffer DPOOL { float dpool[]; };
layout(std430, binding = 6) writeonly buffer DWR { float dwr[]; };
layout(std430, binding = 7) writeonly buffer DBR { float dbr[]; };
layout(std430, binding = 8) writeonly buffer DWE { float dwe[]; };
layout(std430, binding = 9) writeonly buffer DBE { float dbe[]; };
layout(push_constant) uniform P { uint B, C, se; } p;

void main()
{
    uint i = gl_GlobalInvocationID.x;
    uint B = p.B, C = p.C, se = p.se;
    float a = 0.0;
    if (i < B * C) {
        uint b = i / C, c = i % C;
        for (uint j = 0; j < se; j++)
            a += dh[b * se + j] * wr[c * se + j];
        dpool[i] = a;
        return;
    }
    i -= B * C;
    if (i < C * se) {
        uint c = i / se, j = i % se;
        for (uint b = 0; b < B; b++)
            a += pool[b * C + c] * dh[b * se + j];
        dwr[i] = a;
        return;
    }
    i -= C * se;
    if (i < se) {
        for (uint b = 0; b < B; b++)
            a += dh[b * se + i];
        dbr[i] = a;
        return;
    }
    i -= se;
    if (i < se * C) {
        uint j = i / C, c = i % C;
        for (uint b = 0; b < B; b++)
            a += swish(h[b * se + j]) * dz[b * C + c];
        dwe[i] = a;
        return;
    }
    i -= se * C;
    if (i < C) {
        for (uint b = 0; b < B; b++)
            a += dz[b * C + i];
        dbe[i] = a;
    }
}
