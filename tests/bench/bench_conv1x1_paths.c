/* The conv2d_1x1 shaders against each other on the backbone's 1x1-conv shapes (batch 8), in
 * process CPU time (not wall time: the machine is shared), rounds alternating the variants, best
 * round kept. Run it with LP_NUM_THREADS=1 so that CPU time is lavapipe's one worker's work.
 * Usage: bench_conv1x1_paths [rounds] [reps]   (set VK_DRIVER_FILES to pick the driver) */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../harness.h"
#include "vkdp/ops/ops.h"

static double cpu_now(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t))
        VKDP_FATAL("clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* path, rows, vec4 columns (see vkdp_conv1x1_args) */
static const uint32_t variants[][3] = {{1, 0, 0}, {2, 8, 2}, {2, 4, 2}, {2, 8, 1}, {2, 16, 1},
                                       {2, 8, 3}, {2, 16, 2}, {2, 4, 4}, {2, 8, 4}};
enum { NV = VKDP_ARRAY_LEN(variants) };

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 3, reps = argc > 2 ? atoi(argv[2]) : 3;
    if (rounds < 1 || reps < 1)
        VKDP_FATAL("usage: bench_conv1x1_paths [rounds >= 1] [reps >= 1]");
    vkdp_device *dev = vkdp_device_create(NULL);
    printf("device: %s (%s), LP_NUM_THREADS=%s, best of %d rounds of %d dispatches, CPU time\n",
           vkdp_device_get_info(dev)->name, vkdp_device_get_info(dev)->driver,
           getenv("LP_NUM_THREADS") ? getenv("LP_NUM_THREADS") : "(unset)", rounds, reps);
    /* expand (stage 2, 3, 5), project (stage 2, 5), the first block's project, top */
    const uint32_t shapes[][3] = {{25088, 24, 144}, {6272, 40, 240}, {1568, 112, 672},
                                  {25088, 144, 24}, {1568, 672, 112}, {100352, 32, 16},
                                  {392, 320, 1280}};
    printf("%-20s", "M x K x N");
    for (int v = 0; v < NV; v++) {
        char h[32];
        snprintf(h, sizeof h, variants[v][0] == 1 ? "ssbo 8x8" : "tx %ux%u", variants[v][1],
                 variants[v][1] ? 4 * variants[v][2] : 0);
        printf(" %9s", h);
    }
    printf("   (GFLOP/s per core)\n");
    vkdp_cmd *cmd[NV];
    for (int v = 0; v < NV; v++)
        cmd[v] = vkdp_cmd_create(dev);
    for (size_t i = 0; i < VKDP_ARRAY_LEN(shapes); i++) {
        uint32_t M = shapes[i][0], K = shapes[i][1], N = shapes[i][2];
        size_t nx = (size_t)M * K, nw = (size_t)K * N, ny = (size_t)M * N;
        float *h = vkdp_xmalloc((nx > nw ? nx : nw) * 4);
        vkdp_buf *bx = vkdp_buf_create(dev, nx * 4, "x"), *bw = vkdp_buf_create(dev, nw * 4, "w");
        vkdp_buf *bb = vkdp_buf_create(dev, N * 4, "b"), *by = vkdp_buf_create(dev, ny * 4, "y");
        test_fill_uniform(h, nx, 1, -1, 1);
        vkdp_buf_upload(bx, 0, h, nx * 4);
        test_fill_uniform(h, nw, 2, -1, 1);
        vkdp_buf_upload(bw, 0, h, nw * 4);
        vkdp_buf_upload(bb, 0, h, N * 4);
        double best[NV];
        for (int v = 0; v < NV; v++) {
            vkdp_conv1x1_args a = {.M = M, .K = K, .N = N, .act = VKDP_ACT_SWISH,
                                   .x = vkdp_whole(bx), .w = vkdp_whole(bw),
                                   .bias = vkdp_whole(bb), .y = vkdp_whole(by),
                                   .path = variants[v][0],
                                   .block = {variants[v][1], variants[v][2]}};
            vkdp_cmd_begin(cmd[v]);
            vkdp_op_conv1x1(cmd[v], dev, &a, "conv1x1");
            vkdp_cmd_end(cmd[v]);
            vkdp_cmd_submit(cmd[v]); /* warm-up: pipeline compile, page faults */
            best[v] = 1e30;
        }
        for (int r = 0; r < rounds; r++)
            for (int v = 0; v < NV; v++) {
                double t0 = cpu_now();
                for (int k = 0; k < reps; k++)
                    vkdp_cmd_submit(cmd[v]);
                double t = (cpu_now() - t0) / reps;
                if (t < best[v])
                    best[v] = t;
            }
        char name[64];
        snprintf(name, sizeof name, "%u x %u x %u", M, K, N);
        printf("%-20s", name);
        for (int v = 0; v < NV; v++)
            printf(" %9.2f", 2.0 * M * K * N / best[v] * 1e-9);
        printf("\n");
        fflush(stdout);
        vkdp_buf_destroy(bx); vkdp_buf_destroy(bw); vkdp_buf_destroy(bb); vkdp_buf_destroy(by);
        free(h);
    }
    for (int v = 0; v < NV; v++)
        vkdp_cmd_destroy(cmd[v]);
    vkdp_device_destroy(dev);
    return 0;
}
