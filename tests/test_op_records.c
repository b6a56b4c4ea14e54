/* What every op's record relies on (vkdp/ops/op.h, tune.h): the per-device table (rows match on
 * vendor, driver, subgroup size and shared memory, in order; the first row is the fallback and
 * holds lavapipe's measured values; a device looks its row up once), a record that disagrees
 * with its shader's SPIR-V refused naming the op, and the grid: spread over y when a shader
 * allows it, refused naming the op when it does not. */
#include <string.h>

#include "harness.h"
#include "vkdp/ops/backbone_ops.h"
#include "vkdp/ops/map.h"
#include "vkdp/ops/ops.h"
#include "vkdp/ops/tune.h"

static vkdp_device_info info(uint32_t vendor, const char *driver, uint32_t subgroup,
                             uint32_t shared)
{
    vkdp_device_info in;
    memset(&in, 0, sizeof in);
    in.vendor_id = vendor;
    snprintf(in.driver, sizeof in.driver, "%s", driver);
    in.subgroup_size = subgroup;
    in.max_shared_memory = shared;
    return in;
}

static void table(void)
{
    static const vkdp_tune rows[] = {
        {.vendor_id = 0x10005, .driver = "llvmpipe", .wg = 64},
        {.vendor_id = 0x10de, .subgroup_size = 32, .min_shared_memory = 49152, .wg = 128},
        {.vendor_id = 0x10de, .wg = 96},
        {.driver = "RADV", .subgroup_size = 64, .wg = 256},
    };
    size_t n = VKDP_ARRAY_LEN(rows);
    vkdp_device_info in = info(0x10005, "llvmpipe Mesa 22.3.6 (LLVM 15.0.6)", 8, 32768);
    CHECK(vkdp_tune_match(rows, n, &in) == &rows[0], "lavapipe -> row 0");
    in = info(0x10de, "NVIDIA 535", 32, 49152);
    CHECK(vkdp_tune_match(rows, n, &in) == &rows[1], "NVIDIA, 48 KiB shared -> row 1");
    in = info(0x10de, "NVIDIA 535", 32, 16384);
    CHECK(vkdp_tune_match(rows, n, &in) == &rows[2], "NVIDIA, 16 KiB shared -> row 2");
    in = info(0x1002, "radv Mesa RADV 23", 64, 65536);
    CHECK(vkdp_tune_match(rows, n, &in) == &rows[3], "driver substring RADV, subgroup 64 -> row 3");
    in = info(0x1002, "radv Mesa RADV 23", 32, 65536);
    CHECK(vkdp_tune_match(rows, n, &in) == &rows[0], "RADV at subgroup 32 -> the fallback");
    in = info(0x1002, "AMD open-source driver", 64, 65536);
    CHECK(vkdp_tune_match(rows, n, &in) == &rows[0], "no row matches -> the first (fallback)");

    size_t nb;
    const vkdp_tune *t = vkdp_tune_table(&nb);
    in = info(0x10005, "llvmpipe Mesa 22.3.6 (LLVM 15.0.6)", 8, 32768);
    const vkdp_tune *lvp = vkdp_tune_match(t, nb, &in);
    CHECK(lvp == &t[0] && lvp->wg == 64 && lvp->stem_tile[0] == 4 && lvp->stem_tile[1] == 4 &&
              lvp->dw_tile[0] == 4 && lvp->dw_tile[1] == 4 && lvp->gate_pixels == 8 && lvp->feature_batch == 0 &&
              lvp->gemm_texel[0] == 8 && lvp->gemm_texel[1] == 2 && lvp->gemm_smem == 0 && lvp->async_depth == 2,
          "built-in table: lavapipe's row first, with the measured values");
    in = info(0x8086, "Intel open-source Mesa driver", 32, 65536);
    const vkdp_tune *other = vkdp_tune_match(t, nb, &in);
    CHECK(other == &t[nb - 1] && other != lvp && other->gemm_texel[0] == 0 && !other->dw_texel &&
              !other->stem_texel && !other->gate_texel && !other->gate_fused && other->feature_batch == 64 &&
              other->stem_tile[0] == 2 && other->stem_tile[1] == 1 && other->dw_tile[0] == 2 && other->dw_tile[1] == 1 &&
              other->gemm_smem == 1 && other->async_depth == 2,
          "built-in table: any other device gets the last row, the storage-buffer shaders, the shared-memory GEMM, "
          "features 64 at a time");
    in = info(0x10de, "NVIDIA 560.35", 32, 49152);
    CHECK(vkdp_tune_match(t, nb, &in) == other, "built-in table: an NVIDIA GPU gets the storage-buffer row");

}

/* A record whose push size, binding count or write bits disagree with shaders/swish_grad.comp */
static vkdp_shader_rec bad_shader;
static const vkdp_op bad_op = {.name = "bad_swish_grad", .fwd = {&bad_shader}};

static void make_pipeline(void *dev) { vkdp_op_pipeline(dev, &bad_op, &bad_shader, NULL, 0); }

static void record_checks(vkdp_device *dev)
{
    const vkdp_shader_rec good = VKDP_MAP_SHADER("swish_grad", 2);
    const vkdp_shader_rec bad[] = {
        {"swish_grad", 3, 8, VKDP_WRITES(2), 1},     /* push size */
        {"swish_grad", 4, 4, VKDP_WRITES(2), 1},     /* binding count */
        {"swish_grad", 3, 4, VKDP_WRITES(0), 1},     /* written binding */
    };
    char msg[1024];
    bad_shader = good;
    CHECK(vkdp_op_pipeline(dev, &bad_op, &bad_shader, NULL, 0) != NULL, "the right record");
    for (size_t i = 0; i < VKDP_ARRAY_LEN(bad); i++) {
        bad_shader = bad[i];
        int died = test_run_fatal(make_pipeline, dev, msg, sizeof msg);
        CHECK(died && strstr(msg, "op bad_swish_grad: shaders/swish_grad.comp declares"),
              "mismatch %zu: '%s'", i, msg);
        if (died)
            printf("ok   refused: %.*s\n", (int)strcspn(msg, "\n"), msg);
    }
}

typedef struct {
    vkdp_device *dev;
    vkdp_cmd *cmd;
    vkdp_buf *b;
    uint64_t invocations, z;
} grid_ctx;

/* eltwise's shader may spread over y, stem's may not. Only recorded, never submitted: the
 * buffer is far smaller than these shapes. */
static void dispatch_eltwise(void *ctx)
{
    grid_ctx *g = ctx;
    vkdp_cmd_begin(g->cmd);
    vkdp_op_eltwise(g->cmd, g->dev, VKDP_ELT_ADD, VKDP_ACT_NONE, (uint32_t)(4 * g->invocations),
                    vkdp_whole(g->b), vkdp_whole(g->b), vkdp_whole(g->b), NULL);
    vkdp_cmd_end(g->cmd);
}

static void dispatch_stem(void *ctx)
{
    grid_ctx *g = ctx;
    float s[3] = {1, 1, 1}, t[3] = {0, 0, 0};
    vkdp_cmd_begin(g->cmd);
    vkdp_op_stem(g->cmd, g->dev, (uint32_t)g->z, (uint32_t)g->invocations, 1, s, t,
                 vkdp_whole(g->b), vkdp_whole(g->b), vkdp_whole(g->b), vkdp_whole(g->b), NULL);
    vkdp_cmd_end(g->cmd);
}

static void grid_checks(vkdp_device *dev)
{
    const vkdp_device_info *in = vkdp_device_get_info(dev);
    uint32_t wg = vkdp_tune_get(dev)->wg;
    grid_ctx g = {dev, vkdp_cmd_create(dev), vkdp_buf_create(dev, 1 << 20, "x"), 0, 1};
    /* more workgroups than one row holds: recorded as a 2-D grid */
    g.invocations = (uint64_t)in->max_workgroup_count[0] * wg + 1;
    dispatch_eltwise(&g);
    CHECK(vkdp_cmd_dispatch_count(g.cmd) == 1, "a 2-D grid of %llu invocations",
          (unsigned long long)g.invocations);
    char msg[1024];
    g.z = (uint64_t)in->max_workgroup_count[2] + 1;
    g.invocations = 4;
    int died = test_run_fatal(dispatch_stem, &g, msg, sizeof msg);
    CHECK(died && strstr(msg, "op stem_conv3x3_s2:") && strstr(msg, "along z"),
          "a batch over the z limit: '%s'", msg);
    if (died)
        printf("ok   refused: %.*s\n", (int)strcspn(msg, "\n"), msg);
    g.z = 1;
    /* image rows H: H/2 output rows, 4 per tile, 4 invocations per tile -> one past the limit */
    g.invocations = (uint64_t)in->max_workgroup_count[0] * 2 * wg + wg;
    died = test_run_fatal(dispatch_stem, &g, msg, sizeof msg);
    CHECK(died && strstr(msg, "op stem_conv3x3_s2:") && strstr(msg, "maxComputeWorkGroupCount[0]"),
          "a 1-D shader over the x limit: '%s'", msg);
    if (died)
        printf("ok   refused: %.*s\n", (int)strcspn(msg, "\n"), msg);
    vkdp_buf_destroy(g.b);
    vkdp_cmd_destroy(g.cmd);
}

int main(void)
{
    table();
    vkdp_device *dev = vkdp_device_create(NULL);
    size_t nb;
    const vkdp_tune *t = vkdp_tune_table(&nb);
    const vkdp_tune *d = vkdp_tune_get(dev);
    CHECK(d == vkdp_tune_get(dev) && d == vkdp_device_ops_data(dev), "looked up once, kept");
    printf("this device (%s, %s): row %d (%s)\n", vkdp_device_get_info(dev)->name,
           vkdp_device_get_info(dev)->driver, (int)(d - t), d->source);
    record_checks(dev);
    grid_checks(dev);
    vkdp_device_destroy(dev);
    printf("%s\n", failures ? "FAILED" : "all passed");
    return failures ? 1 : 0;
}
