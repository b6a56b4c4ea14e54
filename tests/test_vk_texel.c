/* Every binding kind through the recorder (tests/shaders/texel_ops.comp): uniform and storage
 * texel buffers, a uniform buffer and a storage buffer in one dispatch; a second dispatch reads
 * the first's texel output (a barrier), a third a sub-range; the workgroup size set through the
 * shader's specialization id; VkBufferViews cached per (range, format) and kept across
 * resubmission; and the misuses refused with one clear line. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "test_shaders.h"
#include "vkdp/vk/vk.h"

enum { N = 1000, SLICE = 16 }; /* the third dispatch reads a from texel SLICE on */

typedef struct {
    uint32_t n;
    float f[3];
    float v[3];
} texel_push; /* std430: f at 4, v at 16 */

static const float scale[4] = {0.5f, -1.0f, 2.0f, 0.25f};

static void expected(const float *a, const float *b, const texel_push *pc, float *y, float *z)
{
    for (uint32_t i = 0; i < pc->n; i++) {
        float s = 0;
        for (int c = 0; c < 4; c++) {
            y[4 * i + c] = a[4 * i + c] * scale[c] + b[i] + pc->f[2] + pc->v[2];
            s += y[4 * i + c];
        }
        z[i] = s;
    }
}

/* Passes when fn dies with needle on stderr. */
static void expect_fatal(const char *what, void (*fn)(void *), void *ctx, const char *needle)
{
    char msg[1024];
    int ok = test_run_fatal(fn, ctx, msg, sizeof msg) && strstr(msg, needle);
    CHECK(ok, "%s: stderr '%s' (expected '%s')", what, msg, needle);
    if (ok)
        printf("ok   %s: %.*s\n", what, (int)strcspn(msg, "\n"), msg);
}

typedef struct {
    vkdp_device *dev;
    vkdp_cmd *cmd;
    vkdp_pipeline *p;
    vkdp_view v[5];
    uint32_t writes;
    texel_push pc;
} bad_ctx;

static void bad_dispatch(void *ctx)
{
    bad_ctx *b = ctx;
    vkdp_cmd_begin(b->cmd);
    vkdp_cmd_dispatch(b->cmd, b->p, "bad", b->v, 5, b->writes, &b->pc, 1, 1, 1);
}

static void fixed_with_wg(void *ctx)
{
    bad_ctx *b = ctx;
    vkdp_pipeline_get_code(b->dev, test_shader_find("fixed_size"), NULL, 0, 64);
}

int main(void)
{
    vkdp_device *dev = vkdp_device_create(NULL);
    vkdp_cmd *cmd = vkdp_cmd_create(dev);
    const vkdp_spirv *code = test_shader_find("texel_ops");
    vkdp_pipeline *p = vkdp_pipeline_get_code(dev, code, NULL, 0, 64);
    CHECK(vkdp_pipeline_info(p)->local_size[0] == 64, "workgroup %u, set to 64",
          vkdp_pipeline_info(p)->local_size[0]);
    CHECK(vkdp_pipeline_get_code(dev, code, NULL, 0, 64) == p &&
              vkdp_pipeline_get_code(dev, code, NULL, 0, 32) != p,
          "pipelines cached per workgroup size");

    float *a = vkdp_xmalloc(4 * N * 4), *b = vkdp_xmalloc(N * 4);
    test_fill_uniform(a, 4 * N, 1, -2, 2);
    test_fill_uniform(b, N, 2, -1, 1);
    vkdp_buf *ba = vkdp_buf_create(dev, 4 * N * 4, "a"), *bb = vkdp_buf_create(dev, N * 4, "b");
    vkdp_buf *bu = vkdp_buf_create(dev, 16, "u");
    vkdp_buf *by = vkdp_buf_create(dev, 4 * N * 4, "y"), *bz = vkdp_buf_create(dev, N * 4, "z");
    vkdp_buf *by2 = vkdp_buf_create(dev, 4 * N * 4, "y2"), *bz2 = vkdp_buf_create(dev, N * 4, "z2");
    vkdp_buf *by3 = vkdp_buf_create(dev, 4 * N * 4, "y3"), *bz3 = vkdp_buf_create(dev, N * 4, "z3");
    vkdp_buf_upload(ba, 0, a, 4 * N * 4);
    vkdp_buf_upload(bb, 0, b, N * 4);
    vkdp_buf_upload(bu, 0, scale, 16);
    texel_push pc = {N, {0, 0, 0.125f}, {0, 0, -0.5f}};
    texel_push pc3 = pc;
    pc3.n = N - SLICE;
    const uint32_t writes = 1u << 3 | 1u << 4;
    const VkFormat rgba = VK_FORMAT_R32G32B32A32_SFLOAT;

    vkdp_cmd_begin(cmd);
    /* a: RGBA32F texels (a samplerBuffer has no format of its own); b, y: the shader's formats */
    vkdp_view v1[5] = {vkdp_texels(ba, 0, 0, rgba), vkdp_whole(bb), vkdp_whole(bu),
                       vkdp_whole(by), vkdp_whole(bz)};
    vkdp_cmd_dispatch(cmd, p, "texel 1", v1, 5, writes, &pc, (N + 63) / 64, 1, 1);
    /* reads the texels the first wrote */
    vkdp_view v2[5] = {vkdp_texels(by, 0, 0, rgba), vkdp_whole(bb), vkdp_whole(bu),
                       vkdp_whole(by2), vkdp_whole(bz2)};
    vkdp_cmd_dispatch(cmd, p, "texel 2", v2, 5, writes, &pc, (N + 63) / 64, 1, 1);
    /* a sub-range of a, at a texel-aligned offset */
    uint64_t off = SLICE * 16;
    vkdp_view v3[5] = {vkdp_texels(ba, off, 0, rgba), vkdp_slice(bb, SLICE * 4, 0), vkdp_whole(bu),
                       vkdp_whole(by3), vkdp_whole(bz3)};
    vkdp_cmd_dispatch(cmd, p, "texel 3", v3, 5, writes, &pc3, (N + 63) / 64, 1, 1);
    vkdp_cmd_end(cmd);
    uint32_t views_a = vkdp_buf_texel_views(ba), views_y = vkdp_buf_texel_views(by);
    for (int rep = 0; rep < 2; rep++)
        vkdp_cmd_submit(cmd);
    CHECK(views_a == 2 && views_y == 1, "texel views: a %u (whole, slice), y %u (one view serves "
          "the storage write and the sampled read)", views_a, views_y);
    CHECK(vkdp_buf_texel_views(ba) == views_a, "views kept across resubmission");

    float *y = vkdp_xmalloc(4 * N * 4), *z = vkdp_xmalloc(N * 4);
    float *y2 = vkdp_xmalloc(4 * N * 4), *z2 = vkdp_xmalloc(N * 4);
    expected(a, b, &pc, y, z);
    CHECK(test_check("texel 1: y (storage texel write)", vkdp_buf_host(by), y, 4 * N, 1e-6), "y");
    CHECK(test_check("texel 1: z (storage buffer)", vkdp_buf_host(bz), z, N, 1e-6), "z");
    expected(y, b, &pc, y2, z2);
    CHECK(test_check("texel 2: y2 from y's texels", vkdp_buf_host(by2), y2, 4 * N, 1e-6), "y2");
    CHECK(test_check("texel 2: z2", vkdp_buf_host(bz2), z2, N, 1e-6), "z2");
    expected(a + 4 * SLICE, b + SLICE, &pc3, y, z);
    CHECK(test_check("texel 3: from texel 16 on", vkdp_buf_host(by3), y, 4 * (N - SLICE), 1e-6),
          "y3");

    /* misuse: one clear line each */
    bad_ctx bad = {dev, cmd, p, {{0}}, writes, pc};
    memcpy(bad.v, v1, sizeof v1);
    bad.v[0] = vkdp_texels(ba, 4, 0, rgba);
    expect_fatal("misaligned texel offset", bad_dispatch, &bad, "offset alignment");
    memcpy(bad.v, v1, sizeof v1);
    bad.v[0] = vkdp_whole(ba);
    expect_fatal("samplerBuffer view without a format", bad_dispatch, &bad, "needs a format");
    memcpy(bad.v, v1, sizeof v1);
    bad.v[0] = vkdp_texels(ba, 0, 20, rgba);
    expect_fatal("range of a part texel", bad_dispatch, &bad, "whole number of 16-byte texels");
    memcpy(bad.v, v1, sizeof v1);
    bad.v[0] = vkdp_texels(ba, 0, 0, VK_FORMAT_R8G8B8_UNORM);
    expect_fatal("unknown texel format", bad_dispatch, &bad, "not a texel-buffer format");
    memcpy(bad.v, v1, sizeof v1);
    bad.writes = 1u << 3;
    expect_fatal("write mask missing a written binding", bad_dispatch, &bad, "write mask");
    bad.writes = writes;
    bad.v[2] = vkdp_slice(bu, 4, 0);
    expect_fatal("misaligned uniform buffer", bad_dispatch, &bad, "uniform buffer");
    expect_fatal("workgroup size on a fixed-size shader", fixed_with_wg, &bad,
                 "fixes local_size_x");

    vkdp_buf *bufs[] = {ba, bb, bu, by, bz, by2, bz2, by3, bz3};
    for (size_t i = 0; i < VKDP_ARRAY_LEN(bufs); i++)
        vkdp_buf_destroy(bufs[i]);
    free(a), free(b), free(y), free(z), free(y2), free(z2);
    vkdp_cmd_destroy(cmd);
    vkdp_device_destroy(dev);
    printf("%s\n", failures ? "FAILED" : "all passed");
    return failures ? 1 : 0;
}
