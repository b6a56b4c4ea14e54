/* The folded top_conv, swish and global average of EfficientNetB0 on the host, in double: the
 * backbone's pooled features from its boundary activation before top_conv (tests only). */
#ifndef VKDP_TEST_EFFNET_HOST_TOP_H
#define VKDP_TEST_EFFNET_HOST_TOP_H
#include <math.h>
#include <string.h>

#include "vkdp/model/effnet.h"

/* top [n, hw, 320] -> pooled [n, 1280]. */
static inline void effnet_host_top(const vkdp_effnet *net, const float *top, int n, size_t hw, float *pooled)
{
    const int F = VKDP_EFFNET_FEATURES;
    memset(pooled, 0, (size_t)n * F * sizeof(float));
    for (int i = 0; i < n; i++)
        for (size_t p = 0; p < hw; p++)
            for (int f = 0; f < F; f++) {
                double z = net->top_b[f];
                for (int k = 0; k < 320; k++)
                    z += (double)top[(i * hw + p) * 320 + k] * net->top_w[(size_t)k * F + f];
                pooled[(size_t)i * F + f] += (float)(z / (1.0 + exp(-z)) / (double)hw);
            }
}

#endif
