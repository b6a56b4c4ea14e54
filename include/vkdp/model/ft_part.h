/* Fine-tuning's trainable part of the backbone on the device (docs/fine-tuning.md, phase 2): from
 * the frozen part's boundary activation to the pooled features, with the tape its backward needs,
 * and the exact data-parallel weight update: per-sample weight-gradient partials rounded to int64
 * fixed point (grad_fx_add), reduced over ranks in int64 buckets (vkdp/dist/bucket.h), then Adam
 * on the flat tensors. Every cross-sample sum is an integer sum, so the trained tensors are the
 * same bits for any number of ranks. Today's trainable part: top_conv (kernel only; top_bn frozen,
 * swish, global average pool). forward and step are collectives as the head's are: every rank calls
 * them the same number of times (n_local may be 0). */
#ifndef VKDP_FT_PART_H
#define VKDP_FT_PART_H
#include <stdint.h>

#include "vkdp/model/effnet.h"
#include "vkdp/model/finetune_plan.h"
#include "vkdp/dist/bucket.h"
#include "vkdp/vk/vk.h"

typedef struct vkdp_ftpart vkdp_ftpart;

/* The trainable tensors start as net's file tensors; Adam moments zero. boundary_floats: floats
 * per image of the activation entering the plan's first layer; cap: most samples per call; seed:
 * drop connect's Philox key; drop_connect_rate: Keras' EfficientNetB0 drop_connect_rate (block b of
 * the trainable residual blocks drops at rate * b / 16 at training); bucket_bytes: the gradient
 * buckets' cap (PyTorch DDP's bucket_cap_mb; 0: its default, 25 MiB; the first bucket 1 MiB or
 * bucket_bytes if smaller). The sums, hence the
 * results, do not depend on the buckets. */
vkdp_ftpart *vkdp_ftpart_create(vkdp_device *dev, const vkdp_effnet *net, const vkdp_finetune_plan *plan,
                                size_t boundary_floats, int cap, uint64_t seed, double drop_connect_rate,
                                size_t bucket_bytes);
void vkdp_ftpart_destroy(vkdp_ftpart *p);

/* x [n, boundary_floats] -> pooled [n, 1280]; keeps the tape for vkdp_ftpart_step. gpos: the
 * samples' global indices in the epoch for training (drop connect in the trainable residual
 * blocks, docs/fine-tuning.md section 1; none at drop_connect_rate 0), NULL for inference. */
void vkdp_ftpart_forward(vkdp_ftpart *p, const float *x, int n, const int64_t *gpos, uint32_t epoch,
                         float *pooled);
/* Drop connect's per-sample scale in block b (0..15) at training: 0 (dropped) or 1/(1 - rate),
 * rate = connect_rate * b / 16, kept iff the Philox draw of (seed; 0x44430000 + b, gpos, epoch) >= rate
 * (always 1 at connect_rate 0). */
float vkdp_ftpart_drop_scale(uint64_t seed, double connect_rate, uint32_t epoch, int64_t gpos, int b);
/* From dpooled [n, 1280] (the batch loss's gradient at the pooled features, the head's dx) of the
 * last forward: the global weight gradient (collective, exact), then one Adam update at learning
 * rate lr with iterations updates done before it (Keras' t = iterations + 1). */
void vkdp_ftpart_step(vkdp_ftpart *p, const float *dpooled, int n, double lr, int64_t iterations);

/* --profile: the per-op device times of every later submission are added to prof (NULL: none). */
void vkdp_ftpart_set_profile(vkdp_ftpart *p, vkdp_profile *prof);

/* Seconds this rank has waited for the gradient allreduce after its backward (the part the
 * backward did not hide), over all steps. */
double vkdp_ftpart_allreduce_wait(const vkdp_ftpart *p);
/* The gradient buckets (vkdp/dist/bucket.h): their count, size, and the probe of their cost. */
vkdp_buckets *vkdp_ftpart_buckets(vkdp_ftpart *p);

/* Checksum of every trainable tensor and its Adam moments, for vkdp_check_replicas. */
uint64_t vkdp_ftpart_checksum(vkdp_ftpart *p);

/* The trainable tensors, in the plan's order (vkdp_finetune_tensors): weights, Adam m, Adam v. */
int vkdp_ftpart_count(const vkdp_ftpart *p);
/* Samples per tile: every call runs in tiles of at most this many samples, each with buffers of its
 * own, so that no tensor passes the device's binding limit (less than cap only where one would). */
int vkdp_ftpart_tile(const vkdp_ftpart *p);
/* 1 when the test hook VKDP_TEST_FT_CHUNK, not the binding limit, made the tile smaller than cap. */
int vkdp_ftpart_tile_forced(const vkdp_ftpart *p);
const vkdp_finetune_tensor *vkdp_ftpart_tensor(const vkdp_ftpart *p, int i);
typedef enum { VKDP_FT_WEIGHT, VKDP_FT_ADAM_M, VKDP_FT_ADAM_V } vkdp_ft_kind;
void vkdp_ftpart_get(vkdp_ftpart *p, vkdp_ft_kind k, int i, float *dst);
void vkdp_ftpart_set(vkdp_ftpart *p, vkdp_ft_kind k, int i, const float *src);
/* The last step's global gradient of tensor i (the int64 sum over all ranks' samples, as float):
 * what Adam was given; for tests. */
void vkdp_ftpart_last_grad(vkdp_ftpart *p, int i, float *dst);
/* Zero Adam moments (a new optimizer, as Keras' recompile at the switch to phase 2). */
void vkdp_ftpart_reset_adam(vkdp_ftpart *p);

#endif
