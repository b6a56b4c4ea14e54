#version 450
// dwconv_grad_dx_texel: the input gradient of a depthwise convolution (dwconv_grad_dx.comp) with
// dy and w read through uniform texel buffers (RGBA32F, 4 channels per fetch: on lavapipe a
// storage-buffer load is a per-lane loop, a texel fetch one gather). One invocation gathers XS
// consecutive input columns x 4 channels, so each w fetch feeds XS outputs: per tap 1 + XS
// fetches for 4 XS FMAs. Each output still sums the outputs it fed in tap order (ky, then kx)
// from 0.0, as the storage-buffer shader does: no scatter, no atomics. C % 4 == 0 only.
layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(constant_id = 0) const uint XS = 4u; // input columns per invocation

layout(binding = 0) uniform samplerBuffer dyt;  // [B, Ho, Wo, C/4]
layout(binding = 1) uniform samplerBuffer wt;   // [k, k, C/4]
layout(std430, binding = 2) writeonly buffer DX { vec4 dx[]; }; // [B, H, W, C/4]
layout(push_constant) uniform P {
    uint B, H, W, C, Ho, Wo, k, stride, pad_top, pad_left, tiles_x;
} p;

// The output index along one axis that input position i feeds through tap t, or -1.
int out_index(uint i, uint t, uint pad, uint n_out)
{
    int num = int(i + pad) - int(t);
    if (num < 0 || uint(num) % p.stride != 0u)
        return -1;
    uint o = uint(num) / p.stride;
    return o < n_out ? int(o) : -1;
}

void main()
{
    uint i = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * gl_WorkGroupSize.x +
             gl_LocalInvocationID.x;
    uint C4 = p.C / 4u;
    if (i >= p.B * p.H * p.tiles_x * C4)
        return;
    uint c4 = i % C4, ix0 = ((i / C4) % p.tiles_x) * XS, iy = (i / (C4 * p.tiles_x)) % p.H;
    uint b = i / (C4 * p.tiles_x * p.H);
    vec4 acc[XS];
    for (uint j = 0u; j < XS; j++)
        acc[j] = vec4(0.0);
    for (uint ky = 0u; ky < p.k; ky++) {
        int oy = out_index(iy, ky, p.pad_top, p.Ho);
        if (oy < 0)
            continue;
        int row = int((b * p.Ho + uint(oy)) * p.Wo * C4 + c4);
        for (uint kx = 0u; kx < p.k; kx++) {
            vec4 w = texelFetch(wt, int((ky * p.k + kx) * C4 + c4));
            for (uint j = 0u; j < XS; j++) {
                int ox = out_index(ix0 + j, kx, p.pad_left, p.Wo);
                if (ox >= 0)
                    acc[j] += texelFetch(dyt, row + ox * int(C4)) * w;
            }
        }
    }
    uint base = ((b * p.H + iy) * p.W) * C4 + c4;
    for (uint j = 0u; j < XS; j++)
        if (ix0 + j < p.W)
            dx[base + (ix0 + j) * C4] = acc[j];
}
