/* head_bn_stats: the BatchNorm batch statistics of this rank's samples, as exact fixed-point sums
 * (vkdp/ops/head_fx.h): record, dispatch and C reference (bit-identical to the shader). */
#include <math.h>

#include "vkdp/ops/head_fx.h"
#include "vkdp/ops/head_ops.h"

enum { BS_X, BS_MEAN, BS_SUMS, BS_OVF, BS_BINDINGS };
enum { P_N, P_F, P_MODE };

typedef struct {
    uint32_t n, F, mode;
    float scale;
} vkdp_head_bn_stats_push;
_Static_assert(sizeof(vkdp_head_bn_stats_push) == 16, "shaders/head_bn_stats.comp's push block");

static const vkdp_shader_rec shader = {"head_bn_stats", BS_BINDINGS,
                                       sizeof(vkdp_head_bn_stats_push),
                                       VKDP_WRITES(BS_SUMS) | VKDP_WRITES(BS_OVF), 0};

void vkdp_op_head_bn_stats(vkdp_cmd *c, vkdp_device *dev, vkdp_view x, vkdp_view mean,
                           vkdp_view sums, vkdp_view ovf, int n, int F, int mode)
{
    vkdp_head_bn_stats_push pc = {(uint32_t)n, (uint32_t)F, (uint32_t)mode,
                                  ldexpf(1.0f, VKDP_FX_STAT_SHIFT)};
    vkdp_view v[BS_BINDINGS] = {x, mean, sums, ovf};
    vkdp_op_dispatch(c, dev, &vkdp_rec_head_bn_stats, &shader, NULL, 0, v, &pc, (uint64_t)F, 1,
                     mode ? "head_bn_sqdev" : "head_bn_sum");
}

/* The C reference splits float expressions into one operation per statement where the shader
 * marks them `precise`, so that neither side contracts them into FMAs and both round alike. */
void head_ref_bn_stats(const float *x, int n, int F, int mode, const float *mean, int64_t *sums,
                       uint32_t *ovf)
{
    for (int j = 0; j < F; j++) {
        int64_t s = 0;
        uint32_t o = 0;
        for (int i = 0; i < n; i++) {
            float v = x[(int64_t)i * F + j];
            if (mode == 0) {
                s += vkdp_fx(v, VKDP_FX_STAT_SHIFT, &o);
            } else {
                float d = v - mean[j];
                float d2 = d * d;
                s += vkdp_fx(d2, VKDP_FX_STAT_SHIFT, &o);
            }
        }
        sums[j] = s;
        ovf[j] = o;
    }
}

/* ---- generic form ---- */

static void shape(const vkdp_op *op, vkdp_device *dev, const int64_t *p, vkdp_tensor_shape *t)
{
    (void)op, (void)dev;
    uint64_t n = (uint64_t)p[P_N], F = (uint64_t)p[P_F];
    t[BS_X] = vkdp_shape(n * F, -1, 4);
    t[BS_MEAN] = vkdp_shape(F, 0.5, 2);
    t[BS_SUMS] = vkdp_shape(F, 0, 0);
    t[BS_OVF] = vkdp_shape(F, 0, 0);
}

static void record(const vkdp_op *op, vkdp_cmd *c, vkdp_device *dev, const int64_t *p,
                   const vkdp_view *t)
{
    (void)op;
    vkdp_op_head_bn_stats(c, dev, t[BS_X], t[BS_MEAN], t[BS_SUMS], t[BS_OVF], (int)p[P_N],
                          (int)p[P_F], (int)p[P_MODE]);
}

static void ref(const vkdp_op *op, vkdp_device *dev, const int64_t *p, void *const *t)
{
    (void)op, (void)dev;
    head_ref_bn_stats(t[BS_X], (int)p[P_N], (int)p[P_F], (int)p[P_MODE], t[BS_MEAN], t[BS_SUMS],
                      t[BS_OVF]);
}

const vkdp_op vkdp_rec_head_bn_stats = {
    .name = "head_bn_stats",
    .fwd = {&shader},
    .params = {"n", "F", "mode"},
    .tensors = {{"x", VKDP_IN, VKDP_F32}, {"mean", VKDP_IN, VKDP_F32},
                {"sums", VKDP_OUT, VKDP_I64}, {"ovf", VKDP_OUT, VKDP_U32}},
    .shape = shape,
    .record = record,
    .ref = ref,
    .tol = 0,
};
