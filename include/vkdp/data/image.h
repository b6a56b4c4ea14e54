/* Pictures for people (not for the network): JPEG encoding, area-average thumbnails, a built-in
 * 5x7 bitmap font, and the per-class sample grid of `trainer dataset --grid`. Images are packed
 * RGB uint8, row-major. */
#ifndef VKDP_IMAGE_H
#define VKDP_IMAGE_H
#include <stddef.h>
#include <stdint.h>

#include "vkdp/data/data.h"

/* TurboJPEG encode. subsamp444: 1 = no chroma subsampling (every 8x8 block decodes on its own,
 * e.g. for text), 0 = 4:2:0. Returns 0 with a malloc'ed *jpeg of *size bytes, or -1 with the
 * reason. quality 1..100. */
int vkdp_jpeg_encode(const uint8_t *rgb, int w, int h, int quality, int subsamp444, uint8_t **jpeg,
                     size_t *size, char *reason, size_t len);
/* Encodes and writes path (via a temporary file renamed into place); 0 or -1 with the reason. */
int vkdp_jpeg_write(const char *path, const uint8_t *rgb, int w, int h, int quality, int subsamp444,
                    char *reason, size_t len);

/* Area average (box filter with fractional edge weights) of the crop [cx, cx+cw) x [cy, cy+ch) of
 * src (sw x sh) into dst (dw x dh); the crop must lie inside src. */
void vkdp_resize_area_rgb8(const uint8_t *src, int sw, int sh, int cx, int cy, int cw, int ch, uint8_t *dst,
                           int dw, int dh);

/* A JPEG thumbnail of the image file at path: the whole image scaled to fit max_side x max_side
 * (aspect kept, never enlarged), accurate DCT. 0 with malloc'ed *jpeg, or -1 with the reason. */
int vkdp_thumbnail_jpeg(const char *path, int max_side, int quality, uint8_t **jpeg, size_t *size,
                        int *tw, int *th, char *reason, size_t len);

/* ---- built-in font: 5x7 glyphs in 6x8 cells, printable ASCII; other bytes draw as '?' ---- */
#define VKDP_FONT_W 6
#define VKDP_FONT_H 8
/* Column bits of glyph c (bit 0 = top row), 5 columns; NULL for a byte outside 32..126. */
const uint8_t *vkdp_font_glyph(unsigned char c);
/* Width in pixels of text at scale (VKDP_FONT_W * scale per byte). */
int vkdp_font_width(const char *text, int scale);
/* Draws text with its top-left corner at (x, y), clipped to the image. */
void vkdp_font_draw(uint8_t *rgb, int w, int h, int x, int y, const char *text, int scale, const uint8_t color[3]);

/* ---- `trainer dataset --grid` ---- */
/* Grid layout: one row per class, up to per_class cells; a cell is a cell x cell white square
 * with the image's centred square crop (inset by VKDP_GRID_PAD) over a VKDP_GRID_LABEL_H strip
 * with the class name. Sizes are multiples of 16 so that every label strip covers whole JPEG
 * blocks (4:4:4): equal labels decode to equal pixels. */
#define VKDP_GRID_PAD 4
#define VKDP_GRID_LABEL_H 32
/* Writes the grid of the first per_class decodable images of each class, taken in the order of
 * items[0..n) (e.g. the training split), to out_path as a JPEG. cell: multiple of 16 in 32..1024.
 * Undecodable images are skipped with a warning. Returns 0, or -1 with a message in err. */
int vkdp_dataset_grid(const vkdp_index *idx, const int *items, int n, int per_class, int cell,
                      const char *out_path, char *err, size_t errlen);

#endif
