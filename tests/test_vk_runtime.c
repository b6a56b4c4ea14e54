/* Runtime checks: dependent dispatches in one command buffer see each other's writes (barriers),
 * independent ones need none, a recorded pass can be resubmitted, pipelines are cached, the
 * allocator reuses freed space and refuses a tensor over maxStorageBufferRange with a clear error,
 * and profiling produces a per-op table. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vkdp/ops/ops.h"

static int fails, passes;
#define EXPECT(cond, ...)                                                                       \
    do {                                                                                        \
        if (cond) { passes++; printf("ok   " __VA_ARGS__); printf("\n"); }                      \
        else { fails++; printf("FAIL " __VA_ARGS__); printf("  (%s:%d)\n", __FILE__, __LINE__); } \
    } while (0)

static void huge_buffer(void *dev)
{
    vkdp_buf_create(dev, vkdp_max_binding_bytes(dev) + 16, "huge_activation");
}

int main(void)
{
    vkdp_device_opts o;
    vkdp_device_opts_default(&o);
    o.profile = 1;
    vkdp_device *dev = vkdp_device_create(&o);
    vkdp_cmd *cmd = vkdp_cmd_create(dev);

    /* 1. a chain of 50 in-place adds: every one depends on the previous */
    const uint32_t n = 4099;
    float *a = vkdp_xmalloc(n * 4), *b = vkdp_xmalloc(n * 4), *ref = vkdp_xmalloc(n * 4);
    test_fill_uniform(a, n, 1, -1, 1);
    test_fill_uniform(b, n, 2, -1, 1);
    vkdp_buf *ba = vkdp_buf_create(dev, n * 4, "a"), *bb = vkdp_buf_create(dev, n * 4, "b");
    vkdp_buf_upload(bb, 0, b, n * 4);
    vkdp_cmd_begin(cmd);
    for (int i = 0; i < 50; i++)
        vkdp_op_eltwise(cmd, dev, VKDP_ELT_ADD, VKDP_ACT_NONE, n, vkdp_whole(ba), vkdp_whole(bb), vkdp_whole(ba),
                        "chain_add");
    vkdp_cmd_end(cmd);
    EXPECT(vkdp_cmd_dispatch_count(cmd) == 50, "50 dispatches recorded in one command buffer");
    vkdp_profile *prof = vkdp_profile_create();
    for (int rep = 0; rep < 2; rep++) { /* resubmission of the same recording with fresh input */
        vkdp_buf_upload(ba, 0, a, n * 4);
        vkdp_cmd_submit(cmd);
        vkdp_profile_add(prof, cmd);
        for (uint32_t i = 0; i < n; i++) {
            float v = a[i];
            for (int k = 0; k < 50; k++)
                v += b[i];
            ref[i] = v;
        }
        EXPECT(test_check("50 dependent in-place adds", vkdp_buf_host(ba), ref, n, 1e-6), "dependent chain, submission %d", rep);
    }

    /* 2. pipelines are created once per specialization */
    vkdp_pipeline *p1 = vkdp_pipeline_get(dev, "eltwise", (uint32_t[]){0, 0}, 2, 64);
    vkdp_pipeline *p2 = vkdp_pipeline_get(dev, "eltwise", (uint32_t[]){0, 0}, 2, 64);
    vkdp_pipeline *p3 = vkdp_pipeline_get(dev, "eltwise", (uint32_t[]){1, 0}, 2, 64);
    vkdp_pipeline *p4 = vkdp_pipeline_get(dev, "eltwise", (uint32_t[]){0, 0}, 2, 32);
    EXPECT(p1 == p2 && p1 != p3 && p1 != p4,
           "pipeline cache: same key reused, other specialization or workgroup size distinct");
    EXPECT(vkdp_pipeline_info(p1)->nbindings == 3 && vkdp_pipeline_info(p1)->push_bytes == 4 &&
               vkdp_pipeline_info(p4)->local_size[0] == 32,
           "layout read from the SPIR-V: 3 bindings, 4 push bytes; workgroup as specialized");

    /* 3. allocator: freed space is reused, in-use tracking returns to baseline */
    uint64_t base = vkdp_mem_in_use(dev);
    vkdp_buf *t1 = vkdp_buf_create(dev, 1 << 20, "t1");
    vkdp_buf *t2 = vkdp_buf_create(dev, 1 << 20, "t2");
    vkdp_buf_destroy(t1);
    vkdp_buf *t3 = vkdp_buf_create(dev, 1 << 19, "t3");
    EXPECT(vkdp_mem_in_use(dev) < base + (3u << 20), "freed range reused (in use %llu)",
           (unsigned long long)vkdp_mem_in_use(dev));
    vkdp_buf_destroy(t2);
    vkdp_buf_destroy(t3);
    EXPECT(vkdp_mem_in_use(dev) == base, "in-use bytes back to baseline");
    EXPECT(vkdp_mem_peak(dev) >= base + (2u << 20), "peak recorded");

    /* 4. a tensor over maxStorageBufferRange is refused with a message saying the op must tile */
    char msg[1024];
    int died = test_run_fatal(huge_buffer, dev, msg, sizeof msg);
    EXPECT(died && strstr(msg, "huge_activation") && strstr(msg, "tile"),
           "oversized tensor refused: %.*s", (int)strcspn(msg, "\n"), msg);

    /* 5. profile table */
    EXPECT(vkdp_profile_total_ms(prof) > 0, "profile has timings (%.3f ms)", vkdp_profile_total_ms(prof));
    vkdp_profile_print(prof, stdout);

    vkdp_profile_destroy(prof);
    vkdp_buf_destroy(ba);
    vkdp_buf_destroy(bb);
    free(a); free(b); free(ref);
    vkdp_cmd_destroy(cmd);
    vkdp_device_destroy(dev);
    printf("%d passed, %d failed\n", passes, fails);
    return fails ? 1 : 0;
}
