/* Uploads and downloads in the device's memory plan (run directly and under VKDP_FORCE_STAGING
 * with a small emulated BAR): transfers larger than the staging ring, odd offsets and sizes,
 * two uploads into the same bytes before a pass (the later wins), a download straight after an
 * upload, and a pass between uploads. argv[1]: the plan expected, "direct" or "staged". */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vkdp/ops/ops.h"


int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "direct") && strcmp(argv[1], "staged"))) {
        fprintf(stderr, "usage: %s direct|staged\n", argv[0]);
        return 2;
    }
    vkdp_device *dev = vkdp_device_create(NULL);
    char plan[512];
    vkdp_memplan_describe(dev, plan, sizeof plan);
    EXPECT(!strncmp(plan, argv[1], strlen(argv[1])), "memory plan: %s", plan);

    /* 1. 24 MiB round trip, more than a small BAR's ring and readback hold */
    const size_t big = 24u << 20;
    uint8_t *src = vkdp_xmalloc(big), *dst = vkdp_xmalloc(big);
    for (size_t i = 0; i < big; i++)
        src[i] = (uint8_t)(i * 2654435761u >> 13);
    vkdp_buf *b = vkdp_buf_create(dev, big, "big");
    vkdp_buf_upload(b, 0, src, big);
    memset(dst, 0, big);
    vkdp_buf_download(b, 0, dst, big);
    EXPECT(!memcmp(src, dst, big), "24 MiB upload + download round trip");

    /* 2. odd offsets and sizes, then the untouched bytes around them */
    uint8_t patch[1001];
    for (size_t i = 0; i < sizeof patch; i++)
        patch[i] = (uint8_t)(255 - i);
    vkdp_buf_upload(b, 12345, patch, sizeof patch);
    uint8_t back[1003];
    vkdp_buf_download(b, 12344, back, sizeof back);
    EXPECT(back[0] == src[12344] && !memcmp(back + 1, patch, sizeof patch) && back[1002] == src[12345 + 1001],
           "1001 bytes at offset 12345: written, neighbours kept");
    vkdp_buf_destroy(b);

    /* 3. two uploads into overlapping bytes, then a pass reading them: the later upload wins */
    const uint32_t n = 300007;
    float *x = vkdp_xmalloc(n * 4), *y = vkdp_xmalloc(n * 4), *got = vkdp_xmalloc(n * 4), *ref = vkdp_xmalloc(n * 4);
    test_fill_uniform(x, n, 11, -1, 1);
    test_fill_uniform(y, n, 12, -1, 1);
    vkdp_buf *ba = vkdp_buf_create(dev, n * 4, "a"), *bb = vkdp_buf_create(dev, n * 4, "b");
    vkdp_buf *bo = vkdp_buf_create(dev, n * 4, "out");
    vkdp_cmd *cmd = vkdp_cmd_create(dev);
    vkdp_cmd_begin(cmd);
    vkdp_op_eltwise(cmd, dev, VKDP_ELT_ADD, VKDP_ACT_NONE, n, vkdp_whole(ba), vkdp_whole(bb), vkdp_whole(bo), "add");
    vkdp_cmd_end(cmd);
    vkdp_buf_upload(ba, 0, x, n * 4);
    vkdp_buf_upload(bb, 0, y, n * 4);
    for (uint32_t i = 1000; i < 200000; i++)
        x[i] = 2.0f * (float)i;
    vkdp_buf_upload(ba, 1000 * 4, x + 1000, (200000 - 1000) * 4);
    vkdp_cmd_submit(cmd);
    vkdp_ref_eltwise(VKDP_ELT_ADD, VKDP_ACT_NONE, n, x, y, ref);
    vkdp_buf_download(bo, 0, got, n * 4);
    EXPECT(test_check("a + b after overlapping uploads", got, ref, n, 0), "overlapping uploads ordered");

    /* 4. new inputs between resubmissions, and a download of an input right after its upload */
    for (int rep = 0; rep < 3; rep++) {
        test_fill_uniform(x, n, 100 + (uint64_t)rep, -1, 1);
        vkdp_buf_upload(ba, 0, x, n * 4);
        vkdp_buf_download(ba, 0, got, n * 4);
        int same = !memcmp(got, x, n * 4);
        vkdp_cmd_submit(cmd);
        vkdp_ref_eltwise(VKDP_ELT_ADD, VKDP_ACT_NONE, n, x, y, ref);
        vkdp_buf_download(bo, 0, got, n * 4);
        EXPECT(same && test_check("a + b, fresh a", got, ref, n, 0), "resubmission %d with a fresh input", rep);
    }

    vkdp_cmd_destroy(cmd);
    vkdp_buf_destroy(ba);
    vkdp_buf_destroy(bb);
    vkdp_buf_destroy(bo);
    free(src); free(dst); free(x); free(y); free(got); free(ref);
    vkdp_device_destroy(dev);
    return test_summary();
}
