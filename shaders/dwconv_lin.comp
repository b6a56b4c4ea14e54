#version 450
// dwconv_lin: a depthwise k x k convolution with explicit geometry and no activation,
// y[b,oy,ox,c] = bias[c] + sum x[b, oy*s+ky-pad_top, ox*s+kx-pad_left, c] w[ky,kx,c]
// (include/vkdp/ops/grad_ops.h): the trainable part's forward, whose frozen BN and swish follow
// unfused because the backward needs the pre-activation. One invocation per output element.
layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) readonly buffer BIAS { float bias[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint B, H, W, C, Ho, Wo, k, stride, pad_top, pad_left; } p;

void main()
{
    uint group = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    uint i = group * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (i >= p.B * p.Ho * p.Wo * p.C)
        return;
    uint c = i % p.C, ox = (i / p.C) % p.Wo, oy = (i / (p.C * p.Wo)) % p.Ho;
    uint b = i / (p.C * p.Wo * p.Ho);
    float a = bias[c];
    for (uint ky = 0; ky < p.k; ky++) {
        int iy = int(oy * p.stride + ky) - int(p.pad_top);
        if (iy < 0 || iy >= int(p.H))
            continue;
        for (uint kx = 0; kx < p.k; kx++) {
            int ix = int(ox * p.stride + kx) - int(p.pad_left);
            if (ix >= 0 && ix < int(p.W))
                a += x[((b * p.H + uint(iy)) * p.W + uint(ix)) * p.C + c] * w[(ky * p.k + kx) * p.C + c];
        }
    }
    y[i] = a;
}
