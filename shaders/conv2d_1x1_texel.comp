#version 450
// 1x1 convolution as GEMM, conv2d_1x1.comp's vec4 path with every operand read through uniform
// texel buffers (RGBA32F samplerBuffer + texelFetch): lavapipe compiles each storage-buffer
// access into a per-lane loop with a bounds check per component, a texel fetch into one
// vectorised gather (2-2.5x on the GEMM, /work/shared/notes/lavapipe-loads). Same operations in
// the same order as conv2d_1x1.comp (each output sums k = 0..K-1 in order), so its results are
// bit-identical whatever the block. K % 4 == 0 and N % 4 == 0 only.
// Y[M,N] = act(X'[M,K] W[K,N] + b) (+ R), X' = X * S[m / RPG, k] when HAS_SCALE.
#extension GL_GOOGLE_include_directive : require
#include "act.glsl"

layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(constant_id = 0) const int ACT = 0;
layout(constant_id = 1) const bool HAS_RES = false;
layout(constant_id = 2) const bool HAS_SCALE = false;
layout(constant_id = 3) const uint ROWS = 8u;   // rows of Y per invocation
layout(constant_id = 4) const uint COLS4 = 2u;  // vec4 columns of Y per invocation

layout(binding = 0) uniform samplerBuffer xt;   // [M, K/4]
layout(binding = 1) uniform samplerBuffer wt;   // [K, N/4]
layout(binding = 2) uniform samplerBuffer bt;   // [N/4]
layout(std430, binding = 3) writeonly buffer YV { vec4 yv[]; };
layout(binding = 4) uniform samplerBuffer rt;   // [M, N/4]
layout(binding = 5) uniform samplerBuffer st;   // [groups, K/4]

layout(push_constant) uniform P {
    uint M, K, N, RPG, tiles_n, tiles;
} p;

void main()
{
    uint tile = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * gl_WorkGroupSize.x +
                gl_LocalInvocationID.x;
    if (tile >= p.tiles)
        return;
    uint K4 = p.K / 4u, N4 = p.N / 4u;
    uint c0 = (tile % p.tiles_n) * COLS4;
    uint m0 = (tile / p.tiles_n) * ROWS;
    int xrow[ROWS], srow[ROWS], col[COLS4];
    for (uint r = 0u; r < ROWS; r++) {
        uint m = min(m0 + r, p.M - 1u);  // clamped loads; stores are guarded
        xrow[r] = int(m * K4);
        srow[r] = int((m / p.RPG) * K4);
    }
    for (uint j = 0u; j < COLS4; j++)
        col[j] = int(min(c0 + j, N4 - 1u));
    vec4 acc[ROWS * COLS4];
    for (uint i = 0u; i < ROWS * COLS4; i++)
        acc[i] = vec4(0.0);
    for (int k4 = 0; k4 < int(K4); k4++) {
        vec4 a[ROWS];
        for (uint r = 0u; r < ROWS; r++) {
            a[r] = texelFetch(xt, xrow[r] + k4);
            if (HAS_SCALE)
                a[r] *= texelFetch(st, srow[r] + k4);
        }
        int wrow = k4 * 4 * int(N4);
        for (int kk = 0; kk < 4; kk++) {
            vec4 b[COLS4];
            for (uint j = 0u; j < COLS4; j++)
                b[j] = texelFetch(wt, wrow + kk * int(N4) + col[j]);
            for (uint r = 0u; r < ROWS; r++)
                for (uint j = 0u; j < COLS4; j++)
                    acc[r * COLS4 + j] += a[r][kk] * b[j];
        }
    }
    for (uint j = 0u; j < COLS4; j++) {
        if (c0 + j >= N4)
            break;
        vec4 bias = texelFetch(bt, col[j]);
        for (uint r = 0u; r < ROWS; r++) {
            if (m0 + r >= p.M)
                break;
            uint o = (m0 + r) * N4 + c0 + j;
            vec4 v = act_apply(ACT, acc[r * COLS4 + j] + bias);
            if (HAS_RES) v += texelFetch(rt, int(o));
            yv[o] = v;
        }
    }
}
