/* Elementwise ("map") ops: out[i] = f(in_0[i], .., in_k-1[i]) for i < n, floats, one shader
 * invocation per element. Such an op is a shader with bindings in_0.., out and a push block
 * { uint n; }, a scalar C reference, and a record that points the generic form at the shared
 * functions below (see trainer/ops/op_swish_grad.c and docs/adding-an-op.md). */
#ifndef VKDP_OPS_MAP_H
#define VKDP_OPS_MAP_H
#include <stdint.h>

#include "vkdp/ops/op.h"

#define VKDP_MAP_MAX_INPUTS 3

typedef struct {
    uint32_t n;
} vkdp_map_push;
_Static_assert(sizeof(vkdp_map_push) == 4, "a map shader's push block is { uint n; }");

/* What a map op's record points its impl at. */
typedef struct {
    int ninputs;
    float (*f)(const float *in);               /* the C reference of one element */
    double lo[VKDP_MAP_MAX_INPUTS], hi[VKDP_MAP_MAX_INPUTS]; /* test input ranges */
    /* An op that is a gradient: out[i] = d loss_term(in) / d in[wrt] (see vkdp_op.grad);
     * NULL otherwise. In double. */
    double (*loss_term)(const double *in);
} vkdp_map_impl;

/* The shader record of a map op with k inputs. */
#define VKDP_MAP_SHADER(name, k) {(name), (k) + 1, sizeof(vkdp_map_push), VKDP_WRITES(k), 1}

/* Records op over n elements: views in[0..k), then out. */
void vkdp_op_map(vkdp_cmd *c, vkdp_device *dev, const vkdp_op *op, uint32_t n,
                 const vkdp_view *in, vkdp_view out, const char *label);
/* The C reference: out[i] = impl->f(in_0[i], ...). */
void vkdp_ref_map(const vkdp_op *op, uint32_t n, const float *const *in, float *out);

/* The generic form's functions for a map op's record (parameter: n). */
void vkdp_map_shape(const vkdp_op *op, vkdp_device *dev, const int64_t *p,
                    vkdp_tensor_shape *t);
void vkdp_map_record(const vkdp_op *op, vkdp_cmd *c, vkdp_device *dev, const int64_t *p,
                     const vkdp_view *t);
void vkdp_map_ref(const vkdp_op *op, vkdp_device *dev, const int64_t *p, void *const *t);
double vkdp_map_loss(const vkdp_op *op, const int64_t *p, void *const *t);

#endif
