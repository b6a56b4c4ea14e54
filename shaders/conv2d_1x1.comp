#version 450
// 1x1 convolution as GEMM: Y[M,N] = act(X'[M,K] W[K,N] + b) (+ R), X' = X * S[m / RPG, k] when
// HAS_SCALE (SE gating fused into the consumer, saving a full pass over the expanded activation).
// Each invocation owns an 8x8 register block of Y and reads no shared memory: on lavapipe,
// barriers and shared memory cost more than the redundant loads they would save.
#extension GL_GOOGLE_include_directive : require
#include "act.glsl"

layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(constant_id = 0) const int ACT = 0;
layout(constant_id = 1) const bool HAS_RES = false;
layout(constant_id = 2) const bool HAS_SCALE = false;
layout(constant_id = 3) const bool VEC4 = false;  // K % 4 == 0 && N % 4 == 0

layout(std430, binding = 0) readonly buffer XS { float xs[]; };
layout(std430, binding = 0) readonly buffer XV { vec4 xv[]; };
layout(std430, binding = 1) readonly buffer WS { float ws[]; };
layout(std430, binding = 1) readonly buffer WV { vec4 wv[]; };
layout(std430, binding = 2) readonly buffer BS { float bs[]; };
layout(std430, binding = 3) writeonly buffer YS { float ys[]; };
layout(std430, binding = 3) writeonly buffer YV { vec4 yv[]; };
layout(std430, binding = 4) readonly buffer RS { float rs[]; };
layout(std430, binding = 4) readonly buffer RV { vec4 rv[]; };
layout(std430, binding = 5) readonly buffer SS { float ss[]; };
layout(std430, binding = 5) readonly buffer SV { vec4 sv[]; };

layout(push_constant) uniform P {
    uint M, K, N, RPG, tiles_n, tiles;
} p;

void main()
{
    uint tile = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * gl_WorkGroupSize.x +
                gl_LocalInvocationID.x;
    if (tile >= p.tiles)
        return;
    uint n0 = (tile % p.tiles_n) * 8u;
    uint m0 = (tile / p.tiles_n) * 8u;
    uint rows[8];
    for (uint r = 0u; r < 8u; r++)
        rows[r] = min(m0 + r, p.M - 1u);  // clamped loads; stores are guarded

    if (VEC4) {
        uint K4 = p.K / 4u, N4 = p.N / 4u;
        uint c0 = n0 / 4u;
        uint c1 = min(c0 + 1u, N4 - 1u);
        vec4 acc0[8], acc1[8];
        for (uint r = 0u; r < 8u; r++) { acc0[r] = vec4(0.0); acc1[r] = vec4(0.0); }
        for (uint k4 = 0u; k4 < K4; k4++) {
            vec4 a[8];
            for (uint r = 0u; r < 8u; r++) {
                a[r] = xv[rows[r] * K4 + k4];
                if (HAS_SCALE)
                    a[r] *= sv[(rows[r] / p.RPG) * K4 + k4];
            }
            uint wrow = k4 * 4u * N4;
            for (uint kk = 0u; kk < 4u; kk++) {
                vec4 b0 = wv[wrow + kk * N4 + c0];
                vec4 b1 = wv[wrow + kk * N4 + c1];
                for (uint r = 0u; r < 8u; r++) {
                    acc0[r] += a[r][kk] * b0;
                    acc1[r] += a[r][kk] * b1;
                }
            }
        }
        vec4 bias0 = vec4(bs[4u * c0], bs[4u * c0 + 1u], bs[4u * c0 + 2u], bs[4u * c0 + 3u]);
        vec4 bias1 = vec4(bs[4u * c1], bs[4u * c1 + 1u], bs[4u * c1 + 2u], bs[4u * c1 + 3u]);
        bool second = c0 + 1u < N4;
        for (uint r = 0u; r < 8u; r++) {
            if (m0 + r >= p.M)
                break;
            uint base = (m0 + r) * N4;
            vec4 v0 = act_apply(ACT, acc0[r] + bias0);
            if (HAS_RES) v0 += rv[base + c0];
            yv[base + c0] = v0;
            if (second) {
                vec4 v1 = act_apply(ACT, acc1[r] + bias1);
                if (HAS_RES) v1 += rv[base + c1];
                yv[base + c1] = v1;
            }
        }
    } else {
        uint cols[8];
        for (uint j = 0u; j < 8u; j++)
            cols[j] = min(n0 + j, p.N - 1u);
        float acc[8][8];
        for (uint r = 0u; r < 8u; r++)
            for (uint j = 0u; j < 8u; j++)
                acc[r][j] = 0.0;
        for (uint k = 0u; k < p.K; k++) {
            float a[8];
            for (uint r = 0u; r < 8u; r++) {
                a[r] = xs[rows[r] * p.K + k];
                if (HAS_SCALE)
                    a[r] *= ss[(rows[r] / p.RPG) * p.K + k];
            }
            float b[8];
            for (uint j = 0u; j < 8u; j++)
                b[j] = ws[k * p.N + cols[j]];
            for (uint r = 0u; r < 8u; r++)
                for (uint j = 0u; j < 8u; j++)
                    acc[r][j] += a[r] * b[j];
        }
        for (uint r = 0u; r < 8u; r++) {
            if (m0 + r >= p.M)
                break;
            for (uint j = 0u; j < 8u; j++) {
                if (n0 + j >= p.N)
                    break;
                uint o = (m0 + r) * p.N + n0 + j;
                float v = act_apply(ACT, acc[r][j] + bs[n0 + j]);
                if (HAS_RES) v += rs[o];
                ys[o] = v;
            }
        }
    }
}
