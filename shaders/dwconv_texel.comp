#version 450
// dwconv.comp through texel buffers (C % 4 == 0 only): x, w and bias read as uniform texel
// buffers (RGBA32F samplerBuffer + texelFetch), y and part written as storage texel buffers
// (imageBuffer rgba32f + imageStore). lavapipe compiles each storage-buffer access into a per-lane
// loop with a bounds check per component, a texel access into one vectorised gather or scatter.
// The same operations in the same order as dwconv.comp, so the results are bit-identical.
// Depthwise KxK conv (BN folded) + swish; x [B,H,W,C]; w [K,K,C]; bias [C]; y [B,Ho,Wo,C];
// part [B,tiles,C]: each tile's sum of its outputs (se_squeeze.comp sums them).
#extension GL_EXT_control_flow_attributes : require
#extension GL_GOOGLE_include_directive : require
#include "act.glsl"

layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(constant_id = 0) const uint K = 3;
layout(constant_id = 1) const uint S = 1;
layout(constant_id = 3) const uint TX = 4;
layout(constant_id = 4) const uint TY = 4;
const uint NCOL = (TX - 1) * S + K;   // input columns of one tile
const uint NROW = (TY - 1) * S + K;   // input rows of one tile

layout(binding = 0) uniform samplerBuffer xt;
layout(binding = 1) uniform samplerBuffer wt;
layout(binding = 2) uniform samplerBuffer bt;
layout(binding = 3, rgba32f) writeonly uniform imageBuffer yt;
layout(binding = 4, rgba32f) writeonly uniform imageBuffer partt;

layout(push_constant) uniform P {
    uint H, W, C, Ho, Wo;
    int pad_top, pad_left;
} p;

// element index e is a multiple of 4
vec4 load_x(uint e) { return texelFetch(xt, int(e >> 2)); }
vec4 load_w(uint e) { return texelFetch(wt, int(e >> 2)); }
vec4 load_bias(uint e) { return texelFetch(bt, int(e >> 2)); }

void main()
{
    // Invocations run over (tile, channel group), channel group fastest: neighbouring lanes read
    // neighbouring vec4s, and small layers (7x7, many channels) still fill whole workgroups.
    uint groups = p.C >> 2;
    uint tiles_x = (p.Wo + TX - 1) / TX;
    uint total = ((p.Ho + TY - 1) / TY) * tiles_x * groups;
    uint id = min(gl_GlobalInvocationID.x, total - 1);
    uint b = gl_WorkGroupID.z;
    uint c0 = (id % groups) * 4;
    uint tile = id / groups;
    uint oy0 = (tile / tiles_x) * TY, ox0 = (tile % tiles_x) * TX;

    vec4 wv[K * K];
    [[unroll]] for (uint t = 0; t < K * K; t++)
        wv[t] = load_w(t * p.C + c0);
    vec4 acc[TY * TX];
    vec4 bv = load_bias(c0);
    [[unroll]] for (uint t = 0; t < TY * TX; t++)
        acc[t] = bv;
    int iy0 = int(oy0 * S) - p.pad_top, ix0 = int(ox0 * S) - p.pad_left;
    [[unroll]] for (uint r = 0; r < NROW; r++) {
        int iy = iy0 + int(r);
        bool rowok = iy >= 0 && iy < int(p.H);
        uint rowbase = (b * p.H + uint(clamp(iy, 0, int(p.H) - 1))) * p.W;
        [[unroll]] for (uint j = 0; j < NCOL; j++) {
            int ix = ix0 + int(j);
            bool ok = rowok && ix >= 0 && ix < int(p.W);
            vec4 v = load_x((rowbase + uint(clamp(ix, 0, int(p.W) - 1))) * p.C + c0);
            v = ok ? v : vec4(0.0);
            // every (output pixel, tap) of the tile that reads input (r, j); constant after unrolling
            [[unroll]] for (uint qy = 0; qy < TY; qy++) {
                int ky = int(r) - int(qy * S);
                if (ky >= 0 && ky < int(K))
                    [[unroll]] for (uint qx = 0; qx < TX; qx++) {
                        int kx = int(j) - int(qx * S);
                        if (kx >= 0 && kx < int(K))
                            acc[qy * TX + qx] += v * wv[ky * int(K) + kx];
                    }
            }
        }
    }
    if (gl_GlobalInvocationID.x < total) {
        vec4 tile_sum = vec4(0.0);
        [[unroll]] for (uint qy = 0; qy < TY; qy++)
            [[unroll]] for (uint qx = 0; qx < TX; qx++) {
                uint oy = oy0 + qy, ox = ox0 + qx;
                vec4 a = acc[qy * TX + qx];
                a = swish(a);
                if (oy < p.Ho && ox < p.Wo) {
                    uint e = ((b * p.Ho + oy) * p.Wo + ox) * p.C + c0;
                    tile_sum += a;
                    imageStore(yt, int(e >> 2), a);
                }
            }
        uint ntiles = total / groups;
        uint e = (b * ntiles + tile) * p.C + c0;
        imageStore(partt, int(e >> 2), tile_sum);
    }
}
