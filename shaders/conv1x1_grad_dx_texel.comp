#version 450
// conv1x1_grad_dx_texel: dx[M,K] = dy[M,N] w[K,N]^T (conv1x1_grad_dx.comp) with both operands
// read through uniform texel buffers (RGBA32F): on lavapipe a storage-buffer load is a per-lane
// loop, a texel fetch one gather, so fetches per FMA set the speed (BENCHMARKS.md). ROWS rows x
// COLS4 vec4 columns (4 k each) of dx per invocation: per 4 n, ROWS + 4 COLS4 fetches for
// 16 ROWS COLS4 FMAs. Each output still sums n = 0..N-1 in order from 0.0, as the storage-buffer
// shader does. K % 4 == 0 and N % 4 == 0 only.
layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(constant_id = 0) const uint ROWS = 8u;   // rows of dx per invocation
layout(constant_id = 1) const uint COLS4 = 2u;  // vec4 columns of dx per invocation

layout(binding = 0) uniform samplerBuffer dyt;  // [M, N/4]
layout(binding = 1) uniform samplerBuffer wt;   // [K, N/4]
layout(std430, binding = 2) writeonly buffer DX { vec4 dx[]; }; // [M, K/4]
layout(push_constant) uniform P { uint M, K, N, tiles_k, tiles; } p;

void main()
{
    uint tile = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * gl_WorkGroupSize.x +
                gl_LocalInvocationID.x;
    if (tile >= p.tiles)
        return;
    uint K4 = p.K / 4u, N4 = p.N / 4u;
    uint c0 = (tile % p.tiles_k) * COLS4;
    uint m0 = (tile / p.tiles_k) * ROWS;
    int dyrow[ROWS], wrow[4u * COLS4];
    for (uint r = 0u; r < ROWS; r++)
        dyrow[r] = int(min(m0 + r, p.M - 1u) * N4);  // clamped loads; stores are guarded
    for (uint j = 0u; j < 4u * COLS4; j++)
        wrow[j] = int(min(c0 * 4u + j, p.K - 1u) * N4);
    vec4 acc[ROWS * COLS4];
    for (uint i = 0u; i < ROWS * COLS4; i++)
        acc[i] = vec4(0.0);
    for (int n4 = 0; n4 < int(N4); n4++) {
        vec4 a[ROWS];
        for (uint r = 0u; r < ROWS; r++)
            a[r] = texelFetch(dyt, dyrow[r] + n4);
        // one vec4 column at a time: 4 w texels live, not 4 COLS4 (fewer registers on GPUs)
        for (uint j = 0u; j < COLS4; j++) {
            vec4 b[4];
            for (uint q = 0u; q < 4u; q++)
                b[q] = texelFetch(wt, wrow[4u * j + q] + n4);
            for (int nn = 0; nn < 4; nn++) {
                vec4 wv = vec4(b[0][nn], b[1][nn], b[2][nn], b[3][nn]); // w^T's row n, columns 4j..4j+3
                for (uint r = 0u; r < ROWS; r++)
                    acc[r * COLS4 + j] += a[r][nn] * wv;
            }
        }
    }
    for (uint j = 0u; j < COLS4; j++) {
        if (c0 + j >= K4)
            break;
        for (uint r = 0u; r < ROWS; r++) {
            if (m0 + r >= p.M)
                break;
            dx[(m0 + r) * K4 + c0 + j] = acc[r * COLS4 + j];
        }
    }
}
