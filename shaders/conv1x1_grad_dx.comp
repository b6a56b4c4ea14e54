#version 450
// conv1x1_grad_dx: dx[M,K] = dy[M,N] w[K,N]^T, the input gradient of a 1x1 convolution
// (include/vkdp/ops/grad_ops.h). One invocation per element of dx, the sum over n in float.
layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) writeonly buffer DX { float dx[]; };
layout(push_constant) uniform P { uint M, K, N; } p;

void main()
{
    uint group = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    uint i = group * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (i >= p.M * p.K)
        return;
    uint m = i / p.K, k = i % p.K;
    float a = 0.0;
    for (uint n = 0; n < p.N; n++)
        a += dy[m * p.N + n] * w[k * p.N + n];
    dx[i] = a;
}
