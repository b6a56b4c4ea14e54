/* Reference of the Keras EfficientNet example's augmentation (see vkdp/ops/augment_ref.h).
 *
 * Where Keras' semantics were ambiguous, and what this file does:
 * 1. RandomFlip's mode. The example writes layers.RandomFlip(), whose default mode is
 *    "horizontal_and_vertical"; issue 12 says RandomFlip("horizontal"). Both are implemented
 *    (vkdp_flip_mode); the default configuration follows the issue. The lead should pick one.
 * 2. Per-image or per-batch draws. tf.keras 2.x draws rotation, translation and flip per image
 *    but ONE contrast factor per call (per batch: tf.image.stateless_random_contrast draws a
 *    scalar); Keras 3 draws the contrast factor per image. Here every parameter is per image, so
 *    that it depends on (seed, epoch, global sample index) only and not on how the batch is cut.
 * 3. The random streams. Keras' generator (TF stateless ops, unseeded by default) cannot be
 *    reproduced and is not meant to be; the distributions are Keras': rotation uniform in
 *    [-0.15, 0.15) * 2 pi rad, translation uniform in [-0.1, 0.1) * H (resp. W) pixels, not
 *    rounded, contrast uniform in [0.9, 1.1), each flip with probability 1/2; a uniform draw is
 *    min + u (max - min) in float as TF's random_uniform, with u = (r >> 8) / 2^24 from
 *    Philox-4x32-10 (the head's dropout generator) at VKDP_AUGMENT_STREAM.
 * 4. Pixel centres and rotation centre: TF's kernel maps the integer output index (x, y) through
 *    the matrix (no half-pixel offset); Keras rotates about ((W - 1) / 2, (H - 1) / 2).
 * 5. "reflect" is TF's MapCoordinate<FILL_REFLECT> on the continuous coordinate, reflecting about
 *    the outer pixel edge (x -> -x - 1, x -> 2 len - x - 1), then clamped to [0, len - 1] before
 *    interpolating: a coordinate in (-1, 0) or (len - 1, len) samples the edge pixel. The kernel's
 *    first test reads `in_coord < sz2`, always true there, where `< -sz2` was surely meant; kept
 *    literally, as it changes nothing (the two differ only at exactly -2 len, and both end at 0).
 * 6. Bilinear: TF's order of float operations ((x_ceil - x) v0 + (x - x_floor) v1 per row, then
 *    the rows); a neighbour outside the image reads the fill value 0 (only ever with weight 0).
 * 7. Each layer resamples separately: rotation, then translation on the rotated image (the two
 *    affine maps are NOT composed into one; that would interpolate once and reflect differently
 *    near the borders), then flip (exact index reversal), then contrast.
 * 8. Contrast: TF's AdjustContrastv2 CPU kernel computes the per-channel mean as a float sum
 *    times 1.0f / (H W) and the output as mean + f (x - mean); here the sum is accumulated in
 *    double and rounded once (the kernel's pairwise float sum differs by at most a few ulps of the
 *    mean). The layer then clips to [0, 255] (clip_by_value).
 * 9. The input is the resized float image in [0, 255] (image_dataset_from_directory's output;
 *    the layers sit before EfficientNet's Rescaling/Normalization); training batches only:
 *    validation, evaluate and predict see unaugmented images, as Keras' training=False. */
#include "vkdp/ops/augment_ref.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vkdp/ops/head_ref.h"

vkdp_augment_cfg vkdp_augment_default_cfg(void)
{
    vkdp_augment_cfg c = {0.15, 0.1, 0.1, VKDP_FLIP_HORIZONTAL, 0.1};
    return c;
}

int vkdp_augment_cfg_check(const vkdp_augment_cfg *cfg, char *err, size_t errlen)
{
    const struct {
        const char *name;
        double v;
    } f[] = {{"rotation factor", cfg->rotation},
             {"height_factor", cfg->height_factor},
             {"width_factor", cfg->width_factor},
             {"contrast factor", cfg->contrast}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (!(f[i].v >= 0.0 && f[i].v <= 1.0)) {
            snprintf(err, errlen, "augmentation %s %g is not in [0, 1]", f[i].name, f[i].v);
            return -1;
        }
    if ((int)cfg->flip < VKDP_FLIP_NONE || (int)cfg->flip > VKDP_FLIP_BOTH) {
        snprintf(err, errlen, "augmentation flip mode %d is not one of none/horizontal/vertical/both",
                 (int)cfg->flip);
        return -1;
    }
    return 0;
}

static float unit(uint32_t r) { return (float)(r >> 8) * (1.0f / 16777216.0f); }

/* TF's random_uniform(minval, maxval) for bounds given as Python floats. */
static float uniform(uint32_t r, double lo, double hi)
{
    float mn = (float)lo, mx = (float)hi;
    return unit(r) * (mx - mn) + mn;
}

void vkdp_augment_draw(const vkdp_augment_cfg *cfg, uint64_t seed, uint32_t epoch, uint64_t gpos,
                       int H, int W, vkdp_augment_params *p)
{
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    uint32_t ctr[4] = {VKDP_AUGMENT_STREAM, (uint32_t)gpos, (uint32_t)(gpos >> 32), epoch}, r[4];
    vkdp_philox4x32_10(ctr, key, r);
    const double pi = 3.141592653589793;  /* Keras: self.lower * 2.0 * np.pi, left to right */
    p->angle = uniform(r[0], -cfg->rotation * 2.0 * pi, cfg->rotation * 2.0 * pi);
    p->dy = uniform(r[1], -cfg->height_factor, cfg->height_factor) * (float)H;
    p->dx = uniform(r[2], -cfg->width_factor, cfg->width_factor) * (float)W;
    p->contrast = uniform(r[3], 1.0 - cfg->contrast, 1.0 + cfg->contrast);
    ctr[0] = VKDP_AUGMENT_STREAM + 1;
    vkdp_philox4x32_10(ctr, key, r);
    p->flip_h = (cfg->flip & VKDP_FLIP_HORIZONTAL) && unit(r[0]) >= 0.5f;
    p->flip_v = (cfg->flip & VKDP_FLIP_VERTICAL) && unit(r[1]) >= 0.5f;
}

void vkdp_augment_rotation_matrix(float angle, int H, int W, float t[8])
{
    const float c = cosf(angle), s = sinf(angle), h1 = (float)H - 1.0f, w1 = (float)W - 1.0f;
    const float x_offset = (w1 - (c * w1 - s * h1)) / 2.0f;
    const float y_offset = (h1 - (s * w1 + c * h1)) / 2.0f;
    const float m[8] = {c, -s, x_offset, s, c, y_offset, 0.0f, 0.0f};
    memcpy(t, m, sizeof m);
}

void vkdp_augment_translation_matrix(float dy, float dx, float t[8])
{
    const float m[8] = {1.0f, 0.0f, -dx, 0.0f, 1.0f, -dy, 0.0f, 0.0f};
    memcpy(t, m, sizeof m);
}

float vkdp_augment_reflect(float in, int len)
{
    const float sz2 = 2.0f * (float)len;
    if (!isfinite(in))  /* only from non-finite parameters; TF's integer cast would be undefined */
        return 0.0f;
    if (in < 0.0f) {
        if (len <= 1) {
            in = 0.0f;
        } else {
            if (in < sz2)  /* TF's test, see note 5 */
                in = sz2 * (float)(int64_t)(-in / sz2) + in;
            in = in < (float)-len ? in + sz2 : -in - 1.0f;
        }
    } else if (in > (float)(len - 1)) {
        if (len <= 1) {
            in = 0.0f;
        } else {
            in -= sz2 * (float)(int64_t)(in / sz2);
            if (in >= (float)len)
                in = sz2 - in - 1.0f;
        }
    }
    return fminf(fmaxf(in, 0.0f), (float)(len - 1));
}

static float read_or_fill(const float *in, int H, int W, int C, float y, float x, int c)
{
    int64_t iy = (int64_t)y, ix = (int64_t)x;
    if (iy < 0 || iy >= H || ix < 0 || ix >= W)
        return 0.0f;
    return in[((size_t)iy * W + (size_t)ix) * C + c];
}

void vkdp_augment_transform(const float t[8], int H, int W, int C, const float *in, float *out)
{
    for (int oy = 0; oy < H; oy++)
        for (int ox = 0; ox < W; ox++) {
            float *o = out + ((size_t)oy * W + ox) * C;
            const float fx = (float)ox, fy = (float)oy;
            const float proj = t[6] * fx + t[7] * fy + 1.0f;
            if (proj == 0.0f) {
                for (int c = 0; c < C; c++)
                    o[c] = 0.0f;
                continue;
            }
            const float x = vkdp_augment_reflect((t[0] * fx + t[1] * fy + t[2]) / proj, W);
            const float y = vkdp_augment_reflect((t[3] * fx + t[4] * fy + t[5]) / proj, H);
            const float x0 = floorf(x), y0 = floorf(y), x1 = x0 + 1.0f, y1 = y0 + 1.0f;
            for (int c = 0; c < C; c++) {
                const float top = (x1 - x) * read_or_fill(in, H, W, C, y0, x0, c) +
                                  (x - x0) * read_or_fill(in, H, W, C, y0, x1, c);
                const float bottom = (x1 - x) * read_or_fill(in, H, W, C, y1, x0, c) +
                                     (x - x0) * read_or_fill(in, H, W, C, y1, x1, c);
                o[c] = (y1 - y) * top + (y - y0) * bottom;
            }
        }
}

void vkdp_augment_flip(int flip_h, int flip_v, int H, int W, int C, const float *in, float *out)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const int sy = flip_v ? H - 1 - y : y, sx = flip_h ? W - 1 - x : x;
            memcpy(out + ((size_t)y * W + x) * C, in + ((size_t)sy * W + sx) * C, (size_t)C * sizeof *out);
        }
}

void vkdp_augment_contrast(float factor, int H, int W, int C, const float *in, float *out)
{
    const size_t P = (size_t)H * W;
    const float inv = 1.0f / (float)P;
    for (int c = 0; c < C; c++) {
        double sum = 0;
        for (size_t p = 0; p < P; p++)
            sum += in[p * C + c];
        const float mean = (float)sum * inv;
        for (size_t p = 0; p < P; p++) {
            const float v = mean + factor * (in[p * C + c] - mean);
            out[p * C + c] = fminf(fmaxf(v, 0.0f), 255.0f);
        }
    }
}

void vkdp_augment_image(const vkdp_augment_params *p, int H, int W, int C, const float *in,
                        float *out, float *scratch)
{
    float t[8];
    vkdp_augment_rotation_matrix(p->angle, H, W, t);
    vkdp_augment_transform(t, H, W, C, in, scratch);
    vkdp_augment_translation_matrix(p->dy, p->dx, t);
    vkdp_augment_transform(t, H, W, C, scratch, out);
    vkdp_augment_flip(p->flip_h, p->flip_v, H, W, C, out, scratch);
    vkdp_augment_contrast(p->contrast, H, W, C, scratch, out);
}
