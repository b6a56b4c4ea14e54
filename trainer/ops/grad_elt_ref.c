/* Backward references of the elementwise and per-channel ops: swish, frozen BN, global average
 * pool, residual add with drop connect (see vkdp/ops/grad_ref.h). */
#include <math.h>

#include "vkdp/ops/grad_ref.h"

void vkdp_grad_swish(size_t n, const float *x, const float *dy, float *dx)
{
    for (size_t i = 0; i < n; i++) {
        float s = 1.0f / (1.0f + expf(-x[i]));
        dx[i] = dy[i] * (s * (1.0f + x[i] * (1.0f - s)));
    }
}

void vkdp_bn_frozen_affine(int C, const float *gamma, const float *beta, const float *mean,
                           const float *var, float eps, float *scale, float *shift)
{
    for (int c = 0; c < C; c++) {
        double sc = gamma[c] / sqrt((double)var[c] + eps);
        scale[c] = (float)sc;
        shift[c] = (float)(beta[c] - mean[c] * sc);
    }
}

void vkdp_ref_bn_frozen(size_t M, int C, const float *scale, const float *shift, const float *x,
                        float *y)
{
    for (size_t m = 0; m < M; m++)
        for (int c = 0; c < C; c++)
            y[m * C + c] = x[m * C + c] * scale[c] + shift[c];
}

void vkdp_grad_bn_frozen(size_t M, int C, const float *scale, const float *dy, float *dx)
{
    for (size_t m = 0; m < M; m++)
        for (int c = 0; c < C; c++)
            dx[m * C + c] = dy[m * C + c] * scale[c];
}

void vkdp_grad_gap(uint32_t B, uint32_t HW, uint32_t C, const float *dy, float *dx,
                   int accumulate)
{
    for (uint32_t b = 0; b < B; b++)
        for (uint32_t p = 0; p < HW; p++)
            for (uint32_t c = 0; c < C; c++) {
                float g = (float)((double)dy[(size_t)b * C + c] / HW);
                size_t i = ((size_t)b * HW + p) * C + c;
                dx[i] = accumulate ? dx[i] + g : g;
            }
}

void vkdp_ref_residual(uint32_t B, size_t N, const float *branch, const float *input,
                       const float *scale, float *y)
{
    for (uint32_t b = 0; b < B; b++) {
        float s = scale ? scale[b] : 1.0f;
        for (size_t i = 0; i < N; i++)
            y[b * N + i] = branch[b * N + i] * s + input[b * N + i];
    }
}

void vkdp_grad_residual(uint32_t B, size_t N, const float *dy, const float *scale,
                        float *dbranch, float *dinput)
{
    for (uint32_t b = 0; b < B; b++) {
        float s = scale ? scale[b] : 1.0f;
        for (size_t i = 0; i < N; i++) {
            float g = dy[b * N + i];
            if (dbranch)
                dbranch[b * N + i] = g * s;
            if (dinput)
                dinput[b * N + i] = g;
        }
    }
}

float vkdp_drop_connect_scale(double rate, int keep)
{
    return keep ? (float)(1.0 / (1.0 - rate)) : 0.0f;
}
