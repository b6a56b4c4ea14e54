/* conv2d_1x1: the 1x1 convolution (GEMM + bias + activation, optional fused SE row scale of its
 * input and residual add of its output): register-blocked through storage buffers or, where the
 * device's table row says so, texel buffers (lavapipe) or shared-memory tiles (GPUs): record,
 * dispatch and C reference. */
#include <stdlib.h>

#include "vkdp/ops/ops.h"
#include "vkdp/ops/tune.h"

enum { CV_X, CV_W, CV_BIAS, CV_Y, CV_RES, CV_SCALE, CV_BINDINGS };
enum { P_M, P_K, P_N, P_ACT, P_RES, P_SCALE, P_RPG, P_PATH, P_ROWS, P_COLS4 };

typedef struct {
    uint32_t M, K, N, RPG, tiles_n, tiles;
} vkdp_conv1x1_push;
_Static_assert(sizeof(vkdp_conv1x1_push) == 24, "shaders/conv2d_1x1.comp's push block");

/* one invocation per 8x8 block of Y, groups spread over x and y */
static const vkdp_shader_rec shader = {"conv2d_1x1", CV_BINDINGS, sizeof(vkdp_conv1x1_push),
                                       VKDP_WRITES(CV_Y), 1};
/* the same through uniform texel buffers, blocks of the device's size (vkdp/ops/tune.h) */
static const vkdp_shader_rec texel = {"conv2d_1x1_texel", CV_BINDINGS, sizeof(vkdp_conv1x1_push),
                                      VKDP_WRITES(CV_Y), 1};
/* one workgroup per tile of Y, X and W staged in shared memory (GPUs) */
static const vkdp_shader_rec smem = {"conv2d_1x1_smem", CV_BINDINGS, sizeof(vkdp_conv1x1_push),
                                     VKDP_WRITES(CV_Y), 1};

/* conv2d_1x1_smem.comp's geometry: its BK and the 4x4 outputs each invocation keeps */
enum { SMEM_BK = 16, SMEM_TM = 4, SMEM_TN = 4 };

/* The shared-memory path: wg invocations as TROWS x TCOLS (TCOLS the power of 2 at or above
 * sqrt(wg)), a tile of 4 * TROWS rows x 4 * TCOLS columns; 64 invocations: 32 x 32. */
static void conv1x1_smem(vkdp_cmd *c, vkdp_device *dev, const vkdp_conv1x1_args *a, int has_res,
                         int has_scale, const vkdp_view *v, const char *label)
{
    uint32_t wg = vkdp_tune_get(dev)->wg, tcols = 1;
    while (tcols * tcols < wg)
        tcols *= 2;
    uint32_t bm = wg / tcols * SMEM_TM, bn = tcols * SMEM_TN;
    uint64_t shared = (uint64_t)SMEM_BK * ((bm + 1) + bn) * sizeof(float);
    uint32_t max_shared = vkdp_device_get_info(dev)->max_shared_memory;
    if (shared > max_shared)
        VKDP_FATAL("%s: the shared-memory GEMM's %u x %u tile needs %llu bytes of shared memory, the "
                   "device has %u (a smaller wg)", label, bm, bn, (unsigned long long)shared, max_shared);
    uint64_t tiles_n = vkdp_div_up(a->N, bn), tiles = tiles_n * vkdp_div_up(a->M, bm);
    if (tiles > UINT32_MAX)
        VKDP_FATAL("%s: GEMM %u x %u too large for one dispatch", label, a->M, a->N);
    vkdp_conv1x1_push push = {a->M, a->K, a->N, has_scale ? a->rows_per_group : 1, (uint32_t)tiles_n,
                              (uint32_t)tiles};
    uint32_t spec[6] = {(uint32_t)a->act, (uint32_t)has_res, (uint32_t)has_scale, SMEM_TM, SMEM_TN, tcols};
    vkdp_op_dispatch(c, dev, &vkdp_rec_conv1x1, &smem, spec, 6, v, &push, tiles * wg, 1, label);
}

void vkdp_op_conv1x1(vkdp_cmd *c, vkdp_device *dev, const vkdp_conv1x1_args *a, const char *label)
{
    if (!label)
        label = vkdp_rec_conv1x1.name;
    if (a->M == 0 || a->K == 0 || a->N == 0)
        VKDP_FATAL("%s: empty GEMM %u x %u x %u", label, a->M, a->K, a->N);
    if (a->path > 3 || a->block[0] > 16 || a->block[1] > 4)
        VKDP_FATAL("%s: path %u, block %u x %u (at most 16 rows x 4 vec4)", label, a->path,
                   a->block[0], a->block[1]);
    int has_res = a->residual.buf != NULL, has_scale = a->row_scale.buf != NULL;
    if (has_scale && a->rows_per_group == 0)
        VKDP_FATAL("%s: row_scale needs rows_per_group", label);
    int vec4 = a->K % 4 == 0 && a->N % 4 == 0;
    const vkdp_tune *tune = vkdp_tune_get(dev);
    const uint32_t *tb = tune->gemm_texel;
    uint32_t rows = a->block[0] ? a->block[0] : tb[0], cols4 = a->block[1] ? a->block[1] : tb[1];
    int use_texel = vec4 && (a->path == 2 || (a->path == 0 && tb[0] && tb[1]));
    if (use_texel && (rows == 0 || cols4 == 0))
        rows = 8, cols4 = 2; /* a forced texel path on a device whose row has none */
    /* Unused optional bindings alias x: the shader never reads them (spec constants off). */
    vkdp_view v[CV_BINDINGS] = {a->x, a->w, a->bias, a->y, has_res ? a->residual : a->x,
                                has_scale ? a->row_scale : a->x};
    /* the row's texel path first where it applies (K, N multiples of 4), then its smem path */
    if (a->path == 3 || (a->path == 0 && !use_texel && tune->gemm_smem)) {
        conv1x1_smem(c, dev, a, has_res, has_scale, v, label);
        return;
    }
    uint32_t bm = use_texel ? rows : 8, bn = use_texel ? 4 * cols4 : 8;
    uint64_t tiles = vkdp_div_up(a->N, bn) * vkdp_div_up(a->M, bm);
    if (tiles > UINT32_MAX)
        VKDP_FATAL("%s: GEMM %u x %u too large for one dispatch", label, a->M, a->N);
    vkdp_conv1x1_push push = {a->M, a->K, a->N, has_scale ? a->rows_per_group : 1,
                              (uint32_t)vkdp_div_up(a->N, bn), (uint32_t)tiles};
    if (use_texel) {
        uint64_t M = a->M, K = a->K, N = a->N;
        uint64_t groups = has_scale ? vkdp_div_up(M, a->rows_per_group) : 1;
        v[CV_X] = vkdp_texels_f32x4(a->x, M * K);
        v[CV_W] = vkdp_texels_f32x4(a->w, K * N);
        v[CV_BIAS] = vkdp_texels_f32x4(a->bias, N);
        v[CV_RES] = has_res ? vkdp_texels_f32x4(a->residual, M * N) : v[CV_X];
        v[CV_SCALE] = has_scale ? vkdp_texels_f32x4(a->row_scale, groups * K) : v[CV_X];
        uint32_t spec[5] = {(uint32_t)a->act, (uint32_t)has_res, (uint32_t)has_scale, rows, cols4};
        vkdp_op_dispatch(c, dev, &vkdp_rec_conv1x1, &texel, spec, 5, v, &push, tiles, 1, label);
        return;
    }
    uint32_t spec[4] = {(uint32_t)a->act, (uint32_t)has_res, (uint32_t)has_scale, (uint32_t)vec4};
    vkdp_op_dispatch(c, dev, &vkdp_rec_conv1x1, &shader, spec, 4, v, &push, tiles, 1, label);
}

void vkdp_ref_conv1x1(uint32_t M, uint32_t K, uint32_t N, vkdp_act act, const float *x, const float *w,
                      const float *bias, const float *residual, const float *row_scale, uint32_t rows_per_group,
                      float *y)
{
    double *acc = vkdp_xcalloc(N, sizeof *acc);
    for (uint32_t m = 0; m < M; m++) {
        for (uint32_t n = 0; n < N; n++)
            acc[n] = 0;
        const float *s = row_scale ? row_scale + (size_t)(m / rows_per_group) * K : NULL;
        for (uint32_t k = 0; k < K; k++) {
            double xv = x[(size_t)m * K + k];
            if (s)
                xv = (float)(x[(size_t)m * K + k] * s[k]);
            const float *wr = w + (size_t)k * N;
            for (uint32_t n = 0; n < N; n++)
                acc[n] += xv * wr[n];
        }
        for (uint32_t n = 0; n < N; n++) {
            float v = vkdp_ref_act(act, (float)(acc[n] + bias[n]));
            if (residual)
                v += residual[(size_t)m * N + n];
            y[(size_t)m * N + n] = v;
        }
    }
    free(acc);
}

/* ---- generic form ---- */

static void shape(const vkdp_op *op, vkdp_device *dev, const int64_t *p, vkdp_tensor_shape *t)
{
    (void)op, (void)dev;
    uint64_t M = (uint64_t)p[P_M], K = (uint64_t)p[P_K], N = (uint64_t)p[P_N];
    uint64_t groups = p[P_SCALE] ? vkdp_div_up(M, (uint64_t)p[P_RPG]) : 0;
    t[CV_X] = vkdp_shape(M * K, -1, 1);
    t[CV_W] = vkdp_shape(K * N, -0.5, 0.5);
    t[CV_BIAS] = vkdp_shape(N, -1, 1);
    t[CV_Y] = vkdp_shape(M * N, 0, 0);
    t[CV_RES] = vkdp_shape(M * N, -1, 1);
    t[CV_RES].absent = !p[P_RES];
    t[CV_SCALE] = vkdp_shape(groups * K, 0, 1);
    t[CV_SCALE].absent = !p[P_SCALE];
}

static void record(const vkdp_op *op, vkdp_cmd *c, vkdp_device *dev, const int64_t *p,
                   const vkdp_view *t)
{
    vkdp_conv1x1_args a = {
        .M = (uint32_t)p[P_M], .K = (uint32_t)p[P_K], .N = (uint32_t)p[P_N],
        .act = (vkdp_act)p[P_ACT], .x = t[CV_X], .w = t[CV_W], .bias = t[CV_BIAS], .y = t[CV_Y],
        .residual = t[CV_RES], .row_scale = t[CV_SCALE], .rows_per_group = (uint32_t)p[P_RPG],
        .path = (uint32_t)p[P_PATH], .block = {(uint32_t)p[P_ROWS], (uint32_t)p[P_COLS4]},
    };
    vkdp_op_conv1x1(c, dev, &a, op->name);
}

static void ref(const vkdp_op *op, vkdp_device *dev, const int64_t *p, void *const *t)
{
    (void)op, (void)dev;
    vkdp_ref_conv1x1((uint32_t)p[P_M], (uint32_t)p[P_K], (uint32_t)p[P_N], (vkdp_act)p[P_ACT],
                     t[CV_X], t[CV_W], t[CV_BIAS], t[CV_RES], t[CV_SCALE], (uint32_t)p[P_RPG],
                     t[CV_Y]);
}

const vkdp_op vkdp_rec_conv1x1 = {
    .name = "conv2d_1x1",
    .fwd = {&shader, &texel, &smem},
    .params = {"M", "K", "N", "act", "residual", "row_scale", "rows_per_group", "path", "rows",
               "cols4"},
    .tensors = {{"x", VKDP_IN, VKDP_F32}, {"w", VKDP_IN, VKDP_F32}, {"bias", VKDP_IN, VKDP_F32},
                {"y", VKDP_OUT, VKDP_F32}, {"residual", VKDP_IN, VKDP_F32},
                {"row_scale", VKDP_IN, VKDP_F32}},
    .shape = shape,
    .record = record,
    .ref = ref,
    .tol = 1e-5, /* float sums against a double reference */
};
