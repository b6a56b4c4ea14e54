/* GFLOP/s of the conv2d_1x1 shader on the backbone's 1x1-conv shapes, next to a plain C loop
 * (i-k-j order, auto-vectorised by -O2/-O3) measured in the same run, with the ratio.
 * Usage: bench_gemm [reps]   (set VK_DRIVER_FILES to pick the driver) */
#include <stdlib.h>
#include <string.h>

#include "../harness.h"
#include "vkdp/ops/ops.h"
#include "vkdp/ops/tune.h"

static void c_loop(uint32_t M, uint32_t K, uint32_t N, const float *x, const float *w, const float *b, float *y)
{
    for (uint32_t m = 0; m < M; m++) {
        float *yr = y + (size_t)m * N;
        for (uint32_t n = 0; n < N; n++)
            yr[n] = b[n];
        for (uint32_t k = 0; k < K; k++) {
            float xv = x[(size_t)m * K + k];
            const float *wr = w + (size_t)k * N;
            for (uint32_t n = 0; n < N; n++)
                yr[n] += xv * wr[n];
        }
    }
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 5;
    vkdp_device_opts o;
    vkdp_device_opts_default(&o);
    o.profile = 1;
    vkdp_device *dev = vkdp_device_create(&o);
    printf("device: %s (%s)\n", vkdp_device_get_info(dev)->name, vkdp_device_get_info(dev)->driver);
    const vkdp_tune *tune = vkdp_tune_get(dev);
    const char *other = tune->gemm_smem ? "conv2d_1x1_smem (shared-memory tiles)" : "conv2d_1x1 (register blocks)";
    if (tune->gemm_texel[0])
        printf("shader: conv2d_1x1_texel %ux%u where K, N %% 4 == 0, else %s\n", tune->gemm_texel[0],
               tune->gemm_texel[1], other);
    else
        printf("shader: %s\n", other);
    const uint32_t shapes[][3] = {{100352, 32, 16}, {25088, 24, 144}, {1568, 112, 672}, {392, 320, 1280}, {1001, 37, 23}};
    printf("%-22s %12s %12s %12s %8s\n", "M x K x N", "shader GF/s", "kernel GF/s", "C loop GF/s", "ratio");
    vkdp_cmd *cmd = vkdp_cmd_create(dev);
    for (size_t i = 0; i < VKDP_ARRAY_LEN(shapes); i++) {
        uint32_t M = shapes[i][0], K = shapes[i][1], N = shapes[i][2];
        size_t nx = (size_t)M * K, nw = (size_t)K * N, ny = (size_t)M * N;
        float *x = vkdp_xmalloc(nx * 4), *w = vkdp_xmalloc(nw * 4), *b = vkdp_xmalloc(N * 4), *y = vkdp_xmalloc(ny * 4);
        test_fill_uniform(x, nx, 1, -1, 1);
        test_fill_uniform(w, nw, 2, -1, 1);
        test_fill_uniform(b, N, 3, -1, 1);
        vkdp_buf *bx = vkdp_buf_create(dev, nx * 4, "x"), *bw = vkdp_buf_create(dev, nw * 4, "w");
        vkdp_buf *bb = vkdp_buf_create(dev, N * 4, "b"), *by = vkdp_buf_create(dev, ny * 4, "y");
        vkdp_buf_upload(bx, 0, x, nx * 4);
        vkdp_buf_upload(bw, 0, w, nw * 4);
        vkdp_buf_upload(bb, 0, b, N * 4);
        vkdp_conv1x1_args a = {.M = M, .K = K, .N = N, .act = VKDP_ACT_NONE, .x = vkdp_whole(bx),
                               .w = vkdp_whole(bw), .bias = vkdp_whole(bb), .y = vkdp_whole(by)};
        vkdp_cmd_begin(cmd);
        vkdp_op_conv1x1(cmd, dev, &a, "conv1x1");
        vkdp_cmd_end(cmd);
        vkdp_cmd_submit(cmd); /* warm-up: pipeline compile, page faults */
        vkdp_profile *prof = vkdp_profile_create();
        double t0 = vkdp_now();
        for (int r = 0; r < reps; r++) {
            vkdp_cmd_submit(cmd);
            vkdp_profile_add(prof, cmd);
        }
        double ts = (vkdp_now() - t0) / reps;
        double tk = vkdp_profile_total_ms(prof) * 1e-3 / reps;
        c_loop(M, K, N, x, w, b, y); /* warm-up */
        t0 = vkdp_now();
        for (int r = 0; r < reps; r++)
            c_loop(M, K, N, x, w, b, y);
        double tc = (vkdp_now() - t0) / reps;
        double flop = 2.0 * M * K * N;
        char name[64];
        snprintf(name, sizeof name, "%u x %u x %u", M, K, N);
        printf("%-22s %12.2f %12.2f %12.2f %7.2fx\n", name, flop / ts * 1e-9, flop / tk * 1e-9, flop / tc * 1e-9,
               tc / ts);
        vkdp_profile_destroy(prof);
        vkdp_buf_destroy(bx); vkdp_buf_destroy(bw); vkdp_buf_destroy(bb); vkdp_buf_destroy(by);
        free(x); free(w); free(b); free(y);
    }
    printf("shader GF/s: wall time per submit (incl. submit/wait); kernel GF/s: timestamp queries;\n"
           "ratio = C loop time / shader wall time (>1: shader faster)\n");
    vkdp_cmd_destroy(cmd);
    vkdp_device_destroy(dev);
    return 0;
}
