#version 450
// augment_contrast: tf.image.adjust_contrast with each image's factor (params [B, 20], entry 18:
// vkdp_augment_pack), mean + f (x - mean), then RandomContrast's clip to [0, 255]; in place.
layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer M { float mean[]; };
layout(std430, binding = 2) readonly buffer PRM { float prm[]; };
layout(push_constant) uniform P { uint B, P, C; float inv_count; } p;

void main()
{
    uint group = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    uint i = group * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (i >= p.B * p.P * p.C)
        return;
    uint c = i % p.C, b = i / (p.P * p.C);
    float mu = mean[b * p.C + c], f = prm[b * 20u + 18u];
    precise float v = mu + f * (x[i] - mu);
    x[i] = min(max(v, 0.0), 255.0);
}
