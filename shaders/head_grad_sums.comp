#version 450
// The head's backward, summed over this rank's samples in fixed point (include/vkdp/ops/head_fx.h),
// one invocation per output element e of the gradient vector (no atomics):
//   [0,F)        dgamma_j = sum_i dbn[i,j] * xhat[i,j]
//   [F,2F)       dbeta_j  = sum_i dbn[i,j],  dbn = keep ? (sum_c kernel[j,c] dl[i,c]) * keep_scale : 0
//   [2F,2F+FC)   dkernel[j,c] = sum_i xd[i,j] * dl[i,c]
//   [2F+FC,P)    dbias_c = sum_i dl[i,c]
//   P            loss sum (loss scale), P+1: correct count
// Elements from `first` on are computed (evaluation needs only the last two).
#include "head_common.glsl"
layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)

layout(std430, set = 0, binding = 0) readonly buffer Xhat { float xhat[]; };     // [n, F]
layout(std430, set = 0, binding = 1) readonly buffer Xd { float xd[]; };         // [n, F]
layout(std430, set = 0, binding = 2) readonly buffer Dl { float dl[]; };         // [n, C]
layout(std430, set = 0, binding = 3) readonly buffer Params { float params[]; }; // gamma, beta, kernel, bias
layout(std430, set = 0, binding = 4) readonly buffer Gpos { uvec2 gpos[]; };     // [n]
layout(std430, set = 0, binding = 5) readonly buffer Loss { float loss[]; };     // [n]
layout(std430, set = 0, binding = 6) readonly buffer Correct { uint correct[]; };// [n]
layout(std430, set = 0, binding = 7) writeonly buffer Sums { int64_t sums[]; };  // [P + 2]
layout(std430, set = 0, binding = 8) writeonly buffer Ovf { uint ovf[]; };       // [P + 2]

layout(push_constant) uniform Push {
    uint n;
    uint F;
    uint C;
    uint first;
    float grad_scale;   // 2^VKDP_FX_GRAD_SHIFT
    float loss_scale;   // 2^VKDP_FX_LOSS_SHIFT
    uint seed_lo;
    uint seed_hi;
    uint epoch;
    uint use_dropout;
    float rate;
    float keep_scale;
} pc;

float dbn(uint i, uint j)
{
    float acc = 0.0;
    uint k0 = 2u * pc.F + j * pc.C;
    for (uint c = 0u; c < pc.C; c++) {
        precise float t = params[k0 + c] * dl[i * pc.C + c];
        precise float a = acc + t;
        acc = a;
    }
    if (pc.use_dropout == 0u)
        return acc;
    bool keep = dropout_keep(uvec2(pc.seed_lo, pc.seed_hi), pc.epoch, gpos[i].x, gpos[i].y, j,
                             pc.rate);
    precise float kept = acc * pc.keep_scale;
    return keep ? kept : 0.0;
}

void main()
{
    uint F = pc.F, C = pc.C;
    uint P = 2u * F + F * C + C;
    uint e = pc.first + gl_GlobalInvocationID.x;
    if (e >= P + 2u)
        return;
    int64_t s = int64_t(0);
    uint o = 0u;
    if (e < F) {
        for (uint i = 0u; i < pc.n; i++) {
            precise float t = dbn(i, e) * xhat[i * F + e];
            s += fx(t, pc.grad_scale, o);
        }
    } else if (e < 2u * F) {
        for (uint i = 0u; i < pc.n; i++)
            s += fx(dbn(i, e - F), pc.grad_scale, o);
    } else if (e < 2u * F + F * C) {
        uint k = e - 2u * F, j = k / C, c = k - j * C;
        for (uint i = 0u; i < pc.n; i++) {
            precise float t = xd[i * F + j] * dl[i * C + c];
            s += fx(t, pc.grad_scale, o);
        }
    } else if (e < P) {
        uint c = e - (2u * F + F * C);
        for (uint i = 0u; i < pc.n; i++)
            s += fx(dl[i * C + c], pc.grad_scale, o);
    } else if (e == P) {
        for (uint i = 0u; i < pc.n; i++)
            s += fx(loss[i], pc.loss_scale, o);
    } else {
        for (uint i = 0u; i < pc.n; i++)
            s += int64_t(correct[i]);
    }
    sums[e] = s;
    ovf[e] = o;
}
