#version 450
// conv1x1_grad_w_texel: per-sample weight and bias gradients of a 1x1 convolution for S samples
// of `rows` rows each in one dispatch: dw_s[K,N] = x_s^T dy_s at dw + s * dw_stride4 (vec4s),
// db_s[N] = sum of dy_s's rows at db + s * db_stride4 (conv1x1_grad_w.comp, one sample). Operands
// through uniform texel buffers (RGBA32F, see conv1x1_grad_dx_texel.comp): 4 ROWS4 k x COLS4
// vec4 columns of dw per invocation, per row ROWS4 + COLS4 fetches for 16 ROWS4 COLS4 FMAs.
// Each output sums its sample's rows m = 0..rows-1 in order from 0.0, as the storage-buffer
// shader does: a sample's partial is the same alone and among others. Invocations: per sample,
// `tiles` dw blocks, then (HAS_DB) N/4 db vec4s. K % 4 == 0 and N % 4 == 0 only.
layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(constant_id = 0) const bool HAS_DB = true; // false: no db (binding 3 then aliases dw)
layout(constant_id = 1) const uint ROWS4 = 2u;    // vec4s of k (4 rows of dw each) per invocation
layout(constant_id = 2) const uint COLS4 = 2u;    // vec4 columns of dw per invocation

layout(binding = 0) uniform samplerBuffer xt;   // [S * rows, K/4]
layout(binding = 1) uniform samplerBuffer dyt;  // [S * rows, N/4]
layout(std430, binding = 2) writeonly buffer DW { vec4 dw[]; };
layout(std430, binding = 3) writeonly buffer DB { vec4 db[]; };
layout(push_constant) uniform P { uint rows, K, N, S, dw_stride4, db_stride4, tiles_n, tiles; } p;

void main()
{
    uint i = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * gl_WorkGroupSize.x +
             gl_LocalInvocationID.x;
    uint K4 = p.K / 4u, N4 = p.N / 4u;
    uint per = p.tiles + (HAS_DB ? N4 : 0u);
    if (i >= p.S * per)
        return;
    uint s = i / per, t = i % per;
    int row0 = int(s * p.rows);
    if (t >= p.tiles) {
        uint n4 = t - p.tiles;
        vec4 a = vec4(0.0);
        for (int m = 0; m < int(p.rows); m++)
            a += texelFetch(dyt, (row0 + m) * int(N4) + int(n4));
        db[s * p.db_stride4 + n4] = a;
        return;
    }
    uint c0 = (t % p.tiles_n) * COLS4, k40 = (t / p.tiles_n) * ROWS4;
    int xc[ROWS4], yc[COLS4];
    for (uint q = 0u; q < ROWS4; q++)
        xc[q] = int(min(k40 + q, K4 - 1u));  // clamped loads; stores are guarded
    for (uint j = 0u; j < COLS4; j++)
        yc[j] = int(min(c0 + j, N4 - 1u));
    vec4 acc[4u * ROWS4 * COLS4];
    for (uint a = 0u; a < 4u * ROWS4 * COLS4; a++)
        acc[a] = vec4(0.0);
    for (int m = 0; m < int(p.rows); m++) {
        int r = row0 + m;
        vec4 xa[ROWS4], yb[COLS4];
        for (uint q = 0u; q < ROWS4; q++)
            xa[q] = texelFetch(xt, r * int(K4) + xc[q]);
        for (uint j = 0u; j < COLS4; j++)
            yb[j] = texelFetch(dyt, r * int(N4) + yc[j]);
        for (uint q = 0u; q < ROWS4; q++)
            for (int kk = 0; kk < 4; kk++)
                for (uint j = 0u; j < COLS4; j++)
                    acc[(q * 4u + uint(kk)) * COLS4 + j] += xa[q][kk] * yb[j];
    }
    uint base = s * p.dw_stride4;
    for (uint q = 0u; q < ROWS4; q++) {
        if (k40 + q >= K4)
            break;
        for (uint kk = 0u; kk < 4u; kk++)
            for (uint j = 0u; j < COLS4; j++) {
                if (c0 + j >= N4)
                    break;
                dw[base + ((k40 + q) * 4u + kk) * N4 + c0 + j] = acc[(q * 4u + kk) * COLS4 + j];
            }
    }
}
