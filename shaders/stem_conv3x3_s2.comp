#version 450
// EfficientNet stem: per-channel input normalization, Keras correct_pad zero padding (applied
// after the normalization, so it cannot be folded into the weights), 3x3 stride-2 valid conv with
// BN-folded weights, swish.
// x [B,H,W,3] in [0,255]; w [3,3,3,32] HWIO; bias [32]; y [B,Ho,Wo,32].
// One invocation = one output pixel x CPT output channels. The channel group is the workgroup's
// y index, so weight/bias indices are uniform across the workgroup (cheap scalar loads on
// lavapipe); only the 27 input loads per pixel diverge.
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint CPT = 8;
const uint COUT = 32;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Wt { float w[]; };
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };

layout(push_constant) uniform P {
    uint H, W, Ho, Wo;
    int pad_top, pad_left;
    float scale0, scale1, scale2;
    float shift0, shift1, shift2;
} p;

void main()
{
    uint pix = gl_GlobalInvocationID.x;
    if (pix >= p.Ho * p.Wo)
        return;
    uint b = gl_WorkGroupID.z;
    uint c0 = gl_WorkGroupID.y * CPT;
    uint oy = pix / p.Wo, ox = pix % p.Wo;
    vec3 scale = vec3(p.scale0, p.scale1, p.scale2);
    vec3 shift = vec3(p.shift0, p.shift1, p.shift2);

    float acc[CPT];
    for (uint c = 0; c < CPT; c++)
        acc[c] = bias[c0 + c];
    for (uint ky = 0; ky < 3; ky++) {
        int iy = int(oy * 2) - p.pad_top + int(ky);
        bool rowok = iy >= 0 && iy < int(p.H);
        for (uint kx = 0; kx < 3; kx++) {
            int ix = int(ox * 2) - p.pad_left + int(kx);
            vec3 v = vec3(0.0);
            if (rowok && ix >= 0 && ix < int(p.W)) {
                uint base = ((b * p.H + uint(iy)) * p.W + uint(ix)) * 3;
                v = vec3(x[base], x[base + 1], x[base + 2]) * scale + shift;
            }
            uint wbase = (ky * 3 + kx) * 3 * COUT + c0;
            for (uint c = 0; c < CPT; c++)
                acc[c] += v.x * w[wbase + c] + v.y * w[wbase + COUT + c] + v.z * w[wbase + 2 * COUT + c];
        }
    }
    uint obase = (b * p.Ho * p.Wo + pix) * COUT + c0;
    for (uint c = 0; c < CPT; c++) {
        float a = acc[c];
        y[obase + c] = a / (1.0 + exp(-a));
    }
}
