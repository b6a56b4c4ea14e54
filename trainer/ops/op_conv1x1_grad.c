/* conv1x1_grad: the input, weight and bias gradients of a 1x1 convolution (shaders
 * conv1x1_grad_dx and conv1x1_grad_w, or where the device's table row has a texel GEMM block
 * their texel-buffer twins conv1x1_grad_dx_texel and conv1x1_grad_w_texel, which also compute
 * S samples' partials in one dispatch): record, dispatch, and the generic form over the C
 * reference vkdp_grad_conv1x1. */
#include "vkdp/ops/grad_ops.h"
#include "vkdp/ops/tune.h"

enum { DX_DY, DX_W, DX_DX, DX_BINDINGS };
enum { DW_X, DW_DY, DW_DW, DW_DB, DW_BINDINGS };
/* the generic form's tensors; b is the forward's bias, read only by the loss; dws and dbs the
 * per-sample partials (parameter S > 0) */
enum { T_X, T_W, T_B, T_DY, T_DX, T_DW, T_DB, T_DWS, T_DBS };
enum { P_M, P_K, P_N, P_DB, P_S, P_PATH };
/* path: 0 as the device's table row says, 1 the storage-buffer shaders, 2 the texel ones */
enum { PATH_TABLE, PATH_SSBO, PATH_TEXEL };

typedef struct {
    uint32_t M, K, N;
} vkdp_conv1x1_grad_push;
_Static_assert(sizeof(vkdp_conv1x1_grad_push) == 12, "shaders/conv1x1_grad_{dx,w}.comp's push block");
typedef struct {
    uint32_t M, K, N, tiles_k, tiles;
} vkdp_conv1x1_grad_dx_texel_push;
_Static_assert(sizeof(vkdp_conv1x1_grad_dx_texel_push) == 20, "shaders/conv1x1_grad_dx_texel.comp's push block");
typedef struct {
    uint32_t rows, K, N, S, dw_stride4, db_stride4, tiles_n, tiles;
} vkdp_conv1x1_grad_w_texel_push;
_Static_assert(sizeof(vkdp_conv1x1_grad_w_texel_push) == 32, "shaders/conv1x1_grad_w_texel.comp's push block");

static const vkdp_shader_rec shader_dx = {"conv1x1_grad_dx", DX_BINDINGS,
                                          sizeof(vkdp_conv1x1_grad_push), VKDP_WRITES(DX_DX), 1};
static const vkdp_shader_rec shader_w = {"conv1x1_grad_w", DW_BINDINGS,
                                         sizeof(vkdp_conv1x1_grad_push),
                                         VKDP_WRITES(DW_DW) | VKDP_WRITES(DW_DB), 1};
static const vkdp_shader_rec texel_dx = {"conv1x1_grad_dx_texel", DX_BINDINGS,
                                         sizeof(vkdp_conv1x1_grad_dx_texel_push), VKDP_WRITES(DX_DX), 1};
static const vkdp_shader_rec texel_w = {"conv1x1_grad_w_texel", DW_BINDINGS,
                                        sizeof(vkdp_conv1x1_grad_w_texel_push),
                                        VKDP_WRITES(DW_DW) | VKDP_WRITES(DW_DB), 1};

/* The texel block (rows x vec4 columns of the output) for K x N, or 0 when the storage-buffer
 * shaders run: the forward GEMM's block from the table (the same fetch-per-FMA trade-off), where
 * K and N are multiples of 4. */
static int texel_block(vkdp_device *dev, uint32_t path, uint32_t K, uint32_t N, uint32_t block[2])
{
    const uint32_t *tb = vkdp_tune_get(dev)->gemm_texel;
    int use = K % 4 == 0 && N % 4 == 0 && (path == PATH_TEXEL || (path == PATH_TABLE && tb[0] && tb[1]));
    block[0] = tb[0] && tb[1] ? tb[0] : 8;
    block[1] = tb[0] && tb[1] ? tb[1] : 2;
    return use;
}

/* The sizes both gradients index in 32 bits, for S samples of rows x K -> N: checked once per
 * call, before grad_dx and grad_w, which rely on it. */
static void check_sizes(uint32_t S, uint32_t rows, uint32_t K, uint32_t N)
{
    uint64_t M = (uint64_t)S * rows;
    if (M <= UINT32_MAX && M * K <= UINT32_MAX && M * N <= UINT32_MAX && (uint64_t)K * N + N <= UINT32_MAX)
        return;
    if (S == 1)
        VKDP_FATAL("%s: %u x %u x %u too large for one dispatch", vkdp_rec_conv1x1_grad.name, rows, K, N);
    VKDP_FATAL("%s: %u samples of %u x %u x %u too large for one dispatch", vkdp_rec_conv1x1_grad.name, S,
               rows, K, N);
}

static void grad_dx(vkdp_cmd *c, vkdp_device *dev, uint32_t path, uint32_t M, uint32_t K, uint32_t N,
                    vkdp_view w, vkdp_view dy, vkdp_view dx, const char *label)
{
    const vkdp_op *op = &vkdp_rec_conv1x1_grad;
    uint32_t block[2];
    if (!texel_block(dev, path, K, N, block)) {
        vkdp_conv1x1_grad_push push = {M, K, N};
        vkdp_view v[DX_BINDINGS] = {dy, w, dx};
        vkdp_op_dispatch(c, dev, op, &shader_dx, NULL, 0, v, &push, (uint64_t)M * K, 1, label);
        return;
    }
    uint64_t tiles_k = vkdp_div_up(K, 4 * block[1]), tiles = tiles_k * vkdp_div_up(M, block[0]);
    if (tiles > UINT32_MAX)
        VKDP_FATAL("%s: %u x %u x %u too large for one dispatch", op->name, M, K, N);
    vkdp_conv1x1_grad_dx_texel_push push = {M, K, N, (uint32_t)tiles_k, (uint32_t)tiles};
    vkdp_view v[DX_BINDINGS] = {vkdp_texels_f32x4(dy, (uint64_t)M * N), vkdp_texels_f32x4(w, (uint64_t)K * N), dx};
    vkdp_op_dispatch(c, dev, op, &texel_dx, block, 2, v, &push, tiles, 1, label);
}

static void grad_w(vkdp_cmd *c, vkdp_device *dev, uint32_t path, uint32_t S, uint32_t rows, uint32_t K,
                   uint32_t N, vkdp_view x, vkdp_view dy, vkdp_view dw, uint64_t dw_stride, vkdp_view db,
                   uint64_t db_stride, const char *label)
{
    const vkdp_op *op = &vkdp_rec_conv1x1_grad;
    uint32_t has_db = db.buf != NULL, block[2];
    uint64_t M = (uint64_t)S * rows;
    if (!texel_block(dev, path, K, N, block) || dw_stride % 4 || db_stride % 4) {
        /* one dispatch per sample */
        vkdp_conv1x1_grad_push push = {rows, K, N};
        uint64_t n = (uint64_t)K * N + (has_db ? N : 0);
        uint64_t xb = (uint64_t)rows * K * 4, dyb = (uint64_t)rows * N * 4;
        vkdp_sample_parts parts = {{xb, dyb, (uint64_t)K * N * 4, (uint64_t)N * 4},
                                   {xb, dyb, dw_stride * 4, db_stride * 4}};
        vkdp_view v[DW_BINDINGS] = {x, dy, dw, db};
        vkdp_op_dispatch_samples(c, dev, op, &shader_w, S, v, &parts, &push, n, label);
        return;
    }
    /* block: k rows (rounded up to whole vec4s) x vec4 columns of dw per invocation */
    uint32_t rows4 = (block[0] + 3) / 4;
    uint64_t tiles_n = vkdp_div_up(N, 4 * block[1]), tiles = tiles_n * vkdp_div_up(K, 4 * rows4);
    uint64_t per = tiles + (has_db ? N / 4 : 0);
    if ((uint64_t)S * per > UINT32_MAX || (uint64_t)(S - 1) * dw_stride + (uint64_t)K * N > 4ull * UINT32_MAX)
        VKDP_FATAL("%s: %u samples of %u x %u x %u too large for one dispatch", op->name, S, rows, K, N);
    vkdp_conv1x1_grad_w_texel_push push = {rows, K, N, S, (uint32_t)(dw_stride / 4), (uint32_t)(db_stride / 4),
                                           (uint32_t)tiles_n, (uint32_t)tiles};
    vkdp_view v[DW_BINDINGS] = {vkdp_texels_f32x4(x, M * K), vkdp_texels_f32x4(dy, M * N), dw, has_db ? db : dw};
    uint32_t spec[3] = {has_db, rows4, block[1]};
    vkdp_op_dispatch(c, dev, op, &texel_w, spec, 3, v, &push, (uint64_t)S * per, 1, label);
}

void vkdp_op_conv1x1_grad(vkdp_cmd *c, vkdp_device *dev, uint32_t M, uint32_t K, uint32_t N,
                          vkdp_view x, vkdp_view w, vkdp_view dy, vkdp_view dx, vkdp_view dw,
                          vkdp_view db, const char *label)
{
    check_sizes(1, M, K, N);
    if (dx.buf)
        grad_dx(c, dev, PATH_TABLE, M, K, N, w, dy, dx, label);
    if (dw.buf)
        grad_w(c, dev, PATH_TABLE, 1, M, K, N, x, dy, dw, 0, db, 0, label);
}

void vkdp_op_conv1x1_grad_w_samples(vkdp_cmd *c, vkdp_device *dev, uint32_t S, uint32_t rows, uint32_t K,
                                    uint32_t N, vkdp_view x, vkdp_view dy, vkdp_view dw, uint64_t dw_stride,
                                    vkdp_view db, uint64_t db_stride, const char *label)
{
    check_sizes(S, rows, K, N);
    grad_w(c, dev, PATH_TABLE, S, rows, K, N, x, dy, dw, dw_stride, db, db_stride, label);
}

/* ---- generic form ---- */

static void shape(const vkdp_op *op, vkdp_device *dev, const int64_t *p, vkdp_tensor_shape *t)
{
    (void)op, (void)dev;
    uint64_t M = (uint64_t)p[P_M], K = (uint64_t)p[P_K], N = (uint64_t)p[P_N], S = (uint64_t)p[P_S];
    if (S && M % S)
        VKDP_FATAL("conv1x1_grad: M=%llu is not S=%llu samples of equal rows", (unsigned long long)M,
                   (unsigned long long)S);
    t[T_X] = vkdp_shape(M * K, -1, 1);
    t[T_W] = vkdp_shape(K * N, -0.5, 0.5);
    t[T_B] = vkdp_shape(N, -1, 1);
    t[T_DY] = vkdp_shape(M * N, -1, 1);
    t[T_DX] = vkdp_shape(M * K, 0, 0);
    t[T_DW] = vkdp_shape(K * N, 0, 0);
    t[T_DB] = vkdp_shape(N, 0, 0);
    t[T_DB].absent = !p[P_DB];
    t[T_DWS] = vkdp_shape(S * K * N, 0, 0);
    t[T_DWS].absent = !S;
    t[T_DBS] = vkdp_shape(S * N, 0, 0);
    t[T_DBS].absent = !S || !p[P_DB];
}

/* The whole batch's gradients; with S, also each sample's dw and db partials in one call. */
static void record(const vkdp_op *op, vkdp_cmd *c, vkdp_device *dev, const int64_t *p,
                   const vkdp_view *t)
{
    (void)op;
    uint32_t M = (uint32_t)p[P_M], K = (uint32_t)p[P_K], N = (uint32_t)p[P_N], S = (uint32_t)p[P_S];
    uint32_t path = (uint32_t)p[P_PATH];
    check_sizes(1, M, K, N); /* also covers the S samples of M / S rows */
    grad_dx(c, dev, path, M, K, N, t[T_W], t[T_DY], t[T_DX], NULL);
    grad_w(c, dev, path, 1, M, K, N, t[T_X], t[T_DY], t[T_DW], 0, t[T_DB], 0, NULL);
    if (S)
        grad_w(c, dev, path, S, M / S, K, N, t[T_X], t[T_DY], t[T_DWS], (uint64_t)K * N, t[T_DBS], N, NULL);
}

static void ref(const vkdp_op *op, vkdp_device *dev, const int64_t *p, void *const *t)
{
    (void)op, (void)dev;
    uint32_t M = (uint32_t)p[P_M], K = (uint32_t)p[P_K], N = (uint32_t)p[P_N], S = (uint32_t)p[P_S];
    const float *x = t[T_X], *dy = t[T_DY];
    float *dws = t[T_DWS], *dbs = t[T_DBS];
    vkdp_grad_conv1x1(M, K, N, x, t[T_W], dy, t[T_DX], t[T_DW], t[T_DB]);
    for (uint32_t s = 0; s < S; s++) {
        size_t r = M / S;
        vkdp_grad_conv1x1((uint32_t)r, K, N, x + s * r * K, t[T_W], dy + s * r * N, NULL, dws + (size_t)s * K * N,
                          dbs ? dbs + (size_t)s * N : NULL);
    }
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
    .fwd = {&shader_dx, &shader_w, &texel_dx, &texel_w},
    .params = {"M", "K", "N", "db", "S", "path"},
    .tensors = {{"x", VKDP_IN, VKDP_F32}, {"w", VKDP_IN, VKDP_F32}, {"b", VKDP_IN, VKDP_F32},
                {"dy", VKDP_IN, VKDP_F32}, {"dx", VKDP_OUT, VKDP_F32},
                {"dw", VKDP_OUT, VKDP_F32}, {"db", VKDP_OUT, VKDP_F32},
                {"dws", VKDP_OUT, VKDP_F32}, {"dbs", VKDP_OUT, VKDP_F32}},
    .shape = shape,
    .record = record,
    .ref = ref,
    .tol = 1e-5, /* float sums against a double reference */
    .grad = {loss, T_X, T_DX, .more = {{T_W, T_DW}, {T_B, T_DB}}, .nmore = 2},
};
