/* What every elementwise ("map") op shares (see vkdp/ops/map.h): its dispatch, its C reference
 * loop and its generic form; each op adds only a shader, a scalar function and a record. */
#include "vkdp/ops/map.h"

static const vkdp_map_impl *impl_of(const vkdp_op *op)
{
    const vkdp_map_impl *m = op->impl;
    if (!m || m->ninputs < 1 || m->ninputs > VKDP_MAP_MAX_INPUTS || !op->fwd[0])
        VKDP_FATAL("op %s: its record is not a map op's (vkdp/ops/map.h)", op->name);
    return m;
}

void vkdp_op_map(vkdp_cmd *c, vkdp_device *dev, const vkdp_op *op, uint32_t n,
                 const vkdp_view *in, vkdp_view out, const char *label)
{
    const vkdp_map_impl *m = impl_of(op);
    vkdp_view v[VKDP_MAP_MAX_INPUTS + 1];
    for (int i = 0; i < m->ninputs; i++)
        v[i] = in[i];
    v[m->ninputs] = out;
    vkdp_map_push push = {n};
    vkdp_op_dispatch(c, dev, op, op->fwd[0], NULL, 0, v, &push, n, 1, label);
}

void vkdp_ref_map(const vkdp_op *op, uint32_t n, const float *const *in, float *out)
{
    const vkdp_map_impl *m = impl_of(op);
    float x[VKDP_MAP_MAX_INPUTS];
    for (uint32_t i = 0; i < n; i++) {
        for (int k = 0; k < m->ninputs; k++)
            x[k] = in[k][i];
        out[i] = m->f(x);
    }
}

void vkdp_map_shape(const vkdp_op *op, vkdp_device *dev, const int64_t *p,
                    vkdp_tensor_shape *t)
{
    (void)dev;
    const vkdp_map_impl *m = impl_of(op);
    for (int k = 0; k <= m->ninputs; k++)
        t[k] = vkdp_shape((uint64_t)p[0], k < m->ninputs ? m->lo[k] : 0,
                                   k < m->ninputs ? m->hi[k] : 0);
}

void vkdp_map_record(const vkdp_op *op, vkdp_cmd *c, vkdp_device *dev, const int64_t *p,
                     const vkdp_view *t)
{
    vkdp_op_map(c, dev, op, (uint32_t)p[0], t, t[impl_of(op)->ninputs], NULL);
}

void vkdp_map_ref(const vkdp_op *op, vkdp_device *dev, const int64_t *p, void *const *t)
{
    (void)dev;
    vkdp_ref_map(op, (uint32_t)p[0], (const float *const *)t, t[impl_of(op)->ninputs]);
}

double vkdp_map_loss(const vkdp_op *op, const int64_t *p, void *const *t)
{
    const vkdp_map_impl *m = impl_of(op);
    if (!m->loss_term)
        VKDP_FATAL("op %s: no loss_term for a gradient check", op->name);
    double x[VKDP_MAP_MAX_INPUTS], sum = 0;
    for (int64_t i = 0; i < p[0]; i++) {
        for (int k = 0; k < m->ninputs; k++)
            x[k] = ((const float *)t[k])[i];
        sum += m->loss_term(x);
    }
    return sum;
}
