/* Private to the h5 module: the string type and buffer shared by string attributes and string
 * datasets. */
#ifndef VKDP_H5_INTERNAL_H
#define VKDP_H5_INTERNAL_H
#include "vkdp/h5/h5.h"

/* Variable-length UTF-8, or fixed-length null-padded ASCII of the longest string's width (+1),
 * returned in *width. */
hid_t vkdp_h5_string_type(vkdp_h5_io *io, const char *const *v, size_t n, int vlen,
                          size_t *width);
/* What to pass to H5Awrite / H5Dwrite for that type: the pointers themselves (vlen), or the
 * strings packed at `width` bytes each into *owned (free it). */
const void *vkdp_h5_string_buf(const char *const *v, size_t n, int vlen, size_t width,
                               char **owned);

#endif
