/* se_gate_grad: the backward of the SE gating y = x * gate, dx and dgate (shader se_gate_grad):
 * record, dispatch, and the generic form over the C reference vkdp_grad_se_gate. */
#include "vkdp/ops/grad_ops.h"

enum { SG_X, SG_GATE, SG_DY, SG_DX, SG_DGATE, SG_BINDINGS };
enum { P_B, P_P, P_C };

typedef struct {
    uint32_t B, P, C;
} vkdp_se_gate_grad_push;
_Static_assert(sizeof(vkdp_se_gate_grad_push) == 12, "shaders/se_gate_grad.comp's push block");

static const vkdp_shader_rec shader = {"se_gate_grad", SG_BINDINGS, sizeof(vkdp_se_gate_grad_push),
                                       VKDP_WRITES(SG_DX) | VKDP_WRITES(SG_DGATE), 0};

void vkdp_op_se_gate_grad(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint32_t P, uint32_t C,
                          vkdp_view x, vkdp_view gate, vkdp_view dy, vkdp_view dx,
                          vkdp_view dgate, const char *label)
{
    if ((uint64_t)B * P * C > UINT32_MAX)
        VKDP_FATAL("se_gate_grad: %u x %u x %u too large for one dispatch", B, P, C);
    vkdp_se_gate_grad_push push = {B, P, C};
    vkdp_view v[SG_BINDINGS] = {x, gate, dy, dx, dgate};
    vkdp_op_dispatch(c, dev, &vkdp_rec_se_gate_grad, &shader, NULL, 0, v, &push,
                     (uint64_t)B * C, 1, label);
}

/* ---- generic form ---- */

static void shape(const vkdp_op *op, vkdp_device *dev, const int64_t *p, vkdp_tensor_shape *t)
{
    (void)op, (void)dev;
    uint64_t bpc = (uint64_t)(p[P_B] * p[P_P] * p[P_C]), bc = (uint64_t)(p[P_B] * p[P_C]);
    t[SG_X] = vkdp_shape(bpc, -3, 3);
    t[SG_GATE] = vkdp_shape(bc, 0, 1);
    t[SG_DY] = vkdp_shape(bpc, -1, 1);
    t[SG_DX] = vkdp_shape(bpc, 0, 0);
    t[SG_DGATE] = vkdp_shape(bc, 0, 0);
}

static void record(const vkdp_op *op, vkdp_cmd *c, vkdp_device *dev, const int64_t *p,
                   const vkdp_view *t)
{
    (void)op;
    vkdp_op_se_gate_grad(c, dev, (uint32_t)p[P_B], (uint32_t)p[P_P], (uint32_t)p[P_C], t[SG_X],
                         t[SG_GATE], t[SG_DY], t[SG_DX], t[SG_DGATE], NULL);
}

static void ref(const vkdp_op *op, vkdp_device *dev, const int64_t *p, void *const *t)
{
    (void)op, (void)dev;
    vkdp_grad_se_gate((uint32_t)p[P_B], (uint32_t)p[P_P], (uint32_t)p[P_C], t[SG_X], t[SG_GATE],
                      t[SG_DY], t[SG_DX], t[SG_DGATE]);
}

/* sum dy * x * gate */
static double loss(const vkdp_op *op, const int64_t *p, void *const *t)
{
    (void)op;
    const float *x = t[SG_X], *gate = t[SG_GATE], *dy = t[SG_DY];
    double s = 0;
    for (int64_t b = 0; b < p[P_B]; b++)
        for (int64_t q = 0; q < p[P_P]; q++)
            for (int64_t c = 0; c < p[P_C]; c++) {
                int64_t e = (b * p[P_P] + q) * p[P_C] + c;
                s += (double)dy[e] * x[e] * gate[b * p[P_C] + c];
            }
    return s;
}

const vkdp_op vkdp_rec_se_gate_grad = {
    .name = "se_gate_grad",
    .fwd = {&shader},
    .params = {"B", "P", "C"},
    .tensors = {{"x", VKDP_IN, VKDP_F32}, {"gate", VKDP_IN, VKDP_F32}, {"dy", VKDP_IN, VKDP_F32},
                {"dx", VKDP_OUT, VKDP_F32}, {"dgate", VKDP_OUT, VKDP_F32}},
    .shape = shape,
    .record = record,
    .ref = ref,
    .tol = 1e-5, /* dgate: float sums over positions against a double reference */
    .grad = {loss, SG_X, SG_DX, .more = {{SG_GATE, SG_DGATE}}, .nmore = 1},
};
