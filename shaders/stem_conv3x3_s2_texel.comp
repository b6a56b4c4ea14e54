#version 450
// stem_conv3x3_s2.comp through texel buffers: the image read as an R32F uniform texel buffer, the
// weights and bias as RGBA32F ones (samplerBuffer + texelFetch), y written as a storage texel
// buffer (imageBuffer rgba32f + imageStore): lavapipe compiles each storage-buffer access into a
// per-lane loop, a texel access into one vectorised gather or scatter. The same operations in the
// same order as stem_conv3x3_s2.comp: bit-identical.
// x [B,H,W,3] in [0,255]; w [3,3,3,32] HWIO; bias [32]; y [B,Ho,Wo,32]. One invocation = a
// TY x TX tile of output pixels x 8 output channels.
#extension GL_EXT_control_flow_attributes : require
#extension GL_GOOGLE_include_directive : require
#include "act.glsl"

layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(constant_id = 0) const uint TX = 4;
layout(constant_id = 1) const uint TY = 4;
const uint COUT = 32;
const uint GROUPS = COUT / 8;
const uint NCOL = (TX - 1) * 2 + 3;
const uint NROW = (TY - 1) * 2 + 3;

layout(binding = 0) uniform samplerBuffer xt;   // R32F
layout(binding = 1) uniform samplerBuffer wt;   // RGBA32F
layout(binding = 2) uniform samplerBuffer bt;   // RGBA32F
layout(binding = 3, rgba32f) writeonly uniform imageBuffer yt;

layout(push_constant) uniform P {
    uint H, W, Ho, Wo;
    int pad_top, pad_left;
    float scale0, scale1, scale2;
    float shift0, shift1, shift2;
} p;

void main()
{
    uint tiles_x = (p.Wo + TX - 1) / TX;
    uint total = ((p.Ho + TY - 1) / TY) * tiles_x * GROUPS;
    uint id = min(gl_GlobalInvocationID.x, total - 1);
    uint b = gl_WorkGroupID.z;
    uint g = id % GROUPS;            // output channels 8g .. 8g+7 = vec4s 2g, 2g+1
    uint tile = id / GROUPS;
    uint oy0 = (tile / tiles_x) * TY, ox0 = (tile % tiles_x) * TX;
    vec3 scale = vec3(p.scale0, p.scale1, p.scale2);
    vec3 shift = vec3(p.shift0, p.shift1, p.shift2);

    vec4 acc0[TY * TX], acc1[TY * TX];
    vec4 b0 = texelFetch(bt, int(2 * g)), b1 = texelFetch(bt, int(2 * g + 1));
    [[unroll]] for (uint t = 0; t < TY * TX; t++) {
        acc0[t] = b0;
        acc1[t] = b1;
    }
    int iy0 = int(oy0 * 2) - p.pad_top, ix0 = int(ox0 * 2) - p.pad_left;
    [[unroll]] for (uint ky = 0; ky < 3; ky++) {
        // weights of kernel row ky: [kx][ci] -> two vec4s of 4 output channels each
        vec4 w0[9], w1[9];
        [[unroll]] for (uint t = 0; t < 9; t++) {
            w0[t] = texelFetch(wt, int(((ky * 9 + t) * COUT) / 4 + 2 * g));
            w1[t] = texelFetch(wt, int(((ky * 9 + t) * COUT) / 4 + 2 * g + 1));
        }
        [[unroll]] for (uint qy = 0; qy < TY; qy++) {
            int iy = iy0 + int(qy * 2 + ky);
            bool rowok = iy >= 0 && iy < int(p.H);
            uint rowbase = (b * p.H + uint(clamp(iy, 0, int(p.H) - 1))) * p.W;
            [[unroll]] for (uint j = 0; j < NCOL; j++) {
                int ix = ix0 + int(j);
                bool ok = rowok && ix >= 0 && ix < int(p.W);
                uint e = (rowbase + uint(clamp(ix, 0, int(p.W) - 1))) * 3;
                vec3 v = vec3(texelFetch(xt, int(e)).x, texelFetch(xt, int(e + 1)).x,
                              texelFetch(xt, int(e + 2)).x) * scale + shift;
                v = ok ? v : vec3(0.0);   // zero padding of the normalized image
                [[unroll]] for (uint qx = 0; qx < TX; qx++) {
                    int kx = int(j) - int(qx * 2);
                    if (kx >= 0 && kx < 3) {   // constant after unrolling
                        uint t = qy * TX + qx;
                        acc0[t] += v.x * w0[kx * 3] + v.y * w0[kx * 3 + 1] + v.z * w0[kx * 3 + 2];
                        acc1[t] += v.x * w1[kx * 3] + v.y * w1[kx * 3 + 1] + v.z * w1[kx * 3 + 2];
                    }
                }
            }
        }
    }
    if (gl_GlobalInvocationID.x < total) {
        [[unroll]] for (uint qy = 0; qy < TY; qy++)
            [[unroll]] for (uint qx = 0; qx < TX; qx++) {
                uint oy = oy0 + qy, ox = ox0 + qx;
                if (oy < p.Ho && ox < p.Wo) {
                    uint e = (((b * p.Ho + oy) * p.Wo + ox) * COUT) / 4 + 2 * g;
                    vec4 a0 = acc0[qy * TX + qx], a1 = acc1[qy * TX + qx];
                    imageStore(yt, int(e), swish(a0));
                    imageStore(yt, int(e + 1), swish(a1));
                }
            }
    }
}
