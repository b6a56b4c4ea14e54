/* eltwise shader vs plain-C reference: add/mul with each activation, odd lengths, in-place. */
#include <stdlib.h>

#include "harness.h"
#include "vkdp/ops/ops.h"

int main(void)
{
    vkdp_device *dev = vkdp_device_create(NULL);
    vkdp_cmd *cmd = vkdp_cmd_create(dev);
    const uint32_t sizes[] = {1, 7, 256, 1001, 100003};
    int pass = 0, fail = 0;
    for (size_t si = 0; si < VKDP_ARRAY_LEN(sizes); si++)
        for (int op = 0; op < 2; op++)
            for (int act = 0; act < 3; act++) {
                uint32_t n = sizes[si];
                float *a = vkdp_xmalloc(n * 4), *b = vkdp_xmalloc(n * 4), *ref = vkdp_xmalloc(n * 4);
                float *got = vkdp_xmalloc(n * 4);
                test_fill_uniform(a, n, 7 + si, -3, 3);
                test_fill_uniform(b, n, 8 + si, -3, 3);
                vkdp_buf *ba = vkdp_buf_create(dev, n * 4, "a"), *bb = vkdp_buf_create(dev, n * 4, "b");
                vkdp_buf_upload(ba, 0, a, n * 4);
                vkdp_buf_upload(bb, 0, b, n * 4);
                vkdp_cmd_begin(cmd);
                /* in place: y aliases a */
                vkdp_op_eltwise(cmd, dev, (vkdp_elt_op)op, (vkdp_act)act, n, vkdp_whole(ba), vkdp_whole(bb),
                                vkdp_whole(ba), "eltwise");
                vkdp_cmd_end(cmd);
                vkdp_cmd_submit(cmd);
                vkdp_ref_eltwise((vkdp_elt_op)op, (vkdp_act)act, n, a, b, ref);
                char what[64];
                snprintf(what, sizeof what, "eltwise n=%u op=%d act=%d", n, op, act);
                vkdp_buf_download(ba, 0, got, n * 4);
                if (test_check(what, got, ref, n, 1e-6))
                    pass++;
                else
                    fail++;
                vkdp_buf_destroy(ba);
                vkdp_buf_destroy(bb);
                free(a); free(b); free(ref); free(got);
            }
    vkdp_cmd_destroy(cmd);
    vkdp_device_destroy(dev);
    printf("%d passed, %d failed\n", pass, fail);
    return fail ? 1 : 0;
}
