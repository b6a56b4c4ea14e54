/* The classification head, trained data-parallel over MPI and bit-identical for any number of
 * ranks: BatchNormalization (global-batch statistics) -> Dropout -> Dense(C) -> softmax with
 * categorical cross-entropy, Adam; Keras 2.11+ semantics (see docs in trainer/model/head.c).
 *
 * Every cross-sample sum is an exact int64 fixed-point sum (include/vkdp/ops/head_fx.h) reduced with
 * MPI_Allreduce, dropout masks are keyed by (seed, epoch, global sample index, feature), and every
 * rank applies the same Adam update: per-step metrics and weights do not depend on the split.
 * Every rank must call train_step / evaluate the same number of times (ranks without samples pass
 * n_local = 0): they are collectives. */
#ifndef VKDP_HEAD_H
#define VKDP_HEAD_H
#include <stdint.h>

#include "vkdp/vk/vk.h"

typedef struct {
    int feat_dim, nclasses;
    double lr, beta1, beta2, epsilon;   /* Adam */
    double bn_momentum, bn_epsilon;
    double dropout;                     /* rate; 0 disables */
    uint64_t seed;                      /* kernel init and dropout masks */
} vkdp_head_cfg;

/* The Keras tutorial's head: 1280 features, 5 classes, Adam(1e-2, 0.9, 0.999, 1e-7),
 * BatchNormalization(momentum 0.99, epsilon 1e-3), Dropout(0.2), seed 0. */
void vkdp_head_cfg_default(vkdp_head_cfg *cfg);

typedef struct vkdp_head vkdp_head;

/* dev == NULL runs the plain-C reference ops on the host instead of the shaders (same results up
 * to float rounding of exp/log/sqrt; used by tests). */
vkdp_head *vkdp_head_create(vkdp_device *dev, const vkdp_head_cfg *cfg);
void vkdp_head_destroy(vkdp_head *h);

typedef struct {
    double loss_sum;      /* sum over samples of the cross-entropy (mean = loss_sum / count) */
    int64_t correct;      /* samples whose argmax matches the label */
    int64_t count;
} vkdp_head_result;       /* global sums over all ranks */

/* One optimizer step on a global batch of n_global samples of which this rank holds n_local:
 * x_local [n_local, feat_dim] pooled features, labels [n_local] in [0, nclasses), global_pos
 * [n_local] each sample's index in the epoch (keys its dropout mask). n_global <= 4096. */
void vkdp_head_train_step(vkdp_head *h, const float *x_local, const int *labels,
                          const int64_t *global_pos, int n_local, int64_t n_global, int epoch,
                          vkdp_head_result *res);
/* The same step, also writing dx_local [n_local, feat_dim] = dL/dx of this rank's features (the
 * batch loss's gradient, BN in training mode, with the parameters before the update): what
 * fine-tuning back-propagates into the backbone. Bit-identical for any split over ranks. */
void vkdp_head_train_step_dx(vkdp_head *h, const float *x_local, const int *labels,
                             const int64_t *global_pos, int n_local, int64_t n_global, int epoch,
                             vkdp_head_result *res, float *dx_local);
/* Inference (moving statistics, no dropout) of this rank's samples; res gets the global sums
 * (one allreduce, so either every rank passes res or none does; labels may be NULL only when res
 * is); probs_out [n_local, nclasses] or NULL. */
void vkdp_head_evaluate(vkdp_head *h, const float *x_local, const int *labels, int n_local,
                        vkdp_head_result *res, float *probs_out);

/* ---- named tensors (checkpoints): Keras names ---- */
typedef enum { VKDP_HEAD_WEIGHT, VKDP_HEAD_ADAM_M, VKDP_HEAD_ADAM_V } vkdp_head_tensor_kind;
typedef struct {
    const char *name;   /* "head_bn/head_bn/gamma:0", ..., "Adam/m/pred/kernel:0" */
    vkdp_head_tensor_kind kind;
    int ndims;
    int64_t dims[2];
    int64_t size;       /* elements (float32) */
} vkdp_head_tensor;

/* 14 tensors: gamma, beta, moving_mean, moving_variance, kernel [F,C], bias [C] (the weights in
 * Keras' order), then Adam m and v of gamma, beta, kernel, bias. */
int vkdp_head_tensor_count(const vkdp_head *h);
void vkdp_head_tensor_desc(const vkdp_head *h, int i, vkdp_head_tensor *d);
int vkdp_head_tensor_find(const vkdp_head *h, const char *name);   /* -1 when absent */
void vkdp_head_tensor_get(vkdp_head *h, int i, float *dst);
void vkdp_head_tensor_set(vkdp_head *h, int i, const float *src);
/* Adam's step counter ("Adam/iteration:0"). */
int64_t vkdp_head_iterations(const vkdp_head *h);
void vkdp_head_set_iterations(vkdp_head *h, int64_t iterations);

/* Checksum of every parameter, moving statistic, Adam moment and the iteration count, for
 * vkdp_check_replicas (include/vkdp/dist/dist.h). */
uint64_t vkdp_head_checksum(vkdp_head *h);
/* --check-replicas N: every `every` steps (a collective on those steps; every <= 0: never),
 * aborts the job when any rank's replica differs from rank 0's, naming the step. */
void vkdp_head_check_replicas(vkdp_head *h, int64_t step, int every);
/* Test hook: adds delta to trainable parameter `index` on this rank only (to make a replica
 * diverge on purpose). */
void vkdp_head_test_perturb(vkdp_head *h, int64_t index, float delta);

#endif
