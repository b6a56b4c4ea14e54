/* se_excite: the squeeze-and-excitation gate from pooled features (two GEMVs of one shader,
 * swish then sigmoid): record, dispatch and C reference. */
#include <stdlib.h>

#include "vkdp/ops/act.h"
#include "vkdp/ops/backbone_ops.h"

enum { SE_X, SE_W, SE_BIAS, SE_Y, SE_BINDINGS };          /* the shader's bindings */
enum { T_POOL, T_WR, T_BR, T_WE, T_BE, T_S, T_GATE };     /* the op's tensors */
enum { P_B, P_C, P_SE };

typedef struct {
    uint32_t K, N;
} vkdp_se_excite_push;
_Static_assert(sizeof(vkdp_se_excite_push) == 8, "shaders/se_excite.comp's push block");

static const vkdp_shader_rec shader = {"se_excite", SE_BINDINGS, sizeof(vkdp_se_excite_push),
                                       VKDP_WRITES(SE_Y), 0};

static void se_dense(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint32_t K, uint32_t N,
                     vkdp_act act, vkdp_view x, vkdp_view w, vkdp_view bias, vkdp_view y,
                     const char *label)
{
    vkdp_se_excite_push push = {K, N};
    uint32_t spec = (uint32_t)act;
    vkdp_view v[SE_BINDINGS] = {x, w, bias, y};
    vkdp_op_dispatch(c, dev, &vkdp_rec_se_excite, &shader, &spec, 1, v, &push, N, B, label);
}

void vkdp_op_se_excite(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint32_t C, uint32_t se,
                       vkdp_view pool, vkdp_view wr, vkdp_view br, vkdp_view we, vkdp_view be,
                       vkdp_view s, vkdp_view gate)
{
    se_dense(c, dev, B, C, se, VKDP_ACT_SWISH, pool, wr, br, s, "se_excite_reduce");
    se_dense(c, dev, B, se, C, VKDP_ACT_SIGMOID, s, we, be, gate, "se_excite_expand");
}

void vkdp_ref_se_excite(uint32_t B, uint32_t C, uint32_t se, const float *pool, const float *wr,
                        const float *br, const float *we, const float *be, float *gate)
{
    float *s = vkdp_xmalloc((size_t)se * sizeof(float));
    for (uint32_t b = 0; b < B; b++) {
        const float *pb = pool + (size_t)b * C;
        for (uint32_t j = 0; j < se; j++) {
            double a = br[j];
            for (uint32_t k = 0; k < C; k++)
                a += (double)pb[k] * wr[(size_t)k * se + j];
            s[j] = vkdp_swish((float)a);
        }
        for (uint32_t n = 0; n < C; n++) {
            double a = be[n];
            for (uint32_t j = 0; j < se; j++)
                a += (double)s[j] * we[(size_t)j * C + n];
            gate[(size_t)b * C + n] = vkdp_sigmoid((float)a);
        }
    }
    free(s);
}

/* ---- generic form ---- */

static void shape(const vkdp_op *op, vkdp_device *dev, const int64_t *p, vkdp_tensor_shape *t)
{
    (void)op, (void)dev;
    uint64_t B = (uint64_t)p[P_B], C = (uint64_t)p[P_C], se = (uint64_t)p[P_SE];
    t[T_POOL] = vkdp_shape(B * C, -1, 3);
    t[T_WR] = vkdp_shape(C * se, -0.3, 0.3);
    t[T_BR] = vkdp_shape(se, -0.5, 0.5);
    t[T_WE] = vkdp_shape(se * C, -0.8, 0.8);
    t[T_BE] = vkdp_shape(C, -0.5, 0.5);
    t[T_S] = vkdp_shape(B * se, 0, 0);
    t[T_GATE] = vkdp_shape(B * C, 0, 0);
}

static void record(const vkdp_op *op, vkdp_cmd *c, vkdp_device *dev, const int64_t *p,
                   const vkdp_view *t)
{
    (void)op;
    vkdp_op_se_excite(c, dev, (uint32_t)p[P_B], (uint32_t)p[P_C], (uint32_t)p[P_SE], t[T_POOL],
                      t[T_WR], t[T_BR], t[T_WE], t[T_BE], t[T_S], t[T_GATE]);
}

static void ref(const vkdp_op *op, vkdp_device *dev, const int64_t *p, void *const *t)
{
    (void)op, (void)dev;
    vkdp_ref_se_excite((uint32_t)p[P_B], (uint32_t)p[P_C], (uint32_t)p[P_SE], t[T_POOL],
                       t[T_WR], t[T_BR], t[T_WE], t[T_BE], t[T_GATE]);
}

const vkdp_op vkdp_rec_se_excite = {
    .name = "se_excite",
    .fwd = {&shader},
    .params = {"B", "C", "se"},
    .tensors = {{"pool", VKDP_IN, VKDP_F32}, {"wr", VKDP_IN, VKDP_F32}, {"br", VKDP_IN, VKDP_F32},
                {"we", VKDP_IN, VKDP_F32}, {"be", VKDP_IN, VKDP_F32},
                {"s", VKDP_SCRATCH, VKDP_F32}, {"gate", VKDP_OUT, VKDP_F32}},
    .shape = shape,
    .record = record,
    .ref = ref,
    .tol = 1e-5,
};
