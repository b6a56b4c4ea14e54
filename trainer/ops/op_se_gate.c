/* se_gate: SE gating in place, x[b,p,c] *= gate[b,c], through storage or (where the device's
 * table row says so) texel buffers: record, dispatch and C reference. */
#include "vkdp/ops/backbone_ops.h"
#include "vkdp/ops/tune.h"

enum { SG_X, SG_GATE, SG_BINDINGS };
enum { P_B, P_P, P_C, P_PATH };

typedef struct {
    uint32_t P, C;
} vkdp_se_gate_push;
_Static_assert(sizeof(vkdp_se_gate_push) == 8, "shaders/se_gate.comp's push block");

static const vkdp_shader_rec shader = {"se_gate", SG_BINDINGS, sizeof(vkdp_se_gate_push),
                                       VKDP_WRITES(SG_X), 0};
/* the same through texel buffers, where the device's table row says so */
static const vkdp_shader_rec texel = {"se_gate_texel", SG_BINDINGS, sizeof(vkdp_se_gate_push),
                                      VKDP_WRITES(SG_X), 0};

/* path: 0 the device's shader (vkdp/ops/tune.h), 1 storage buffers, 2 texel buffers (C % 4 == 0;
 * else storage buffers) */
static void se_gate(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint32_t P, uint32_t C,
                    vkdp_view x, vkdp_view gate, uint32_t path, const char *label)
{
    vkdp_se_gate_push push = {P, C};
    const vkdp_tune *t = vkdp_tune_get(dev);
    uint32_t spec[2] = {C % 4 == 0, t->gate_pixels};
    vkdp_view v[SG_BINDINGS] = {x, gate};
    const vkdp_shader_rec *s = &shader;
    if (spec[0] && (path == 2 || (path == 0 && t->gate_texel))) {
        s = &texel;
        v[SG_X] = vkdp_texels_f32x4(x, (uint64_t)B * P * C);
        v[SG_GATE] = vkdp_texels_f32x4(gate, (uint64_t)B * C);
    }
    vkdp_op_dispatch(c, dev, &vkdp_rec_se_gate, s, spec, 2, v, &push,
                     vkdp_div_up(P, t->gate_pixels) * (spec[0] ? C / 4 : C), B, label);
}

void vkdp_op_se_gate(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint32_t P, uint32_t C,
                     vkdp_view x, vkdp_view gate, const char *label)
{
    se_gate(c, dev, B, P, C, x, gate, 0, label);
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
    se_gate(c, dev, (uint32_t)p[P_B], (uint32_t)p[P_P], (uint32_t)p[P_C], t[SG_X], t[SG_GATE],
            (uint32_t)p[P_PATH], NULL);
}

static void ref(const vkdp_op *op, vkdp_device *dev, const int64_t *p, void *const *t)
{
    (void)op, (void)dev;
    vkdp_ref_se_gate((uint32_t)p[P_B], (uint32_t)p[P_P], (uint32_t)p[P_C], t[SG_X], t[SG_GATE]);
}

const vkdp_op vkdp_rec_se_gate = {
    .name = "se_gate",
    .fwd = {&shader, &texel},
    .params = {"B", "P", "C", "path"},
    .tensors = {{"x", VKDP_INOUT, VKDP_F32}, {"gate", VKDP_IN, VKDP_F32}},
    .shape = shape,
    .record = record,
    .ref = ref,
    .tol = 1e-6,
};
