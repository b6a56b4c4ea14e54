#include <stdlib.h>

#include "vkdp/ops/ops.h"

void vkdp_op_conv1x1(vkdp_cmd *c, vkdp_device *dev, const vkdp_conv1x1_args *a, const char *label)
{
    if (a->M == 0 || a->K == 0 || a->N == 0)
        VKDP_FATAL("%s: empty GEMM %u x %u x %u", label, a->M, a->K, a->N);
    int has_res = a->residual.buf != NULL, has_scale = a->row_scale.buf != NULL;
    if (has_scale && a->rows_per_group == 0)
        VKDP_FATAL("%s: row_scale needs rows_per_group", label);
    int vec4 = a->K % 4 == 0 && a->N % 4 == 0;
    uint32_t spec[4] = {(uint32_t)a->act, (uint32_t)has_res, (uint32_t)has_scale, (uint32_t)vec4};
    struct {
        uint32_t M, K, N, RPG, tiles_n, tiles;
    } push;
    push.M = a->M;
    push.K = a->K;
    push.N = a->N;
    push.RPG = has_scale ? a->rows_per_group : 1;
    push.tiles_n = (a->N + 7) / 8;
    uint64_t tiles = (uint64_t)push.tiles_n * ((a->M + 7) / 8);
    if (tiles > UINT32_MAX)
        VKDP_FATAL("%s: GEMM %u x %u too large for one dispatch", label, a->M, a->N);
    push.tiles = (uint32_t)tiles;
    /* Unused optional bindings alias x: the shader never reads them (spec constants off). */
    vkdp_view v[6] = {a->x, a->w, a->bias, a->y, has_res ? a->residual : a->x, has_scale ? a->row_scale : a->x};
    vkdp_pipeline *p = vkdp_pipeline_get(dev, "conv2d_1x1", 6, sizeof push, spec, 4);
    uint32_t gx, gy;
    vkdp_grid(dev, (tiles + 63) / 64, &gx, &gy);
    vkdp_cmd_dispatch(c, p, label, v, 6, 1u << 3, &push, gx, gy, 1);
}

void vkdp_ref_conv1x1(uint32_t M, uint32_t K, uint32_t N, vkdp_act act, const float *x, const float *w,
                      const float *bias, const float *residual, const float *row_scale, uint32_t rows_per_group,
                      float *y)
{
    double *acc = vkdp_xcalloc(N, sizeof *acc);
    for (uint32_t m = 0; m < M; m++) {
        for (uint32_t n = 0; n < N; n++)
            acc[n] = 0;
        const float *s = row_scale ? row_scale + (size_t)(m / rows_per_group) * K : NULL;
        for (uint32_t k = 0; k < K; k++) {
            double xv = x[(size_t)m * K + k];
            if (s)
                xv = (float)(x[(size_t)m * K + k] * s[k]);
            const float *wr = w + (size_t)k * N;
            for (uint32_t n = 0; n < N; n++)
                acc[n] += xv * wr[n];
        }
        for (uint32_t n = 0; n < N; n++) {
            float v = vkdp_ref_act(act, (float)(acc[n] + bias[n]));
            if (residual)
                v += residual[(size_t)m * N + n];
            y[(size_t)m * N + n] = v;
        }
    }
    free(acc);
}
