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
    vkdp_buf *work1;                   /* [B] SE scratches of one sample each (per-sample backward) */
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

/* The trainable tensors of a block, in the order the backward completes them. */
typedef enum {
    VKDP_BG_PROJECT_W, VKDP_BG_SE_REDUCE_W, VKDP_BG_SE_REDUCE_B, VKDP_BG_SE_EXPAND_W, VKDP_BG_SE_EXPAND_B,
    VKDP_BG_DW_W, VKDP_BG_EXPAND_W, VKDP_BG_COUNT
} vkdp_block_grad_id;
/* Tensor id's values in block a (0: expand_w of a block without expand). */
uint64_t vkdp_block_grad_numel(const vkdp_mbconv *a, vkdp_block_grad_id id);
/* Floats between two samples' partials of a tensor of numel values: numel rounded up to the
 * device's storage-buffer offset alignment, so that every sample's partial can be bound alone. */
uint64_t vkdp_block_dev_partial_stride(const vkdp_device *dev, uint64_t numel);
/* Bytes of the scratch vkdp_block_dev_backward_partials needs for B samples of block a. */
uint64_t vkdp_block_dev_partials_bytes(const vkdp_device *dev, const vkdp_mbconv *a, int B);

/* Called once per trainable tensor as soon as its partials are recorded: part [B, stride] holds
 * sample s's partial at s * stride floats (numel values, the rest untouched); the callee records
 * what consumes them (before the scratch is reused for a later tensor, which the command
 * buffer's barriers order). */
typedef void (*vkdp_block_partials_fn)(void *ctx, vkdp_block_grad_id id, vkdp_view part, uint64_t numel,
                                       uint64_t stride);
/* Records the backward of vkdp_block_dev_backward with per-sample weight gradients: the data
 * path (dx and every intermediate gradient) batched over the tape's B samples, and each
 * trainable tensor's gradient recorded once per sample over that sample's rows only (the same
 * ops, so each sample's partial has the bits a backward of that sample alone gives) into
 * scratch (vkdp_block_dev_partials_bytes), handed to done tensor by tensor. The per-sample
 * slices must be bindable: the block's per-sample activation sizes a multiple of the device's
 * storage-buffer offset alignment (a dispatch refuses them otherwise). */
void vkdp_block_dev_backward_partials(vkdp_cmd *c, vkdp_device *dev, const vkdp_block_dev *d,
                                      const vkdp_block_dev_tape *t, vkdp_view dy, vkdp_view dx,
                                      vkdp_view scratch, vkdp_block_partials_fn done, void *ctx);

#endif
