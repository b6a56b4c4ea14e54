#version 450
// dwconv_grad_w_texel: per-sample weight and bias gradients of a depthwise convolution for S
// samples in one dispatch: dw_s[k,k,C] at dw + s * dw_stride4 (vec4s), db_s[C] at
// db + s * db_stride4 (dwconv_grad_w.comp, one sample). x and dy through uniform texel buffers
// (RGBA32F, 4 channels per fetch: on lavapipe a storage-buffer load is a per-lane loop). One
// invocation per (sample, tap row ky, vec4 of channels) holds the row's k <= KMAX taps, so each
// dy fetch feeds k taps. Each output sums its sample's output positions oy, ox in order from 0.0,
// skipping those whose input is padding, as the storage-buffer shader does: a sample's partial
// is the same bits alone and among others. Invocations: per sample, k * C/4 tap rows, then
// (HAS_DB) C/4 db vec4s. C % 4 == 0 and k <= KMAX only.
layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(constant_id = 0) const bool HAS_DB = true; // false: no db (binding 3 then aliases dw)
const uint KMAX = 5u; // the largest kernel (EfficientNet's 5x5); the dispatcher checks k

layout(binding = 0) uniform samplerBuffer xt;   // [S, H, W, C/4]
layout(binding = 1) uniform samplerBuffer dyt;  // [S, Ho, Wo, C/4]
layout(std430, binding = 2) writeonly buffer DW { vec4 dw[]; };
layout(std430, binding = 3) writeonly buffer DB { vec4 db[]; };
layout(push_constant) uniform P {
    uint S, H, W, C, Ho, Wo, k, stride, pad_top, pad_left, dw_stride4, db_stride4;
} p;

void main()
{
    uint i = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * gl_WorkGroupSize.x +
             gl_LocalInvocationID.x;
    uint C4 = p.C / 4u, rows = p.k * C4;
    uint per = rows + (HAS_DB ? C4 : 0u);
    if (i >= p.S * per)
        return;
    uint s = i / per, t = i % per;
    int x0 = int(s * p.H * p.W * C4), y0 = int(s * p.Ho * p.Wo * C4);
    if (t >= rows) {
        uint c4 = t - rows;
        vec4 a = vec4(0.0);
        for (int q = 0; q < int(p.Ho * p.Wo); q++)
            a += texelFetch(dyt, y0 + q * int(C4) + int(c4));
        db[s * p.db_stride4 + c4] = a;
        return;
    }
    uint c4 = t % C4, ky = t / C4;
    vec4 acc[KMAX];
    for (uint kx = 0u; kx < KMAX; kx++)
        acc[kx] = vec4(0.0);
    for (uint oy = 0u; oy < p.Ho; oy++) {
        int iy = int(oy * p.stride + ky) - int(p.pad_top);
        if (iy < 0 || iy >= int(p.H))
            continue;
        int xrow = x0 + iy * int(p.W * C4) + int(c4);
        for (uint ox = 0u; ox < p.Wo; ox++) {
            vec4 g = texelFetch(dyt, y0 + int((oy * p.Wo + ox) * C4 + c4));
            for (uint kx = 0u; kx < KMAX; kx++) {
                int ix = int(ox * p.stride + kx) - int(p.pad_left);
                if (kx < p.k && ix >= 0 && ix < int(p.W))
                    acc[kx] += texelFetch(xt, xrow + ix * int(C4)) * g;
            }
        }
    }
    uint base = s * p.dw_stride4 + ky * p.k * C4 + c4;
    for (uint kx = 0u; kx < KMAX; kx++)
        if (kx < p.k)
            dw[base + kx * C4] = acc[kx];
}
