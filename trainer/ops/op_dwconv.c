/* dwconv: depthwise k x k conv + bias + swish, with the per-tile sums the SE squeeze reads,
 * through storage or (where the device's table row says so) texel buffers: record, dispatch and
 * C reference. */
#include <stdio.h>
#include <stdlib.h>

#include "vkdp/ops/act.h"
#include "vkdp/ops/backbone_ops.h"
#include "vkdp/ops/conv_geom.h"
#include "vkdp/ops/tune.h"

enum { DW_X, DW_W, DW_BIAS, DW_Y, DW_PART, DW_BINDINGS };
enum { P_B, P_H, P_W, P_C, P_K, P_S, P_PATH };

typedef struct {
    uint32_t H, W, C, Ho, Wo;
    int32_t pad_top, pad_left;
} vkdp_dwconv_push;
_Static_assert(sizeof(vkdp_dwconv_push) == 28, "shaders/dwconv.comp's push block");

static const vkdp_shader_rec shader = {"dwconv", DW_BINDINGS, sizeof(vkdp_dwconv_push),
                                       VKDP_WRITES(DW_Y) | VKDP_WRITES(DW_PART), 0};
/* the same through texel buffers, where the device's table row says so */
static const vkdp_shader_rec texel = {"dwconv_texel", DW_BINDINGS, sizeof(vkdp_dwconv_push),
                                      VKDP_WRITES(DW_Y) | VKDP_WRITES(DW_PART), 0};

uint32_t vkdp_dwconv_tiles(vkdp_device *dev, uint32_t H, uint32_t W, uint32_t k, uint32_t stride)
{
    const uint32_t *tile = vkdp_tune_get(dev)->dw_tile; /* x, y */
    uint32_t Ho = (uint32_t)vkdp_conv_out_side((int)H, (int)k, (int)stride);
    uint32_t Wo = (uint32_t)vkdp_conv_out_side((int)W, (int)k, (int)stride);
    return (uint32_t)(vkdp_div_up(Ho, tile[1]) * vkdp_div_up(Wo, tile[0]));
}

/* path: 0 the device's shader (vkdp/ops/tune.h), 1 storage buffers, 2 texel buffers (C % 4 == 0;
 * else storage buffers) */
static void dwconv(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint32_t H, uint32_t W, uint32_t C,
                   uint32_t k, uint32_t stride, const vkdp_view *views, uint32_t path,
                   const char *label)
{
    if ((k != 3 && k != 5) || (stride != 1 && stride != 2))
        VKDP_FATAL("dwconv: unsupported kernel %u stride %u (need k in {3,5}, stride in {1,2})",
                   k, stride);
    vkdp_dwconv_push push = {H, W, C, (uint32_t)vkdp_conv_out_side((int)H, (int)k, (int)stride),
                             (uint32_t)vkdp_conv_out_side((int)W, (int)k, (int)stride),
                             vkdp_conv_pad_before((int)H, (int)k, (int)stride),
                             vkdp_conv_pad_before((int)W, (int)k, (int)stride)};
    const vkdp_tune *t = vkdp_tune_get(dev);
    uint32_t vec4 = C % 4 == 0;
    uint32_t spec[5] = {k, stride, vec4, t->dw_tile[0], t->dw_tile[1]};
    vkdp_view v[DW_BINDINGS] = {views[0], views[1], views[2], views[3], views[4]};
    uint64_t tiles = vkdp_dwconv_tiles(dev, H, W, k, stride);
    const vkdp_shader_rec *s = &shader;
    if (vec4 && (path == 2 || (path == 0 && t->dw_texel))) {
        s = &texel;
        v[DW_X] = vkdp_texels_f32x4(v[DW_X], (uint64_t)B * H * W * C);
        v[DW_W] = vkdp_texels_f32x4(v[DW_W], (uint64_t)k * k * C);
        v[DW_BIAS] = vkdp_texels_f32x4(v[DW_BIAS], C);
        v[DW_Y] = vkdp_texels_f32x4(v[DW_Y], (uint64_t)B * push.Ho * push.Wo * C);
        v[DW_PART] = vkdp_texels_f32x4(v[DW_PART], (uint64_t)B * tiles * C);
    }
    char kind[32];
    snprintf(kind, sizeof kind, "dwconv%ux%u_s%u", k, k, stride);
    vkdp_op_dispatch(c, dev, &vkdp_rec_dwconv, s, spec, 5, v, &push,
                     tiles * (vec4 ? C / 4 : C), B, label ? label : kind);
}

void vkdp_op_dwconv(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint32_t H, uint32_t W,
                    uint32_t C, uint32_t k, uint32_t stride, vkdp_view x, vkdp_view w,
                    vkdp_view bias, vkdp_view y, vkdp_view part, const char *label)
{
    dwconv(c, dev, B, H, W, C, k, stride, (vkdp_view[]){x, w, bias, y, part}, 0, label);
}

void vkdp_ref_dwconv(uint32_t B, uint32_t H, uint32_t W, uint32_t C, uint32_t k,
                     uint32_t stride, const float *x, const float *w, const float *bias, float *y)
{
    int Ho = vkdp_conv_out_side((int)H, (int)k, (int)stride);
    int Wo = vkdp_conv_out_side((int)W, (int)k, (int)stride);
    int pt = vkdp_conv_pad_before((int)H, (int)k, (int)stride);
    int pl = vkdp_conv_pad_before((int)W, (int)k, (int)stride);
    for (uint32_t b = 0; b < B; b++)
        for (int oy = 0; oy < Ho; oy++)
            for (int ox = 0; ox < Wo; ox++)
                for (uint32_t ch = 0; ch < C; ch++) {
                    double a = bias[ch];
                    for (int ky = 0; ky < (int)k; ky++)
                        for (int kx = 0; kx < (int)k; kx++) {
                            int iy = oy * (int)stride - pt + ky, ix = ox * (int)stride - pl + kx;
                            if (iy < 0 || iy >= (int)H || ix < 0 || ix >= (int)W)
                                continue;
                            a += (double)x[(((size_t)b * H + iy) * W + ix) * C + ch] *
                                 w[((size_t)ky * k + kx) * C + ch];
                        }
                    y[(((size_t)b * Ho + oy) * Wo + ox) * C + ch] = vkdp_swish((float)a);
                }
}

void vkdp_ref_tile_sums(uint32_t B, uint32_t Ho, uint32_t Wo, uint32_t C, uint32_t tx,
                        uint32_t ty, const float *y, float *part)
{
    uint32_t tiles_x = (uint32_t)vkdp_div_up(Wo, tx), tiles = (uint32_t)vkdp_div_up(Ho, ty) * tiles_x;
    double *s = vkdp_xcalloc(C, sizeof *s);
    for (uint32_t b = 0; b < B; b++)
        for (uint32_t t = 0; t < tiles; t++) {
            uint32_t oy0 = t / tiles_x * ty, ox0 = t % tiles_x * tx;
            for (uint32_t ch = 0; ch < C; ch++)
                s[ch] = 0;
            for (uint32_t oy = oy0; oy < oy0 + ty && oy < Ho; oy++)
                for (uint32_t ox = ox0; ox < ox0 + tx && ox < Wo; ox++)
                    for (uint32_t ch = 0; ch < C; ch++)
                        s[ch] += y[(((size_t)b * Ho + oy) * Wo + ox) * C + ch];
            for (uint32_t ch = 0; ch < C; ch++)
                part[((size_t)b * tiles + t) * C + ch] = (float)s[ch];
        }
    free(s);
}

/* ---- generic form ---- */

static void out_side(const int64_t *p, uint64_t *Ho, uint64_t *Wo)
{
    *Ho = (uint64_t)vkdp_conv_out_side((int)p[P_H], (int)p[P_K], (int)p[P_S]);
    *Wo = (uint64_t)vkdp_conv_out_side((int)p[P_W], (int)p[P_K], (int)p[P_S]);
}

static void shape(const vkdp_op *op, vkdp_device *dev, const int64_t *p, vkdp_tensor_shape *t)
{
    (void)op;
    uint64_t B = (uint64_t)p[P_B], C = (uint64_t)p[P_C], k = (uint64_t)p[P_K], Ho, Wo;
    out_side(p, &Ho, &Wo);
    uint64_t tiles = vkdp_dwconv_tiles(dev, (uint32_t)p[P_H], (uint32_t)p[P_W], (uint32_t)k,
                                       (uint32_t)p[P_S]);
    t[DW_X] = vkdp_shape(B * (uint64_t)p[P_H] * (uint64_t)p[P_W] * C, -3, 3);
    t[DW_W] = vkdp_shape(k * k * C, -0.5, 0.5);
    t[DW_BIAS] = vkdp_shape(C, -0.5, 0.5);
    t[DW_Y] = vkdp_shape(B * Ho * Wo * C, 0, 0);
    t[DW_PART] = vkdp_shape(B * tiles * C, 0, 0);
}

static void record(const vkdp_op *op, vkdp_cmd *c, vkdp_device *dev, const int64_t *p,
                   const vkdp_view *t)
{
    (void)op;
    dwconv(c, dev, (uint32_t)p[P_B], (uint32_t)p[P_H], (uint32_t)p[P_W], (uint32_t)p[P_C],
           (uint32_t)p[P_K], (uint32_t)p[P_S], t, (uint32_t)p[P_PATH], NULL);
}

static void ref(const vkdp_op *op, vkdp_device *dev, const int64_t *p, void *const *t)
{
    (void)op;
    uint64_t Ho, Wo;
    out_side(p, &Ho, &Wo);
    const uint32_t *tile = vkdp_tune_get(dev)->dw_tile;
    vkdp_ref_dwconv((uint32_t)p[P_B], (uint32_t)p[P_H], (uint32_t)p[P_W], (uint32_t)p[P_C],
                    (uint32_t)p[P_K], (uint32_t)p[P_S], t[DW_X], t[DW_W], t[DW_BIAS], t[DW_Y]);
    vkdp_ref_tile_sums((uint32_t)p[P_B], (uint32_t)Ho, (uint32_t)Wo, (uint32_t)p[P_C], tile[0],
                       tile[1], t[DW_Y], t[DW_PART]);
}

const vkdp_op vkdp_rec_dwconv = {
    .name = "dwconv",
    .fwd = {&shader, &texel},
    .params = {"B", "H", "W", "C", "k", "stride", "path"},
    .tensors = {{"x", VKDP_IN, VKDP_F32}, {"w", VKDP_IN, VKDP_F32}, {"bias", VKDP_IN, VKDP_F32},
                {"y", VKDP_OUT, VKDP_F32}, {"part", VKDP_OUT, VKDP_F32}},
    .shape = shape,
    .record = record,
    .ref = ref,
    .tol = 1e-5,
};
