#version 450
// Adam update of all trainable parameters (laid out contiguously: gamma, beta, kernel, bias),
// exactly Keras 2.11+'s formula; alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t) comes from the
// host, computed in float32 as Keras does. The gradient arrives as an allreduced fixed-point sum.
//   m += (g - m) * (1 - beta1);  v += (g*g - v) * (1 - beta2);  p -= (m * alpha) / (sqrt(v) + eps)
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)

layout(std430, set = 0, binding = 0) readonly buffer Grad { int64_t grad[]; }; // [>= P] fixed point
layout(std430, set = 0, binding = 1) buffer Params { float params[]; };
layout(std430, set = 0, binding = 2) buffer M { float m[]; };
layout(std430, set = 0, binding = 3) buffer V { float v[]; };

layout(push_constant) uniform Push {
    uint P;
    float grad_unscale;   // 2^-VKDP_FX_GRAD_SHIFT
    float alpha;
    float one_minus_beta1;
    float one_minus_beta2;
    float epsilon;
} pc;

void main()
{
    uint p = gl_GlobalInvocationID.x;
    if (p >= pc.P)
        return;
    precise float g = float(grad[p]) * pc.grad_unscale;
    float mp = m[p], vp = v[p];
    precise float mn = mp + (g - mp) * pc.one_minus_beta1;
    precise float vn = vp + (g * g - vp) * pc.one_minus_beta2;
    precise float step = (mn * pc.alpha) / (sqrt(vn) + pc.epsilon);
    m[p] = mn;
    v[p] = vn;
    params[p] = params[p] - step;
}
