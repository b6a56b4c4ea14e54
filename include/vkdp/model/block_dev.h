/* One MBConv block's training forward and backward on the device, with the Keras tensors unfolded
 * and every BatchNormalization frozen: the device twin of vkdp/model/effnet_grad.h, chained from
 * the backward ops of vkdp/ops/grad_ops.h, checked through two real blocks against the float64
 * PyTorch reference (test_effnet_block_grad ... device). Everything is recorded into the caller's
 * command buffer; nothing is submitted here. */
#ifndef VKDP_BLOCK_DEV_H
#define VKDP_BLOCK_DEV_H
#include "vkdp/model/effnet_grad.h"
#include "vkdp/vk/vk.h"

/* The block's tensors on the device: the trainable ones in Keras' layout, the frozen BN affines,
 * and a zero bias (the bias-free convolutions). */
typedef struct {
    const vkdp_mbconv *arch;
    vkdp_buf *expand_w, *dw_w, *se_reduce_w, *se_reduce_b, *se_expand_w, *se_expand_b, *project_w;
    vkdp_buf *expand_scale, *expand_shift, *bn_scale, *bn_shift, *project_scale, *project_shift;
    vkdp_buf *zero;
} vkdp_block_dev;

/* Uploads w (NULL arrays for a block without expand stay NULL buffers). */
void vkdp_block_dev_create(vkdp_device *dev, const vkdp_block_weights *w, vkdp_block_dev *d);
void vkdp_block_dev_free(vkdp_block_dev *d);

/* The trainable tensors' gradients, same shapes; expand_w NULL without expand. */
typedef struct {
    vkdp_buf *expand_w, *dw_w, *se_reduce_w, *se_reduce_b, *se_expand_w, *se_expand_b, *project_w;
} vkdp_block_dev_grads;
void vkdp_block_dev_grads_create(vkdp_device *dev, const vkdp_mbconv *a, vkdp_block_dev_grads *g);
void vkdp_block_dev_grads_free(vkdp_block_dev_grads *g);

/* What the backward reads (the forward's intermediates) and its own scratch, for B samples of one
 * input size. */
typedef struct {
    int B;
    vkdp_dw_geom geom;
    vkdp_view x, drop_scale;           /* the caller's: block input, [B] scales (buf NULL: none) */
    vkdp_buf *z1, *a1, *z2, *a2, *pool, *gate, *s, *se_scratch;
    vkdp_buf *d3, *ds, *d2, *d1, *dgate, *dpool, *work; /* backward scratch */
} vkdp_block_dev_tape;

/* Records y [B,Ho,Wo,out] = block(x [B,H,W,in]); drop_scale [B] (buf NULL: none) as in
 * vkdp_block_forward_train. Allocates the tape; x and drop_scale must stay valid until the
 * backward has run. */
void vkdp_block_dev_forward(vkdp_cmd *c, vkdp_device *dev, const vkdp_block_dev *d, int B, int H,
                            int W, vkdp_view x, vkdp_view drop_scale, vkdp_block_dev_tape *t,
                            vkdp_view y);
/* Records, from dy [B,Ho,Wo,out]: dx [B,H,W,in] (buf NULL: skipped) and every trainable gradient
 * summed over the batch (overwritten). */
void vkdp_block_dev_backward(vkdp_cmd *c, vkdp_device *dev, const vkdp_block_dev *d,
                             const vkdp_block_dev_tape *t, vkdp_view dy, vkdp_view dx,
                             const vkdp_block_dev_grads *g);
void vkdp_block_dev_tape_free(vkdp_block_dev_tape *t);

#endif
