#version 450
// Depthwise KxK conv (BN folded) + swish. Stride 1: symmetric "same" padding K/2. Stride 2: Keras
// correct_pad (asymmetric, passed as pad_top/pad_left) + "valid".
// x [B,H,W,C]; w [K,K,C]; bias [C]; y [B,Ho,Wo,C];
// part [B,tiles,C]: each tile's sum of its outputs, so that the SE squeeze (global average of y)
// reads tiles instead of pixels (se_squeeze.comp sums them).
//
// One invocation = a TY x TX tile of output pixels x 4 channels (VEC4, C % 4 == 0) or x 1
// channel (scalar fallback). The tile's input windows overlap, so each input pixel is loaded once
// for the whole tile and the KxK weights once per invocation.
// Why: lavapipe (Mesa 22) turns every storage-buffer load/store into a loop over the SIMD lanes
// (one trip per lane, all components of a vec4 at once), so memory accesses per output are what
// costs; a vec4 access costs little more than a scalar one. Out-of-range invocations and padding
// taps read a clamped (valid) address and select zero instead of branching.
#extension GL_EXT_control_flow_attributes : require
#extension GL_GOOGLE_include_directive : require
#include "act.glsl"

layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(constant_id = 0) const uint K = 3;
layout(constant_id = 1) const uint S = 1;
layout(constant_id = 2) const bool VEC4 = true;
layout(constant_id = 3) const uint TX = 4;
layout(constant_id = 4) const uint TY = 4;
const uint NCOL = (TX - 1) * S + K;   // input columns of one tile
const uint NROW = (TY - 1) * S + K;   // input rows of one tile

// The same bindings seen as floats (scalar fallback) and as vec4s.
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 0) readonly buffer X4 { vec4 x4[]; };
layout(std430, binding = 1) readonly buffer Wt { float w[]; };
layout(std430, binding = 1) readonly buffer Wt4 { vec4 w4[]; };
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 2) readonly buffer Bias4 { vec4 bias4[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
layout(std430, binding = 3) writeonly buffer Y4 { vec4 y4[]; };
layout(std430, binding = 4) writeonly buffer Part { float part[]; };
layout(std430, binding = 4) writeonly buffer Part4 { vec4 part4[]; };

layout(push_constant) uniform P {
    uint H, W, C, Ho, Wo;
    int pad_top, pad_left;
} p;

// element index e is a multiple of 4 when VEC4
vec4 load_x(uint e) { return VEC4 ? x4[e >> 2] : vec4(x[e], 0.0, 0.0, 0.0); }
vec4 load_w(uint e) { return VEC4 ? w4[e >> 2] : vec4(w[e], 0.0, 0.0, 0.0); }
vec4 load_bias(uint e) { return VEC4 ? bias4[e >> 2] : vec4(bias[e], 0.0, 0.0, 0.0); }

void main()
{
    // Invocations run over (tile, channel group), channel group fastest: neighbouring lanes read
    // neighbouring vec4s, and small layers (7x7, many channels) still fill whole workgroups.
    uint groups = VEC4 ? p.C >> 2 : p.C;
    uint tiles_x = (p.Wo + TX - 1) / TX;
    uint total = ((p.Ho + TY - 1) / TY) * tiles_x * groups;
    uint id = min(gl_GlobalInvocationID.x, total - 1);
    uint b = gl_WorkGroupID.z;
    uint c0 = (id % groups) * (VEC4 ? 4 : 1);
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
                    if (VEC4)
                        y4[e >> 2] = a;
                    else
                        y[e] = a.x;
                }
            }
        uint ntiles = total / groups;
        uint e = (b * ntiles + tile) * p.C + c0;
        if (VEC4)
            part4[e >> 2] = tile_sum;
        else
            part[e] = tile_sum.x;
    }
}
