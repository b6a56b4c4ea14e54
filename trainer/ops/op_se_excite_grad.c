/* se_excite_grad: the backward of the SE excitation (the two biased 1x1 convolutions with swish
 * and sigmoid) in four passes (shaders se_excite_grad_h, _z, _dh, _w): record, dispatch, and the
 * generic form over the C reference vkdp_grad_se_excite. */
#include <math.h>

#include "vkdp/ops/grad_ops.h"

enum { H_POOL, H_WR, H_BR, H_H, H_BINDINGS };
enum { Z_H, Z_WE, Z_BE, Z_DGATE, Z_DZ, Z_BINDINGS };
enum { D_H, D_WE, D_DZ, D_DH, D_BINDINGS };
enum { W_POOL, W_WR, W_H, W_DZ, W_DH, W_DPOOL, W_DWR, W_DBR, W_DWE, W_DBE, W_BINDINGS };
enum { T_POOL, T_WR, T_BR, T_WE, T_BE, T_DGATE, T_WORK, T_DPOOL, T_DWR, T_DBR, T_DWE, T_DBE };
enum { P_B, P_C, P_SE };

typedef struct {
    uint32_t B, C, se;
} vkdp_se_excite_grad_push;
_Static_assert(sizeof(vkdp_se_excite_grad_push) == 12, "shaders/se_excite_grad_*.comp's push block");

#define PUSH sizeof(vkdp_se_excite_grad_push)
static const vkdp_shader_rec shader_h = {"se_excite_grad_h", H_BINDINGS, PUSH,
                                         VKDP_WRITES(H_H), 0};
static const vkdp_shader_rec shader_z = {"se_excite_grad_z", Z_BINDINGS, PUSH,
                                         VKDP_WRITES(Z_DZ), 0};
static const vkdp_shader_rec shader_dh = {"se_excite_grad_dh", D_BINDINGS, PUSH,
                                          VKDP_WRITES(D_DH), 0};
static const vkdp_shader_rec shader_w = {"se_excite_grad_w", W_BINDINGS, PUSH,
                                         VKDP_WRITES(W_DPOOL) | VKDP_WRITES(W_DWR) |
                                             VKDP_WRITES(W_DBR) | VKDP_WRITES(W_DWE) |
                                             VKDP_WRITES(W_DBE), 0};

/* work holds h [B,se], dh [B,se], dz [B,C], each starting at a multiple of 64 floats: 256 bytes,
 * the largest storage-buffer offset alignment Vulkan allows */
static uint64_t pad64(uint64_t n) { return (n + 63) / 64 * 64; }

uint64_t vkdp_se_excite_grad_work(uint32_t B, uint32_t C, uint32_t se)
{
    return 2 * pad64((uint64_t)B * se) + (uint64_t)B * C;
}

static vkdp_view work_slice(vkdp_view work, uint64_t off, uint64_t n)
{
    return vkdp_slice(work.buf, work.offset + off * 4, n * 4);
}

void vkdp_op_se_excite_grad(vkdp_cmd *c, vkdp_device *dev, const vkdp_se_excite_grad_args *a,
                            const char *label)
{
    const vkdp_op *op = &vkdp_rec_se_excite_grad;
    uint32_t B = a->B, C = a->C, se = a->se;
    if (B == 0 || C == 0 || se == 0 || (uint64_t)B * C + 2ull * C * se + C + se > UINT32_MAX)
        VKDP_FATAL("%s: bad shape %u x %u, se %u", op->name, B, C, se);
    vkdp_se_excite_grad_push push = {B, C, se};
    uint64_t bse = (uint64_t)B * se;
    vkdp_view h = work_slice(a->work, 0, bse), dh = work_slice(a->work, pad64(bse), bse);
    vkdp_view dz = work_slice(a->work, 2 * pad64(bse), (uint64_t)B * C);
    vkdp_view vh[H_BINDINGS] = {a->pool, a->wr, a->br, h};
    vkdp_op_dispatch(c, dev, op, &shader_h, NULL, 0, vh, &push, bse, 1, label);
    vkdp_view vz[Z_BINDINGS] = {h, a->we, a->be, a->dgate, dz};
    vkdp_op_dispatch(c, dev, op, &shader_z, NULL, 0, vz, &push, (uint64_t)B * C, 1, label);
    vkdp_view vd[D_BINDINGS] = {h, a->we, dz, dh};
    vkdp_op_dispatch(c, dev, op, &shader_dh, NULL, 0, vd, &push, bse, 1, label);
    vkdp_view vw[W_BINDINGS] = {a->pool, a->wr, h, dz, dh, a->dpool, a->dwr, a->dbr, a->dwe, a->dbe};
    vkdp_op_dispatch(c, dev, op, &shader_w, NULL, 0, vw, &push,
                     (uint64_t)B * C + 2ull * C * se + se + C, 1, label);
}

/* ---- generic form ---- */

static void shape(const vkdp_op *op, vkdp_device *dev, const int64_t *p, vkdp_tensor_shape *t)
{
    (void)op, (void)dev;
    uint64_t B = (uint64_t)p[P_B], C = (uint64_t)p[P_C], se = (uint64_t)p[P_SE];
    t[T_POOL] = vkdp_shape(B * C, -2, 2);
    t[T_WR] = vkdp_shape(C * se, -0.5, 0.5);
    t[T_BR] = vkdp_shape(se, -0.5, 0.5);
    t[T_WE] = vkdp_shape(se * C, -0.5, 0.5);
    t[T_BE] = vkdp_shape(C, -0.5, 0.5);
    t[T_DGATE] = vkdp_shape(B * C, -1, 1);
    t[T_WORK] = vkdp_shape(vkdp_se_excite_grad_work((uint32_t)B, (uint32_t)C, (uint32_t)se), 0, 0);
    t[T_DPOOL] = vkdp_shape(B * C, 0, 0);
    t[T_DWR] = vkdp_shape(C * se, 0, 0);
    t[T_DBR] = vkdp_shape(se, 0, 0);
    t[T_DWE] = vkdp_shape(se * C, 0, 0);
    t[T_DBE] = vkdp_shape(C, 0, 0);
}

static void record(const vkdp_op *op, vkdp_cmd *c, vkdp_device *dev, const int64_t *p,
                   const vkdp_view *t)
{
    (void)op;
    vkdp_se_excite_grad_args a = {
        (uint32_t)p[P_B], (uint32_t)p[P_C], (uint32_t)p[P_SE], t[T_POOL], t[T_WR], t[T_BR],
        t[T_WE], t[T_BE], t[T_DGATE], t[T_WORK], t[T_DPOOL], t[T_DWR], t[T_DBR], t[T_DWE],
        t[T_DBE]};
    vkdp_op_se_excite_grad(c, dev, &a, NULL);
}

static void ref(const vkdp_op *op, vkdp_device *dev, const int64_t *p, void *const *t)
{
    (void)op, (void)dev;
    vkdp_grad_se_excite((uint32_t)p[P_B], (uint32_t)p[P_C], (uint32_t)p[P_SE], t[T_POOL],
                        t[T_WR], t[T_BR], t[T_WE], t[T_BE], t[T_DGATE], t[T_DPOOL], t[T_DWR],
                        t[T_DBR], t[T_DWE], t[T_DBE]);
}

/* sum dgate * sigmoid(swish(pool wr + br) we + be), in double */
static double loss(const vkdp_op *op, const int64_t *p, void *const *t)
{
    (void)op;
    const float *pool = t[T_POOL], *wr = t[T_WR], *br = t[T_BR], *we = t[T_WE], *be = t[T_BE];
    const float *dgate = t[T_DGATE];
    int64_t B = p[P_B], C = p[P_C], se = p[P_SE];
    double s = 0, r[64];
    if (se > 64)
        VKDP_FATAL("se_excite_grad's loss: se %lld > 64", (long long)se);
    for (int64_t b = 0; b < B; b++) {
        for (int64_t j = 0; j < se; j++) {
            double h = br[j];
            for (int64_t c = 0; c < C; c++)
                h += (double)pool[b * C + c] * wr[c * se + j];
            r[j] = h / (1 + exp(-h));
        }
        for (int64_t c = 0; c < C; c++) {
            double z = be[c];
            for (int64_t j = 0; j < se; j++)
                z += r[j] * we[j * C + c];
            s += dgate[b * C + c] / (1 + exp(-z));
        }
    }
    return s;
}

const vkdp_op vkdp_rec_se_excite_grad = {
    .name = "se_excite_grad",
    .fwd = {&shader_h, &shader_z, &shader_dh, &shader_w},
    .params = {"B", "C", "se"},
    .tensors = {{"pool", VKDP_IN, VKDP_F32}, {"wr", VKDP_IN, VKDP_F32}, {"br", VKDP_IN, VKDP_F32},
                {"we", VKDP_IN, VKDP_F32}, {"be", VKDP_IN, VKDP_F32},
                {"dgate", VKDP_IN, VKDP_F32}, {"work", VKDP_SCRATCH, VKDP_F32},
                {"dpool", VKDP_OUT, VKDP_F32}, {"dwr", VKDP_OUT, VKDP_F32},
                {"dbr", VKDP_OUT, VKDP_F32}, {"dwe", VKDP_OUT, VKDP_F32},
                {"dbe", VKDP_OUT, VKDP_F32}},
    .shape = shape,
    .record = record,
    .ref = ref,
    .tol = 1e-4, /* float sums of up to 1152 products against double ones, exp in between */
    .grad = {loss, T_POOL, T_DPOOL,
             .more = {{T_WR, T_DWR}, {T_BR, T_DBR}, {T_WE, T_DWE}, {T_BE, T_DBE}}, .nmore = 4},
};
