/* head_grad_sums: the head's backward summed over this rank's samples in fixed point: record,
 * dispatch and C reference (bit-identical to the shader). */
#include <math.h>

#include "vkdp/ops/head_fx.h"
#include "vkdp/ops/head_ops.h"

enum { GS_XHAT, GS_XD, GS_DL, GS_PARAMS, GS_GPOS, GS_LOSS, GS_CORRECT, GS_SUMS, GS_OVF,
       GS_BINDINGS };
enum { P_N, P_F, P_C, P_TAIL, P_DROPOUT, P_SEED };

typedef struct {
    uint32_t n, F, C, first;
    float grad_scale, loss_scale;
    uint32_t seed_lo, seed_hi, epoch, use_dropout;
    float rate, keep_scale;
} vkdp_head_grad_sums_push;
_Static_assert(sizeof(vkdp_head_grad_sums_push) == 48,
               "shaders/head_grad_sums.comp's push block");

static const vkdp_shader_rec shader = {"head_grad_sums", GS_BINDINGS,
                                       sizeof(vkdp_head_grad_sums_push),
                                       VKDP_WRITES(GS_SUMS) | VKDP_WRITES(GS_OVF), 0};

void vkdp_op_head_grad_sums(vkdp_cmd *c, vkdp_device *dev, vkdp_view xhat, vkdp_view xd,
                            vkdp_view dl, vkdp_view params, vkdp_view gpos, vkdp_view loss,
                            vkdp_view correct, vkdp_view sums, vkdp_view ovf, int n, int F, int C,
                            int64_t first, const vkdp_dropout_key *k)
{
    vkdp_head_grad_sums_push pc = {(uint32_t)n, (uint32_t)F, (uint32_t)C, (uint32_t)first,
                                   ldexpf(1.0f, VKDP_FX_GRAD_SHIFT),
                                   ldexpf(1.0f, VKDP_FX_LOSS_SHIFT), (uint32_t)k->seed,
                                   (uint32_t)(k->seed >> 32), k->epoch,
                                   (uint32_t)(k->use_dropout != 0), k->rate, k->keep_scale};
    int64_t P = 2 * (int64_t)F + (int64_t)F * C + C;
    vkdp_view v[GS_BINDINGS] = {xhat, xd, dl, params, gpos, loss, correct, sums, ovf};
    vkdp_op_dispatch(c, dev, &vkdp_rec_head_grad_sums, &shader, NULL, 0, v, &pc,
                     (uint64_t)(P + 2 - first), 1, NULL);
}

/* The C reference splits float expressions into one operation per statement where the shader
 * marks them `precise`, so that neither side contracts them into FMAs and both round alike. */
static float ref_dbn(const float *dl, const float *params, const uint64_t *gpos, int F, int C,
                     int i, int j, const vkdp_dropout_key *k)
{
    float acc = 0.0f;
    int64_t k0 = 2 * (int64_t)F + (int64_t)j * C;
    for (int c = 0; c < C; c++) {
        float t = params[k0 + c] * dl[(int64_t)i * C + c];
        acc = acc + t;
    }
    if (!k->use_dropout)
        return acc;
    return vkdp_dropout_keep(k, gpos[i], (uint32_t)j) ? acc * k->keep_scale : 0.0f;
}

void head_ref_grad_sums(const float *xhat, const float *xd, const float *dl, const float *params,
                        const uint64_t *gpos, const float *loss, const uint32_t *correct, int n,
                        int F, int C, int64_t first, const vkdp_dropout_key *k, int64_t *sums,
                        uint32_t *ovf)
{
    int64_t FC = (int64_t)F * C, P = 2 * (int64_t)F + FC + C;
    for (int64_t e = first; e < P + 2; e++) {
        int64_t s = 0;
        uint32_t o = 0;
        for (int i = 0; i < n; i++) {
            if (e < F) {
                float t = ref_dbn(dl, params, gpos, F, C, i, (int)e, k) * xhat[(int64_t)i * F + e];
                s += vkdp_fx(t, VKDP_FX_GRAD_SHIFT, &o);
            } else if (e < 2 * F) {
                s += vkdp_fx(ref_dbn(dl, params, gpos, F, C, i, (int)(e - F), k),
                             VKDP_FX_GRAD_SHIFT, &o);
            } else if (e < 2 * F + FC) {
                int64_t kk = e - 2 * F, j = kk / C, c = kk % C;
                float t = xd[(int64_t)i * F + j] * dl[(int64_t)i * C + c];
                s += vkdp_fx(t, VKDP_FX_GRAD_SHIFT, &o);
            } else if (e < P) {
                s += vkdp_fx(dl[(int64_t)i * C + (e - 2 * F - FC)], VKDP_FX_GRAD_SHIFT, &o);
            } else if (e == P) {
                s += vkdp_fx(loss[i], VKDP_FX_LOSS_SHIFT, &o);
            } else {
                s += correct[i];
            }
        }
        sums[e] = s;
        ovf[e] = o;
    }
}

/* ---- generic form: tail 1 computes only the loss and count elements (evaluation) ---- */

static int64_t params_of(const int64_t *p) { return 2 * p[P_F] + p[P_F] * p[P_C] + p[P_C]; }

static void shape(const vkdp_op *op, vkdp_device *dev, const int64_t *p, vkdp_tensor_shape *t)
{
    (void)op, (void)dev;
    uint64_t n = (uint64_t)p[P_N], F = (uint64_t)p[P_F], C = (uint64_t)p[P_C];
    uint64_t P = (uint64_t)params_of(p);
    t[GS_XHAT] = vkdp_shape(n * F, -3, 3);
    t[GS_XD] = vkdp_shape(n * F, -3, 3);
    t[GS_DL] = vkdp_shape(n * C, -1.0 / 64, 1.0 / 64);
    t[GS_PARAMS] = vkdp_shape(P, -0.5, 1.5);
    t[GS_GPOS] = vkdp_shape(n, 0, 0x1p40);
    t[GS_LOSS] = vkdp_shape(n, 0, 10);
    t[GS_CORRECT] = vkdp_shape(n, 0, 2);
    t[GS_SUMS] = vkdp_shape(P + 2, 0, 0);
    t[GS_OVF] = vkdp_shape(P + 2, 0, 0);
}

static void record(const vkdp_op *op, vkdp_cmd *c, vkdp_device *dev, const int64_t *p,
                   const vkdp_view *t)
{
    (void)op;
    vkdp_dropout_key k = vkdp_dropout_test_key(p[P_SEED], p[P_DROPOUT]);
    vkdp_op_head_grad_sums(c, dev, t[GS_XHAT], t[GS_XD], t[GS_DL], t[GS_PARAMS], t[GS_GPOS],
                           t[GS_LOSS], t[GS_CORRECT], t[GS_SUMS], t[GS_OVF], (int)p[P_N],
                           (int)p[P_F], (int)p[P_C], p[P_TAIL] ? params_of(p) : 0, &k);
}

static void ref(const vkdp_op *op, vkdp_device *dev, const int64_t *p, void *const *t)
{
    (void)op, (void)dev;
    vkdp_dropout_key k = vkdp_dropout_test_key(p[P_SEED], p[P_DROPOUT]);
    head_ref_grad_sums(t[GS_XHAT], t[GS_XD], t[GS_DL], t[GS_PARAMS], t[GS_GPOS], t[GS_LOSS],
                       t[GS_CORRECT], (int)p[P_N], (int)p[P_F], (int)p[P_C],
                       p[P_TAIL] ? params_of(p) : 0, &k, t[GS_SUMS], t[GS_OVF]);
}

const vkdp_op vkdp_rec_head_grad_sums = {
    .name = "head_grad_sums",
    .fwd = {&shader},
    .params = {"n", "F", "C", "tail", "dropout", "seed"},
    .tensors = {{"xhat", VKDP_IN, VKDP_F32}, {"xd", VKDP_IN, VKDP_F32}, {"dl", VKDP_IN, VKDP_F32},
                {"params", VKDP_IN, VKDP_F32}, {"gpos", VKDP_IN, VKDP_U64},
                {"loss", VKDP_IN, VKDP_F32}, {"correct", VKDP_IN, VKDP_U32},
                {"sums", VKDP_OUT, VKDP_I64}, {"ovf", VKDP_OUT, VKDP_U32}},
    .shape = shape,
    .record = record,
    .ref = ref,
    .tol = 0,
};
