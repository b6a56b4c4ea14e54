/* The per-device table of the ops' tile and workgroup parameters (see vkdp/ops/tune.h). */
#include "vkdp/ops/tune.h"

#include <stdlib.h>
#include <string.h>

static const vkdp_tune table[] = {
    /* lavapipe (Mesa's llvmpipe Vulkan driver): the values measured when each shader was written
     * (Mesa 22.3, LLVM 15, 2-core AVX-512); the texel-buffer shaders and blocks by
     * tests/bench/bench_op_paths (BENCHMARKS.md). The depthwise and stem tiles are 4x4, not the
     * 8x4 they were written with: same forward speed, but llvmpipe compiles each of those
     * pipelines 2-4x faster, which took a 4-rank start from 10 s to 6 s (issue 11). Features are
     * computed one step's share at a time (feature_batch 0): llvmpipe runs batch 8 as fast per
     * image as batch 32 (BENCHMARKS.md), and larger calls would only cost memory. Two backbone calls in flight (async_depth 2): the
     * host packs the next call's images while the device runs one. */
    {.vendor_id = 0x10005, .driver = "llvmpipe", .wg = 64, .stem_tile = {4, 4},
     .stem_texel = 1, .dw_tile = {4, 4}, .dw_texel = 1, .gate_pixels = 8, .gate_fused = 1,
     .gate_texel = 1, .gemm_texel = {8, 2}, .async_depth = 2, .source = "lavapipe, measured (shaders' comments, BENCHMARKS.md)"},
    /* Any other device: the storage-buffer shaders. The texel paths won only on llvmpipe, where
     * storage-buffer loads become per-lane loops. Stem and depthwise tiles of 2x1 outputs per
     * invocation: the largest that spill no register on RDNA2, RDNA3 and CDNA2 (RADV's
     * no-hardware compiler, ctest radv_spills_*; at 8x4 the stem spilled 440-824 VGPRs and the
     * 5x5 depthwise up to 725 on gfx1100). Speed on a GPU is unmeasured (BENCHMARKS.md). A GPU is
     * starved by one step's 4-8 images; 64 per feature call is a guess until one is measured.
     * The 1x1 convolutions through the shared-memory tiled GEMM (gemm_smem): what GPUs are built
     * for, no spill on the three AMD families, speed against the register-blocked shader
     * unmeasured (tests/gpu/check.sh times both). */
    {.wg = 64, .stem_tile = {2, 1}, .dw_tile = {2, 1}, .gate_pixels = 8, .gemm_smem = 1, .feature_batch = 64,
     .async_depth = 2, .source = "any other device: storage buffers, tiles without spills on AMD, unmeasured"},
};

const vkdp_tune *vkdp_tune_table(size_t *n)
{
    *n = VKDP_ARRAY_LEN(table);
    return table;
}

static int matches(const vkdp_tune *r, const vkdp_device_info *in)
{
    return (!r->vendor_id || r->vendor_id == in->vendor_id) &&
           (!r->driver || strstr(in->driver, r->driver)) &&
           (!r->subgroup_size || r->subgroup_size == in->subgroup_size) &&
           r->min_shared_memory <= in->max_shared_memory;
}

const vkdp_tune *vkdp_tune_match(const vkdp_tune *rows, size_t n, const vkdp_device_info *info)
{
    for (size_t i = 0; i < n; i++)
        if (matches(&rows[i], info))
            return &rows[i];
    return &rows[0];
}

const vkdp_tune *vkdp_tune_get(vkdp_device *dev)
{
    const vkdp_tune *t = vkdp_device_ops_data(dev);
    if (!t) {
        size_t n;
        const vkdp_tune *rows = vkdp_tune_table(&n);
        t = vkdp_tune_match(rows, n, vkdp_device_get_info(dev));
        const char *spec = getenv("VKDP_TUNE");
        if (spec && *spec) {
            /* kept for the process's life, as the built-in rows are */
            static vkdp_tune overrides[8];
            static int noverrides;
            char err[256];
            if (noverrides == (int)VKDP_ARRAY_LEN(overrides))
                VKDP_FATAL("VKDP_TUNE: more than %d devices in one process", noverrides);
            vkdp_tune *o = &overrides[noverrides];
            *o = *t;
            if (vkdp_tune_apply(o, spec, err, sizeof err) < 0)
                VKDP_FATAL("%s", err);
            uint32_t max_wg = vkdp_device_get_info(dev)->max_workgroup_invocations;
            if (o->wg > max_wg)
                VKDP_FATAL("VKDP_TUNE: wg=%u is more than this device's maxComputeWorkGroupInvocations %u",
                           o->wg, max_wg);
            noverrides++;
            vkdp_log("VKDP_TUNE=%s: this device's ops use wg %u, stem tile %ux%u, dw tile %ux%u, gemm "
                     "block %ux%u, gemm smem %u, feature batch %u, async depth %u\n", spec, o->wg, o->stem_tile[0], o->stem_tile[1],
                     o->dw_tile[0], o->dw_tile[1], o->gemm_texel[0], o->gemm_texel[1], o->gemm_smem, o->feature_batch,
                     o->async_depth);
            t = o;
        }
        vkdp_device_set_ops_data(dev, t);
    }
    return t;
}
