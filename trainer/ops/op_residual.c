/* residual and residual_grad: the residual add after Keras' drop connect and its branch gradient
 * (shaders residual, residual_grad): records, dispatch, and the generic forms over the C
 * references vkdp_ref_residual and vkdp_grad_residual. */
#include "vkdp/ops/grad_ops.h"

enum { F_BRANCH, F_INPUT, F_SCALE, F_Y, F_BINDINGS };
enum { G_DY, G_SCALE, G_DBRANCH, G_BINDINGS };
/* residual_grad's tensors; branch and input are read only by the loss */
enum { T_BRANCH, T_INPUT, T_SCALE, T_DY, T_DBRANCH };
enum { P_B, P_N };

typedef struct {
    uint32_t n, N;
} vkdp_residual_push;
_Static_assert(sizeof(vkdp_residual_push) == 8, "shaders/residual*.comp's push block");

static const vkdp_shader_rec shader_fwd = {"residual", F_BINDINGS, sizeof(vkdp_residual_push),
                                           VKDP_WRITES(F_Y), 1};
static const vkdp_shader_rec shader_grad = {"residual_grad", G_BINDINGS,
                                            sizeof(vkdp_residual_push), VKDP_WRITES(G_DBRANCH),
                                            1};

static vkdp_residual_push push_of(const vkdp_op *op, uint32_t B, uint64_t N)
{
    if (N == 0 || (uint64_t)B * N > UINT32_MAX)
        VKDP_FATAL("%s: %u samples of %llu elements", op->name, B, (unsigned long long)N);
    vkdp_residual_push p = {(uint32_t)(B * N), (uint32_t)N};
    return p;
}

void vkdp_op_residual(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint64_t N, vkdp_view branch,
                      vkdp_view input, vkdp_view scale, vkdp_view y, const char *label)
{
    vkdp_residual_push push = push_of(&vkdp_rec_residual, B, N);
    vkdp_view v[F_BINDINGS] = {branch, input, scale, y};
    vkdp_op_dispatch(c, dev, &vkdp_rec_residual, &shader_fwd, NULL, 0, v, &push, push.n, 1,
                     label);
}

void vkdp_op_residual_grad(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint64_t N, vkdp_view dy,
                           vkdp_view scale, vkdp_view dbranch, const char *label)
{
    vkdp_residual_push push = push_of(&vkdp_rec_residual_grad, B, N);
    vkdp_view v[G_BINDINGS] = {dy, scale, dbranch};
    vkdp_op_dispatch(c, dev, &vkdp_rec_residual_grad, &shader_grad, NULL, 0, v, &push, push.n,
                     1, label);
}

/* ---- generic forms (parameters B samples of N elements) ---- */

static void shape_fwd(const vkdp_op *op, vkdp_device *dev, const int64_t *p,
                      vkdp_tensor_shape *t)
{
    (void)op, (void)dev;
    uint64_t n = (uint64_t)(p[P_B] * p[P_N]);
    t[F_BRANCH] = vkdp_shape(n, -3, 3);
    t[F_INPUT] = vkdp_shape(n, -3, 3);
    t[F_SCALE] = vkdp_shape((uint64_t)p[P_B], 0, 2);
    t[F_Y] = vkdp_shape(n, 0, 0);
}

static void record_fwd(const vkdp_op *op, vkdp_cmd *c, vkdp_device *dev, const int64_t *p,
                       const vkdp_view *t)
{
    (void)op;
    vkdp_op_residual(c, dev, (uint32_t)p[P_B], (uint64_t)p[P_N], t[F_BRANCH], t[F_INPUT],
                     t[F_SCALE], t[F_Y], NULL);
}

static void ref_fwd(const vkdp_op *op, vkdp_device *dev, const int64_t *p, void *const *t)
{
    (void)op, (void)dev;
    vkdp_ref_residual((uint32_t)p[P_B], (size_t)p[P_N], t[F_BRANCH], t[F_INPUT], t[F_SCALE],
                      t[F_Y]);
}

const vkdp_op vkdp_rec_residual = {
    .name = "residual",
    .fwd = {&shader_fwd},
    .bwd = {&shader_grad},
    .params = {"B", "N"},
    .tensors = {{"branch", VKDP_IN, VKDP_F32}, {"input", VKDP_IN, VKDP_F32},
                {"scale", VKDP_IN, VKDP_F32}, {"y", VKDP_OUT, VKDP_F32}},
    .shape = shape_fwd,
    .record = record_fwd,
    .ref = ref_fwd,
    .tol = 1e-6, /* a multiply-add the device may fuse */
};

static void shape_grad(const vkdp_op *op, vkdp_device *dev, const int64_t *p,
                       vkdp_tensor_shape *t)
{
    (void)op, (void)dev;
    uint64_t n = (uint64_t)(p[P_B] * p[P_N]);
    t[T_BRANCH] = vkdp_shape(n, -3, 3);
    t[T_INPUT] = vkdp_shape(n, -3, 3);
    t[T_SCALE] = vkdp_shape((uint64_t)p[P_B], 0, 2);
    t[T_DY] = vkdp_shape(n, -1, 1);
    t[T_DBRANCH] = vkdp_shape(n, 0, 0);
}

static void record_grad(const vkdp_op *op, vkdp_cmd *c, vkdp_device *dev, const int64_t *p,
                        const vkdp_view *t)
{
    (void)op;
    vkdp_op_residual_grad(c, dev, (uint32_t)p[P_B], (uint64_t)p[P_N], t[T_DY], t[T_SCALE],
                          t[T_DBRANCH], NULL);
}

static void ref_grad(const vkdp_op *op, vkdp_device *dev, const int64_t *p, void *const *t)
{
    (void)op, (void)dev;
    vkdp_grad_residual((uint32_t)p[P_B], (size_t)p[P_N], t[T_DY], t[T_SCALE], t[T_DBRANCH],
                       NULL);
}

/* sum dy * (branch * scale[b] + input) */
static double loss_grad(const vkdp_op *op, const int64_t *p, void *const *t)
{
    (void)op;
    const float *br = t[T_BRANCH], *in = t[T_INPUT], *s = t[T_SCALE], *dy = t[T_DY];
    double sum = 0;
    for (int64_t i = 0; i < p[P_B] * p[P_N]; i++)
        sum += (double)dy[i] * ((double)br[i] * s[i / p[P_N]] + in[i]);
    return sum;
}

const vkdp_op vkdp_rec_residual_grad = {
    .name = "residual_grad",
    .fwd = {&shader_grad},
    .params = {"B", "N"},
    .tensors = {{"branch", VKDP_IN, VKDP_F32}, {"input", VKDP_IN, VKDP_F32},
                {"scale", VKDP_IN, VKDP_F32}, {"dy", VKDP_IN, VKDP_F32},
                {"dbranch", VKDP_OUT, VKDP_F32}},
    .shape = shape_grad,
    .record = record_grad,
    .ref = ref_grad,
    .tol = 0, /* one float multiply: bit-exact */
    .grad = {loss_grad, T_BRANCH, T_DBRANCH},
};
