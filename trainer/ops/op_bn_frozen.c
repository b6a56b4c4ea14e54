/* bn_frozen and bn_frozen_grad: an inference-mode BatchNormalization as a per-channel affine
 * (+ activation) and its input gradient (shaders bn_frozen, bn_frozen_grad): records, dispatch,
 * and the generic forms over the C references vkdp_ref_bn_frozen and vkdp_grad_bn_frozen. */
#include "vkdp/ops/grad_ops.h"

enum { F_X, F_SCALE, F_SHIFT, F_Y, F_BINDINGS };
enum { G_DY, G_SCALE, G_DX, G_BINDINGS };
enum { T_X, T_SCALE, T_DY, T_DX }; /* bn_frozen_grad's tensors; x is read only by the loss */
enum { P_M, P_C, P_ACT };

typedef struct {
    uint32_t n, C;
} vkdp_bn_frozen_push;
_Static_assert(sizeof(vkdp_bn_frozen_push) == 8, "shaders/bn_frozen*.comp's push block");

static const vkdp_shader_rec shader_fwd = {"bn_frozen", F_BINDINGS, sizeof(vkdp_bn_frozen_push),
                                           VKDP_WRITES(F_Y), 1};
static const vkdp_shader_rec shader_grad = {"bn_frozen_grad", G_BINDINGS,
                                            sizeof(vkdp_bn_frozen_push), VKDP_WRITES(G_DX), 1};

static vkdp_bn_frozen_push push_of(const vkdp_op *op, uint64_t n, uint32_t C)
{
    if (n > UINT32_MAX || C == 0 || n % C)
        VKDP_FATAL("%s: %llu elements are not a multiple of %u channels below 2^32", op->name,
                   (unsigned long long)n, C);
    vkdp_bn_frozen_push p = {(uint32_t)n, C};
    return p;
}

void vkdp_op_bn_frozen(vkdp_cmd *c, vkdp_device *dev, uint64_t n, uint32_t C, vkdp_act act,
                       vkdp_view x, vkdp_view scale, vkdp_view shift, vkdp_view y,
                       const char *label)
{
    vkdp_bn_frozen_push push = push_of(&vkdp_rec_bn_frozen, n, C);
    uint32_t spec = (uint32_t)act;
    vkdp_view v[F_BINDINGS] = {x, scale, shift, y};
    vkdp_op_dispatch(c, dev, &vkdp_rec_bn_frozen, &shader_fwd, &spec, 1, v, &push, n, 1, label);
}

void vkdp_op_bn_frozen_grad(vkdp_cmd *c, vkdp_device *dev, uint64_t n, uint32_t C, vkdp_view dy,
                            vkdp_view scale, vkdp_view dx, const char *label)
{
    vkdp_bn_frozen_push push = push_of(&vkdp_rec_bn_frozen_grad, n, C);
    vkdp_view v[G_BINDINGS] = {dy, scale, dx};
    vkdp_op_dispatch(c, dev, &vkdp_rec_bn_frozen_grad, &shader_grad, NULL, 0, v, &push, n, 1,
                     label);
}

/* ---- generic forms (parameters M rows of C channels; the forward's act) ---- */

static void shape_fwd(const vkdp_op *op, vkdp_device *dev, const int64_t *p,
                      vkdp_tensor_shape *t)
{
    (void)op, (void)dev;
    uint64_t n = (uint64_t)(p[P_M] * p[P_C]);
    t[F_X] = vkdp_shape(n, -4, 4);
    t[F_SCALE] = vkdp_shape((uint64_t)p[P_C], -2, 2);
    t[F_SHIFT] = vkdp_shape((uint64_t)p[P_C], -2, 2);
    t[F_Y] = vkdp_shape(n, 0, 0);
}

static void record_fwd(const vkdp_op *op, vkdp_cmd *c, vkdp_device *dev, const int64_t *p,
                       const vkdp_view *t)
{
    (void)op;
    vkdp_op_bn_frozen(c, dev, (uint64_t)(p[P_M] * p[P_C]), (uint32_t)p[P_C], (vkdp_act)p[P_ACT],
                      t[F_X], t[F_SCALE], t[F_SHIFT], t[F_Y], NULL);
}

static void ref_fwd(const vkdp_op *op, vkdp_device *dev, const int64_t *p, void *const *t)
{
    (void)op, (void)dev;
    size_t n = (size_t)(p[P_M] * p[P_C]);
    float *y = t[F_Y];
    vkdp_ref_bn_frozen((size_t)p[P_M], (int)p[P_C], t[F_SCALE], t[F_SHIFT], t[F_X], y);
    for (size_t i = 0; i < n; i++)
        y[i] = vkdp_ref_act((vkdp_act)p[P_ACT], y[i]);
}

const vkdp_op vkdp_rec_bn_frozen = {
    .name = "bn_frozen",
    .fwd = {&shader_fwd},
    .bwd = {&shader_grad},
    .params = {"M", "C", "act"},
    .tensors = {{"x", VKDP_IN, VKDP_F32}, {"scale", VKDP_IN, VKDP_F32},
                {"shift", VKDP_IN, VKDP_F32}, {"y", VKDP_OUT, VKDP_F32}},
    .shape = shape_fwd,
    .record = record_fwd,
    .ref = ref_fwd,
    .tol = 1e-6, /* the device's exp, and a multiply-add it may fuse */
};

static void shape_grad(const vkdp_op *op, vkdp_device *dev, const int64_t *p,
                       vkdp_tensor_shape *t)
{
    (void)op, (void)dev;
    uint64_t n = (uint64_t)(p[P_M] * p[P_C]);
    t[T_X] = vkdp_shape(n, -4, 4);
    t[T_SCALE] = vkdp_shape((uint64_t)p[P_C], -2, 2);
    t[T_DY] = vkdp_shape(n, -1, 1);
    t[T_DX] = vkdp_shape(n, 0, 0);
}

static void record_grad(const vkdp_op *op, vkdp_cmd *c, vkdp_device *dev, const int64_t *p,
                        const vkdp_view *t)
{
    (void)op;
    vkdp_op_bn_frozen_grad(c, dev, (uint64_t)(p[P_M] * p[P_C]), (uint32_t)p[P_C], t[T_DY],
                           t[T_SCALE], t[T_DX], NULL);
}

static void ref_grad(const vkdp_op *op, vkdp_device *dev, const int64_t *p, void *const *t)
{
    (void)op, (void)dev;
    vkdp_grad_bn_frozen((size_t)p[P_M], (int)p[P_C], t[T_SCALE], t[T_DY], t[T_DX]);
}

/* sum dy * (x * scale) (the shift's term does not depend on x) */
static double loss_grad(const vkdp_op *op, const int64_t *p, void *const *t)
{
    (void)op;
    const float *x = t[T_X], *scale = t[T_SCALE], *dy = t[T_DY];
    double s = 0;
    for (int64_t i = 0; i < p[P_M] * p[P_C]; i++)
        s += (double)dy[i] * x[i] * scale[i % p[P_C]];
    return s;
}

const vkdp_op vkdp_rec_bn_frozen_grad = {
    .name = "bn_frozen_grad",
    .fwd = {&shader_grad},
    .params = {"M", "C"},
    .tensors = {{"x", VKDP_IN, VKDP_F32}, {"scale", VKDP_IN, VKDP_F32}, {"dy", VKDP_IN, VKDP_F32},
                {"dx", VKDP_OUT, VKDP_F32}},
    .shape = shape_grad,
    .record = record_grad,
    .ref = ref_grad,
    .tol = 0, /* one float multiply: bit-exact */
    .grad = {loss_grad, T_X, T_DX},
};
