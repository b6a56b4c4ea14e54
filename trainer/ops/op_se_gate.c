/* se_gate: SE gating in place, x[b,p,c] *= gate[b,c]: record, dispatch and C reference. */
#include "vkdp/ops/backbone_ops.h"
#include "vkdp/ops/tune.h"

enum { SG_X, SG_GATE, SG_BINDINGS };
enum { P_B, P_P, P_C };

typedef struct {
    uint32_t P, C;
} vkdp_se_gate_push;
_Static_assert(sizeof(vkdp_se_gate_push) == 8, "shaders/se_gate.comp's push block");

static const vkdp_shader_rec shader = {"se_gate", SG_BINDINGS, sizeof(vkdp_se_gate_push),
                                       VKDP_WRITES(SG_X), 0};

void vkdp_op_se_gate(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint32_t P, uint32_t C,
                     vkdp_view x, vkdp_view gate, const char *label)
{
    vkdp_se_gate_push push = {P, C};
    uint32_t ppi = vkdp_tune_get(dev)->gate_pixels;
    uint32_t spec[2] = {C % 4 == 0, ppi};
    vkdp_view v[SG_BINDINGS] = {x, gate};
    vkdp_op_dispatch(c, dev, &vkdp_rec_se_gate, &shader, spec, 2, v, &push,
                     vkdp_div_up(P, ppi) * (spec[0] ? C / 4 : C), B, label);
}

void vkdp_ref_se_gate(uint32_t B, uint32_t P, uint32_t C, float *x, const float *gate)
{
    for (uint32_t b = 0; b < B; b++)
        for (uint32_t i = 0; i < P; i++)
            for (uint32_t ch = 0; ch < C; ch++)
                x[((size_t)b * P + i) * C + ch] *= gate[(size_t)b * C + ch];
}

/* ---- generic form ---- */

static void shape(const vkdp_op *op, vkdp_device *dev, const int64_t *p, vkdp_tensor_shape *t)
{
    (void)op, (void)dev;
    t[SG_X] = vkdp_shape((uint64_t)(p[P_B] * p[P_P] * p[P_C]), -3, 3);
    t[SG_GATE] = vkdp_shape((uint64_t)(p[P_B] * p[P_C]), 0, 1);
}

static void record(const vkdp_op *op, vkdp_cmd *c, vkdp_device *dev, const int64_t *p,
                   const vkdp_view *t)
{
    (void)op;
    vkdp_op_se_gate(c, dev, (uint32_t)p[P_B], (uint32_t)p[P_P], (uint32_t)p[P_C], t[SG_X],
                    t[SG_GATE], NULL);
}

static void ref(const vkdp_op *op, vkdp_device *dev, const int64_t *p, void *const *t)
{
    (void)op, (void)dev;
    vkdp_ref_se_gate((uint32_t)p[P_B], (uint32_t)p[P_P], (uint32_t)p[P_C], t[SG_X], t[SG_GATE]);
}

const vkdp_op vkdp_rec_se_gate = {
    .name = "se_gate",
    .fwd = {&shader},
    .params = {"B", "P", "C"},
    .tensors = {{"x", VKDP_INOUT, VKDP_F32}, {"gate", VKDP_IN, VKDP_F32}},
    .shape = shape,
    .record = record,
    .ref = ref,
    .tol = 1e-6,
};
