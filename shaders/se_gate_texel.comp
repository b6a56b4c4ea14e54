#version 450
// se_gate.comp through texel buffers (C % 4 == 0 only): x read and written in place as a storage
// texel buffer (imageBuffer rgba32f, imageLoad/imageStore), the gate read as a uniform texel
// buffer; lavapipe turns each storage-buffer access into a per-lane loop, a texel access into one
// vectorised gather or scatter. The same multiplication as se_gate.comp: bit-identical.
// SE gating in place: x[b,p,c] *= gate[b,c] for x [B,P,C], gate [B,C]. One invocation = PPI
// consecutive pixels x 4 channels, the gate loaded once for them; channel group fastest.
#extension GL_EXT_control_flow_attributes : require
layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(constant_id = 1) const uint PPI = 8;

layout(binding = 0, rgba32f) uniform imageBuffer xt;
layout(binding = 1) uniform samplerBuffer gt;

layout(push_constant) uniform P {
    uint P, C;
} p;

void main()
{
    uint groups = p.C >> 2;
    uint pgroups = (p.P + PPI - 1) / PPI;
    uint id = gl_GlobalInvocationID.x;
    if (id >= pgroups * groups)
        return;
    uint b = gl_WorkGroupID.z;
    uint g = id % groups, p0 = (id / groups) * PPI;
    vec4 s = texelFetch(gt, int(b * groups + g));
    [[unroll]] for (uint q = 0; q < PPI; q++)
        if (p0 + q < p.P) {
            int e = int((b * p.P + p0 + q) * groups + g);
            imageStore(xt, e, imageLoad(xt, e) * s);
        }
}
