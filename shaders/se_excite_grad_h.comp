#version 450
// se_excite_grad_h, pass 1 of the SE excitation's backward (include/vkdp/ops/grad_ops.h):
// recomputes the reduce layer's pre-activation h[b,j] = br[j] + sum_c pool[b,c] wr[c,j]
// (cheaper than taping it: se is at most 48 per sample).
layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(std430, binding = 0) readonly buffer POOL { float pool[]; };
layout(std430, binding = 1) readonly buffer WR { float wr[]; };
layout(std430, binding = 2) readonly buffer BR { float br[]; };
layout(std430, binding = 3) writeonly buffer H { float h[]; };
layout(push_constant) uniform P { uint B, C, se; } p;

void main()
{
    uint i = gl_GlobalInvocationID.x;
    if (i >= p.B * p.se)
        return;
    uint b = i / p.se, j = i % p.se;
    float a = br[j];
    for (uint c = 0; c < p.C; c++)
        a += pool[b * p.C + c] * wr[c * p.se + j];
    h[i] = a;
}
