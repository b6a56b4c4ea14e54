/* head_logits_loss: Dense + softmax + categorical cross-entropy per sample: record, dispatch and C
 * reference (the same operations; exp and log may round differently on the device). */
#include <math.h>

#include "vkdp/ops/head_fx.h"
#include "vkdp/ops/head_ops.h"

enum { LL_XD, LL_PARAMS, LL_LABELS, LL_PROBS, LL_DL, LL_LOSS, LL_CORRECT, LL_BINDINGS };
enum { P_N, P_F, P_C };

typedef struct {
    uint32_t n, F, kernel_off, bias_off;
    float inv_batch;
} vkdp_head_logits_loss_push;
_Static_assert(sizeof(vkdp_head_logits_loss_push) == 20,
               "shaders/head_logits_loss.comp's push block");

static const vkdp_shader_rec shader = {
    "head_logits_loss", LL_BINDINGS, sizeof(vkdp_head_logits_loss_push),
    VKDP_WRITES(LL_PROBS) | VKDP_WRITES(LL_DL) | VKDP_WRITES(LL_LOSS) | VKDP_WRITES(LL_CORRECT),
    0};

void vkdp_op_head_logits_loss(vkdp_cmd *c, vkdp_device *dev, vkdp_view xd, vkdp_view params,
                              vkdp_view labels, vkdp_view probs, vkdp_view dl, vkdp_view loss,
                              vkdp_view correct, int n, int F, int C, float inv_batch)
{
    vkdp_head_logits_loss_push pc = {(uint32_t)n, (uint32_t)F, (uint32_t)(2 * F),
                                     (uint32_t)(2 * F + F * C), inv_batch};
    uint32_t spec[] = {(uint32_t)C};
    vkdp_view v[LL_BINDINGS] = {xd, params, labels, probs, dl, loss, correct};
    vkdp_op_dispatch(c, dev, &vkdp_rec_head_logits_loss, &shader, spec, 1, v, &pc, (uint64_t)n,
                     1, NULL);
}

/* The C reference splits float expressions into one operation per statement where the shader
 * marks them `precise`, so that neither side contracts them into FMAs and both round alike. */
void head_ref_logits_loss(const float *xd, int n, int F, int C, const float *params,
                          int64_t kernel_off, int64_t bias_off, const int *labels, float inv_batch,
                          float *probs, float *dl, float *loss, uint32_t *correct)
{
    float z[C > 0 ? C : 1], e[C > 0 ? C : 1];
    for (int i = 0; i < n; i++) {
        for (int c = 0; c < C; c++)
            z[c] = 0.0f;
        for (int j = 0; j < F; j++) {
            float a = xd[(int64_t)i * F + j];
            for (int c = 0; c < C; c++) {
                float t = a * params[kernel_off + (int64_t)j * C + c];
                z[c] = z[c] + t;
            }
        }
        float zmax = -INFINITY;
        for (int c = 0; c < C; c++) {
            z[c] = z[c] + params[bias_off + c];
            zmax = fmaxf(zmax, z[c]);
        }
        float s = 0.0f;
        for (int c = 0; c < C; c++) {
            e[c] = expf(z[c] - zmax);
            s += e[c];
        }
        int y = labels[i], best = 0;
        float pbest = -1.0f;
        for (int c = 0; c < C; c++) {
            float p = e[c] / s;
            probs[(int64_t)i * C + c] = p;
            dl[(int64_t)i * C + c] = (p - (c == y ? 1.0f : 0.0f)) * inv_batch;
            if (p > pbest) {
                pbest = p;
                best = c;
            }
        }
        loss[i] = logf(s) - (z[y] - zmax);
        correct[i] = best == y;
    }
}

/* ---- generic form: a global batch of 64 ---- */

static void shape(const vkdp_op *op, vkdp_device *dev, const int64_t *p, vkdp_tensor_shape *t)
{
    (void)op, (void)dev;
    uint64_t n = (uint64_t)p[P_N], F = (uint64_t)p[P_F], C = (uint64_t)p[P_C];
    t[LL_XD] = vkdp_shape(n * F, -1, 4);
    t[LL_PARAMS] = vkdp_shape(2 * F + F * C + C, -0.5, 0.5);
    t[LL_LABELS] = vkdp_shape(n, 0, (double)C);
    t[LL_PROBS] = vkdp_shape(n * C, 0, 0);
    t[LL_DL] = vkdp_shape(n * C, 0, 0);
    t[LL_LOSS] = vkdp_shape(n, 0, 0);
    t[LL_CORRECT] = vkdp_shape(n, 0, 0);
}

static void record(const vkdp_op *op, vkdp_cmd *c, vkdp_device *dev, const int64_t *p,
                   const vkdp_view *t)
{
    (void)op;
    vkdp_op_head_logits_loss(c, dev, t[LL_XD], t[LL_PARAMS], t[LL_LABELS], t[LL_PROBS], t[LL_DL],
                             t[LL_LOSS], t[LL_CORRECT], (int)p[P_N], (int)p[P_F], (int)p[P_C],
                             1.0f / 64.0f);
}

static void ref(const vkdp_op *op, vkdp_device *dev, const int64_t *p, void *const *t)
{
    (void)op, (void)dev;
    int64_t F = p[P_F], C = p[P_C];
    head_ref_logits_loss(t[LL_XD], (int)p[P_N], (int)F, (int)C, t[LL_PARAMS], 2 * F,
                         2 * F + F * C, t[LL_LABELS], 1.0f / 64.0f, t[LL_PROBS], t[LL_DL],
                         t[LL_LOSS], t[LL_CORRECT]);
}

const vkdp_op vkdp_rec_head_logits_loss = {
    .name = "head_logits_loss",
    .fwd = {&shader},
    .params = {"n", "F", "C"},
    .tensors = {{"xd", VKDP_IN, VKDP_F32}, {"params", VKDP_IN, VKDP_F32},
                {"labels", VKDP_IN, VKDP_I32}, {"probs", VKDP_OUT, VKDP_F32},
                {"dl", VKDP_OUT, VKDP_F32}, {"loss", VKDP_OUT, VKDP_F32},
                {"correct", VKDP_OUT, VKDP_U32}},
    .shape = shape,
    .record = record,
    .ref = ref,
    .tol = 1e-5, /* exp and log: the device's and libm's may differ in the last bits */
};
