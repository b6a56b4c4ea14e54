#version 450
// 1x1 convolution as GEMM for GPUs: Y[M,N] = act(X'[M,K] W[K,N] + b) (+ R), X' = X * S[m / RPG, k]
// when HAS_SCALE. A workgroup owns a BM x BN tile of Y and walks K in chunks of BK, staging the
// chunk's X' and W tiles in shared memory (coalesced global loads, each operand read once per
// workgroup instead of once per invocation); each invocation keeps TM x TN outputs in registers,
// rows ty + i * TROWS and columns tx + j * TCOLS (strided, so that neighbouring invocations read
// neighbouring shared words and write neighbouring outputs). Every output is summed over
// k = 0..K-1 in order by one invocation, with zeros beyond M, N and K never mixed into a valid
// output: its bits do not depend on M (batch independence). Any M, K, N.
#extension GL_GOOGLE_include_directive : require
#include "act.glsl"

layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(constant_id = 0) const int ACT = 0;
layout(constant_id = 1) const bool HAS_RES = false;
layout(constant_id = 2) const bool HAS_SCALE = false;
layout(constant_id = 3) const uint TM = 4u;     // rows of Y per invocation
layout(constant_id = 4) const uint TN = 4u;     // columns of Y per invocation
layout(constant_id = 5) const uint TCOLS = 8u;  // invocations across a tile's columns; wg / TCOLS down
const uint BK = 16u;                            // K per shared-memory chunk
const uint TROWS = gl_WorkGroupSize.x / TCOLS;
const uint BM = TROWS * TM, BN = TCOLS * TN;
const uint XPITCH = BM + 1u;                    // +1: the transposing stores hit distinct banks

layout(std430, binding = 0) readonly buffer XS { float xs[]; };
layout(std430, binding = 1) readonly buffer WS { float ws[]; };
layout(std430, binding = 2) readonly buffer BS { float bs[]; };
layout(std430, binding = 3) writeonly buffer YS { float ys[]; };
layout(std430, binding = 4) readonly buffer RS { float rs[]; };
layout(std430, binding = 5) readonly buffer SS { float ss[]; };

layout(push_constant) uniform P {
    uint M, K, N, RPG, tiles_n, tiles;
} p;

shared float xsh[BK * XPITCH]; // [k][m]: X' of the tile's rows, this chunk's k
shared float wsh[BK * BN];     // [k][n]

void main()
{
    uint tile = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    if (tile >= p.tiles)
        return;  // the whole workgroup: no barrier is left waiting
    uint n0 = (tile % p.tiles_n) * BN;
    uint m0 = (tile / p.tiles_n) * BM;
    uint lid = gl_LocalInvocationID.x;
    uint tx = lid % TCOLS, ty = lid / TCOLS;
    float acc[TM * TN];
    for (uint i = 0u; i < TM * TN; i++)
        acc[i] = 0.0;
    for (uint k0 = 0u; k0 < p.K; k0 += BK) {
        // X' tile: consecutive invocations read consecutive k of one row
        for (uint e = lid; e < BM * BK; e += gl_WorkGroupSize.x) {
            uint m = m0 + e / BK, k = k0 + e % BK;
            float v = 0.0;
            if (m < p.M && k < p.K) {
                v = xs[m * p.K + k];
                if (HAS_SCALE)
                    v *= ss[(m / p.RPG) * p.K + k];
            }
            xsh[(e % BK) * XPITCH + e / BK] = v;
        }
        // W tile: consecutive invocations read consecutive n of one k
        for (uint e = lid; e < BK * BN; e += gl_WorkGroupSize.x) {
            uint k = k0 + e / BN, n = n0 + e % BN;
            wsh[e] = k < p.K && n < p.N ? ws[k * p.N + n] : 0.0;
        }
        barrier();
        uint kn = min(BK, p.K - k0);  // the same for every M: the sum's order never changes
        for (uint kk = 0u; kk < kn; kk++) {
            float a[TM], b[TN];
            for (uint i = 0u; i < TM; i++)
                a[i] = xsh[kk * XPITCH + ty + i * TROWS];
            for (uint j = 0u; j < TN; j++)
                b[j] = wsh[kk * BN + tx + j * TCOLS];
            for (uint i = 0u; i < TM; i++)
                for (uint j = 0u; j < TN; j++)
                    acc[i * TN + j] += a[i] * b[j];
        }
        barrier();  // the next chunk overwrites the tiles
    }
    for (uint j = 0u; j < TN; j++) {
        uint n = n0 + tx + j * TCOLS;
        if (n >= p.N)
            break;
        float bias = bs[n];
        for (uint i = 0u; i < TM; i++) {
            uint m = m0 + ty + i * TROWS;
            if (m >= p.M)
                break;
            uint o = m * p.N + n;
            float v = act_apply(ACT, acc[i * TN + j] + bias);
            if (HAS_RES) v += rs[o];
            ys[o] = v;
        }
    }
}
