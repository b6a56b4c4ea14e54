/* conv1x1_grad: the input, weight and bias gradients of a 1x1 convolution (shaders
 * conv1x1_grad_dx and conv1x1_grad_w): record, dispatch, and the generic form over the C
 * reference vkdp_grad_conv1x1. */
#include "vkdp/ops/grad_ops.h"

enum { DX_DY, DX_W, DX_DX, DX_BINDINGS };
enum { DW_X, DW_DY, DW_DW, DW_DB, DW_BINDINGS };
/* the generic form's tensors; b is the forward's bias, read only by the loss */
enum { T_X, T_W, T_B, T_DY, T_DX, T_DW, T_DB };
enum { P_M, P_K, P_N, P_DB };

typedef struct {
    uint32_t M, K, N;
} vkdp_conv1x1_grad_push;
_Static_assert(sizeof(vkdp_conv1x1_grad_push) == 12, "shaders/conv1x1_grad_*.comp's push block");

static const vkdp_shader_rec shader_dx = {"conv1x1_grad_dx", DX_BINDINGS,
                                          sizeof(vkdp_conv1x1_grad_push), VKDP_WRITES(DX_DX), 1};
static const vkdp_shader_rec shader_w = {"conv1x1_grad_w", DW_BINDINGS,
                                         sizeof(vkdp_conv1x1_grad_push),
                                         VKDP_WRITES(DW_DW) | VKDP_WRITES(DW_DB), 1};

void vkdp_op_conv1x1_grad(vkdp_cmd *c, vkdp_device *dev, uint32_t M, uint32_t K, uint32_t N,
                          vkdp_view x, vkdp_view w, vkdp_view dy, vkdp_view dx, vkdp_view dw,
                          vkdp_view db, const char *label)
{
    const vkdp_op *op = &vkdp_rec_conv1x1_grad;
    if ((uint64_t)M * K > UINT32_MAX || (uint64_t)M * N > UINT32_MAX ||
        (uint64_t)K * N + N > UINT32_MAX)
        VKDP_FATAL("%s: %u x %u x %u too large for one dispatch", op->name, M, K, N);
    vkdp_conv1x1_grad_push push = {M, K, N};
    if (dx.buf) {
        vkdp_view v[DX_BINDINGS] = {dy, w, dx};
        vkdp_op_dispatch(c, dev, op, &shader_dx, NULL, 0, v, &push, (uint64_t)M * K, 1, label);
    }
    if (dw.buf) {
        /* without db (HAS_DB off) binding 3 takes dw's view, which the shader then never
         * writes through it */
        vkdp_view v[DW_BINDINGS] = {x, dy, dw, db.buf ? db : dw};
        uint64_t n = (uint64_t)K * N + (db.buf ? N : 0);
        uint32_t has_db = db.buf != NULL;
        vkdp_op_dispatch(c, dev, op, &shader_w, &has_db, 1, v, &push, n, 1, label);
    }
}

/* ---- generic form ---- */

static void shape(const vkdp_op *op, vkdp_device *dev, const int64_t *p, vkdp_tensor_shape *t)
{
    (void)op, (void)dev;
    uint64_t M = (uint64_t)p[P_M], K = (uint64_t)p[P_K], N = (uint64_t)p[P_N];
    t[T_X] = vkdp_shape(M * K, -1, 1);
    t[T_W] = vkdp_shape(K * N, -0.5, 0.5);
    t[T_B] = vkdp_shape(N, -1, 1);
    t[T_DY] = vkdp_shape(M * N, -1, 1);
    t[T_DX] = vkdp_shape(M * K, 0, 0);
    t[T_DW] = vkdp_shape(K * N, 0, 0);
    t[T_DB] = vkdp_shape(N, 0, 0);
    t[T_DB].absent = !p[P_DB];
}

static void record(const vkdp_op *op, vkdp_cmd *c, vkdp_device *dev, const int64_t *p,
                   const vkdp_view *t)
{
    (void)op;
    vkdp_op_conv1x1_grad(c, dev, (uint32_t)p[P_M], (uint32_t)p[P_K], (uint32_t)p[P_N], t[T_X],
                         t[T_W], t[T_DY], t[T_DX], t[T_DW], t[T_DB], NULL);
}

static void ref(const vkdp_op *op, vkdp_device *dev, const int64_t *p, void *const *t)
{
    (void)op, (void)dev;
    vkdp_grad_conv1x1((uint32_t)p[P_M], (uint32_t)p[P_K], (uint32_t)p[P_N], t[T_X], t[T_W],
                      t[T_DY], t[T_DX], t[T_DW], t[T_DB]);
}

/* sum dy * (x w + b), in double */
static double loss(const vkdp_op *op, const int64_t *p, void *const *t)
{
    (void)op;
    const float *x = t[T_X], *w = t[T_W], *b = t[T_B], *dy = t[T_DY];
    int64_t M = p[P_M], K = p[P_K], N = p[P_N];
    double s = 0;
    for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++) {
            double y = b[n];
            for (int64_t k = 0; k < K; k++)
                y += (double)x[m * K + k] * w[k * N + n];
            s += dy[m * N + n] * y;
        }
    return s;
}

const vkdp_op vkdp_rec_conv1x1_grad = {
    .name = "conv1x1_grad",
    .fwd = {&shader_dx, &shader_w},
    .params = {"M", "K", "N", "db"},
    .tensors = {{"x", VKDP_IN, VKDP_F32}, {"w", VKDP_IN, VKDP_F32}, {"b", VKDP_IN, VKDP_F32},
                {"dy", VKDP_IN, VKDP_F32}, {"dx", VKDP_OUT, VKDP_F32},
                {"dw", VKDP_OUT, VKDP_F32}, {"db", VKDP_OUT, VKDP_F32}},
    .shape = shape,
    .record = record,
    .ref = ref,
    .tol = 1e-5, /* float sums against a double reference */
    .grad = {loss, T_X, T_DX, .more = {{T_W, T_DW}, {T_B, T_DB}}, .nmore = 2},
};
