#include "vkdp/model/effnet_arch.h"

#include <stdio.h>
#include <string.h>

#include "vkdp/core/common.h"

/* keras.applications.efficientnet DEFAULT_BLOCKS_ARGS at width/depth coefficient 1.0 (B0) */
static const struct {
    int kernel, stride, expand, in_ch, out_ch, repeats;
} STAGES[7] = {
    {3, 1, 1, 32, 16, 1},  {3, 2, 6, 16, 24, 2},  {5, 2, 6, 24, 40, 2},   {3, 2, 6, 40, 80, 3},
    {5, 1, 6, 80, 112, 3}, {5, 2, 6, 112, 192, 4}, {3, 1, 6, 192, 320, 1},
};

void vkdp_effnet_init_arch(vkdp_effnet *net)
{
    int nb = 0;
    for (int s = 0; s < 7; s++) {
        for (int r = 0; r < STAGES[s].repeats; r++) {
            vkdp_mbconv *b = &net->blocks[nb++];
            memset(b, 0, sizeof *b);
            snprintf(b->name, sizeof b->name, "block%d%c", s + 1, 'a' + r);
            b->kernel = STAGES[s].kernel;
            b->stride = r == 0 ? STAGES[s].stride : 1;
            b->expand = STAGES[s].expand;
            b->in_ch = r == 0 ? STAGES[s].in_ch : STAGES[s].out_ch;
            b->out_ch = STAGES[s].out_ch;
            b->exp_ch = b->in_ch * b->expand;
            b->se_ch = (int)(b->in_ch * 0.25) > 1 ? (int)(b->in_ch * 0.25) : 1;
            b->has_expand = b->expand != 1;
            b->has_residual = b->stride == 1 && b->in_ch == b->out_ch;
        }
    }
    net->nblocks = nb;
}

typedef struct {
    vkdp_effnet_tensor_spec *specs;
    int n, max;
} spec_list;

static void add(spec_list *l, const char *layer, const char *weight, vkdp_init_kind init, int rank,
                int64_t d0, int64_t d1, int64_t d2, int64_t d3)
{
    if (l->n < l->max) {
        vkdp_effnet_tensor_spec *s = &l->specs[l->n];
        memset(s, 0, sizeof *s);
        snprintf(s->layer, sizeof s->layer, "%s", layer);
        snprintf(s->weight, sizeof s->weight, "%s", weight);
        s->rank = rank;
        int64_t d[4] = {d0, d1, d2, d3};
        for (int i = 0; i < rank; i++)
            s->shape[i] = d[i];
        s->init = init;
    }
    l->n++;
}

static void add_conv(spec_list *l, const char *layer, int k, int64_t cin, int64_t cout, int bias)
{
    add(l, layer, "kernel:0", VKDP_INIT_CONV_KERNEL, 4, k, k, cin, cout);
    if (bias)
        add(l, layer, "bias:0", VKDP_INIT_ZEROS, 1, cout, 0, 0, 0);
}

static void add_bn(spec_list *l, const char *layer, int64_t c)
{
    add(l, layer, "gamma:0", VKDP_INIT_ONES, 1, c, 0, 0, 0);
    add(l, layer, "beta:0", VKDP_INIT_ZEROS, 1, c, 0, 0, 0);
    add(l, layer, "moving_mean:0", VKDP_INIT_ZEROS, 1, c, 0, 0, 0);
    add(l, layer, "moving_variance:0", VKDP_INIT_ONES, 1, c, 0, 0, 0);
}

int vkdp_effnet_tensor_specs(vkdp_effnet_tensor_spec *specs, int max)
{
    spec_list l = {specs, 0, max};
    /* Normalization starts as mean 0, variance 1, count 0 before adapt() */
    add(&l, "normalization", "mean:0", VKDP_INIT_ZEROS, 1, 3, 0, 0, 0);
    add(&l, "normalization", "variance:0", VKDP_INIT_ONES, 1, 3, 0, 0, 0);
    add(&l, "normalization", "count:0", VKDP_INIT_ZEROS, 0, 0, 0, 0, 0);
    if (l.n <= max)
        specs[l.n - 1].is_int = 1;
    add_conv(&l, "stem_conv", 3, 3, VKDP_EFFNET_STEM_CH, 0);
    add_bn(&l, "stem_bn", VKDP_EFFNET_STEM_CH);

    vkdp_effnet arch;
    vkdp_effnet_init_arch(&arch);
    for (int i = 0; i < arch.nblocks; i++) {
        const vkdp_mbconv *b = &arch.blocks[i];
        char layer[32];
#define LAYER(suffix) (snprintf(layer, sizeof layer, "%s_" suffix, b->name), layer)
        if (b->has_expand) {
            add_conv(&l, LAYER("expand_conv"), 1, b->in_ch, b->exp_ch, 0);
            add_bn(&l, LAYER("expand_bn"), b->exp_ch);
        }
        add(&l, LAYER("dwconv"), "depthwise_kernel:0", VKDP_INIT_CONV_KERNEL, 4, b->kernel, b->kernel,
            b->exp_ch, 1);
        add_bn(&l, LAYER("bn"), b->exp_ch);
        add_conv(&l, LAYER("se_reduce"), 1, b->exp_ch, b->se_ch, 1);
        add_conv(&l, LAYER("se_expand"), 1, b->se_ch, b->exp_ch, 1);
        add_conv(&l, LAYER("project_conv"), 1, b->exp_ch, b->out_ch, 0);
        add_bn(&l, LAYER("project_bn"), b->out_ch);
#undef LAYER
    }
    add_conv(&l, "top_conv", 1, VKDP_EFFNET_HEAD_IN, VKDP_EFFNET_FEATURES, 0);
    add_bn(&l, "top_bn", VKDP_EFFNET_FEATURES);
    return l.n;
}

int64_t vkdp_effnet_fan_out(const vkdp_effnet_tensor_spec *s)
{
    /* keras initializers _compute_fans: receptive field = product of all but the last two dims */
    if (s->rank < 2)
        return s->rank == 1 ? s->shape[0] : 1;
    int64_t rf = 1;
    for (int i = 0; i < s->rank - 2; i++)
        rf *= s->shape[i];
    return rf * s->shape[s->rank - 1];
}
