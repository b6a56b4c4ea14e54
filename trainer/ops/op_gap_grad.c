/* gap_grad: the input gradient of the global average pool, written or accumulated (shader
 * gap_grad): record, dispatch, and the generic form over the C reference vkdp_grad_gap. */
#include "vkdp/ops/grad_ops.h"

enum { G_DY, G_DX, G_BINDINGS };
enum { T_X, T_DY, T_DX }; /* x is read only by the loss */
enum { P_B, P_HW, P_C, P_ACC };

typedef struct {
    uint32_t n, HW, C;
} vkdp_gap_grad_push;
_Static_assert(sizeof(vkdp_gap_grad_push) == 12, "shaders/gap_grad.comp's push block");

static const vkdp_shader_rec shader = {"gap_grad", G_BINDINGS, sizeof(vkdp_gap_grad_push),
                                       VKDP_WRITES(G_DX), 1};

void vkdp_op_gap_grad(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint32_t HW, uint32_t C,
                      int accumulate, vkdp_view dy, vkdp_view dx, const char *label)
{
    uint64_t n = (uint64_t)B * HW * C;
    if (HW == 0 || C == 0 || n > UINT32_MAX)
        VKDP_FATAL("gap_grad: %u x %u x %u", B, HW, C);
    vkdp_gap_grad_push push = {(uint32_t)n, HW, C};
    uint32_t spec = accumulate != 0;
    vkdp_view v[G_BINDINGS] = {dy, dx};
    vkdp_op_dispatch(c, dev, &vkdp_rec_gap_grad, &shader, &spec, 1, v, &push, n, 1, label);
}

/* ---- generic form ---- */

static void shape(const vkdp_op *op, vkdp_device *dev, const int64_t *p, vkdp_tensor_shape *t)
{
    (void)op, (void)dev;
    uint64_t n = (uint64_t)(p[P_B] * p[P_HW] * p[P_C]);
    t[T_X] = vkdp_shape(n, -2, 2);
    t[T_DY] = vkdp_shape((uint64_t)(p[P_B] * p[P_C]), -1, 1);
    t[T_DX] = vkdp_shape(n, -1, 1); /* what accumulate adds to */
}

static void record(const vkdp_op *op, vkdp_cmd *c, vkdp_device *dev, const int64_t *p,
                   const vkdp_view *t)
{
    (void)op;
    vkdp_op_gap_grad(c, dev, (uint32_t)p[P_B], (uint32_t)p[P_HW], (uint32_t)p[P_C],
                     (int)p[P_ACC], t[T_DY], t[T_DX], NULL);
}

static void ref(const vkdp_op *op, vkdp_device *dev, const int64_t *p, void *const *t)
{
    (void)op, (void)dev;
    vkdp_grad_gap((uint32_t)p[P_B], (uint32_t)p[P_HW], (uint32_t)p[P_C], t[T_DY], t[T_DX],
                  (int)p[P_ACC]);
}

/* sum dy * mean_q x; accumulating adds the gradient dx0 (dx's prior contents) of another path,
 * the loss term sum dx0 * x */
static double loss(const vkdp_op *op, const int64_t *p, void *const *t)
{
    (void)op;
    const float *x = t[T_X], *dy = t[T_DY], *dx0 = t[T_DX];
    int64_t B = p[P_B], HW = p[P_HW], C = p[P_C];
    double s = 0;
    for (int64_t b = 0; b < B; b++)
        for (int64_t q = 0; q < HW; q++)
            for (int64_t c = 0; c < C; c++) {
                int64_t e = (b * HW + q) * C + c;
                s += (double)dy[b * C + c] * x[e] / (double)HW;
                if (p[P_ACC])
                    s += (double)dx0[e] * x[e];
            }
    return s;
}

const vkdp_op vkdp_rec_gap_grad = {
    .name = "gap_grad",
    .fwd = {&shader},
    .params = {"B", "HW", "C", "accumulate"},
    .tensors = {{"x", VKDP_IN, VKDP_F32}, {"dy", VKDP_IN, VKDP_F32}, {"dx", VKDP_INOUT, VKDP_F32}},
    .shape = shape,
    .record = record,
    .ref = ref,
    .tol = 1e-6, /* the device's division may be off by ulps */
    .grad = {loss, T_X, T_DX},
};
