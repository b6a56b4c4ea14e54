/* adam: Keras' Adam update of every trainable parameter from the allreduced fixed-point gradient:
 * record, dispatch and C reference (bit-identical to the shader). */
#include <math.h>

#include "vkdp/ops/head_fx.h"
#include "vkdp/ops/head_ops.h"

enum { AD_GRAD, AD_PARAMS, AD_M, AD_V, AD_BINDINGS };
enum { P_P, P_STEP };

typedef struct {
    uint32_t P;
    float grad_unscale, alpha, one_minus_beta1, one_minus_beta2, epsilon;
} vkdp_adam_push;
_Static_assert(sizeof(vkdp_adam_push) == 24, "shaders/adam.comp's push block");

static const vkdp_shader_rec shader = {
    "adam", AD_BINDINGS, sizeof(vkdp_adam_push),
    VKDP_WRITES(AD_PARAMS) | VKDP_WRITES(AD_M) | VKDP_WRITES(AD_V), 0};

void vkdp_op_adam(vkdp_cmd *c, vkdp_device *dev, vkdp_view grad, vkdp_view params, vkdp_view m,
                  vkdp_view v, int64_t P, float alpha, float one_minus_beta1,
                  float one_minus_beta2, float epsilon)
{
    vkdp_adam_push pc = {(uint32_t)P, ldexpf(1.0f, -VKDP_FX_GRAD_SHIFT), alpha, one_minus_beta1,
                         one_minus_beta2, epsilon};
    vkdp_view vv[AD_BINDINGS] = {grad, params, m, v};
    vkdp_op_dispatch(c, dev, &vkdp_rec_adam, &shader, NULL, 0, vv, &pc, (uint64_t)P, 1, NULL);
}

/* The C reference splits float expressions into one operation per statement where the shader
 * marks them `precise`, so that neither side contracts them into FMAs and both round alike. */
void head_ref_adam(const int64_t *grad, float *params, float *m, float *v, int64_t P, float alpha,
                   float one_minus_beta1, float one_minus_beta2, float epsilon)
{
    float unscale = ldexpf(1.0f, -VKDP_FX_GRAD_SHIFT);
    for (int64_t p = 0; p < P; p++) {
        float g = (float)grad[p] * unscale;
        float mp = m[p], vp = v[p];
        float gm = g - mp;
        float dm = gm * one_minus_beta1;
        float mn = mp + dm;
        float g2 = g * g;
        float gv = g2 - vp;
        float dv = gv * one_minus_beta2;
        float vn = vp + dv;
        float ma = mn * alpha;
        float den = sqrtf(vn) + epsilon;
        m[p] = mn;
        v[p] = vn;
        params[p] = params[p] - ma / den;
    }
}

/* ---- generic form: Keras' defaults (lr 1e-2) at step t ---- */

static float test_alpha(int64_t t)
{
    return 1e-2f * sqrtf(1.0f - powf(0.999f, (float)t)) / (1.0f - powf(0.9f, (float)t));
}

static void shape(const vkdp_op *op, vkdp_device *dev, const int64_t *p, vkdp_tensor_shape *t)
{
    (void)op, (void)dev;
    uint64_t P = (uint64_t)p[P_P];
    double g = 0.01 * 0x1p40; /* gradients in [-0.01, 0.01), in fixed point */
    t[AD_GRAD] = vkdp_shape(P, -g, g);
    t[AD_PARAMS] = vkdp_shape(P, -0.5, 0.5);
    t[AD_M] = vkdp_shape(P, -0.01, 0.01);
    t[AD_V] = vkdp_shape(P, 0, 1e-4);
}

static void record(const vkdp_op *op, vkdp_cmd *c, vkdp_device *dev, const int64_t *p,
                   const vkdp_view *t)
{
    (void)op;
    vkdp_op_adam(c, dev, t[AD_GRAD], t[AD_PARAMS], t[AD_M], t[AD_V], p[P_P],
                 test_alpha(p[P_STEP]), 0.1f, 0.001f, 1e-7f);
}

static void ref(const vkdp_op *op, vkdp_device *dev, const int64_t *p, void *const *t)
{
    (void)op, (void)dev;
    head_ref_adam(t[AD_GRAD], t[AD_PARAMS], t[AD_M], t[AD_V], p[P_P], test_alpha(p[P_STEP]), 0.1f,
                  0.001f, 1e-7f);
}

const vkdp_op vkdp_rec_adam = {
    .name = "adam",
    .fwd = {&shader},
    .params = {"P", "step"},
    .tensors = {{"grad", VKDP_IN, VKDP_I64}, {"params", VKDP_INOUT, VKDP_F32},
                {"m", VKDP_INOUT, VKDP_F32}, {"v", VKDP_INOUT, VKDP_F32}},
    .shape = shape,
    .record = record,
    .ref = ref,
    .tol = 0,
};
