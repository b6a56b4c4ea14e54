/* dwconv_lin and dwconv_grad: the unfused depthwise convolution of the trainable part and its
 * input, weight and bias gradients, with Keras' geometry (shaders dwconv_lin, dwconv_grad_dx,
 * dwconv_grad_w, and where the device's table row has the texel depthwise their texel-buffer
 * twins dwconv_grad_dx_texel and dwconv_grad_w_texel, the latter for S samples' partials in one
 * dispatch): records, dispatch, and the generic forms over the
 * C references vkdp_ref_dwconv_lin and vkdp_grad_dwconv. */
#include "vkdp/ops/grad_ops.h"
#include "vkdp/ops/tune.h"

enum { L_X, L_W, L_BIAS, L_Y, L_BINDINGS };
enum { DX_DY, DX_W, DX_DX, DX_BINDINGS };
enum { DW_X, DW_DY, DW_DW, DW_DB, DW_BINDINGS };
/* the generic form's tensors; b is the forward's bias, read only by the loss */
/* dws and dbs: each sample's partials (parameter ps) */
enum { T_X, T_W, T_B, T_DY, T_DX, T_DW, T_DB, T_DWS, T_DBS };
enum { P_B, P_H, P_W, P_C, P_K, P_S, P_DB, P_PS, P_PATH };
/* path: 0 as the device's table row says, 1 the storage-buffer shaders, 2 the texel ones */
enum { PATH_TABLE, PATH_SSBO, PATH_TEXEL };
/* the texel shader's largest kernel (dwconv_grad_w_texel.comp's KMAX) */
enum { TEXEL_KMAX = 5 };

typedef struct {
    uint32_t B, H, W, C, Ho, Wo, k, stride, pad_top, pad_left;
} vkdp_dwconv_grad_push;
_Static_assert(sizeof(vkdp_dwconv_grad_push) == 40, "shaders/dwconv_grad_*.comp's push block");
typedef struct {
    uint32_t S, H, W, C, Ho, Wo, k, stride, pad_top, pad_left, dw_stride4, db_stride4;
} vkdp_dwconv_grad_w_texel_push;
_Static_assert(sizeof(vkdp_dwconv_grad_w_texel_push) == 48, "shaders/dwconv_grad_w_texel.comp's push block");
typedef struct {
    uint32_t B, H, W, C, Ho, Wo, k, stride, pad_top, pad_left, tiles_x;
} vkdp_dwconv_grad_dx_texel_push;
_Static_assert(sizeof(vkdp_dwconv_grad_dx_texel_push) == 44, "shaders/dwconv_grad_dx_texel.comp's push block");
/* dwconv_grad_dx_texel's input columns per invocation (its XS) */
enum { TEXEL_XS = 4 };

static const vkdp_shader_rec shader_lin = {"dwconv_lin", L_BINDINGS,
                                           sizeof(vkdp_dwconv_grad_push), VKDP_WRITES(L_Y), 1};
static const vkdp_shader_rec shader_dx = {"dwconv_grad_dx", DX_BINDINGS,
                                          sizeof(vkdp_dwconv_grad_push), VKDP_WRITES(DX_DX), 1};
static const vkdp_shader_rec shader_w = {"dwconv_grad_w", DW_BINDINGS,
                                         sizeof(vkdp_dwconv_grad_push),
                                         VKDP_WRITES(DW_DW) | VKDP_WRITES(DW_DB), 1};
static const vkdp_shader_rec texel_dx = {"dwconv_grad_dx_texel", DX_BINDINGS,
                                         sizeof(vkdp_dwconv_grad_dx_texel_push), VKDP_WRITES(DX_DX), 1};
static const vkdp_shader_rec texel_w = {"dwconv_grad_w_texel", DW_BINDINGS,
                                        sizeof(vkdp_dwconv_grad_w_texel_push),
                                        VKDP_WRITES(DW_DW) | VKDP_WRITES(DW_DB), 1};

static vkdp_dwconv_grad_push push_of(const vkdp_op *op, const vkdp_dw_geom *g, uint32_t B)
{
    if (g->H < 1 || g->W < 1 || g->C < 1 || g->k < 1 || g->stride < 1 || g->pad_top < 0 ||
        g->pad_left < 0 || g->Ho < 1 || g->Wo < 1 ||
        (uint64_t)B * g->H * g->W * g->C > UINT32_MAX ||
        (uint64_t)B * g->Ho * g->Wo * g->C > UINT32_MAX)
        VKDP_FATAL("%s: bad geometry %d x %d x %d, k %d, stride %d, %u samples", op->name, g->H,
                   g->W, g->C, g->k, g->stride, B);
    vkdp_dwconv_grad_push push = {B, (uint32_t)g->H, (uint32_t)g->W, (uint32_t)g->C,
                                  (uint32_t)g->Ho, (uint32_t)g->Wo, (uint32_t)g->k,
                                  (uint32_t)g->stride, (uint32_t)g->pad_top,
                                  (uint32_t)g->pad_left};
    return push;
}

void vkdp_op_dwconv_lin(vkdp_cmd *c, vkdp_device *dev, const vkdp_dw_geom *g, uint32_t B,
                        vkdp_view x, vkdp_view w, vkdp_view bias, vkdp_view y, const char *label)
{
    vkdp_dwconv_grad_push push = push_of(&vkdp_rec_dwconv_lin, g, B);
    vkdp_view v[L_BINDINGS] = {x, w, bias, y};
    vkdp_op_dispatch(c, dev, &vkdp_rec_dwconv_lin, &shader_lin, NULL, 0, v, &push,
                     (uint64_t)B * g->Ho * g->Wo * g->C, 1, label);
}

/* S samples' dw (+ db) partials at their strides (floats): one texel dispatch where the path
 * allows it, else the storage-buffer shader one sample at a time. */
static void grad_w_samples(vkdp_cmd *c, vkdp_device *dev, uint32_t path, const vkdp_dw_geom *g, uint32_t S,
                           vkdp_view x, vkdp_view dy, vkdp_view dw, uint64_t dw_stride, vkdp_view db,
                           uint64_t db_stride, const char *label)
{
    const vkdp_op *op = &vkdp_rec_dwconv_grad;
    vkdp_dwconv_grad_push push = push_of(op, g, S);
    uint32_t has_db = db.buf != NULL;
    const uint64_t taps = (uint64_t)g->k * g->k * g->C, in = (uint64_t)g->H * g->W * g->C,
                   out = (uint64_t)g->Ho * g->Wo * g->C;
    int texel = g->C % 4 == 0 && g->k <= TEXEL_KMAX && dw_stride % 4 == 0 && db_stride % 4 == 0 &&
                (path == PATH_TEXEL || (path == PATH_TABLE && vkdp_tune_get(dev)->dw_texel));
    if (!texel) {
        push.B = 1;
        uint64_t n = taps + (has_db ? (uint64_t)g->C : 0);
        vkdp_sample_parts parts = {{in * 4, out * 4, taps * 4, (uint64_t)g->C * 4},
                                   {in * 4, out * 4, dw_stride * 4, db_stride * 4}};
        vkdp_view v[DW_BINDINGS] = {x, dy, dw, db};
        vkdp_op_dispatch_samples(c, dev, op, &shader_w, S, v, &parts, &push, n, label);
        return;
    }
    uint64_t per = (uint64_t)g->k * (g->C / 4) + (has_db ? g->C / 4 : 0);
    if ((uint64_t)S * per > UINT32_MAX || (uint64_t)(S - 1) * dw_stride + taps > 4ull * UINT32_MAX ||
        (uint64_t)(S - 1) * db_stride + g->C > 4ull * UINT32_MAX)
        VKDP_FATAL("%s: %u samples of %d x %d x %d too large for one dispatch", op->name, S, g->H, g->W, g->C);
    vkdp_dwconv_grad_w_texel_push tp = {S, push.H, push.W, push.C, push.Ho, push.Wo, push.k, push.stride,
                                        push.pad_top, push.pad_left, (uint32_t)(dw_stride / 4),
                                        (uint32_t)(db_stride / 4)};
    vkdp_view v[DW_BINDINGS] = {vkdp_texels_f32x4(x, S * in), vkdp_texels_f32x4(dy, S * out), dw,
                                has_db ? db : dw};
    vkdp_op_dispatch(c, dev, op, &texel_w, &has_db, 1, v, &tp, (uint64_t)S * per, 1, label);
}

/* dx: through texel buffers where the path allows it (C % 4 == 0), else storage buffers; push is
 * push_of(g, B), which the caller has built (and so checked) for its other dispatches too */
static void grad_dx(vkdp_cmd *c, vkdp_device *dev, uint32_t path, const vkdp_dw_geom *g,
                    const vkdp_dwconv_grad_push *push, vkdp_view w, vkdp_view dy, vkdp_view dx,
                    const char *label)
{
    const vkdp_op *op = &vkdp_rec_dwconv_grad;
    const uint32_t B = push->B;
    int texel = g->C % 4 == 0 && (path == PATH_TEXEL || (path == PATH_TABLE && vkdp_tune_get(dev)->dw_texel));
    if (!texel) {
        vkdp_view v[DX_BINDINGS] = {dy, w, dx};
        vkdp_op_dispatch(c, dev, op, &shader_dx, NULL, 0, v, push, (uint64_t)B * g->H * g->W * g->C, 1, label);
        return;
    }
    uint64_t tiles_x = vkdp_div_up((uint64_t)g->W, TEXEL_XS), n = (uint64_t)B * g->H * tiles_x * (g->C / 4);
    vkdp_dwconv_grad_dx_texel_push tp = {B, push->H, push->W, push->C, push->Ho, push->Wo, push->k,
                                         push->stride, push->pad_top, push->pad_left, (uint32_t)tiles_x};
    vkdp_view v[DX_BINDINGS] = {vkdp_texels_f32x4(dy, (uint64_t)B * g->Ho * g->Wo * g->C),
                                vkdp_texels_f32x4(w, (uint64_t)g->k * g->k * g->C), dx};
    uint32_t xs = TEXEL_XS;
    vkdp_op_dispatch(c, dev, op, &texel_dx, &xs, 1, v, &tp, n, 1, label);
}

/* vkdp_op_dwconv_grad: dx on the given path; dw (and db) by the one storage-buffer shader there is */
static void grad(vkdp_cmd *c, vkdp_device *dev, uint32_t path, const vkdp_dw_geom *g, uint32_t B, vkdp_view x,
                 vkdp_view w, vkdp_view dy, vkdp_view dx, vkdp_view dw, vkdp_view db, const char *label)
{
    const vkdp_op *op = &vkdp_rec_dwconv_grad;
    vkdp_dwconv_grad_push push = push_of(op, g, B);
    if (dx.buf)
        grad_dx(c, dev, path, g, &push, w, dy, dx, label);
    if (dw.buf) {
        /* without db (HAS_DB off) binding 3 takes dw's view, which the shader then never
         * writes through it */
        vkdp_view v[DW_BINDINGS] = {x, dy, dw, db.buf ? db : dw};
        uint64_t n = (uint64_t)g->k * g->k * g->C + (db.buf ? (uint64_t)g->C : 0);
        uint32_t has_db = db.buf != NULL;
        vkdp_op_dispatch(c, dev, op, &shader_w, &has_db, 1, v, &push, n, 1, label);
    }
}

void vkdp_op_dwconv_grad(vkdp_cmd *c, vkdp_device *dev, const vkdp_dw_geom *g, uint32_t B,
                         vkdp_view x, vkdp_view w, vkdp_view dy, vkdp_view dx, vkdp_view dw,
                         vkdp_view db, const char *label)
{
    grad(c, dev, PATH_TABLE, g, B, x, w, dy, dx, dw, db, label);
}

void vkdp_op_dwconv_grad_w_samples(vkdp_cmd *c, vkdp_device *dev, const vkdp_dw_geom *g, uint32_t S,
                                   vkdp_view x, vkdp_view dy, vkdp_view dw, uint64_t dw_stride, vkdp_view db,
                                   uint64_t db_stride, const char *label)
{
    grad_w_samples(c, dev, PATH_TABLE, g, S, x, dy, dw, dw_stride, db, db_stride, label);
}

/* ---- generic form ---- */

static vkdp_dw_geom geom(const int64_t *p)
{
    return vkdp_dw_geom_keras((int)p[P_H], (int)p[P_W], (int)p[P_C], (int)p[P_K], (int)p[P_S]);
}

static void shape(const vkdp_op *op, vkdp_device *dev, const int64_t *p, vkdp_tensor_shape *t)
{
    (void)op, (void)dev;
    vkdp_dw_geom g = geom(p);
    if (p[P_PS] && g.C % 4)
        VKDP_FATAL("dwconv_grad: ps with C=%d: the partials are packed, so the storage path's per-sample "
                   "slices meet a 16-byte offset alignment only with C %% 4 == 0", g.C);
    uint64_t B = (uint64_t)p[P_B], in = B * g.H * g.W * g.C, out = B * g.Ho * g.Wo * g.C;
    uint64_t taps = (uint64_t)g.k * g.k * g.C;
    t[T_X] = vkdp_shape(in, -1, 1);
    t[T_W] = vkdp_shape(taps, -0.5, 0.5);
    t[T_B] = vkdp_shape((uint64_t)g.C, -1, 1);
    t[T_DY] = vkdp_shape(out, -1, 1);
    t[T_DX] = vkdp_shape(in, 0, 0);
    t[T_DW] = vkdp_shape(taps, 0, 0);
    t[T_DB] = vkdp_shape((uint64_t)g.C, 0, 0);
    t[T_DB].absent = !p[P_DB];
    t[T_DWS] = vkdp_shape(p[P_PS] ? B * taps : 0, 0, 0);
    t[T_DWS].absent = !p[P_PS];
    t[T_DBS] = vkdp_shape(p[P_PS] ? B * (uint64_t)g.C : 0, 0, 0);
    t[T_DBS].absent = !p[P_PS] || !p[P_DB];
}

static void record_lin(const vkdp_op *op, vkdp_cmd *c, vkdp_device *dev, const int64_t *p,
                       const vkdp_view *t)
{
    (void)op;
    vkdp_dw_geom g = geom(p);
    vkdp_op_dwconv_lin(c, dev, &g, (uint32_t)p[P_B], t[T_X], t[T_W], t[T_B], t[T_DY], NULL);
}

static void ref_lin(const vkdp_op *op, vkdp_device *dev, const int64_t *p, void *const *t)
{
    (void)op, (void)dev;
    vkdp_dw_geom g = geom(p);
    vkdp_ref_dwconv_lin(&g, (int)p[P_B], t[T_X], t[T_W], t[T_B], t[T_DY]);
}

/* dwconv_lin's tensors are dwconv_grad's first four, the output y where dy is */
static void shape_lin(const vkdp_op *op, vkdp_device *dev, const int64_t *p,
                      vkdp_tensor_shape *t)
{
    shape(op, dev, p, t);
    t[T_DY].lo = t[T_DY].hi = 0;
}

const vkdp_op vkdp_rec_dwconv_lin = {
    .name = "dwconv_lin",
    .fwd = {&shader_lin},
    .bwd = {&shader_dx, &shader_w},
    .params = {"B", "H", "W", "C", "k", "stride"},
    .tensors = {{"x", VKDP_IN, VKDP_F32}, {"w", VKDP_IN, VKDP_F32}, {"b", VKDP_IN, VKDP_F32},
                {"y", VKDP_OUT, VKDP_F32}},
    .shape = shape_lin,
    .record = record_lin,
    .ref = ref_lin,
    .tol = 1e-6, /* float sums of at most 25 products against a double reference */
};

static void record(const vkdp_op *op, vkdp_cmd *c, vkdp_device *dev, const int64_t *p,
                   const vkdp_view *t)
{
    (void)op;
    vkdp_dw_geom g = geom(p);
    uint32_t B = (uint32_t)p[P_B];
    grad(c, dev, (uint32_t)p[P_PATH], &g, B, t[T_X], t[T_W], t[T_DY], t[T_DX], t[T_DW], t[T_DB], NULL);
    if (p[P_PS])
        grad_w_samples(c, dev, (uint32_t)p[P_PATH], &g, B, t[T_X], t[T_DY], t[T_DWS],
                       (uint64_t)g.k * g.k * g.C, t[T_DBS], (uint64_t)g.C, NULL);
}

static void ref(const vkdp_op *op, vkdp_device *dev, const int64_t *p, void *const *t)
{
    (void)op, (void)dev;
    vkdp_dw_geom g = geom(p);
    vkdp_grad_dwconv(&g, (int)p[P_B], t[T_X], t[T_W], t[T_DY], t[T_DX], t[T_DW], t[T_DB]);
    const size_t in = (size_t)g.H * g.W * g.C, out = (size_t)g.Ho * g.Wo * g.C;
    const size_t taps = (size_t)g.k * g.k * g.C, cs = (size_t)g.C;
    const float *x = t[T_X], *dy = t[T_DY];
    float *dws = t[T_DWS], *dbs = t[T_DBS];
    for (int64_t s = 0; p[P_PS] && s < p[P_B]; s++)
        vkdp_grad_dwconv(&g, 1, x + s * in, t[T_W], dy + s * out, NULL, dws + s * taps, dbs ? dbs + s * cs : NULL);
}

/* sum dy * dwconv(x, w, b), the forward in double (vkdp_ref_dwconv_lin rounds y to float) */
static double loss(const vkdp_op *op, const int64_t *p, void *const *t)
{
    (void)op;
    vkdp_dw_geom g = geom(p);
    const float *x = t[T_X], *w = t[T_W], *b = t[T_B], *dy = t[T_DY];
    double s = 0;
    size_t o = 0;
    for (int64_t n = 0; n < p[P_B]; n++)
        for (int oy = 0; oy < g.Ho; oy++)
            for (int ox = 0; ox < g.Wo; ox++)
                for (int c = 0; c < g.C; c++, o++) {
                    double a = b[c];
                    for (int ky = 0; ky < g.k; ky++) {
                        int iy = oy * g.stride + ky - g.pad_top;
                        for (int kx = 0; kx < g.k && iy >= 0 && iy < g.H; kx++) {
                            int ix = ox * g.stride + kx - g.pad_left;
                            if (ix >= 0 && ix < g.W)
                                a += (double)x[(((size_t)n * g.H + iy) * g.W + ix) * g.C + c] *
                                     w[((size_t)ky * g.k + kx) * g.C + c];
                        }
                    }
                    s += dy[o] * a;
                }
    return s;
}

const vkdp_op vkdp_rec_dwconv_grad = {
    .name = "dwconv_grad",
    .fwd = {&shader_dx, &shader_w, &texel_dx, &texel_w},
    .params = {"B", "H", "W", "C", "k", "stride", "db", "ps", "path"},
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
