/* One record per op: the shaders it dispatches (forward, and backward once it has one), each with
 * its push-constant size and named write bits, checked against the SPIR-V when the pipeline is
 * made; and a generic form of the op -- integer parameters, tensors, a recording function and
 * its C reference -- that the generic op test (tests/test_ops.c) runs over a table of cases.
 * How to add an op: docs/adding-an-op.md. */
#ifndef VKDP_OPS_OP_H
#define VKDP_OPS_OP_H
#include <stdint.h>

#include "vkdp/vk/vk.h"

#define VKDP_OP_MAX_SHADERS 4
#define VKDP_OP_MAX_PARAMS 12
#define VKDP_OP_MAX_TENSORS 16
#define VKDP_OP_MAX_GRADS 6

/* Write bit of a binding: name the bindings with an enum and write VKDP_WRITES(Y) | ... */
#define VKDP_WRITES(binding) (1u << (binding))

/* One shader of an op, as its SPIR-V must declare it. */
typedef struct {
    const char *name;     /* shaders/<name>.comp */
    uint32_t nbindings;   /* bindings 0..n-1 of set 0 */
    uint32_t push_bytes;  /* sizeof the op's push-constant struct */
    uint32_t writes;      /* VKDP_WRITES() of every binding the shader writes */
    int grid_2d;          /* the shader's group id is y * gl_NumWorkGroups.x + x: the grid may
                           * spread over y when x runs out */
} vkdp_shader_rec;

typedef enum { VKDP_F32, VKDP_I32, VKDP_U32, VKDP_I64, VKDP_U64 } vkdp_dtype;
/* IN: read; OUT: written; INOUT: both; SCRATCH: written and read by the op's own dispatches, no
 * result (the generic test does not compare it). */
typedef enum { VKDP_IN, VKDP_OUT, VKDP_INOUT, VKDP_SCRATCH } vkdp_dir;

typedef struct {
    const char *name;
    vkdp_dir dir;
    vkdp_dtype type;
} vkdp_tensor_rec;

/* One tensor's size for given parameters, and the range test inputs are drawn from. */
typedef struct {
    uint64_t count;       /* elements */
    double lo, hi;        /* inputs uniform in [lo, hi), integers too */
    int absent;           /* an optional tensor switched off: an empty view, a NULL array */
} vkdp_tensor_shape;

typedef struct vkdp_op {
    const char *name;
    const vkdp_shader_rec *fwd[VKDP_OP_MAX_SHADERS]; /* NULL-terminated */
    const vkdp_shader_rec *bwd[VKDP_OP_MAX_SHADERS]; /* NULL until the op has a backward */
    const char *params[VKDP_OP_MAX_PARAMS];          /* integer parameters, NULL-terminated */
    vkdp_tensor_rec tensors[VKDP_OP_MAX_TENSORS];    /* a NULL name ends the list */
    /* The generic form (each function gets the record, so ops of one family share them; and the
     * device, whose table row may shape a tensor, as dwconv's tile sums): shapes of the tensors,
     * one recording (every tensor bound in order, absent ones as empty views), and the C
     * reference on host arrays (absent ones NULL). */
    void (*shape)(const struct vkdp_op *op, vkdp_device *dev, const int64_t *p,
                  vkdp_tensor_shape *t);
    void (*record)(const struct vkdp_op *op, vkdp_cmd *c, vkdp_device *dev, const int64_t *p,
                   const vkdp_view *t);
    void (*ref)(const struct vkdp_op *op, vkdp_device *dev, const int64_t *p, void *const *t);
    const void *impl;     /* the family's own data (e.g. vkdp/ops/map.h) */
    double tol;           /* float outputs vs ref, normwise relative; 0: bit-exact */
    /* An op whose output is a gradient: tensors[out] = d loss / d tensors[wrt], where loss (in
     * double) is a function of the op's inputs; the generic test checks it by finite
     * differences. loss NULL: none. A backward with several outputs (dX, dW, db) names the
     * further pairs of the same loss in more[0..nmore). A backward whose output does not depend
     * on some input of the loss (dX of a linear op on x) still lists that input as a tensor:
     * the loss reads it, the shaders do not. */
    struct {
        double (*loss)(const struct vkdp_op *op, const int64_t *p, void *const *t);
        int wrt, out;
        int more[VKDP_OP_MAX_GRADS - 1][2]; /* {wrt, out} */
        int nmore;
    } grad;
} vkdp_op;

static inline vkdp_tensor_shape vkdp_shape(uint64_t count, double lo, double hi)
{
    vkdp_tensor_shape s = {count, lo, hi, 0};
    return s;
}

/* A texel view of the first `bytes` of v in format f, for a shader that reads or writes it as a
 * texel buffer; a view of fewer bytes is fatal (the storage-buffer shader would have stayed
 * inside it). */
static inline vkdp_view vkdp_texel_range(vkdp_view v, uint64_t bytes, VkFormat f)
{
    if (v.size && v.size < bytes)
        VKDP_FATAL("texel view: the op needs %llu bytes of a %llu-byte view",
                   (unsigned long long)bytes, (unsigned long long)v.size);
    return vkdp_texels(v.buf, v.offset, bytes, f);
}

/* An RGBA32F texel view of the first `floats` floats of v (a multiple of 4). */
static inline vkdp_view vkdp_texels_f32x4(vkdp_view v, uint64_t floats)
{
    return vkdp_texel_range(v, floats * sizeof(float), VK_FORMAT_R32G32B32A32_SFLOAT);
}

/* Ceiling of a / b. */
static inline uint64_t vkdp_div_up(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

/* The pipeline of shader s of op, with the workgroup size of the device's table row
 * (vkdp/ops/tune.h). The binding count, push-constant size and written bindings its SPIR-V
 * declares must be the record's: a mismatch is fatal and names the op. */
vkdp_pipeline *vkdp_op_pipeline(vkdp_device *dev, const vkdp_op *op, const vkdp_shader_rec *s,
                                const uint32_t *spec, uint32_t nspec);

/* Records one dispatch of shader s of op: `invocations` along x in workgroups of the pipeline's
 * size (spread over y when s->grid_2d and x runs out), z along z; both checked against the
 * device's limits (fatal naming the op). Nothing is recorded for 0 invocations. label NULL:
 * the op's name. */
void vkdp_op_dispatch(vkdp_cmd *c, vkdp_device *dev, const vkdp_op *op, const vkdp_shader_rec *s,
                      const uint32_t *spec, uint32_t nspec, const vkdp_view *views,
                      const void *push, uint64_t invocations, uint64_t z, const char *label);

/* One sample's part of each binding of a weight-gradient shader (x, dy, dw, db, in that order):
 * sample j of binding i is bytes[i] bytes at views[i].offset + j * stride[i]. */
typedef struct {
    uint64_t bytes[4], stride[4];
} vkdp_sample_parts;

/* Records shader s of op (bindings x, dy, dw, db; one specialization constant HAS_DB) once per
 * sample of S, on each sample's slices (parts), with the same push block and invocations: the
 * storage-buffer fallback of a per-sample weight gradient whose texel shader takes all S in one
 * dispatch. Without db (views[3].buf NULL, HAS_DB off) binding 3 takes dw's slice, which the
 * shader then never writes through it. */
void vkdp_op_dispatch_samples(vkdp_cmd *c, vkdp_device *dev, const vkdp_op *op, const vkdp_shader_rec *s,
                              uint32_t S, const vkdp_view views[4], const vkdp_sample_parts *parts,
                              const void *push, uint64_t invocations, const char *label);

/* Number of tensors / parameters of an op's generic form. */
int vkdp_op_ntensors(const vkdp_op *op);
int vkdp_op_nparams(const vkdp_op *op);

#endif
