/* Keras' convolution padding and output sizes (see include/vkdp/ops/conv_geom.h). */
#include "vkdp/ops/conv_geom.h"

void vkdp_correct_pad(int n, int k, int *before, int *after)
{
    int adjust = 1 - n % 2;
    *before = k / 2 - adjust;
    *after = k / 2;
}

int vkdp_conv_out_side(int n, int k, int stride)
{
    if (stride == 1)
        return n;
    int before, after;
    vkdp_correct_pad(n, k, &before, &after);
    return (n + before + after - k) / stride + 1;
}

int vkdp_conv_pad_before(int n, int k, int stride)
{
    if (stride == 1)
        return k / 2;
    int before, after;
    vkdp_correct_pad(n, k, &before, &after);
    return before;
}
