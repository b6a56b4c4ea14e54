/* Dispatch functions and plain-C references of the backbone ops (see vkdp/backbone_ops.h). */
#include "vkdp/ops/backbone_ops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "vkdp/core/common.h"
#include "vkdp/ops/conv_geom.h"

/* Invocations per workgroup along x in every shader of this file (local_size_x). */
#define LOCAL_X 64u

static uint32_t ceil_div(uint32_t a, uint32_t b) { return (a + b - 1) / b; }

static float swishf(float a) { return a / (1.0f + expf(-a)); }
static float sigmoidf(float a) { return 1.0f / (1.0f + expf(-a)); }

/* Padding before the first row/column of a layer: correct_pad for stride 2, k/2 for stride 1. */
static int pad_before(int n, int k, int stride)
{
    if (stride == 1)
        return k / 2;
    int before, after;
    vkdp_correct_pad(n, k, &before, &after);
    return before;
}

static void check_groups(const char *op, uint32_t gx, uint32_t gy, uint32_t gz)
{
    if (gx == 0 || gy == 0 || gz == 0 || gx > 65535 || gy > 65535 || gz > 65535)
        VKDP_FATAL("%s: dispatch %ux%ux%u out of range (empty tensor or batch too large)", op, gx,
                   gy, gz);
}

/* ------------------------------------------------------------------ stem */

void vkdp_op_stem(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint32_t H, uint32_t W,
                  const float in_scale[3], const float in_shift[3], vkdp_view x, vkdp_view w,
                  vkdp_view bias, vkdp_view y, const char *label)
{
    struct {
        uint32_t H, W, Ho, Wo;
        int32_t pad_top, pad_left;
        float scale[3], shift[3];
    } push = {H, W, (uint32_t)vkdp_conv_out_side((int)H, 3, 2),
              (uint32_t)vkdp_conv_out_side((int)W, 3, 2), pad_before((int)H, 3, 2),
              pad_before((int)W, 3, 2), {in_scale[0], in_scale[1], in_scale[2]},
              {in_shift[0], in_shift[1], in_shift[2]}};
    uint32_t tile[2] = {8, 4}; /* TX, TY output pixels per invocation, measured (shader) */
    vkdp_pipeline *p = vkdp_pipeline_get(dev, "stem_conv3x3_s2", 4, sizeof(push), tile, 2);
    vkdp_view v[4] = {x, w, bias, y};
    uint32_t tiles = ceil_div(push.Ho, tile[1]) * ceil_div(push.Wo, tile[0]);
    uint32_t gx = ceil_div(tiles * 4, LOCAL_X), gy = 1, gz = B; /* 4 groups of 8 channels */
    check_groups("stem", gx, gy, gz);
    vkdp_cmd_dispatch(c, p, label ? label : "stem_conv3x3_s2", v, 4, 1u << 3, &push, gx, gy, gz);
}

void vkdp_ref_stem(uint32_t B, uint32_t H, uint32_t W, const float in_scale[3],
                   const float in_shift[3], const float *x, const float *w, const float *bias,
                   float *y)
{
    int Ho = vkdp_conv_out_side((int)H, 3, 2), Wo = vkdp_conv_out_side((int)W, 3, 2);
    int pt = pad_before((int)H, 3, 2), pl = pad_before((int)W, 3, 2);
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
                    y[(((size_t)b * Ho + oy) * Wo + ox) * 32 + co] = swishf((float)a);
                }
}

/* ------------------------------------------------------------------ depthwise conv */

/* Output tile of one dwconv invocation (rows x cols): neighbouring windows overlap, so a tile
 * loads each input pixel once; 4x8 measured fastest over the network's layers on lavapipe. */
#define DW_TILE_Y 4u
#define DW_TILE_X 8u

uint32_t vkdp_dwconv_tiles(uint32_t H, uint32_t W, uint32_t k, uint32_t stride)
{
    uint32_t Ho = (uint32_t)vkdp_conv_out_side((int)H, (int)k, (int)stride);
    uint32_t Wo = (uint32_t)vkdp_conv_out_side((int)W, (int)k, (int)stride);
    return ceil_div(Ho, DW_TILE_Y) * ceil_div(Wo, DW_TILE_X);
}

void vkdp_op_dwconv(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint32_t H, uint32_t W,
                    uint32_t C, uint32_t k, uint32_t stride, vkdp_view x, vkdp_view w,
                    vkdp_view bias, vkdp_view y, vkdp_view part, const char *label)
{
    if ((k != 3 && k != 5) || (stride != 1 && stride != 2))
        VKDP_FATAL("dwconv: unsupported kernel %u stride %u (need k in {3,5}, stride in {1,2})",
                   k, stride);
    struct {
        uint32_t H, W, C, Ho, Wo;
        int32_t pad_top, pad_left;
    } push = {H, W, C, (uint32_t)vkdp_conv_out_side((int)H, (int)k, (int)stride),
              (uint32_t)vkdp_conv_out_side((int)W, (int)k, (int)stride),
              pad_before((int)H, (int)k, (int)stride), pad_before((int)W, (int)k, (int)stride)};
    uint32_t vec4 = C % 4 == 0;
    uint32_t spec[5] = {k, stride, vec4, DW_TILE_X, DW_TILE_Y};
    vkdp_pipeline *p = vkdp_pipeline_get(dev, "dwconv", 5, sizeof(push), spec, 5);
    vkdp_view v[5] = {x, w, bias, y, part};
    uint32_t tiles = vkdp_dwconv_tiles(H, W, k, stride);
    uint32_t gx = ceil_div(tiles * (vec4 ? C / 4 : C), LOCAL_X), gy = 1, gz = B;
    check_groups("dwconv", gx, gy, gz);
    /* the recording keeps label pointers: string literals only */
    static const char *const kinds[2][2] = {{"dwconv3x3_s1", "dwconv3x3_s2"},
                                            {"dwconv5x5_s1", "dwconv5x5_s2"}};
    vkdp_cmd_dispatch(c, p, label ? label : kinds[k == 5][stride == 2], v, 5, 3u << 3, &push, gx,
                      gy, gz);
}

void vkdp_ref_dwconv(uint32_t B, uint32_t H, uint32_t W, uint32_t C, uint32_t k,
                     uint32_t stride, const float *x, const float *w, const float *bias, float *y)
{
    int Ho = vkdp_conv_out_side((int)H, (int)k, (int)stride);
    int Wo = vkdp_conv_out_side((int)W, (int)k, (int)stride);
    int pt = pad_before((int)H, (int)k, (int)stride), pl = pad_before((int)W, (int)k, (int)stride);
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
                    y[(((size_t)b * Ho + oy) * Wo + ox) * C + ch] = swishf((float)a);
                }
}

/* ------------------------------------------------------------------ global average pool */

void vkdp_op_gap(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint32_t R, uint32_t C,
                 uint32_t count, vkdp_view x, vkdp_view y, const char *label)
{
    struct {
        uint32_t R, C;
        float inv_count;
    } push = {R, C, 1.0f / (float)count};
    uint32_t vec4 = C % 4 == 0;
    vkdp_pipeline *p = vkdp_pipeline_get(dev, "se_squeeze", 2, sizeof(push), &vec4, 1);
    vkdp_view v[2] = {x, y};
    uint32_t gx = ceil_div(vec4 ? C / 4 : C, LOCAL_X);
    check_groups("gap", gx, 1, B);
    vkdp_cmd_dispatch(c, p, label ? label : "gap", v, 2, 1u << 1, &push, gx, 1, B);
}

void vkdp_ref_gap(uint32_t B, uint32_t HW, uint32_t C, const float *x, float *y)
{
    for (uint32_t b = 0; b < B; b++)
        for (uint32_t ch = 0; ch < C; ch++) {
            double s = 0;
            for (uint32_t i = 0; i < HW; i++)
                s += x[((size_t)b * HW + i) * C + ch];
            y[(size_t)b * C + ch] = (float)(s / HW);
        }
}

/* ------------------------------------------------------------------ SE gating */

#define GATE_PIXELS_PER_INVOCATION 8u

void vkdp_op_se_gate(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint32_t P, uint32_t C,
                     vkdp_view x, vkdp_view gate, const char *label)
{
    struct {
        uint32_t P, C;
    } push = {P, C};
    uint32_t spec[2] = {C % 4 == 0, GATE_PIXELS_PER_INVOCATION};
    vkdp_pipeline *p = vkdp_pipeline_get(dev, "se_gate", 2, sizeof(push), spec, 2);
    vkdp_view v[2] = {x, gate};
    uint32_t gx = ceil_div(ceil_div(P, GATE_PIXELS_PER_INVOCATION) * (spec[0] ? C / 4 : C), LOCAL_X);
    check_groups("se_gate", gx, 1, B);
    vkdp_cmd_dispatch(c, p, label ? label : "se_gate", v, 2, 1u << 0, &push, gx, 1, B);
}

void vkdp_ref_se_gate(uint32_t B, uint32_t P, uint32_t C, float *x, const float *gate)
{
    for (uint32_t b = 0; b < B; b++)
        for (uint32_t i = 0; i < P; i++)
            for (uint32_t ch = 0; ch < C; ch++)
                x[((size_t)b * P + i) * C + ch] *= gate[(size_t)b * C + ch];
}

/* ------------------------------------------------------------------ SE excitation */

static void se_dense(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint32_t K, uint32_t N,
                     uint32_t act, vkdp_view x, vkdp_view w, vkdp_view bias, vkdp_view y,
                     const char *label)
{
    struct {
        uint32_t K, N;
    } push = {K, N};
    vkdp_pipeline *p = vkdp_pipeline_get(dev, "se_excite", 4, sizeof(push), &act, 1);
    vkdp_view v[4] = {x, w, bias, y};
    uint32_t gx = ceil_div(N, LOCAL_X);
    check_groups("se_excite", gx, 1, B);
    vkdp_cmd_dispatch(c, p, label, v, 4, 1u << 3, &push, gx, 1, B);
}

void vkdp_op_se_excite(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint32_t C, uint32_t se,
                       vkdp_view pool, vkdp_view wr, vkdp_view br, vkdp_view we, vkdp_view be,
                       vkdp_view s, vkdp_view gate)
{
    se_dense(c, dev, B, C, se, 1, pool, wr, br, s, "se_excite_reduce");   /* act 1: swish */
    se_dense(c, dev, B, se, C, 2, s, we, be, gate, "se_excite_expand");   /* act 2: sigmoid */
}

void vkdp_ref_se_excite(uint32_t B, uint32_t C, uint32_t se, const float *pool, const float *wr,
                        const float *br, const float *we, const float *be, float *gate)
{
    float *s = vkdp_xmalloc((size_t)se * sizeof(float));
    for (uint32_t b = 0; b < B; b++) {
        const float *pb = pool + (size_t)b * C;
        for (uint32_t j = 0; j < se; j++) {
            double a = br[j];
            for (uint32_t k = 0; k < C; k++)
                a += (double)pb[k] * wr[(size_t)k * se + j];
            s[j] = swishf((float)a);
        }
        for (uint32_t n = 0; n < C; n++) {
            double a = be[n];
            for (uint32_t j = 0; j < se; j++)
                a += (double)s[j] * we[(size_t)j * C + n];
            gate[(size_t)b * C + n] = sigmoidf((float)a);
        }
    }
    free(s);
}
