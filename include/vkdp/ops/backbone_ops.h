/* EfficientNetB0 backbone ops other than the 1x1 conv GEMM (vkdp/ops/ops.h): the stem conv, the
 * depthwise conv, the global average pool (SE squeeze and the final GAP), the SE excitation and
 * the SE gating. Each op is a record (vkdp/ops/op.h) + a dispatch function (records into a
 * vkdp_cmd) + a plain-C reference with the same semantics. Layouts are NHWC, weights as in
 * vkdp/model/effnet.h. label: the op kind in the --profile table (NULL: a default per op); the
 * device interns it, so any string will do. */
#ifndef VKDP_BACKBONE_OPS_H
#define VKDP_BACKBONE_OPS_H
#include <stdint.h>

#include "vkdp/ops/op.h"
#include "vkdp/vk/vk.h"

extern const vkdp_op vkdp_rec_stem, vkdp_rec_dwconv, vkdp_rec_gap, vkdp_rec_se_excite,
    vkdp_rec_se_gate;

/* x [B,H,W,3] in [0,255] -> x*in_scale[c]+in_shift[c] -> Keras correct_pad zero padding ->
 * 3x3 stride-2 valid conv (w [3,3,3,32] HWIO, bias [32]) -> swish -> y [B,Ho,Wo,32]
 * with Ho = vkdp_conv_out_side(H, 3, 2). */
void vkdp_op_stem(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint32_t H, uint32_t W,
                  const float in_scale[3], const float in_shift[3], vkdp_view x, vkdp_view w,
                  vkdp_view bias, vkdp_view y, const char *label);
void vkdp_ref_stem(uint32_t B, uint32_t H, uint32_t W, const float in_scale[3],
                   const float in_shift[3], const float *x, const float *w, const float *bias,
                   float *y);

/* Depthwise k x k (k in {3,5}) conv, stride 1 ("same", pad k/2) or 2 (correct_pad + valid),
 * + bias + swish: x [B,H,W,C], w [k,k,C], bias [C] -> y [B,Ho,Wo,C].
 * Also writes part [B, vkdp_dwconv_tiles(dev,H,W,k,stride), C]: the sum of y over each output
 * tile of the shader (its size is the device's, vkdp/ops/tune.h), so that the SE squeeze is
 * vkdp_op_gap(part, R = tiles, count = Ho*Wo). */
void vkdp_op_dwconv(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint32_t H, uint32_t W,
                    uint32_t C, uint32_t k, uint32_t stride, vkdp_view x, vkdp_view w,
                    vkdp_view bias, vkdp_view y, vkdp_view part, const char *label);
uint32_t vkdp_dwconv_tiles(vkdp_device *dev, uint32_t H, uint32_t W, uint32_t k, uint32_t stride);
void vkdp_ref_dwconv(uint32_t B, uint32_t H, uint32_t W, uint32_t C, uint32_t k,
                     uint32_t stride, const float *x, const float *w, const float *bias, float *y);
/* The tile sums of y [B,Ho,Wo,C] over tiles of tx x ty output pixels: part [B,tiles,C]. */
void vkdp_ref_tile_sums(uint32_t B, uint32_t Ho, uint32_t Wo, uint32_t C, uint32_t tx,
                        uint32_t ty, const float *y, float *part);

/* Sum over rows divided by count: x [B,R,C] -> y [B,C]. Global average pool with R = count =
 * H*W; SE squeeze from the depthwise conv's tile sums with R = tiles, count = Ho*Wo. */
void vkdp_op_gap(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint32_t R, uint32_t C,
                 uint32_t count, vkdp_view x, vkdp_view y, const char *label);
/* Global average pool: x [B,HW,C] -> y [B,C]. */
void vkdp_ref_gap(uint32_t B, uint32_t HW, uint32_t C, const float *x, float *y);
/* Sum over rows divided by count, as vkdp_op_gap. */
void vkdp_ref_row_mean(uint32_t B, uint32_t R, uint32_t C, uint32_t count, const float *x,
                       float *y);

/* Squeeze-and-excitation gate from the pooled features, per image:
 *   s = swish(pool[b,:] * wr[C,se] + br[se]);  gate[b,:] = sigmoid(s * we[se,C] + be[C]).
 * s [B,se] is scratch. Two dispatches, labelled "se_excite_reduce" and "se_excite_expand". */
void vkdp_op_se_excite(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint32_t C, uint32_t se,
                       vkdp_view pool, vkdp_view wr, vkdp_view br, vkdp_view we, vkdp_view be,
                       vkdp_view s, vkdp_view gate);
void vkdp_ref_se_excite(uint32_t B, uint32_t C, uint32_t se, const float *pool, const float *wr,
                        const float *br, const float *we, const float *be, float *gate);

/* SE gating in place: x[b,p,c] *= gate[b,c], x [B,P,C], gate [B,C]. (Through storage buffers a
 * separate pass is cheaper than the project GEMM's row scale, see se_gate.comp; through texel
 * buffers the row scale costs nothing, so the backbone fuses it where the device table's
 * gate_fused says so.) */
void vkdp_op_se_gate(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint32_t P, uint32_t C,
                     vkdp_view x, vkdp_view gate, const char *label);
void vkdp_ref_se_gate(uint32_t B, uint32_t P, uint32_t C, float *x, const float *gate);

#endif
