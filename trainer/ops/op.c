/* What every op's dispatch shares: its pipeline checked against its record, the grid, the per-sample loop. */
#include "vkdp/ops/op.h"

#include "vkdp/ops/tune.h"

vkdp_pipeline *vkdp_op_pipeline(vkdp_device *dev, const vkdp_op *op, const vkdp_shader_rec *s,
                                const uint32_t *spec, uint32_t nspec)
{
    vkdp_pipeline *p = vkdp_pipeline_get(dev, s->name, spec, nspec, vkdp_tune_get(dev)->wg);
    const vkdp_spirv_info *in = vkdp_pipeline_info(p);
    uint32_t writes = 0;
    for (uint32_t i = 0; i < in->nbindings; i++)
        writes |= in->binding[i].writable ? VKDP_WRITES(i) : 0;
    if (in->nbindings != s->nbindings || in->push_bytes != s->push_bytes || writes != s->writes)
        VKDP_FATAL("op %s: shaders/%s.comp declares %u bindings, a %u-byte push-constant block "
                   "and writes bindings 0x%x, but the op's record says %u, %u and 0x%x",
                   op->name, s->name, in->nbindings, in->push_bytes, writes, s->nbindings,
                   s->push_bytes, s->writes);
    return p;
}

void vkdp_op_dispatch(vkdp_cmd *c, vkdp_device *dev, const vkdp_op *op, const vkdp_shader_rec *s,
                      const uint32_t *spec, uint32_t nspec, const vkdp_view *views,
                      const void *push, uint64_t invocations, uint64_t z, const char *label)
{
    vkdp_pipeline *p = vkdp_op_pipeline(dev, op, s, spec, nspec);
    if (invocations == 0 || z == 0)
        return;
    const vkdp_device_info *in = vkdp_device_get_info(dev);
    uint64_t groups = vkdp_div_up(invocations, vkdp_pipeline_info(p)->local_size[0]);
    uint32_t gx = (uint32_t)groups, gy = 1;
    if (groups > in->max_workgroup_count[0]) {
        if (!s->grid_2d)
            VKDP_FATAL("op %s: %llu workgroups exceed the device's maxComputeWorkGroupCount[0] "
                       "%u: record it on fewer samples at a time", op->name,
                       (unsigned long long)groups, in->max_workgroup_count[0]);
        vkdp_grid(dev, groups, &gx, &gy);
    }
    if (z > in->max_workgroup_count[2])
        VKDP_FATAL("op %s: %llu workgroups along z exceed the device's maxComputeWorkGroupCount[2] "
                   "%u: record it on fewer images at a time", op->name, (unsigned long long)z,
                   in->max_workgroup_count[2]);
    vkdp_cmd_dispatch(c, p, label ? label : op->name, views, s->nbindings, s->writes, push, gx,
                      gy, (uint32_t)z);
}

void vkdp_op_dispatch_samples(vkdp_cmd *c, vkdp_device *dev, const vkdp_op *op, const vkdp_shader_rec *s,
                              uint32_t S, const vkdp_view views[4], const vkdp_sample_parts *parts,
                              const void *push, uint64_t invocations, const char *label)
{
    if (s->nbindings != 4)
        VKDP_FATAL("op %s: shaders/%s.comp has %u bindings, a per-sample weight gradient binds "
                   "x, dy, dw and db", op->name, s->name, s->nbindings);
    uint32_t has_db = views[3].buf != NULL;
    for (uint32_t j = 0; j < S; j++) {
        vkdp_view v[4];
        for (int i = 0; i < 4; i++)
            v[i] = vkdp_slice(views[i].buf, views[i].offset + j * parts->stride[i], parts->bytes[i]);
        if (!has_db)
            v[3] = v[2];
        vkdp_op_dispatch(c, dev, op, s, &has_db, 1, v, push, invocations, 1, label);
    }
}

int vkdp_op_ntensors(const vkdp_op *op)
{
    int n = 0;
    while (n < VKDP_OP_MAX_TENSORS && op->tensors[n].name)
        n++;
    return n;
}

int vkdp_op_nparams(const vkdp_op *op)
{
    int n = 0;
    while (n < VKDP_OP_MAX_PARAMS && op->params[n])
        n++;
    return n;
}
