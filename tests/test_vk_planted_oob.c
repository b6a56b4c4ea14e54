/* A planted out-of-bounds access: an eltwise dispatch told n = 4096 over buffers of 1024 floats.
 * Run under GPU-assisted validation it must be reported (the test of the validation setup
 * itself: without it the GPU-AV runs of the real tests would pass vacuously). Exits 0 when the
 * dispatch ran unreported. */
#include <stdio.h>
#include <stdlib.h>

#include "vkdp/vk/vk.h"

int main(void)
{
    vkdp_device *dev = vkdp_device_create(NULL);
    vkdp_cmd *cmd = vkdp_cmd_create(dev);
    const uint32_t n = 1024, told = 4096;
    float *x = vkdp_xcalloc(n, sizeof *x);
    vkdp_buf *a = vkdp_buf_create(dev, n * 4, "a"), *b = vkdp_buf_create(dev, n * 4, "b");
    vkdp_buf *y = vkdp_buf_create(dev, n * 4, "y");
    vkdp_buf_upload(a, 0, x, n * 4);
    vkdp_buf_upload(b, 0, x, n * 4);
    uint32_t spec[2] = {0, 0};
    vkdp_pipeline *p = vkdp_pipeline_get(dev, "eltwise", spec, 2, 64);
    vkdp_view v[3] = {vkdp_whole(a), vkdp_whole(b), vkdp_whole(y)};
    vkdp_cmd_begin(cmd);
    vkdp_cmd_dispatch(cmd, p, "planted_oob", v, 3, 1u << 2, &told, told / (4 * 64), 1, 1);
    vkdp_cmd_end(cmd);
    vkdp_cmd_submit(cmd);
    vkdp_buf_download(y, 0, x, n * 4);
    printf("planted out-of-bounds dispatch ran without a validation error\n");
    free(x);
    vkdp_buf_destroy(a);
    vkdp_buf_destroy(b);
    vkdp_buf_destroy(y);
    vkdp_cmd_destroy(cmd);
    vkdp_device_destroy(dev);
    return 0;
}
