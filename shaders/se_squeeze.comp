#version 450
// Average over rows: x [B,R,C] -> y[b,c] = sum_r x[b,r,c] * inv_count.
// Serves the SE squeeze (x = the depthwise conv's per-tile partial sums, R = tiles,
// inv_count = 1/(Ho*Wo)) and the top's final global average pool (R = H*W).
// One invocation = one (image, 4 channels) when C % 4 == 0 (vec4 loads: lavapipe pays per
// access, not per component), else one (image, channel). Four partial sums shorten the float
// accumulation chain.
layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(constant_id = 0) const bool VEC4 = true;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 0) readonly buffer X4 { vec4 x4[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(std430, binding = 1) writeonly buffer Y4 { vec4 y4[]; };

layout(push_constant) uniform P {
    uint R, C;
    float inv_count;
} p;

vec4 load_x(uint e) { return VEC4 ? x4[e >> 2] : vec4(x[e], 0.0, 0.0, 0.0); }

void main()
{
    uint lanes = VEC4 ? p.C >> 2 : p.C;
    uint g = gl_GlobalInvocationID.x;
    if (g >= lanes)
        return;
    uint b = gl_WorkGroupID.z;
    uint c = VEC4 ? g * 4 : g;
    uint base = b * p.R * p.C + c;
    vec4 s0 = vec4(0.0), s1 = vec4(0.0), s2 = vec4(0.0), s3 = vec4(0.0);
    uint r = 0;
    for (; r + 4 <= p.R; r += 4) {
        s0 += load_x(base + r * p.C);
        s1 += load_x(base + (r + 1) * p.C);
        s2 += load_x(base + (r + 2) * p.C);
        s3 += load_x(base + (r + 3) * p.C);
    }
    for (; r < p.R; r++)
        s0 += load_x(base + r * p.C);
    vec4 m = ((s0 + s1) + (s2 + s3)) * p.inv_count;
    if (VEC4)
        y4[(b * p.C + c) >> 2] = m;
    else
        y[b * p.C + c] = m.x;
}
