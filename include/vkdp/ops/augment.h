/* The training augmentation on the device (--augment): the Keras EfficientNet example's
 * RandomRotation -> RandomTranslation -> RandomFlip -> RandomContrast on a batch of resized float
 * images [B,H,W,C] in [0, 255], with the semantics of the C reference vkdp/ops/augment_ref.h.
 * Each image's draws come from vkdp_augment_draw on (seed, epoch, global sample index) on the
 * host (a few Philox blocks per image) and travel as 20 floats per image (vkdp_augment_pack); the
 * resampling, flip and contrast run in shaders (augment_warp, augment_mean, augment_contrast).
 * Against the reference: the warps and flips do the reference's float operations in its order
 * (no fused multiply-adds); the contrast mean is a float sum where the reference sums in double,
 * so outputs differ by a few ulps of 255 (test_ops augment: max 7.6e-5 absolute at 224 x 224;
 * the op's tolerance, 1e-6 normwise). */
#ifndef VKDP_OPS_AUGMENT_H
#define VKDP_OPS_AUGMENT_H
#include <stdint.h>

#include "vkdp/ops/augment_ref.h"
#include "vkdp/ops/op.h"
#include "vkdp/vk/vk.h"

extern const vkdp_op vkdp_rec_augment;

#define VKDP_AUGMENT_PARAM_FLOATS 20

/* The draws of samples gpos0 .. gpos0+B-1 of an epoch, packed for the shaders: per image its
 * rotation matrix [0, 8), translation matrix [8, 16), flip_h, flip_v (0/1), contrast factor. */
void vkdp_augment_pack(const vkdp_augment_cfg *cfg, uint64_t seed, uint32_t epoch,
                       const uint64_t *gpos, uint32_t B, int H, int W, float *params);

/* Records y = augment(x) for B images: params [B, 20] (vkdp_augment_pack, uploaded), scratch
 * [B,H,W,C] and mean [B,C] floats of scratch. y may not alias x. */
void vkdp_op_augment(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint32_t H, uint32_t W,
                     uint32_t C, vkdp_view x, vkdp_view params, vkdp_view scratch, vkdp_view mean,
                     vkdp_view y, const char *label);

#endif
