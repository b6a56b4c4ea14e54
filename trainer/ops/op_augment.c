/* augment: the training augmentation's shaders (augment_warp twice, augment_mean,
 * augment_contrast): packing of the host draws, record, dispatch, and the generic form over the
 * C reference vkdp_augment_image. */
#include "vkdp/ops/augment.h"

#include <stdlib.h>
#include <string.h>

#include "vkdp/core/common.h"

enum { W_IN, W_PRM, W_OUT, W_BINDINGS };
enum { M_X, M_MEAN, M_BINDINGS };
enum { C_X, C_MEAN, C_PRM, C_BINDINGS };
enum { T_X, T_PRM, T_TMP, T_MEAN, T_Y };
enum { P_B, P_H, P_W, P_C, P_SEED, P_EPOCH, P_GPOS, P_FLIP };

typedef struct {
    uint32_t B, H, W, C;
} vkdp_augment_warp_push;
_Static_assert(sizeof(vkdp_augment_warp_push) == 16, "shaders/augment_warp.comp's push block");
typedef struct {
    uint32_t B, P, C;
    float inv_count;
} vkdp_augment_contrast_push;
_Static_assert(sizeof(vkdp_augment_contrast_push) == 16,
               "shaders/augment_mean.comp's and augment_contrast.comp's push block");

static const vkdp_shader_rec shader_warp = {"augment_warp", W_BINDINGS,
                                            sizeof(vkdp_augment_warp_push), VKDP_WRITES(W_OUT), 1};
static const vkdp_shader_rec shader_mean = {"augment_mean", M_BINDINGS,
                                            sizeof(vkdp_augment_contrast_push),
                                            VKDP_WRITES(M_MEAN), 0};
static const vkdp_shader_rec shader_contrast = {"augment_contrast", C_BINDINGS,
                                                sizeof(vkdp_augment_contrast_push),
                                                VKDP_WRITES(C_X), 1};

void vkdp_augment_pack(const vkdp_augment_cfg *cfg, uint64_t seed, uint32_t epoch,
                       const uint64_t *gpos, uint32_t B, int H, int W, float *params)
{
    for (uint32_t b = 0; b < B; b++) {
        vkdp_augment_params p;
        float *o = params + (size_t)b * VKDP_AUGMENT_PARAM_FLOATS;
        vkdp_augment_draw(cfg, seed, epoch, gpos[b], H, W, &p);
        vkdp_augment_rotation_matrix(p.angle, H, W, o);
        vkdp_augment_translation_matrix(p.dy, p.dx, o + 8);
        o[16] = (float)p.flip_h;
        o[17] = (float)p.flip_v;
        o[18] = p.contrast;
        o[19] = 0.0f;
    }
}

void vkdp_op_augment(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint32_t H, uint32_t W,
                     uint32_t C, vkdp_view x, vkdp_view params, vkdp_view scratch, vkdp_view mean,
                     vkdp_view y, const char *label)
{
    const vkdp_op *op = &vkdp_rec_augment;
    uint64_t n = (uint64_t)B * H * W * C;
    if (H == 0 || W == 0 || C == 0 || n > UINT32_MAX || H > (1u << 24) || W > (1u << 24))
        VKDP_FATAL("%s: %u images of %u x %u x %u", op->name, B, H, W, C);
    vkdp_augment_warp_push wp = {B, H, W, C};
    uint32_t pass = 0;
    vkdp_view v0[W_BINDINGS] = {x, params, scratch};
    vkdp_op_dispatch(c, dev, op, &shader_warp, &pass, 1, v0, &wp, (uint64_t)B * H * W, 1, label);
    pass = 1;
    vkdp_view v1[W_BINDINGS] = {scratch, params, y};
    vkdp_op_dispatch(c, dev, op, &shader_warp, &pass, 1, v1, &wp, (uint64_t)B * H * W, 1, label);
    /* the reference's 1.0f / (float)(H W), computed here with the same rounding */
    vkdp_augment_contrast_push cp = {B, H * W, C, 1.0f / (float)((size_t)H * W)};
    vkdp_view vm[M_BINDINGS] = {y, mean};
    vkdp_op_dispatch(c, dev, op, &shader_mean, NULL, 0, vm, &cp, (uint64_t)B * C, 1, label);
    vkdp_view vc[C_BINDINGS] = {y, mean, params};
    vkdp_op_dispatch(c, dev, op, &shader_contrast, NULL, 0, vc, &cp, n, 1, label);
}

/* ---- generic form: the draws of (seed, epoch, gpos .. gpos+B-1) with flip mode `flip` ---- */

static vkdp_augment_cfg cfg_of(const int64_t *p)
{
    vkdp_augment_cfg cfg = vkdp_augment_default_cfg();
    cfg.flip = (vkdp_flip_mode)p[P_FLIP];
    return cfg;
}

static uint64_t *positions(const int64_t *p)
{
    uint64_t *g = vkdp_xmalloc((size_t)(p[P_B] ? p[P_B] : 1) * sizeof *g);
    for (int64_t b = 0; b < p[P_B]; b++)
        g[b] = (uint64_t)p[P_GPOS] + (uint64_t)b * 7; /* not consecutive: as a rank's shard */
    return g;
}

static void shape(const vkdp_op *op, vkdp_device *dev, const int64_t *p, vkdp_tensor_shape *t)
{
    (void)op, (void)dev;
    uint64_t n = (uint64_t)(p[P_B] * p[P_H] * p[P_W] * p[P_C]);
    t[T_X] = vkdp_shape(n, 0, 255);
    t[T_PRM] = vkdp_shape((uint64_t)p[P_B] * VKDP_AUGMENT_PARAM_FLOATS, 0, 0);
    t[T_TMP] = vkdp_shape(n, 0, 0);
    t[T_MEAN] = vkdp_shape((uint64_t)(p[P_B] * p[P_C]), 0, 0);
    t[T_Y] = vkdp_shape(n, 0, 0);
}

/* The parameters are the draws, packed and uploaded here (the buffer is host-mapped): the test
 * fills no input for them. */
static void record(const vkdp_op *op, vkdp_cmd *c, vkdp_device *dev, const int64_t *p,
                   const vkdp_view *t)
{
    (void)op;
    vkdp_augment_cfg cfg = cfg_of(p);
    uint64_t *g = positions(p);
    size_t bytes = (size_t)p[P_B] * VKDP_AUGMENT_PARAM_FLOATS * sizeof(float);
    float *prm = vkdp_xmalloc(bytes + 4);
    vkdp_augment_pack(&cfg, (uint64_t)p[P_SEED], (uint32_t)p[P_EPOCH], g, (uint32_t)p[P_B],
                      (int)p[P_H], (int)p[P_W], prm);
    vkdp_buf_upload(t[T_PRM].buf, t[T_PRM].offset, prm, bytes);
    vkdp_op_augment(c, dev, (uint32_t)p[P_B], (uint32_t)p[P_H], (uint32_t)p[P_W],
                    (uint32_t)p[P_C], t[T_X], t[T_PRM], t[T_TMP], t[T_MEAN], t[T_Y], NULL);
    free(prm);
    free(g);
}

static void ref(const vkdp_op *op, vkdp_device *dev, const int64_t *p, void *const *t)
{
    (void)op, (void)dev;
    vkdp_augment_cfg cfg = cfg_of(p);
    uint64_t *g = positions(p);
    size_t img = (size_t)(p[P_H] * p[P_W] * p[P_C]);
    float *scratch = vkdp_xmalloc(img * sizeof *scratch);
    for (int64_t b = 0; b < p[P_B]; b++) {
        vkdp_augment_params ap;
        vkdp_augment_draw(&cfg, (uint64_t)p[P_SEED], (uint32_t)p[P_EPOCH], g[b], (int)p[P_H],
                          (int)p[P_W], &ap);
        vkdp_augment_image(&ap, (int)p[P_H], (int)p[P_W], (int)p[P_C],
                           (const float *)t[T_X] + b * img, (float *)t[T_Y] + b * img, scratch);
    }
    free(scratch);
    free(g);
}

const vkdp_op vkdp_rec_augment = {
    .name = "augment",
    .fwd = {&shader_warp, &shader_mean, &shader_contrast},
    .params = {"B", "H", "W", "C", "seed", "epoch", "gpos", "flip"},
    .tensors = {{"x", VKDP_IN, VKDP_F32}, {"params", VKDP_SCRATCH, VKDP_F32},
                {"tmp", VKDP_SCRATCH, VKDP_F32}, {"mean", VKDP_SCRATCH, VKDP_F32},
                {"y", VKDP_OUT, VKDP_F32}},
    .shape = shape,
    .record = record,
    .ref = ref,
    .tol = 1e-6, /* the contrast mean's float sum (the warps and flips are bit-exact) */
};
