/* stem_conv3x3_s2: EfficientNet's stem (input normalization, correct_pad, 3x3 stride-2 conv,
 * swish), through storage or (where the device's table row says so) texel buffers: record,
 * dispatch and C reference. */
#include "vkdp/ops/act.h"
#include "vkdp/ops/backbone_ops.h"
#include "vkdp/ops/conv_geom.h"
#include "vkdp/ops/tune.h"

enum { ST_X, ST_W, ST_BIAS, ST_Y, ST_BINDINGS };
enum { P_B, P_H, P_W, P_PATH };

typedef struct {
    uint32_t H, W, Ho, Wo;
    int32_t pad_top, pad_left;
    float scale[3], shift[3];
} vkdp_stem_push;
_Static_assert(sizeof(vkdp_stem_push) == 48, "shaders/stem_conv3x3_s2.comp's push block");

static const vkdp_shader_rec shader = {"stem_conv3x3_s2", ST_BINDINGS, sizeof(vkdp_stem_push),
                                       VKDP_WRITES(ST_Y), 0};
/* the same through texel buffers, where the device's table row says so */
static const vkdp_shader_rec texel = {"stem_conv3x3_s2_texel", ST_BINDINGS, sizeof(vkdp_stem_push),
                                      VKDP_WRITES(ST_Y), 0};

/* path: 0 the device's shader (vkdp/ops/tune.h), 1 storage buffers, 2 texel buffers */
static void stem(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint32_t H, uint32_t W,
                 const float in_scale[3], const float in_shift[3], const vkdp_view *views,
                 uint32_t path, const char *label)
{
    vkdp_stem_push push = {H, W, (uint32_t)vkdp_conv_out_side((int)H, 3, 2),
                           (uint32_t)vkdp_conv_out_side((int)W, 3, 2),
                           vkdp_conv_pad_before((int)H, 3, 2), vkdp_conv_pad_before((int)W, 3, 2),
                           {in_scale[0], in_scale[1], in_scale[2]},
                           {in_shift[0], in_shift[1], in_shift[2]}};
    const vkdp_tune *t = vkdp_tune_get(dev);
    const uint32_t *tile = t->stem_tile; /* TX, TY output pixels / invocation */
    uint64_t tiles = vkdp_div_up(push.Ho, tile[1]) * vkdp_div_up(push.Wo, tile[0]);
    vkdp_view v[ST_BINDINGS] = {views[0], views[1], views[2], views[3]};
    const vkdp_shader_rec *s = &shader;
    if (path == 2 || (path == 0 && t->stem_texel)) {
        s = &texel;
        v[ST_X] = vkdp_texel_range(v[ST_X], (uint64_t)B * H * W * 3 * sizeof(float),
                                   VK_FORMAT_R32_SFLOAT);
        v[ST_W] = vkdp_texels_f32x4(v[ST_W], 27 * 32);
        v[ST_BIAS] = vkdp_texels_f32x4(v[ST_BIAS], 32);
        v[ST_Y] = vkdp_texels_f32x4(v[ST_Y], (uint64_t)B * push.Ho * push.Wo * 32);
    }
    /* 4 invocations per tile: 8 of the 32 output channels each */
    vkdp_op_dispatch(c, dev, &vkdp_rec_stem, s, tile, 2, v, &push, tiles * 4, B, label);
}

void vkdp_op_stem(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint32_t H, uint32_t W,
                  const float in_scale[3], const float in_shift[3], vkdp_view x, vkdp_view w,
                  vkdp_view bias, vkdp_view y, const char *label)
{
    stem(c, dev, B, H, W, in_scale, in_shift, (vkdp_view[]){x, w, bias, y}, 0, label);
}

void vkdp_ref_stem(uint32_t B, uint32_t H, uint32_t W, const float in_scale[3],
                   const float in_shift[3], const float *x, const float *w, const float *bias,
                   float *y)
{
    int Ho = vkdp_conv_out_side((int)H, 3, 2), Wo = vkdp_conv_out_side((int)W, 3, 2);
    int pt = vkdp_conv_pad_before((int)H, 3, 2), pl = vkdp_conv_pad_before((int)W, 3, 2);
    for (uint32_t b = 0; b < B; b++)
        for (int oy = 0; oy < Ho; oy++)
            for (int ox = 0; ox < Wo; ox++)
                for (int co = 0; co < 32; co++) {
                    double a = bias[co];
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++) {
                            int iy = oy * 2 - pt + ky, ix = ox * 2 - pl + kx;
                            if (iy < 0 || iy >= (int)H || ix < 0 || ix >= (int)W)
                                continue; /* zero padding of the normalized image */
                            const float *px = x + (((size_t)b * H + iy) * W + ix) * 3;
                            for (int ci = 0; ci < 3; ci++) {
                                float v = px[ci] * in_scale[ci] + in_shift[ci];
                                a += (double)v * w[((ky * 3 + kx) * 3 + ci) * 32 + co];
                            }
                        }
                    y[(((size_t)b * Ho + oy) * Wo + ox) * 32 + co] = vkdp_swish((float)a);
                }
}

/* ---- generic form: ImageNet-like normalization constants ---- */

static const float test_scale[3] = {1.0f / 58.4f, 1.0f / 57.1f, 1.0f / 57.4f};
static const float test_shift[3] = {-2.1f, -2.0f, -1.8f};

static void shape(const vkdp_op *op, vkdp_device *dev, const int64_t *p, vkdp_tensor_shape *t)
{
    (void)op, (void)dev;
    uint64_t B = (uint64_t)p[P_B], H = (uint64_t)p[P_H], W = (uint64_t)p[P_W];
    uint64_t Ho = (uint64_t)vkdp_conv_out_side((int)H, 3, 2);
    uint64_t Wo = (uint64_t)vkdp_conv_out_side((int)W, 3, 2);
    t[ST_X] = vkdp_shape(B * H * W * 3, 0, 255);
    t[ST_W] = vkdp_shape(27 * 32, -0.5, 0.5);
    t[ST_BIAS] = vkdp_shape(32, -0.5, 0.5);
    t[ST_Y] = vkdp_shape(B * Ho * Wo * 32, 0, 0);
}

static void record(const vkdp_op *op, vkdp_cmd *c, vkdp_device *dev, const int64_t *p,
                   const vkdp_view *t)
{
    (void)op;
    stem(c, dev, (uint32_t)p[P_B], (uint32_t)p[P_H], (uint32_t)p[P_W], test_scale, test_shift, t,
         (uint32_t)p[P_PATH], NULL);
}

static void ref(const vkdp_op *op, vkdp_device *dev, const int64_t *p, void *const *t)
{
    (void)op, (void)dev;
    vkdp_ref_stem((uint32_t)p[P_B], (uint32_t)p[P_H], (uint32_t)p[P_W], test_scale, test_shift,
                  t[ST_X], t[ST_W], t[ST_BIAS], t[ST_Y]);
}

const vkdp_op vkdp_rec_stem = {
    .name = "stem_conv3x3_s2",
    .fwd = {&shader, &texel},
    .params = {"B", "H", "W", "path"},
    .tensors = {{"x", VKDP_IN, VKDP_F32}, {"w", VKDP_IN, VKDP_F32}, {"bias", VKDP_IN, VKDP_F32},
                {"y", VKDP_OUT, VKDP_F32}},
    .shape = shape,
    .record = record,
    .ref = ref,
    .tol = 1e-5,
};
