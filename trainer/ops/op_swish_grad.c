/* swish_grad: dx = dy * swish'(x), the backward of the swish activation (a map op). */
#include <math.h>

#include "vkdp/ops/act.h"
#include "vkdp/ops/map.h"
#include "vkdp/ops/ops.h"

/* The C reference, in[] = {x, dy}. */
static float swish_grad(const float *in) { return in[1] * vkdp_swish_grad(in[0]); }
/* dx is d/dx of dy * swish(x) */
static double swish_loss(const double *in) { return in[1] * in[0] / (1.0 + exp(-in[0])); }

static const vkdp_map_impl impl = {2, swish_grad, {-8, -1}, {8, 1}, swish_loss};
static const vkdp_shader_rec shader = VKDP_MAP_SHADER("swish_grad", 2);

const vkdp_op vkdp_rec_swish_grad = {
    .name = "swish_grad",
    .fwd = {&shader},
    .params = {"n"},
    .tensors = {{"x", VKDP_IN, VKDP_F32}, {"dy", VKDP_IN, VKDP_F32}, {"dx", VKDP_OUT, VKDP_F32}},
    .shape = vkdp_map_shape,
    .record = vkdp_map_record,
    .ref = vkdp_map_ref,
    .impl = &impl,
    .tol = 1e-6,
    .grad = {vkdp_map_loss, 0, 2},
};
