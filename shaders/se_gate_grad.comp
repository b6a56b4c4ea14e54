#version 450
// se_gate_grad: the backward of the SE gating y[b,p,c] = x[b,p,c] gate[b,c]:
// dx = dy * gate, dgate[b,c] = sum_p dy x (include/vkdp/ops/grad_ops.h). One invocation per
// (sample, channel) walks the sample's positions, so the sum needs no second pass.
layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer G { float gate[]; };
layout(std430, binding = 2) readonly buffer DY { float dy[]; };
layout(std430, binding = 3) writeonly buffer DX { float dx[]; };
layout(std430, binding = 4) writeonly buffer DG { float dgate[]; };
layout(push_constant) uniform P { uint B, P, C; } p;

void main()
{
    uint i = gl_GlobalInvocationID.x;
    if (i >= p.B * p.C)
        return;
    uint b = i / p.C, c = i % p.C;
    float g = gate[i], a = 0.0;
    for (uint q = 0; q < p.P; q++) {
        uint e = (b * p.P + q) * p.C + c;
        a += dy[e] * x[e];
        dx[e] = dy[e] * g;
    }
    dgate[i] = a;
}
