/* tf.image.resize(method="bilinear", antialias=False) = TF's ResizeBilinear kernel with
 * half_pixel_centers=True, reproduced operation by operation in float32:
 *   scale = (float)in / out;  src = (dst + 0.5f) * scale - 0.5f
 *   lower = max(floor(src), 0); upper = min(ceil(src), in - 1); lerp = src - floor(src)
 *   top = tl + (tr - tl) * xl; bottom = bl + (br - bl) * xl; out = top + (bottom - top) * yl
 * (source positions before the first pixel clamp both taps to it; past the last, likewise). */
#include "vkdp/core/common.h"
#include "vkdp/data/data.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    int lower, upper;
    float lerp;
} interp;

static void weights(int out_size, int in_size, interp *w)
{
    const float scale = (float)in_size / (float)out_size;
    for (int i = 0; i < out_size; i++) {
        const float in = ((float)i + 0.5f) * scale - 0.5f;
        const float in_f = floorf(in);
        int lo = (int)in_f, hi = (int)ceilf(in);
        w[i].lower = lo > 0 ? lo : 0;
        w[i].upper = hi < in_size - 1 ? hi : in_size - 1;
        w[i].lerp = in - in_f;
    }
}

void vkdp_resize_bilinear_rgb(const uint8_t *src, int in_h, int in_w, float *dst, int out_h,
                              int out_w)
{
    if (in_h <= 0 || in_w <= 0 || out_h <= 0 || out_w <= 0)
        VKDP_FATAL("resize %dx%d -> %dx%d: sizes must be positive", in_w, in_h, out_w, out_h);
    interp *xs = vkdp_xmalloc((size_t)out_w * sizeof *xs);
    interp *ys = vkdp_xmalloc((size_t)out_h * sizeof *ys);
    weights(out_w, in_w, xs);
    weights(out_h, in_h, ys);
    const size_t row = (size_t)in_w * 3;
    for (int y = 0; y < out_h; y++) {
        const uint8_t *lo = src + (size_t)ys[y].lower * row;
        const uint8_t *hi = src + (size_t)ys[y].upper * row;
        const float yl = ys[y].lerp;
        float *o = dst + (size_t)y * out_w * 3;
        for (int x = 0; x < out_w; x++) {
            const int xl0 = xs[x].lower * 3, xu0 = xs[x].upper * 3;
            const float xl = xs[x].lerp;
            for (int c = 0; c < 3; c++) {
                const float tl = lo[xl0 + c], tr = lo[xu0 + c];
                const float bl = hi[xl0 + c], br = hi[xu0 + c];
                const float top = tl + (tr - tl) * xl;
                const float bottom = bl + (br - bl) * xl;
                o[x * 3 + c] = top + (bottom - top) * yl;
            }
        }
    }
    free(xs);
    free(ys);
}
