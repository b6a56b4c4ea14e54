#version 450
// augment_mean: the per-image, per-channel mean tf.image.adjust_contrast needs,
// mean[b,c] = (sum over H*W of x[b,:,c]) * inv_count, the sum in float in pixel order
// (the C reference sums in double: include/vkdp/ops/augment.h states the tolerance).
layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer M { float mean[]; };
layout(push_constant) uniform P { uint B, P, C; float inv_count; } p;

void main()
{
    uint i = gl_GlobalInvocationID.x;
    if (i >= p.B * p.C)
        return;
    uint b = i / p.C, c = i % p.C;
    precise float s = 0.0;
    for (uint q = 0; q < p.P; q++)
        s += x[(b * p.P + q) * p.C + c];
    precise float m = s * p.inv_count;
    mean[i] = m;
}
