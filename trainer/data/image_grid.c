/* `trainer dataset --grid OUT.jpg`: sample images of every class with their labels, as the Keras
 * tutorial's first figure shows them, burnt into one JPEG (see include/vkdp/data/image.h). */
#include <stdlib.h>
#include <string.h>

#include "vkdp/core/common.h"
#include "vkdp/core/errmsg.h"
#include "vkdp/data/image.h"

/* The label of a cell: the class name, cut to fit with ".." (at least one character kept). */
static void fit_label(const char *name, int max_px, int scale, char *out, size_t len)
{
    snprintf(out, len, "%s", name);
    size_t n = strlen(out);
    if (vkdp_font_width(out, scale) <= max_px)
        return;
    while (n > 1 && (int)(n + 2) * VKDP_FONT_W * scale > max_px)
        n--;
    snprintf(out + n, len - n, "..");
}

/* Draws image `id` into the cell at (x0, y0): centred square crop, inset by the padding. */
static int draw_cell(const vkdp_index *idx, int id, uint8_t *img, int W, int x0, int y0, int cell)
{
    char path[4096], why[256];
    uint8_t *rgb;
    int w, h;
    if (vkdp_jpeg_decode_file_dct(vkdp_index_path(idx, id, path, sizeof path), 1, &rgb, &w, &h, why,
                                  sizeof why) != 0) {
        vkdp_warn("grid: %s skipped: %s", path, why);
        return -1;
    }
    int side = w < h ? w : h, inner = cell - 2 * VKDP_GRID_PAD;
    uint8_t *sq = vkdp_xmalloc((size_t)inner * inner * 3);
    vkdp_resize_area_rgb8(rgb, w, h, (w - side) / 2, (h - side) / 2, side, side, sq, inner, inner);
    for (int y = 0; y < inner; y++)
        memcpy(img + ((size_t)(y0 + VKDP_GRID_PAD + y) * W + x0 + VKDP_GRID_PAD) * 3, sq + (size_t)y * inner * 3,
               (size_t)inner * 3);
    free(sq);
    free(rgb);
    return 0;
}

int vkdp_dataset_grid(const vkdp_index *idx, const int *items, int n, int per_class, int cell, const char *out_path,
                      char *err, size_t errlen)
{
    if (cell < 32 || cell > 1024 || cell % 16 || per_class < 1 || per_class > 64)
        return vkdp_seterr(err, errlen,
                           "grid: cell %d (multiple of 16 in 32..1024) or %d per class (1..64) out of range", cell,
                           per_class);
    const int C = idx->nclasses, W = per_class * cell, rowh = cell + VKDP_GRID_LABEL_H, H = C * rowh;
    if (H > VKDP_MAX_IMAGE_SIDE || W > VKDP_MAX_IMAGE_SIDE)
        return vkdp_seterr(err, errlen, "grid: %dx%d pixels is too large a picture (%d classes)", W, H, C);
    uint8_t *img = vkdp_xmalloc((size_t)W * H * 3);
    memset(img, 255, (size_t)W * H * 3);
    int *filled = vkdp_xcalloc((size_t)C, sizeof *filled);
    const int scale = 2;
    const uint8_t ink[3] = {20, 20, 20};
    for (int i = 0; i < n; i++) {
        int id = items[i], k = idx->label[id];
        if (filled[k] == per_class)
            continue;
        int x0 = filled[k] * cell, y0 = k * rowh;
        if (draw_cell(idx, id, img, W, x0, y0, cell) != 0)
            continue;
        char label[256];
        fit_label(idx->class_names[k], cell - 2 * VKDP_GRID_PAD, scale, label, sizeof label);
        int tw = vkdp_font_width(label, scale);
        vkdp_font_draw(img, W, H, x0 + (cell - tw) / 2, y0 + cell + (VKDP_GRID_LABEL_H - 7 * scale) / 2, label, scale,
                       ink);
        filled[k]++;
    }
    for (int k = 0; k < C; k++)
        if (filled[k] < per_class)
            vkdp_warn("grid: class %s has %d image(s) for %d cell(s)", idx->class_names[k], filled[k], per_class);
    char why[512];
    int rc = vkdp_jpeg_write(out_path, img, W, H, 90, 1, why, sizeof why);
    if (rc != 0)
        snprintf(err, errlen, "grid: %s: %s", out_path, why);
    free(filled);
    free(img);
    return rc;
}
