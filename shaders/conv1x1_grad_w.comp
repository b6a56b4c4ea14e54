#version 450
// conv1x1_grad_w: dw[K,N] = x[M,K]^T dy[M,N] and db[N] = sum_m dy[m,n], the weight and bias
// gradients of a 1x1 convolution (include/vkdp/ops/grad_ops.h). Invocations 0..K*N-1 each sum
// one dw element over m in float; the next N one db element each.
layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(constant_id = 0) const bool HAS_DB = true; // false: no db (binding 3 then aliases dw)
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) writeonly buffer DW { float dw[]; };
layout(std430, binding = 3) writeonly buffer DB { float db[]; };
layout(push_constant) uniform P { uint M, K, N; } p;

void main()
{
    uint group = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    uint i = group * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    uint kn = p.K * p.N;
    float a = 0.0;
    if (i < kn) {
        uint k = i / p.N, n = i % p.N;
        for (uint m = 0; m < p.M; m++)
            a += x[m * p.K + k] * dy[m * p.N + n];
        dw[i] = a;
    } else if (HAS_DB && i < kn + p.N) {
        uint n = i - kn;
        for (uint m = 0; m < p.M; m++)
            a += dy[m * p.N + n];
        db[n] = a;
    }
}
