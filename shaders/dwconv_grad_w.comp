#version 450
// dwconv_grad_w: the weight gradient dw[k,k,C] and bias gradient db[C] of a depthwise
// convolution with explicit geometry (include/vkdp/ops/grad_ops.h), summed over the batch.
// Invocations 0..k*k*C-1 each sum one tap of one channel over every output position in float;
// the next C one db element each.
layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(constant_id = 0) const bool HAS_DB = true; // false: no db (binding 3 then aliases dw)
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) writeonly buffer DW { float dw[]; };
layout(std430, binding = 3) writeonly buffer DB { float db[]; };
layout(push_constant) uniform P { uint B, H, W, C, Ho, Wo, k, stride, pad_top, pad_left; } p;

void main()
{
    uint group = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    uint i = group * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    uint taps = p.k * p.k * p.C;
    float a = 0.0;
    if (i < taps) {
        uint c = i % p.C, kx = (i / p.C) % p.k, ky = i / (p.C * p.k);
        for (uint b = 0; b < p.B; b++)
            for (uint oy = 0; oy < p.Ho; oy++) {
                int iy = int(oy * p.stride + ky) - int(p.pad_top);
                if (iy < 0 || iy >= int(p.H))
                    continue;
                for (uint ox = 0; ox < p.Wo; ox++) {
                    int ix = int(ox * p.stride + kx) - int(p.pad_left);
                    if (ix < 0 || ix >= int(p.W))
                        continue;
                    a += x[((b * p.H + uint(iy)) * p.W + uint(ix)) * p.C + c] *
                         dy[((b * p.Ho + oy) * p.Wo + ox) * p.C + c];
                }
            }
        dw[i] = a;
    } else if (HAS_DB && i < taps + p.C) {
        uint c = i - taps;
        for (uint q = 0; q < p.B * p.Ho * p.Wo; q++)
            a += dy[q * p.C + c];
        db[c] = a;
    }
}
