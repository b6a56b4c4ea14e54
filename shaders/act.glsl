// The activations, written once for float and vec4 (ACT_DEFINE below), with the formulas of their
// C twins in include/vkdp/ops/act.h: swish(v) = v / (1 + exp(-v)), sigmoid(v) = 1 / (1 + exp(-v)).
// The backbone's results depend on these exact operations (tests/refactor_identity.sh): change
// them only with the C twins, and expect the recorded checkpoint digest to change.
// act_apply's ACT: 0 none, 1 swish, 2 sigmoid (vkdp_act).
#define ACT_DEFINE(T)                                                        \
    T sigmoid(T v) { return 1.0 / (1.0 + exp(-v)); }                         \
    T swish(T v) { return v / (1.0 + exp(-v)); }                             \
    /* d swish / dv = s + v s (1 - s) = s (1 + v (1 - s)), s = sigmoid(v) */ \
    T swish_grad(T v) { T s = sigmoid(v); return s * (1.0 + v * (1.0 - s)); } \
    T act_apply(int act, T v)                                                \
    {                                                                        \
        if (act == 1) return swish(v);                                       \
        if (act == 2) return sigmoid(v);                                     \
        return v;                                                            \
    }
ACT_DEFINE(float)
ACT_DEFINE(vec4)
