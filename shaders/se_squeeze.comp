#version 450
// Global average pool: x [B,HW,C] -> y [B,C] (SE squeeze, and the top's final GAP).
// One invocation = one (image, channel); neighbouring invocations read neighbouring channels.
// Four partial sums shorten the float accumulation chain for large HW (112*112).
layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };

layout(push_constant) uniform P {
    uint HW, C;
} p;

void main()
{
    uint c = gl_GlobalInvocationID.x;
    if (c >= p.C)
        return;
    uint b = gl_WorkGroupID.z;
    uint base = b * p.HW * p.C + c;
    vec4 s = vec4(0.0);
    uint i = 0;
    for (; i + 4 <= p.HW; i += 4) {
        s.x += x[base + i * p.C];
        s.y += x[base + (i + 1) * p.C];
        s.z += x[base + (i + 2) * p.C];
        s.w += x[base + (i + 3) * p.C];
    }
    for (; i < p.HW; i++)
        s.x += x[base + i * p.C];
    y[b * p.C + c] = ((s.x + s.y) + (s.z + s.w)) / float(p.HW);
}
