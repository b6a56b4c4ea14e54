/* The ops' tile and workgroup parameters, one table row per kind of device. Rows are matched in
 * order on vendor, driver, subgroup size and shared memory; the built-in table's first row holds
 * lavapipe's measured values and its last row (an empty key) every other device's. Looked up once
 * per device. */
#ifndef VKDP_OPS_TUNE_H
#define VKDP_OPS_TUNE_H
#include <stddef.h>
#include <stdint.h>

#include "vkdp/vk/vk.h"

typedef struct {
    /* key: 0 / NULL matches any device */
    uint32_t vendor_id;
    const char *driver;          /* a substring of vkdp_device_info.driver */
    uint32_t subgroup_size;
    uint32_t min_shared_memory;  /* the row needs at least this much shared memory (bytes) */
    /* values */
    uint32_t wg;                 /* workgroup size (local_size_x_id) of every op's shaders */
    uint32_t stem_tile[2];       /* stem: output pixels per invocation, x and y */
    uint32_t stem_texel;         /* 1: the stem through texel buffers (..._s2_texel.comp) */
    uint32_t dw_tile[2];         /* depthwise conv: output pixels per invocation, x and y */
    uint32_t gate_pixels;        /* se_gate: pixels per invocation */
    uint32_t gate_fused;         /* 1: the backbone's SE gating is the project GEMM's row scale,
                                  * not a se_gate pass */
    uint32_t gate_texel;         /* 1: se_gate with C % 4 == 0 through texel buffers
                                  * (se_gate_texel.comp) */
    uint32_t dw_texel;           /* 1: dwconv with C % 4 == 0 through texel buffers
                                  * (dwconv_texel.comp) */
    uint32_t gemm_texel[2];      /* conv2d_1x1 with K, N multiples of 4 through texel buffers
                                  * (conv2d_1x1_texel.comp): rows x vec4 columns of Y per
                                  * invocation; {0, 0}: the storage-buffer shader */
    uint32_t gemm_smem;          /* 1: conv2d_1x1 (any K, N) through the shared-memory tiled
                                  * shader (conv2d_1x1_smem.comp) where gemm_texel does not
                                  * apply; 0: the register-blocked storage-buffer shader */
    uint32_t feature_batch;      /* images per backbone call while a pass computes features,
                                  * running that many images' steps ahead of the head; 0: one
                                  * step's share (--feature-batch overrides) */
    uint32_t async_depth;        /* backbone calls in flight while a pass computes features: 2 =
                                  * the host packs the next call while the device runs one
                                  * (two input/output slots); 1 (or 0) = submit and wait */
    const char *source;          /* where the values come from */
} vkdp_tune;

/* This device's row (looked up on first use, then kept with the device), with the environment's
 * VKDP_TUNE applied (vkdp_tune_apply; a bad one is a fatal error naming it). */
const vkdp_tune *vkdp_tune_get(vkdp_device *dev);
/* The first row of rows[0..n) whose key matches info; rows[0] when none does. */
const vkdp_tune *vkdp_tune_match(const vkdp_tune *rows, size_t n, const vkdp_device_info *info);
/* The built-in table. */
const vkdp_tune *vkdp_tune_table(size_t *n);

/* Applies spec, "key=value,..." (keys: the value fields above; tiles as XxY, e.g.
 * "dw_tile=4x4,wg=32"), to *row; source becomes "VKDP_TUNE override". Nothing is changed when a
 * key is unknown or a value out of the shaders' range: -1 and err names the key and the range. */
int vkdp_tune_apply(vkdp_tune *row, const char *spec, char *err, size_t errlen);

#endif
