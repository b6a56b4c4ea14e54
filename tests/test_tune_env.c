/* VKDP_TUNE (vkdp_tune_apply, vkdp/ops/tune.h): a spec overrides the named fields of a tune row
 * and nothing else; a bad key or an out-of-range value changes nothing and names the key. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "vkdp/ops/tune.h"

static vkdp_tune base(void)
{
    size_t n;
    return vkdp_tune_table(&n)[0];
}

static void expect_refused(const char *spec, const char *msg)
{
    vkdp_tune r = base(), before = r;
    char err[256] = "";
    int rc = vkdp_tune_apply(&r, spec, err, sizeof err);
    EXPECT(rc < 0 && strstr(err, msg) && !memcmp(&r, &before, sizeof r), "'%s' refused, row unchanged: %s",
           spec, err);
}

int main(void)
{
    vkdp_tune r = base(), b = base();
    char err[256] = "";
    int rc = vkdp_tune_apply(&r, "dw_tile=4x2,stem_tile=2x8,wg=32,gemm_texel=4x1,dw_texel=0", err, sizeof err);
    EXPECT(rc == 0, "a valid spec applies (%s)", err);
    EXPECT(r.dw_tile[0] == 4 && r.dw_tile[1] == 2 && r.stem_tile[0] == 2 && r.stem_tile[1] == 8,
           "tiles XxY: dw %ux%u stem %ux%u", r.dw_tile[0], r.dw_tile[1], r.stem_tile[0], r.stem_tile[1]);
    EXPECT(r.wg == 32 && r.gemm_texel[0] == 4 && r.gemm_texel[1] == 1 && r.dw_texel == 0,
           "wg %u, gemm block %ux%u, dw_texel %u", r.wg, r.gemm_texel[0], r.gemm_texel[1], r.dw_texel);
    EXPECT(r.gate_pixels == b.gate_pixels && r.gate_fused == b.gate_fused && r.stem_texel == b.stem_texel &&
               r.vendor_id == b.vendor_id && r.driver == b.driver,
           "fields the spec does not name keep the row's values and key");
    EXPECT(!strcmp(r.source, "VKDP_TUNE override"), "source says the row was overridden: %s", r.source);
    r = base();
    EXPECT(vkdp_tune_apply(&r, "gemm_texel=0x0", err, sizeof err) == 0 && r.gemm_texel[0] == 0,
           "gemm_texel=0x0 (the storage-buffer GEMM) is allowed");
    r = base();
    EXPECT(vkdp_tune_apply(&r, "gemm_smem=1", err, sizeof err) == 0 && r.gemm_smem == 1 && b.gemm_smem == 0,
           "gemm_smem=1 (the shared-memory GEMM) applies over lavapipe's 0 (%s)", err);
    expect_refused("gemm_smem=2", "gemm_smem=2 is out of range (an integer in 0..1)");
    r = base();
    EXPECT(vkdp_tune_apply(&r, "feature_batch=256", err, sizeof err) == 0 && r.feature_batch == 256,
           "feature_batch=256 applies (%s)", err);
    expect_refused("feature_batch=5000", "feature_batch=5000 is out of range (an integer in 0..4096)");
    r = base();
    EXPECT(vkdp_tune_apply(&r, "async_depth=1", err, sizeof err) == 0 && r.async_depth == 1 && b.async_depth == 2,
           "async_depth=1 (synchronous backbone calls) applies over lavapipe's 2 (%s)", err);
    expect_refused("async_depth=3", "async_depth=3 is out of range (an integer in 1..2)");
    expect_refused("async_depth=0", "async_depth=0 is out of range (an integer in 1..2)");
    expect_refused("dw_tile=4", "dw_tile=4 is out of range (XxY");
    expect_refused("dw_tile=0x4", "dw_tile=0x4 is out of range");
    expect_refused("dw_tile=16x8", "X*Y at most 64");
    expect_refused("dw_tile=4x4x", "dw_tile=4x4x is out of range");
    expect_refused("wg=48", "a power of 2");
    expect_refused("wg=2048", "wg=2048 is out of range");
    expect_refused("stem_texel=2", "stem_texel=2 is out of range (an integer in 0..1)");
    expect_refused("gemm_texel=8x8", "Y at most 4 vec4");
    expect_refused("gemm_texel=4x0", "both 0 or neither");
    expect_refused("dw_tile=-4x4", "dw_tile=-4x4 is out of range");
    expect_refused("dw_tile=99999999999999999999x1", "out of range");
    expect_refused("tile=4x4", "unknown key 'tile' (wg, stem_tile, stem_texel, dw_tile, gate_pixels, gate_fused, "
                               "gate_texel, dw_texel, gemm_texel, gemm_smem, feature_batch, async_depth)");
    expect_refused("dw_tile", "'dw_tile' is not key=value");
    expect_refused("dw_tile=4x4,,wg=32", "is not key=value");
    expect_refused("wg=32,dw_tile=9x9", "dw_tile=9x9"); /* a later bad item: the earlier one is not kept */
    return test_summary();
}
