/* The frozen EfficientNetB0 backbone on the GPU: images [B,H,W,3] in [0,255] -> pooled features
 * [B,1280] (global average of the top activation), the same function as vkdp_effnet_forward_ref.
 *
 * Weights are uploaded once at creation. The forward of one micro-batch is recorded into one
 * command buffer once (per micro-batch size) and resubmitted for every micro-batch with new images
 * uploaded into the same input buffer. Activations live in three reused buffers sized for the
 * largest per-image activation times the micro-batch; the micro-batch is the largest that keeps
 * every binding within maxStorageBufferRange (and at most max_batch).
 *
 * Calls may be left in flight (vkdp_backbone_submit / _collect): up to the device's async_depth
 * (vkdp/ops/tune.h; 2 = two slots, each with its own input, output and command buffers) tiles run
 * while the host does other work; a slot is collected before it is reused. In the staged memory
 * plan a download waits for the whole queue, so the older call is collected just before the next
 * is submitted: one call runs while the host works. The activation buffers are shared: every
 * recording starts with a barrier after the pass submitted before it. */
#ifndef VKDP_BACKBONE_H
#define VKDP_BACKBONE_H
#include <stddef.h>
#include <stdint.h>

#include "vkdp/model/effnet.h"
#include "vkdp/vk/vk.h"

typedef struct vkdp_backbone vkdp_backbone;

/* net's BN-folded weights are copied to the device; net may be freed afterwards. */
vkdp_backbone *vkdp_backbone_create(vkdp_device *dev, const vkdp_effnet *net, int image_h,
                                    int image_w, int max_batch);
/* images [B,H,W,3] float in [0,255] -> pooled [B,1280]; any B >= 1 (tiled into equal-sized
 * micro-batches internally). */
void vkdp_backbone_forward(vkdp_backbone *bb, const float *images, int B, float *pooled);
/* Starts the forward of images [B,H,W,3] (uploaded before it returns; the caller may reuse
 * them) and returns its ticket; pooled [B,1280] must stay valid until the ticket is collected.
 * With async_depth 1 the call has completed on return. */
uint64_t vkdp_backbone_submit(vkdp_backbone *bb, const float *images, int B, float *pooled);
/* Waits for every call up to and including `ticket` (in submission order) and writes their
 * features; later calls stay in flight. Any other forward collects every call first. */
void vkdp_backbone_collect(vkdp_backbone *bb, uint64_t ticket);
/* Tiles in flight at most (1: synchronous). */
int vkdp_backbone_async_depth(const vkdp_backbone *bb);
/* The frozen part of fine-tuning: the activation entering block `stop` (0..15; 16: top_conv's
 * input), [B, h, w, c] per image as the block reads it, after the augmentation when params is
 * not NULL. The same bits as inside the whole forward. */
void vkdp_backbone_forward_to(vkdp_backbone *bb, const float *images, int B, const float *params,
                              int stop, float *boundary);
/* The training forward of the frozen backbone: augmented on the device (vkdp/ops/augment.h) when
 * params [B, 20] from vkdp_augment_pack (one row per image) is not NULL, with
 * drop connect when drop is not NULL: drop [B, 16] holds each image's scale of each block's
 * residual branch (0: dropped, else 1/(1 - rate); read only for the residual blocks; Keras'
 * Dropout(noise_shape=(None,1,1,1)) before the block's add, as vkdp_ref_residual). stop -1: the
 * pooled features [B, 1280]; else the activation entering block stop (as vkdp_backbone_forward_to).
 * Without drop and stop >= 0, the same bits as forward_to. */
void vkdp_backbone_forward_train(vkdp_backbone *bb, const float *images, int B, const float *params,
                                 const float *drop, int stop, float *out);
/* Floats per image of that boundary activation. */
size_t vkdp_backbone_boundary_floats(const vkdp_backbone *bb, int stop);
/* Accumulates per-op timestamps of every later submission into prof (the device must have been
 * created with opts.profile); NULL stops. */
void vkdp_backbone_set_profile(vkdp_backbone *bb, vkdp_profile *prof);
/* Images per submitted command buffer at most. */
uint64_t vkdp_backbone_micro_batch(const vkdp_backbone *bb);
/* Waits for calls still in flight and drops their results. */
void vkdp_backbone_destroy(vkdp_backbone *bb);

#endif
