#version 450
// Dense + softmax + categorical cross-entropy, one invocation per sample:
//   z = xd[i,:] . kernel + bias (j ascending); p = softmax(z);
//   loss_i = log(sum exp(z - max)) - (z_y - max)   (exact log-softmax, as Keras uses the logits)
//   dl[i,:] = (p - onehot(y)) * inv_batch          (the batch loss is the mean over B_global)
//   correct_i = argmax p == y (first maximum, as tf.argmax)
#include "head_common.glsl"
layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(constant_id = 0) const int C = 5;

layout(std430, set = 0, binding = 0) readonly buffer Xd { float xd[]; };         // [n, F]
layout(std430, set = 0, binding = 1) readonly buffer Params { float params[]; }; // ..., kernel [F,C], bias [C]
layout(std430, set = 0, binding = 2) readonly buffer Labels { int labels[]; };   // [n]
layout(std430, set = 0, binding = 3) writeonly buffer Probs { float probs[]; };  // [n, C]
layout(std430, set = 0, binding = 4) writeonly buffer Dl { float dl[]; };        // [n, C]
layout(std430, set = 0, binding = 5) writeonly buffer Loss { float loss[]; };    // [n]
layout(std430, set = 0, binding = 6) writeonly buffer Correct { uint correct[]; };// [n]

layout(push_constant) uniform Push {
    uint n;
    uint F;
    uint kernel_off;
    uint bias_off;
    float inv_batch;
} pc;

void main()
{
    uint i = gl_GlobalInvocationID.x;
    if (i >= pc.n)
        return;
    float z[C];
    for (int c = 0; c < C; c++)
        z[c] = 0.0;
    for (uint j = 0u; j < pc.F; j++) {
        float a = xd[i * pc.F + j];
        for (int c = 0; c < C; c++) {
            precise float t = a * params[pc.kernel_off + j * uint(C) + uint(c)];
            precise float acc = z[c] + t;
            z[c] = acc;
        }
    }
    float zmax = -1.0 / 0.0;
    for (int c = 0; c < C; c++) {
        precise float zb = z[c] + params[pc.bias_off + uint(c)];
        z[c] = zb;
        zmax = max(zmax, zb);
    }
    float e[C];
    float s = 0.0;
    for (int c = 0; c < C; c++) {
        e[c] = exp(z[c] - zmax);
        s += e[c];
    }
    int y = labels[i];
    int best = 0;
    float pbest = -1.0;
    for (int c = 0; c < C; c++) {
        float p = e[c] / s;
        probs[i * uint(C) + uint(c)] = p;
        dl[i * uint(C) + uint(c)] = (p - (c == y ? 1.0 : 0.0)) * pc.inv_batch;
        if (p > pbest) {
            pbest = p;
            best = c;
        }
    }
    loss[i] = log(s) - (z[y] - zmax);
    correct[i] = best == y ? 1u : 0u;
}
