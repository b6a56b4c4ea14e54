/* An op's shader variants against each other (storage vs texel buffers, register blocks) on the
 * backbone's shapes at batch 8, through the ops' generic form (vkdp/ops/op.h), in process CPU
 * time, not wall time (the machine is shared): rounds alternate the variants, the best round is
 * kept. Run with LP_NUM_THREADS=1 so that CPU time is one lavapipe worker's work.
 * Usage: bench_op_paths [rounds] [reps] [op [case variant]]   (set VK_DRIVER_FILES to pick the
 * driver); with case and variant (indices among op's cases and the case's variants) only that
 * one runs: for instruction counts (valgrind --tool=callgrind, counting lavapipe's JIT code
 * too), where two runs with different reps give the instructions of one dispatch. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../harness.h"
#include "vkdp/ops/backbone_ops.h"
#include "vkdp/ops/grad_ops.h"
#include "vkdp/ops/ops.h"

enum { MAXV = 9 };

/* A variant sets up to 3 parameters: {index, value} pairs, index -1 ends. */
typedef struct {
    const char *name;
    int set[3][2];
} variant;

typedef struct {
    const vkdp_op *op;
    int64_t p[VKDP_OP_MAX_PARAMS];
    double flop;              /* per dispatch, for GFLOP/s */
    const variant *v;
} bench_case;

/* conv2d_1x1: path (7), rows (8), vec4 columns (9) */
#define GEMM_V(n, r, c) {n, {{7, 2}, {8, r}, {9, c}}}
static const variant gemm_v[] = {
    {"ssbo 8x8", {{7, 1}, {-1}}}, GEMM_V("tx 8x8", 8, 2), GEMM_V("tx 4x8", 4, 2),
    GEMM_V("tx 8x4", 8, 1), GEMM_V("tx 16x4", 16, 1), GEMM_V("tx 8x12", 8, 3),
    GEMM_V("tx 16x8", 16, 2), GEMM_V("tx 4x16", 4, 4), {NULL, {{-1}}}};
/* conv2d_1x1 with the SE row scale fused (5) or not */
static const variant scale_v[] = {{"tx", {{7, 2}, {5, 0}, {-1}}}, {"tx+scale", {{7, 2}, {5, 1}, {-1}}},
                                  {"ssbo", {{7, 1}, {5, 0}, {-1}}}, {NULL, {{-1}}}};
/* dwconv: path (6); se_gate and stem: path (3) */
static const variant dw_v[] = {{"ssbo", {{6, 1}, {-1}}}, {"texel", {{6, 2}, {-1}}}, {NULL, {{-1}}}};
static const variant gate_v[] = {{"ssbo", {{3, 1}, {-1}}}, {"texel", {{3, 2}, {-1}}}, {NULL, {{-1}}}};

/* conv1x1_grad: path (5); one record is dx, dw and the S samples' partials dws (3 GEMMs) */
static const variant grad_v[] = {{"ssbo", {{5, 1}, {-1}}}, {"texel", {{5, 2}, {-1}}}, {NULL, {{-1}}}};
/* dwconv_grad: path (8); one record is dx, dw and the samples' partials dws (ps) */
static const variant dwgrad_v[] = {{"ssbo", {{8, 1}, {-1}}}, {"texel", {{8, 2}, {-1}}}, {NULL, {{-1}}}};

#define GEMM(M, K, N) {&vkdp_rec_conv1x1, {M, K, N, 1, 0, 0, 0, 0, 0, 0}, 2.0 * M * K * N, gemm_v}
#define DWC(H, C, k, s) {&vkdp_rec_dwconv, {8, H, H, C, k, s, 0}, 2.0 * 8 * (H / s) * (H / s) * C * k * k, dw_v}
#define PROJ(M, K, N, rpg) {&vkdp_rec_conv1x1, {M, K, N, 0, 1, 0, rpg, 0, 0, 0}, 2.0 * M * K * N, scale_v}
#define STEM(H) {&vkdp_rec_stem, {8, H, H, 0}, 2.0 * 8 * (H / 2) * (H / 2) * 32 * 27, gate_v}
#define GRAD(M, K, N) {&vkdp_rec_conv1x1_grad, {M, K, N, 0, 8, 0}, 3 * 2.0 * M * K * N, grad_v}
#define DWGRAD(H, C, k, s)                                                                                     \
    {&vkdp_rec_dwconv_grad, {8, H, H, C, k, s, 0, 1, 0}, 3 * 2.0 * 8 * (H / s) * (H / s) * C * k * k, dwgrad_v}
#define GATE(P, C) {&vkdp_rec_se_gate, {8, P, C, 0}, 8.0 * P * C, gate_v}
static const bench_case cases[] = {
    /* expand (stages 2, 3, 5), project (stages 2, 5), the first block's project, top */
    GEMM(25088, 24, 144), GEMM(6272, 40, 240), GEMM(1568, 112, 672), GEMM(25088, 144, 24),
    GEMM(1568, 672, 112), GEMM(100352, 32, 16), GEMM(392, 320, 1280),
    DWC(112, 32, 3, 1), DWC(112, 96, 3, 2), DWC(56, 144, 5, 2), DWC(28, 240, 3, 2),
    DWC(14, 672, 5, 1), DWC(7, 1152, 5, 1),
    /* project GEMMs with a residual, with and without the SE row scale; the separate gate pass */
    PROJ(25088, 144, 24, 3136), PROJ(1568, 672, 112, 196), PROJ(392, 1152, 192, 49),
    GATE(3136, 144), GATE(196, 672), GATE(49, 1152),
    STEM(224),
    /* phase 2's 1x1 backward at batch 8: block6a expand and project, block6b project, top_conv */
    GRAD(1568, 112, 672), GRAD(392, 672, 192), GRAD(392, 1152, 192), GRAD(392, 320, 1280),
    /* phase 2's depthwise backward at batch 8: block6a (14x14, stride 2), block6b, block7a */
    DWGRAD(14, 672, 5, 2), DWGRAD(7, 1152, 5, 1), DWGRAD(7, 1152, 3, 1),
};

static double cpu_now(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t))
        VKDP_FATAL("clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void run(vkdp_device *dev, const bench_case *k, int rounds, int reps, int only_v)
{
    const vkdp_op *op = k->op;
    int nt = vkdp_op_ntensors(op), nv = 0;
    while (nv < MAXV && k->v[nv].name)
        nv++;
    if (only_v >= nv)
        VKDP_FATAL("bench_op_paths: variant %d of %d", only_v, nv);
    vkdp_tensor_shape sh[VKDP_OP_MAX_TENSORS];
    memset(sh, 0, sizeof sh);
    op->shape(op, dev, k->p, sh);
    vkdp_buf *buf[VKDP_OP_MAX_TENSORS] = {0};
    vkdp_view view[VKDP_OP_MAX_TENSORS];
    memset(view, 0, sizeof view);
    for (int t = 0; t < nt; t++) {
        if (sh[t].absent)
            continue;
        size_t n = (size_t)sh[t].count;
        float *h = vkdp_xmalloc(n * 4 + 4);
        test_fill_uniform(h, n, (uint64_t)t + 1, sh[t].lo, sh[t].hi == sh[t].lo ? 1 : sh[t].hi);
        buf[t] = vkdp_buf_create(dev, n * 4, op->tensors[t].name);
        vkdp_buf_upload(buf[t], 0, h, n * 4);
        view[t] = vkdp_whole(buf[t]);
        free(h);
    }
    vkdp_cmd *cmd[MAXV];
    double best[MAXV];
    for (int v = 0; v < nv; v++) {
        if (only_v >= 0 && v != only_v)
            continue;
        int64_t p[VKDP_OP_MAX_PARAMS];
        memcpy(p, k->p, sizeof p);
        for (int s = 0; s < 3 && k->v[v].set[s][0] >= 0; s++)
            p[k->v[v].set[s][0]] = k->v[v].set[s][1];
        cmd[v] = vkdp_cmd_create(dev);
        vkdp_cmd_begin(cmd[v]);
        op->record(op, cmd[v], dev, p, view);
        vkdp_cmd_end(cmd[v]);
        vkdp_cmd_submit(cmd[v]); /* warm-up: pipeline compile, page faults */
        best[v] = 1e30;
    }
    for (int r = 0; r < rounds; r++)
        for (int v = 0; v < nv; v++) {
            if (only_v >= 0 && v != only_v)
                continue;
            double t0 = cpu_now();
            for (int i = 0; i < reps; i++)
                vkdp_cmd_submit(cmd[v]);
            double t = (cpu_now() - t0) / reps;
            best[v] = t < best[v] ? t : best[v];
        }
    printf("%-12s", op->name);
    for (int i = 0; i < 6; i++)
        printf(" %6lld", (long long)k->p[i]);
    for (int v = 0; v < nv; v++)
        if (only_v < 0 || v == only_v)
            printf("  %s %.2f", k->v[v].name, k->flop / best[v] * 1e-9);
    printf("  (G per core: FLOP/s, se_gate elements/s)\n");
    fflush(stdout);
    for (int v = 0; v < nv; v++)
        if (only_v < 0 || v == only_v)
            vkdp_cmd_destroy(cmd[v]);
    for (int t = 0; t < nt; t++)
        vkdp_buf_destroy(buf[t]);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 3, reps = argc > 2 ? atoi(argv[2]) : 3;
    const char *only = argc > 3 ? argv[3] : NULL;
    int only_c = argc > 5 ? atoi(argv[4]) : -1, only_v = argc > 5 ? atoi(argv[5]) : -1;
    if (rounds < 1 || reps < 1)
        VKDP_FATAL("usage: bench_op_paths [rounds >= 1] [reps >= 1] [op]");
    vkdp_device *dev = vkdp_device_create(NULL);
    printf("device: %s (%s), LP_NUM_THREADS=%s, best of %d rounds of %d dispatches, CPU time\n",
           vkdp_device_get_info(dev)->name, vkdp_device_get_info(dev)->driver,
           getenv("LP_NUM_THREADS") ? getenv("LP_NUM_THREADS") : "(unset)", rounds, reps);
    for (size_t i = 0, c = 0; i < VKDP_ARRAY_LEN(cases); i++)
        if (!only || !strcmp(only, cases[i].op->name))
            if (only_c < 0 || (int)c++ == only_c)
                run(dev, &cases[i], rounds, reps, only_v);
    vkdp_device_destroy(dev);
    return 0;
}
