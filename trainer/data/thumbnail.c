/* Area-average downscaling and JPEG thumbnails of image files (for the report's gallery and the
 * dataset grid; what the network sees is data_resize.c's TF bilinear, not this). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vkdp/core/common.h"
#include "vkdp/data/image.h"

/* For output index o of n over a source span of `span` pixels starting at `start`: the source
 * pixels it covers, each with its overlap; weights sum to 1. */
typedef struct {
    int first, count;
    float *w;
} area_taps;

static area_taps *make_taps(int start, int span, int n)
{
    area_taps *t = vkdp_xcalloc((size_t)n, sizeof *t);
    double scale = (double)span / n;
    for (int o = 0; o < n; o++) {
        double a = o * scale, b = (o + 1) * scale;
        int i0 = (int)floor(a), i1 = (int)ceil(b);
        if (i1 > span)
            i1 = span;
        t[o].first = start + i0;
        t[o].count = i1 - i0;
        t[o].w = vkdp_xcalloc((size_t)t[o].count, sizeof(float));
        for (int i = i0; i < i1; i++) {
            double lo = i > a ? i : a, hi = i + 1 < b ? i + 1 : b;
            t[o].w[i - i0] = (float)((hi - lo) / scale);
        }
    }
    return t;
}

static void free_taps(area_taps *t, int n)
{
    for (int i = 0; i < n; i++)
        free(t[i].w);
    free(t);
}

void vkdp_resize_area_rgb8(const uint8_t *src, int sw, int sh, int cx, int cy, int cw, int ch, uint8_t *dst,
                           int dw, int dh)
{
    if (cx < 0 || cy < 0 || cw <= 0 || ch <= 0 || cx + cw > sw || cy + ch > sh || dw <= 0 || dh <= 0)
        VKDP_FATAL("resize: crop %d,%d %dx%d outside a %dx%d image (or empty output %dx%d)", cx, cy, cw, ch, sw, sh,
                   dw, dh);
    area_taps *tx = make_taps(cx, cw, dw), *ty = make_taps(cy, ch, dh);
    /* horizontal pass over the crop's rows, then vertical */
    float *mid = vkdp_xmalloc((size_t)ch * dw * 3 * sizeof *mid);
    for (int y = 0; y < ch; y++) {
        const uint8_t *row = src + ((size_t)(cy + y) * sw) * 3;
        for (int o = 0; o < dw; o++) {
            float acc[3] = {0, 0, 0};
            for (int k = 0; k < tx[o].count; k++) {
                const uint8_t *p = row + (size_t)(tx[o].first + k) * 3;
                for (int c = 0; c < 3; c++)
                    acc[c] += tx[o].w[k] * p[c];
            }
            memcpy(mid + ((size_t)y * dw + o) * 3, acc, sizeof acc);
        }
    }
    for (int o = 0; o < dh; o++)
        for (int x = 0; x < dw; x++) {
            float acc[3] = {0, 0, 0};
            for (int k = 0; k < ty[o].count; k++) {
                const float *p = mid + ((size_t)(ty[o].first - cy + k) * dw + x) * 3;
                for (int c = 0; c < 3; c++)
                    acc[c] += ty[o].w[k] * p[c];
            }
            for (int c = 0; c < 3; c++) {
                float v = acc[c] + 0.5f;
                dst[((size_t)o * dw + x) * 3 + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
    free(mid);
    free_taps(tx, dw);
    free_taps(ty, dh);
}

int vkdp_thumbnail_jpeg(const char *path, int max_side, int quality, uint8_t **jpeg, size_t *size, int *tw,
                        int *th, char *reason, size_t len)
{
    uint8_t *rgb;
    int w, h;
    if (vkdp_jpeg_decode_file_dct(path, 1, &rgb, &w, &h, reason, len) != 0)
        return -1;
    int dw = w, dh = h;
    if (w > max_side || h > max_side) {
        if (w >= h) {
            dw = max_side;
            dh = (int)lround((double)h * max_side / w);
        } else {
            dh = max_side;
            dw = (int)lround((double)w * max_side / h);
        }
        dw = dw < 1 ? 1 : dw;
        dh = dh < 1 ? 1 : dh;
    }
    uint8_t *small = vkdp_xmalloc((size_t)dw * dh * 3);
    vkdp_resize_area_rgb8(rgb, w, h, 0, 0, w, h, small, dw, dh);
    free(rgb);
    int rc = vkdp_jpeg_encode(small, dw, dh, quality, 0, jpeg, size, reason, len);
    free(small);
    *tw = dw;
    *th = dh;
    return rc;
}
