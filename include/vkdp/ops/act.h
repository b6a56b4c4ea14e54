/* The activations' C twins of shaders/act.glsl, written once: swish(v) = v / (1 + exp(-v)) (the
 * formula the backbone's checkpoint digest depends on, tests/refactor_identity.sh), sigmoid, and
 * swish's derivative. */
#ifndef VKDP_OPS_ACT_H
#define VKDP_OPS_ACT_H
#include <math.h>

typedef enum { VKDP_ACT_NONE = 0, VKDP_ACT_SWISH = 1, VKDP_ACT_SIGMOID = 2 } vkdp_act;

static inline float vkdp_sigmoid(float v) { return 1.0f / (1.0f + expf(-v)); }
static inline float vkdp_swish(float v) { return v / (1.0f + expf(-v)); }
/* d swish / dv = s (1 + v (1 - s)), s = sigmoid(v) */
static inline float vkdp_swish_grad(float v)
{
    float s = vkdp_sigmoid(v);
    return s * (1.0f + v * (1.0f - s));
}

static inline float vkdp_ref_act(vkdp_act act, float v)
{
    switch (act) {
    case VKDP_ACT_SWISH: return vkdp_swish(v);
    case VKDP_ACT_SIGMOID: return vkdp_sigmoid(v);
    default: return v;
    }
}

#endif
