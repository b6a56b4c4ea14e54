/* gap (shaders/se_squeeze.comp): the mean over rows, serving the SE squeeze (over dwconv's tile
 * sums) and the final global average pool: record, dispatch and C reference. */
#include "vkdp/ops/backbone_ops.h"

enum { GP_X, GP_Y, GP_BINDINGS };
enum { P_B, P_R, P_C, P_COUNT };

typedef struct {
    uint32_t R, C;
    float inv_count;
} vkdp_gap_push;
_Static_assert(sizeof(vkdp_gap_push) == 12, "shaders/se_squeeze.comp's push block");

static const vkdp_shader_rec shader = {"se_squeeze", GP_BINDINGS, sizeof(vkdp_gap_push),
                                       VKDP_WRITES(GP_Y), 0};

void vkdp_op_gap(vkdp_cmd *c, vkdp_device *dev, uint32_t B, uint32_t R, uint32_t C,
                 uint32_t count, vkdp_view x, vkdp_view y, const char *label)
{
    vkdp_gap_push push = {R, C, 1.0f / (float)count};
    uint32_t vec4 = C % 4 == 0;
    vkdp_view v[GP_BINDINGS] = {x, y};
    vkdp_op_dispatch(c, dev, &vkdp_rec_gap, &shader, &vec4, 1, v, &push, vec4 ? C / 4 : C, B,
                     label ? label : "gap");
}

void vkdp_ref_row_mean(uint32_t B, uint32_t R, uint32_t C, uint32_t count, const float *x,
                       float *y)
{
    for (uint32_t b = 0; b < B; b++)
        for (uint32_t ch = 0; ch < C; ch++) {
            double s = 0;
            for (uint32_t i = 0; i < R; i++)
                s += x[((size_t)b * R + i) * C + ch];
            y[(size_t)b * C + ch] = (float)(s / count);
        }
}

void vkdp_ref_gap(uint32_t B, uint32_t HW, uint32_t C, const float *x, float *y)
{
    vkdp_ref_row_mean(B, HW, C, HW, x, y);
}

/* ---- generic form ---- */

static void shape(const vkdp_op *op, vkdp_device *dev, const int64_t *p, vkdp_tensor_shape *t)
{
    (void)op, (void)dev;
    t[GP_X] = vkdp_shape((uint64_t)(p[P_B] * p[P_R] * p[P_C]), -2, 4);
    t[GP_Y] = vkdp_shape((uint64_t)(p[P_B] * p[P_C]), 0, 0);
}

static void record(const vkdp_op *op, vkdp_cmd *c, vkdp_device *dev, const int64_t *p,
                   const vkdp_view *t)
{
    (void)op;
    vkdp_op_gap(c, dev, (uint32_t)p[P_B], (uint32_t)p[P_R], (uint32_t)p[P_C],
                (uint32_t)p[P_COUNT], t[GP_X], t[GP_Y], NULL);
}

static void ref(const vkdp_op *op, vkdp_device *dev, const int64_t *p, void *const *t)
{
    (void)op, (void)dev;
    vkdp_ref_row_mean((uint32_t)p[P_B], (uint32_t)p[P_R], (uint32_t)p[P_C],
                      (uint32_t)p[P_COUNT], t[GP_X], t[GP_Y]);
}

const vkdp_op vkdp_rec_gap = {
    .name = "gap",
    .fwd = {&shader},
    .params = {"B", "R", "C", "count"},
    .tensors = {{"x", VKDP_IN, VKDP_F32}, {"y", VKDP_OUT, VKDP_F32}},
    .shape = shape,
    .record = record,
    .ref = ref,
    .tol = 1e-4, /* float accumulation over up to 112*112 rows against a double reference */
};
