/* Backward references of the 1x1 and depthwise convolutions (see vkdp/ops/grad_ref.h). */
#include <stdlib.h>

#include "vkdp/core/common.h"
#include "vkdp/ops/conv_geom.h"
#include "vkdp/ops/grad_ref.h"

void vkdp_grad_conv1x1(uint32_t M, uint32_t K, uint32_t N, const float *x, const float *w,
                       const float *dy, float *dx, float *dw, float *db)
{
    if (dx)
        for (uint32_t m = 0; m < M; m++) {
            const float *g = dy + (size_t)m * N;
            for (uint32_t k = 0; k < K; k++) {
                const float *wr = w + (size_t)k * N;
                double a = 0;
                for (uint32_t n = 0; n < N; n++)
                    a += (double)g[n] * wr[n];
                dx[(size_t)m * K + k] = (float)a;
            }
        }
    if (dw || db) {
        /* m outermost keeps x and dy rows streaming; the K x N double accumulator is at most a
         * few MB (top_conv: 320 x 1280) */
        double *aw = dw ? vkdp_xcalloc((size_t)K * N, sizeof *aw) : NULL;
        double *ab = vkdp_xcalloc(N, sizeof *ab);
        for (uint32_t m = 0; m < M; m++) {
            const float *g = dy + (size_t)m * N;
            for (uint32_t n = 0; n < N; n++)
                ab[n] += g[n];
            if (!aw)
                continue;
            for (uint32_t k = 0; k < K; k++) {
                double xv = x[(size_t)m * K + k];
                double *row = aw + (size_t)k * N;
                for (uint32_t n = 0; n < N; n++)
                    row[n] += xv * g[n];
            }
        }
        if (dw)
            for (size_t i = 0; i < (size_t)K * N; i++)
                dw[i] = (float)aw[i];
        if (db)
            for (uint32_t n = 0; n < N; n++)
                db[n] = (float)ab[n];
        free(aw);
        free(ab);
    }
}

vkdp_dw_geom vkdp_dw_geom_keras(int H, int W, int C, int k, int stride)
{
    vkdp_dw_geom g = {H, W, C, k, stride, k / 2, k / 2, H, W};
    if (stride == 2) {
        int after;
        vkdp_correct_pad(H, k, &g.pad_top, &after);
        vkdp_correct_pad(W, k, &g.pad_left, &after);
    }
    g.Ho = vkdp_conv_out_side(H, k, stride);
    g.Wo = vkdp_conv_out_side(W, k, stride);
    return g;
}

static size_t at(int b, int y, int x, int h, int w, int c) { return (((size_t)b * h + y) * w + x) * c; }

void vkdp_ref_dwconv_lin(const vkdp_dw_geom *g, int B, const float *x, const float *w,
                         const float *bias, float *y)
{
    const int C = g->C, k = g->k, s = g->stride;
    for (int b = 0; b < B; b++)
        for (int oy = 0; oy < g->Ho; oy++)
            for (int ox = 0; ox < g->Wo; ox++)
                for (int c = 0; c < C; c++) {
                    double a = bias ? bias[c] : 0.0;
                    for (int ky = 0; ky < k; ky++) {
                        int iy = oy * s + ky - g->pad_top;
                        if (iy < 0 || iy >= g->H)
                            continue;
                        for (int kx = 0; kx < k; kx++) {
                            int ix = ox * s + kx - g->pad_left;
                            if (ix < 0 || ix >= g->W)
                                continue;
                            a += (double)x[at(b, iy, ix, g->H, g->W, C) + c] *
                                 w[((size_t)ky * k + kx) * C + c];
                        }
                    }
                    y[at(b, oy, ox, g->Ho, g->Wo, C) + c] = (float)a;
                }
}

/* Output index along one axis that input position i feeds through tap t, or -1. */
static int out_index(int i, int t, int pad, int stride, int n_out)
{
    int num = i + pad - t;
    if (num < 0 || num % stride)
        return -1;
    int o = num / stride;
    return o < n_out ? o : -1;
}

void vkdp_grad_dwconv(const vkdp_dw_geom *g, int B, const float *x, const float *w,
                      const float *dy, float *dx, float *dw, float *db)
{
    const int C = g->C, k = g->k, s = g->stride;
    if (dx)
        for (int b = 0; b < B; b++)
            for (int iy = 0; iy < g->H; iy++)
                for (int ix = 0; ix < g->W; ix++)
                    for (int c = 0; c < C; c++) {
                        double a = 0;
                        for (int ky = 0; ky < k; ky++) {
                            int oy = out_index(iy, ky, g->pad_top, s, g->Ho);
                            if (oy < 0)
                                continue;
                            for (int kx = 0; kx < k; kx++) {
                                int ox = out_index(ix, kx, g->pad_left, s, g->Wo);
                                if (ox < 0)
                                    continue;
                                a += (double)dy[at(b, oy, ox, g->Ho, g->Wo, C) + c] *
                                     w[((size_t)ky * k + kx) * C + c];
                            }
                        }
                        dx[at(b, iy, ix, g->H, g->W, C) + c] = (float)a;
                    }
    if (dw)
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++)
                for (int c = 0; c < C; c++) {
                    double a = 0;
                    for (int b = 0; b < B; b++)
                        for (int oy = 0; oy < g->Ho; oy++) {
                            int iy = oy * s + ky - g->pad_top;
                            if (iy < 0 || iy >= g->H)
                                continue;
                            for (int ox = 0; ox < g->Wo; ox++) {
                                int ix = ox * s + kx - g->pad_left;
                                if (ix < 0 || ix >= g->W)
                                    continue;
                                a += (double)x[at(b, iy, ix, g->H, g->W, C) + c] *
                                     dy[at(b, oy, ox, g->Ho, g->Wo, C) + c];
                            }
                        }
                    dw[((size_t)ky * k + kx) * C + c] = (float)a;
                }
    if (db)
        for (int c = 0; c < C; c++) {
            double a = 0;
            for (size_t p = 0; p < (size_t)B * g->Ho * g->Wo; p++)
                a += dy[p * C + c];
            db[c] = (float)a;
        }
}
