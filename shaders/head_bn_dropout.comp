#version 450
// BatchNorm normalisation + Dropout, one invocation per (sample, feature):
//   xhat = (x - mean) * inv_std                      (kept for dgamma)
//   bn   = x * s + (beta - mean * s), s = gamma * inv_std   (tf.nn.batch_normalization's form)
//   xd   = keep ? bn * keep_scale : 0                 (TF dropout: keep when u >= rate)
// mean/inv_std are the global batch statistics in training, the moving ones in inference.
#include "head_common.glsl"
layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)

layout(std430, set = 0, binding = 0) readonly buffer X { float x[]; };          // [n, F]
layout(std430, set = 0, binding = 1) readonly buffer Stats { float stats[]; };  // mean[F], inv_std[F]
layout(std430, set = 0, binding = 2) readonly buffer Params { float params[]; };// gamma[F], beta[F], ...
layout(std430, set = 0, binding = 3) readonly buffer Gpos { uvec2 gpos[]; };    // [n] global index (lo, hi)
layout(std430, set = 0, binding = 4) writeonly buffer Xhat { float xhat[]; };   // [n, F]
layout(std430, set = 0, binding = 5) writeonly buffer Xd { float xd[]; };       // [n, F]

layout(push_constant) uniform Push {
    uint n;
    uint F;
    uint seed_lo;
    uint seed_hi;
    uint epoch;
    uint use_dropout;
    float rate;
    float keep_scale;
} pc;

void main()
{
    uint e = gl_GlobalInvocationID.x;
    if (e >= pc.n * pc.F)
        return;
    uint i = e / pc.F, j = e - i * pc.F;
    float v = x[e], m = stats[j], inv = stats[pc.F + j];
    precise float d = v - m;
    precise float xh = d * inv;
    precise float s = params[j] * inv;
    precise float ms = m * s;
    precise float shift = params[pc.F + j] - ms;
    precise float vs = v * s;
    precise float bn = vs + shift;
    xhat[e] = xh;
    if (pc.use_dropout != 0u) {
        bool keep = dropout_keep(uvec2(pc.seed_lo, pc.seed_hi), pc.epoch, gpos[i].x, gpos[i].y, j,
                                 pc.rate);
        precise float kept = bn * pc.keep_scale;
        xd[e] = keep ? kept : 0.0;
    } else {
        xd[e] = bn;
    }
}
