/* grad_fx_add: per-sample gradient partials into an int64 fixed-point sum (shader grad_fx_add):
 * record, dispatch, and the C reference the generic op test holds it to bit for bit. */
#include <math.h>

#include "vkdp/ops/grad_ops.h"
#include "vkdp/ops/head_fx.h"

enum { F_G, F_ACC, F_OVF, F_BINDINGS };
enum { P_S, P_N, P_SHIFT };

typedef struct {
    uint32_t n, S;
    float scale;
} vkdp_grad_fx_add_push;
_Static_assert(sizeof(vkdp_grad_fx_add_push) == 12, "shaders/grad_fx_add.comp's push block");

static const vkdp_shader_rec shader = {"grad_fx_add", F_BINDINGS, sizeof(vkdp_grad_fx_add_push),
                                       VKDP_WRITES(F_ACC) | VKDP_WRITES(F_OVF), 1};

static void check_args(uint32_t S, uint64_t n, int shift)
{
    if (S == 0 || n == 0 || n > UINT32_MAX || (uint64_t)S * n > UINT32_MAX || shift < 0 || shift > 60)
        VKDP_FATAL("grad_fx_add: %u samples x %llu elements, shift %d", S, (unsigned long long)n, shift);
}

void vkdp_op_grad_fx_add(vkdp_cmd *c, vkdp_device *dev, uint32_t S, uint64_t n, int shift, vkdp_view g,
                         vkdp_view acc, vkdp_view ovf, const char *label)
{
    check_args(S, n, shift);
    vkdp_grad_fx_add_push push = {(uint32_t)n, S, ldexpf(1.0f, shift)};
    vkdp_view v[F_BINDINGS] = {g, acc, ovf};
    vkdp_op_dispatch(c, dev, &vkdp_rec_grad_fx_add, &shader, NULL, 0, v, &push, n, 1, label);
}

void vkdp_grad_fx_add_ref(uint32_t S, uint64_t n, int shift, const float *g, int64_t *acc, uint32_t *ovf)
{
    check_args(S, n, shift);
    for (uint64_t i = 0; i < n; i++) {
        int64_t s = acc[i];
        uint32_t o = ovf[i];
        for (uint32_t k = 0; k < S; k++)
            s += vkdp_fx(g[(uint64_t)k * n + i], shift, &o);
        acc[i] = s;
        ovf[i] = o;
    }
}

/* ---- generic form ---- */

static void shape(const vkdp_op *op, vkdp_device *dev, const int64_t *p, vkdp_tensor_shape *t)
{
    (void)op, (void)dev;
    uint64_t S = (uint64_t)p[P_S], n = (uint64_t)p[P_N];
    t[F_G] = vkdp_shape(S * n, -3, 3);
    t[F_ACC] = vkdp_shape(n, -0x1p50, 0x1p50); /* what earlier samples added */
    t[F_OVF] = vkdp_shape(n, 0, 3);
}

static void record(const vkdp_op *op, vkdp_cmd *c, vkdp_device *dev, const int64_t *p, const vkdp_view *t)
{
    (void)op;
    vkdp_op_grad_fx_add(c, dev, (uint32_t)p[P_S], (uint64_t)p[P_N], (int)p[P_SHIFT], t[F_G], t[F_ACC], t[F_OVF],
                        NULL);
}

static void ref(const vkdp_op *op, vkdp_device *dev, const int64_t *p, void *const *t)
{
    (void)op, (void)dev;
    vkdp_grad_fx_add_ref((uint32_t)p[P_S], (uint64_t)p[P_N], (int)p[P_SHIFT], t[F_G], t[F_ACC], t[F_OVF]);
}

const vkdp_op vkdp_rec_grad_fx_add = {
    .name = "grad_fx_add",
    .fwd = {&shader},
    .params = {"S", "n", "shift"},
    .tensors = {{"g", VKDP_IN, VKDP_F32}, {"acc", VKDP_INOUT, VKDP_I64}, {"ovf", VKDP_INOUT, VKDP_U32}},
    .shape = shape,
    .record = record,
    .ref = ref,
    .tol = 0,
};
