#version 450
// Depthwise KxK conv (BN folded) + swish. Stride 1: symmetric "same" padding K/2. Stride 2: Keras
// correct_pad (asymmetric, passed as pad_top/pad_left) + "valid".
// x [B,H,W,C]; w [K,K,C]; bias [C]; y [B,Ho,Wo,C].
// One invocation = PPT consecutive output pixels of one row x CPT channels: the PPT windows
// overlap, so each input column is loaded once for all of them. The channel group is the
// workgroup's y index, so weight loads are uniform (cheap on lavapipe).
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint K = 3;
layout(constant_id = 1) const uint S = 1;
layout(constant_id = 2) const uint CPT = 8;
layout(constant_id = 3) const uint PPT = 4;
const uint NCOL = (PPT - 1) * S + K;   // input columns one invocation touches per kernel row

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Wt { float w[]; };
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };

layout(push_constant) uniform P {
    uint H, W, C, Ho, Wo;
    int pad_top, pad_left;
} p;

void main()
{
    uint xgroups = (p.Wo + PPT - 1) / PPT;
    uint id = gl_GlobalInvocationID.x;
    if (id >= p.Ho * xgroups)
        return;
    uint b = gl_WorkGroupID.z;
    uint c0 = gl_WorkGroupID.y * CPT;
    uint oy = id / xgroups, ox0 = (id % xgroups) * PPT;

    float acc[PPT][CPT];
    for (uint c = 0; c < CPT; c++) {
        float bv = bias[c0 + c];
        for (uint q = 0; q < PPT; q++)
            acc[q][c] = bv;
    }
    int ix0 = int(ox0 * S) - p.pad_left;
    for (uint ky = 0; ky < K; ky++) {
        int iy = int(oy * S) - p.pad_top + int(ky);
        if (iy < 0 || iy >= int(p.H))
            continue;
        uint rowbase = (b * p.H + uint(iy)) * p.W;
        float wv[K][CPT];
        for (uint kx = 0; kx < K; kx++)
            for (uint c = 0; c < CPT; c++)
                wv[kx][c] = w[(ky * K + kx) * p.C + c0 + c];
        for (uint j = 0; j < NCOL; j++) {
            int ix = ix0 + int(j);
            bool ok = ix >= 0 && ix < int(p.W);
            // clamped so that a load the compiler hoists out of the select stays in bounds
            uint base = (rowbase + uint(clamp(ix, 0, int(p.W) - 1))) * p.C + c0;
            float xv[CPT];
            for (uint c = 0; c < CPT; c++) {
                float v = x[base + c];
                xv[c] = ok ? v : 0.0;
            }
            for (uint q = 0; q < PPT; q++) {
                int kx = int(j) - int(q * S);
                if (kx >= 0 && kx < int(K))
                    for (uint c = 0; c < CPT; c++)
                        acc[q][c] += xv[c] * wv[kx][c];
            }
        }
    }
    for (uint q = 0; q < PPT; q++) {
        uint ox = ox0 + q;
        if (ox < p.Wo) {
            uint obase = ((b * p.Ho + oy) * p.Wo + ox) * p.C + c0;
            for (uint c = 0; c < CPT; c++) {
                float a = acc[q][c];
                y[obase + c] = a / (1.0 + exp(-a));
            }
        }
    }
}
