/* Keras' convolution geometry: the padding and output size of EfficientNet's convolutions, shared
 * by the ops that implement them, their C references and the network that chains them. */
#ifndef VKDP_OPS_CONV_GEOM_H
#define VKDP_OPS_CONV_GEOM_H

/* Keras' correct_pad for a "valid" conv of kernel k, stride 2, on a side of length n, exactly as
 * keras.applications.imagenet_utils.correct_pad with a known input size: before = k/2 - (1 - n%2),
 * after = k/2. */
void vkdp_correct_pad(int n, int k, int *before, int *after);
/* Output side of a layer: stride 1 "same" keeps n; stride 2 with correct_pad + "valid". */
int vkdp_conv_out_side(int n, int k, int stride);
/* Padding before the first row/column of such a layer: correct_pad's for stride 2, k/2 for
 * stride 1. */
int vkdp_conv_pad_before(int n, int k, int stride);

#endif
