/* Plain-C references of the head's shaders (shaders/head_*.comp, adam.comp): the same float
 * operations in the same order, so the fixed-point sums match the shaders bit-for-bit given the
 * same float inputs. They also run the whole head without a Vulkan device (vkdp_head_create with
 * dev == NULL), which the tests use to check the MPI path against the shader path. */
#ifndef VKDP_HEAD_REF_H
#define VKDP_HEAD_REF_H
#include <stdint.h>

/* Dropout key and rate of one step (use_dropout 0: identity). */
typedef struct {
    uint64_t seed;
    uint32_t epoch;
    int use_dropout;
    float rate, keep_scale;
} vkdp_dropout_key;

/* Philox-4x32-10, the twin of head_common.glsl's. */
void vkdp_philox4x32_10(const uint32_t ctr_in[4], const uint32_t key_in[2], uint32_t out[4]);
int vkdp_dropout_keep(const vkdp_dropout_key *k, uint64_t gpos, uint32_t j);
/* The key the head ops' generic forms (vkdp/ops/op.h) use: a seed from their parameters, epoch
 * 3, rate 0.2. */
vkdp_dropout_key vkdp_dropout_test_key(int64_t seed, int64_t use_dropout);

/* head_bn_stats: mode 0 sums fx(x), mode 1 sums fx((x-mean)^2); sums/ovf [F]. */
void head_ref_bn_stats(const float *x, int n, int F, int mode, const float *mean, int64_t *sums,
                       uint32_t *ovf);
/* head_bn_dropout: stats = mean[F], inv_std[F]; params starts with gamma[F], beta[F]. */
void head_ref_bn_dropout(const float *x, int n, int F, const float *stats, const float *params,
                         const uint64_t *gpos, const vkdp_dropout_key *k, float *xhat, float *xd);
/* head_logits_loss: params holds the kernel at kernel_off and bias at bias_off. */
void head_ref_logits_loss(const float *xd, int n, int F, int C, const float *params,
                          int64_t kernel_off, int64_t bias_off, const int *labels, float inv_batch,
                          float *probs, float *dl, float *loss, uint32_t *correct);
/* head_grad_sums: sums/ovf [P + 2], elements from `first` on. */
void head_ref_grad_sums(const float *xhat, const float *xd, const float *dl, const float *params,
                        const uint64_t *gpos, const float *loss, const uint32_t *correct, int n,
                        int F, int C, int64_t first, const vkdp_dropout_key *k, int64_t *sums,
                        uint32_t *ovf);
/* adam over P parameters, grad in fixed point (VKDP_FX_GRAD_SHIFT). */
void head_ref_adam(const int64_t *grad, float *params, float *m, float *v, int64_t P, float alpha,
                   float one_minus_beta1, float one_minus_beta2, float epsilon);

#endif
