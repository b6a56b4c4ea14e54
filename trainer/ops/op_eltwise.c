/* eltwise: y = act(a op b) with op add or mul, four elements per invocation: record, dispatch and
 * C reference. */
#include "vkdp/ops/ops.h"

enum { EL_A, EL_B, EL_Y, EL_BINDINGS };
enum { P_N, P_OP, P_ACT };

typedef struct {
    uint32_t n;
} vkdp_eltwise_push;
_Static_assert(sizeof(vkdp_eltwise_push) == 4, "shaders/eltwise.comp's push block");

static const vkdp_shader_rec shader = {"eltwise", EL_BINDINGS, sizeof(vkdp_eltwise_push),
                                       VKDP_WRITES(EL_Y), 1};

void vkdp_op_eltwise(vkdp_cmd *c, vkdp_device *dev, vkdp_elt_op op, vkdp_act act, uint32_t n, vkdp_view a,
                     vkdp_view b, vkdp_view y, const char *label)
{
    uint32_t spec[2] = {(uint32_t)op, (uint32_t)act};
    vkdp_eltwise_push push = {n};
    vkdp_view v[EL_BINDINGS] = {a, b, y};
    vkdp_op_dispatch(c, dev, &vkdp_rec_eltwise, &shader, spec, 2, v, &push, vkdp_div_up(n, 4), 1,
                     label);
}

void vkdp_ref_eltwise(vkdp_elt_op op, vkdp_act act, uint32_t n, const float *a, const float *b, float *y)
{
    for (uint32_t i = 0; i < n; i++)
        y[i] = vkdp_ref_act(act, op == VKDP_ELT_ADD ? a[i] + b[i] : a[i] * b[i]);
}

/* ---- generic form ---- */

static void shape(const vkdp_op *op, vkdp_device *dev, const int64_t *p, vkdp_tensor_shape *t)
{
    (void)op, (void)dev;
    t[EL_A] = vkdp_shape((uint64_t)p[P_N], -3, 3);
    t[EL_B] = vkdp_shape((uint64_t)p[P_N], -3, 3);
    t[EL_Y] = vkdp_shape((uint64_t)p[P_N], 0, 0);
}

static void record(const vkdp_op *op, vkdp_cmd *c, vkdp_device *dev, const int64_t *p,
                   const vkdp_view *t)
{
    vkdp_op_eltwise(c, dev, (vkdp_elt_op)p[P_OP], (vkdp_act)p[P_ACT], (uint32_t)p[P_N], t[EL_A],
                    t[EL_B], t[EL_Y], op->name);
}

static void ref(const vkdp_op *op, vkdp_device *dev, const int64_t *p, void *const *t)
{
    (void)op, (void)dev;
    vkdp_ref_eltwise((vkdp_elt_op)p[P_OP], (vkdp_act)p[P_ACT], (uint32_t)p[P_N], t[EL_A],
                     t[EL_B], t[EL_Y]);
}

const vkdp_op vkdp_rec_eltwise = {
    .name = "eltwise",
    .fwd = {&shader},
    .params = {"n", "op", "act"},
    .tensors = {{"a", VKDP_IN, VKDP_F32}, {"b", VKDP_IN, VKDP_F32}, {"y", VKDP_OUT, VKDP_F32}},
    .shape = shape,
    .record = record,
    .ref = ref,
    .tol = 1e-6,
};
