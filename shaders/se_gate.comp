#version 450
// SE gating in place: x[b,p,c] *= gate[b,c] for x [B,P,C], gate [B,C].
// A separate pass rather than a row scale fused into the project GEMM: the GEMM reads every input
// element once per 8 output columns, and lavapipe pays per storage-buffer access, so scaling there
// costs N/8 extra accesses per element where this pass costs about two.
// One invocation = PPI consecutive pixels x 4 channels (VEC4, C % 4 == 0) or x 1 channel; the gate
// is loaded once for them. Channel group fastest across invocations.
#extension GL_EXT_control_flow_attributes : require
layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(constant_id = 0) const bool VEC4 = true;
layout(constant_id = 1) const uint PPI = 8;

layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 0) buffer X4 { vec4 x4[]; };
layout(std430, binding = 1) readonly buffer G { float gate[]; };
layout(std430, binding = 1) readonly buffer G4 { vec4 gate4[]; };

layout(push_constant) uniform P {
    uint P, C;
} p;

void main()
{
    uint groups = VEC4 ? p.C >> 2 : p.C;
    uint pgroups = (p.P + PPI - 1) / PPI;
    uint id = gl_GlobalInvocationID.x;
    if (id >= pgroups * groups)
        return;
    uint b = gl_WorkGroupID.z;
    uint g = id % groups, p0 = (id / groups) * PPI;
    uint c = VEC4 ? g * 4 : g;
    if (VEC4) {
        vec4 s = gate4[(b * p.C + c) >> 2];
        [[unroll]] for (uint q = 0; q < PPI; q++)
            if (p0 + q < p.P) {
                uint e = ((b * p.P + p0 + q) * p.C + c) >> 2;
                x4[e] *= s;
            }
    } else {
        float s = gate[b * p.C + c];
        [[unroll]] for (uint q = 0; q < PPI; q++)
            if (p0 + q < p.P)
                x[(b * p.P + p0 + q) * p.C + c] *= s;
    }
}
