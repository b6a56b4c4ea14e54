#version 450
// dwconv_grad_dx: the input gradient of a depthwise k x k convolution with explicit geometry
// (stride, implicit zero padding before row/column 0; include/vkdp/ops/grad_ops.h). One
// invocation per input element gathers the outputs it fed: no scatter, no atomics.
layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) writeonly buffer DX { float dx[]; };
layout(push_constant) uniform P { uint B, H, W, C, Ho, Wo, k, stride, pad_top, pad_left; } p;

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
    uint group = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    uint i = group * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (i >= p.B * p.H * p.W * p.C)
        return;
    uint c = i % p.C, ix = (i / p.C) % p.W, iy = (i / (p.C * p.W)) % p.H, b = i / (p.C * p.W * p.H);
    float a = 0.0;
    for (uint ky = 0; ky < p.k; ky++) {
        int oy = out_index(iy, ky, p.pad_top, p.Ho);
        if (oy < 0)
            continue;
        for (uint kx = 0; kx < p.k; kx++) {
            int ox = out_index(ix, kx, p.pad_left, p.Wo);
            if (ox < 0)
                continue;
            a += dy[((b * p.Ho + uint(oy)) * p.Wo + uint(ox)) * p.C + c] * w[(ky * p.k + kx) * p.C + c];
        }
    }
    dx[i] = a;
}
