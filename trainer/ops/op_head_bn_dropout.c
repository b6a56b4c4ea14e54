/* head_bn_dropout: BatchNorm normalisation + Dropout per (sample, feature): record, dispatch and C
 * reference (bit-identical to the shader). */
#include <math.h>

#include "vkdp/ops/head_fx.h"
#include "vkdp/ops/head_ops.h"

enum { BD_X, BD_STATS, BD_PARAMS, BD_GPOS, BD_XHAT, BD_XD, BD_BINDINGS };
enum { P_N, P_F, P_DROPOUT, P_SEED };

typedef struct {
    uint32_t n, F, seed_lo, seed_hi, epoch, use_dropout;
    float rate, keep_scale;
} vkdp_head_bn_dropout_push;
_Static_assert(sizeof(vkdp_head_bn_dropout_push) == 32,
               "shaders/head_bn_dropout.comp's push block");

static const vkdp_shader_rec shader = {"head_bn_dropout", BD_BINDINGS,
                                       sizeof(vkdp_head_bn_dropout_push),
                                       VKDP_WRITES(BD_XHAT) | VKDP_WRITES(BD_XD), 0};

void vkdp_op_head_bn_dropout(vkdp_cmd *c, vkdp_device *dev, vkdp_view x, vkdp_view stats,
                             vkdp_view params, vkdp_view gpos, vkdp_view xhat, vkdp_view xd, int n,
                             int F, const vkdp_dropout_key *k)
{
    vkdp_head_bn_dropout_push pc = {(uint32_t)n, (uint32_t)F, (uint32_t)k->seed,
                                    (uint32_t)(k->seed >> 32), k->epoch,
                                    (uint32_t)(k->use_dropout != 0), k->rate, k->keep_scale};
    vkdp_view v[BD_BINDINGS] = {x, stats, params, gpos, xhat, xd};
    vkdp_op_dispatch(c, dev, &vkdp_rec_head_bn_dropout, &shader, NULL, 0, v, &pc,
                     (uint64_t)n * (uint64_t)F, 1, NULL);
}

/* The C reference splits float expressions into one operation per statement where the shader
 * marks them `precise`, so that neither side contracts them into FMAs and both round alike. */
void head_ref_bn_dropout(const float *x, int n, int F, const float *stats, const float *params,
                         const uint64_t *gpos, const vkdp_dropout_key *k, float *xhat, float *xd)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < F; j++) {
            int64_t e = (int64_t)i * F + j;
            float v = x[e], m = stats[j], inv = stats[F + j];
            float d = v - m;
            xhat[e] = d * inv;
            float s = params[j] * inv;
            float ms = m * s;
            float shift = params[F + j] - ms;
            float vs = v * s;
            float bn = vs + shift;
            if (k->use_dropout)
                xd[e] = vkdp_dropout_keep(k, gpos[i], (uint32_t)j) ? bn * k->keep_scale : 0.0f;
            else
                xd[e] = bn;
        }
}

/* ---- generic form ---- */

static void shape(const vkdp_op *op, vkdp_device *dev, const int64_t *p, vkdp_tensor_shape *t)
{
    (void)op, (void)dev;
    uint64_t n = (uint64_t)p[P_N], F = (uint64_t)p[P_F];
    t[BD_X] = vkdp_shape(n * F, -1, 4);
    t[BD_STATS] = vkdp_shape(2 * F, 0.5, 3);     /* mean, inv_std */
    t[BD_PARAMS] = vkdp_shape(2 * F, -0.5, 1.5); /* gamma, beta */
    t[BD_GPOS] = vkdp_shape(n, 0, 0x1p40);
    t[BD_XHAT] = vkdp_shape(n * F, 0, 0);
    t[BD_XD] = vkdp_shape(n * F, 0, 0);
}

static void record(const vkdp_op *op, vkdp_cmd *c, vkdp_device *dev, const int64_t *p,
                   const vkdp_view *t)
{
    (void)op;
    vkdp_dropout_key k = vkdp_dropout_test_key(p[P_SEED], p[P_DROPOUT]);
    vkdp_op_head_bn_dropout(c, dev, t[BD_X], t[BD_STATS], t[BD_PARAMS], t[BD_GPOS], t[BD_XHAT],
                            t[BD_XD], (int)p[P_N], (int)p[P_F], &k);
}

static void ref(const vkdp_op *op, vkdp_device *dev, const int64_t *p, void *const *t)
{
    (void)op, (void)dev;
    vkdp_dropout_key k = vkdp_dropout_test_key(p[P_SEED], p[P_DROPOUT]);
    head_ref_bn_dropout(t[BD_X], (int)p[P_N], (int)p[P_F], t[BD_STATS], t[BD_PARAMS],
                        t[BD_GPOS], &k, t[BD_XHAT], t[BD_XD]);
}

const vkdp_op vkdp_rec_head_bn_dropout = {
    .name = "head_bn_dropout",
    .fwd = {&shader},
    .params = {"n", "F", "dropout", "seed"},
    .tensors = {{"x", VKDP_IN, VKDP_F32}, {"stats", VKDP_IN, VKDP_F32},
                {"params", VKDP_IN, VKDP_F32}, {"gpos", VKDP_IN, VKDP_U64},
                {"xhat", VKDP_OUT, VKDP_F32}, {"xd", VKDP_OUT, VKDP_F32}},
    .shape = shape,
    .record = record,
    .ref = ref,
    .tol = 0,
};
