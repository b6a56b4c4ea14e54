/* Resolves --fine-tune-from / --trainable-top to a block boundary and sizes the trainable part;
 * see vkdp/model/finetune_plan.h. */
#include "vkdp/model/finetune_plan.h"

#include <stdio.h>
#include <string.h>

#include "vkdp/core/errmsg.h"
#include "vkdp/model/effnet_arch.h"

enum { STEM_LAYERS = 7, TOP_LAYERS = 3, TOP_SEGMENT = VKDP_EFFNET_BLOCKS };

/* The layers of one block in Keras' order (efficientnet.py's block()). */
static int block_layers(const vkdp_mbconv *b, char (*out)[VKDP_LAYER_NAME_MAX])
{
    static const char *const body[] = {"dwconv", "bn", "activation", "se_squeeze", "se_reshape",
                                       "se_reduce", "se_expand", "se_excite", "project_conv",
                                       "project_bn"};
    const char *l[20];
    int n = 0;
    if (b->has_expand) {
        l[n++] = "expand_conv";
        l[n++] = "expand_bn";
        l[n++] = "expand_activation";
    }
    if (b->stride == 2)
        l[n++] = "dwconv_pad";
    for (size_t i = 0; i < sizeof body / sizeof body[0]; i++)
        l[n++] = body[i];
    if (b->has_residual) {
        l[n++] = "drop";
        l[n++] = "add";
    }
    for (int i = 0; out && i < n; i++)
        snprintf(out[i], VKDP_LAYER_NAME_MAX, "%s_%s", b->name, l[i]);
    return n;
}

/* seg_start[s]: index in the layer list of segment s's first layer (blocks, then top_conv). */
static void layout(vkdp_effnet *net, char (*names)[VKDP_LAYER_NAME_MAX], int *seg_start)
{
    static const char *const stem[STEM_LAYERS] = {"input_1", "rescaling", "normalization",
                                                  "stem_conv_pad", "stem_conv", "stem_bn",
                                                  "stem_activation"};
    static const char *const top[TOP_LAYERS] = {"top_conv", "top_bn", "top_activation"};
    memset(net, 0, sizeof *net);
    vkdp_effnet_init_arch(net);
    int n = 0;
    for (int i = 0; i < STEM_LAYERS; i++, n++)
        if (names)
            snprintf(names[n], VKDP_LAYER_NAME_MAX, "%s", stem[i]);
    for (int b = 0; b < net->nblocks; b++) {
        seg_start[b] = n;
        n += block_layers(&net->blocks[b], names ? names + n : NULL);
    }
    seg_start[TOP_SEGMENT] = n;
    for (int i = 0; i < TOP_LAYERS; i++, n++)
        if (names)
            snprintf(names[n], VKDP_LAYER_NAME_MAX, "%s", top[i]);
}

void vkdp_effnet_layer_names(char (*names)[VKDP_LAYER_NAME_MAX])
{
    vkdp_effnet net;
    int seg[TOP_SEGMENT + 1];
    layout(&net, names, seg);
}

static int ceil_half(int h)
{
    return (h + 1) / 2;
}

/* Counts parameters and saved floats per image from segment s on (docs/fine-tuning.md, 2):
 * per block its input, the expand and depthwise pre-activations, SE pool and gate, the
 * drop-connect scale; for top_conv its input and pre-activation. */
static void size_plan(const vkdp_effnet *net, int s, int image_size, vkdp_finetune_plan *p)
{
    int64_t h = ceil_half(image_size), params = 0, tape = 0;
    for (int b = 0; b < net->nblocks; b++) {
        const vkdp_mbconv *m = &net->blocks[b];
        int64_t ho = m->stride == 2 ? ceil_half((int)h) : h, e = m->exp_ch;
        if (b >= s) {
            params += (m->has_expand ? (int64_t)m->in_ch * e : 0) + (int64_t)m->kernel * m->kernel * e +
                      2 * e * m->se_ch + m->se_ch + e + e * m->out_ch;
            tape += h * h * m->in_ch + (m->has_expand ? h * h * e : 0) + ho * ho * e + 2 * e + 1;
        }
        h = ho;
    }
    params += (int64_t)VKDP_EFFNET_HEAD_IN * VKDP_EFFNET_FEATURES;
    tape += h * h * (VKDP_EFFNET_HEAD_IN + VKDP_EFFNET_FEATURES);
    p->params = params;
    p->tape_floats = tape;
}

static void fill(const vkdp_effnet *net, const int *seg, int s, int image_size, vkdp_finetune_plan *p)
{
    memset(p, 0, sizeof *p);
    p->first_block = s;
    snprintf(p->from, sizeof p->from, "%s", s == TOP_SEGMENT ? "top_conv" : net->blocks[s].name);
    p->trainable_top = VKDP_HEAD_LAYERS + VKDP_EFFNET_LAYERS - seg[s];
    size_plan(net, s, image_size, p);
}

/* The segment whose layers include index i (i past the stem). */
static int segment_of(const int *seg, int i)
{
    int s = TOP_SEGMENT;
    while (s > 0 && seg[s] > i)
        s--;
    return s;
}

static const char *seg_name(const vkdp_effnet *net, int s)
{
    return s == TOP_SEGMENT ? "top_conv" : net->blocks[s].name;
}

int vkdp_finetune_plan_from(const char *layer, int image_size, vkdp_finetune_plan *p, char *err,
                            size_t errlen)
{
    vkdp_effnet net;
    char names[VKDP_EFFNET_LAYERS][VKDP_LAYER_NAME_MAX];
    int seg[TOP_SEGMENT + 1];
    layout(&net, names, seg);
    for (int s = 0; s <= TOP_SEGMENT; s++)
        if (!strcmp(layer, seg_name(&net, s)))
            return fill(&net, seg, s, image_size, p), 0;
    int at = -1;
    for (int i = 0; i < VKDP_EFFNET_LAYERS && at < 0; i++)
        if (!strcmp(layer, names[i]))
            at = i;
    if (at < 0) {
        char list[512] = "";
        size_t k = 0;
        for (int s = 0; s <= TOP_SEGMENT && k < sizeof list; s++)
            k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", s ? ", " : "", seg_name(&net, s));
        return vkdp_seterr(err, errlen,
                           "--fine-tune-from '%s' is not a layer of EfficientNetB0; valid: %s (or the "
                           "first layer of one of them, e.g. block6a_expand_conv)",
                           layer, list);
    }
    if (at < STEM_LAYERS)
        return vkdp_seterr(err, errlen,
                           "--fine-tune-from %s: the stem cannot be trained (it has no backward); "
                           "the earliest is block1a",
                           layer);
    int s = segment_of(seg, at);
    if (at == seg[s])
        return fill(&net, seg, s, image_size, p), 0;
    if (s == TOP_SEGMENT)
        return vkdp_seterr(err, errlen,
                           "--fine-tune-from %s: no trainable layer follows it (BatchNormalization stays "
                           "frozen); the last possible is top_conv",
                           layer);
    return vkdp_seterr(err, errlen,
                       "--fine-tune-from %s is inside %s: fine-tuning starts at a block boundary, "
                       "%s or %s",
                       layer, seg_name(&net, s), seg_name(&net, s), seg_name(&net, s + 1));
}

int vkdp_finetune_plan_top(long n, int image_size, vkdp_finetune_plan *p, char *err, size_t errlen)
{
    vkdp_effnet net;
    int seg[TOP_SEGMENT + 1];
    layout(&net, NULL, seg);
    const long total = VKDP_HEAD_LAYERS + VKDP_EFFNET_LAYERS;
    const long most = total - seg[0], least = total - seg[TOP_SEGMENT];
    if (n > most)
        return vkdp_seterr(err, errlen,
                           "--trainable-top %ld reaches into the stem, which cannot be trained (it has "
                           "no backward); at most %ld (from block1a)",
                           n, most);
    if (n < least)
        return vkdp_seterr(err, errlen,
                           "--trainable-top %ld leaves the whole backbone frozen (the model's last %d "
                           "layers are the head, then top_activation, top_bn, top_conv); at least "
                           "%ld (top_conv)",
                           n, VKDP_HEAD_LAYERS, least);
    int at = (int)(total - n);
    int s = segment_of(seg, at);
    if (at == seg[s])
        return fill(&net, seg, s, image_size, p), 0;
    return vkdp_seterr(err, errlen,
                       "--trainable-top %ld cuts %s in the middle (its first %d layer(s) would stay "
                       "frozen); the nearest block boundaries are --trainable-top %ld (from %s) and "
                       "--trainable-top %ld (from %s)",
                       n, seg_name(&net, s), at - seg[s], total - seg[s], seg_name(&net, s),
                       total - seg[s + 1], seg_name(&net, s + 1));
}

/* The segment a layer of the tensor table belongs to: its block, TOP_SEGMENT for top_conv, -1
 * for the stem and BatchNormalization layers (never trainable). */
static int trainable_segment(const vkdp_effnet *net, const vkdp_effnet_tensor_spec *t)
{
    if (!strcmp(t->weight, "gamma:0") || !strcmp(t->weight, "beta:0") || !strcmp(t->weight, "moving_mean:0") ||
        !strcmp(t->weight, "moving_variance:0"))
        return -1;
    if (!strcmp(t->layer, "top_conv"))
        return TOP_SEGMENT;
    for (int b = 0; b < net->nblocks; b++) {
        size_t n = strlen(net->blocks[b].name);
        if (!strncmp(t->layer, net->blocks[b].name, n) && t->layer[n] == '_')
            return b;
    }
    return -1;
}

int vkdp_finetune_tensors(const vkdp_finetune_plan *p, vkdp_finetune_tensor *out, int max)
{
    vkdp_effnet net;
    int seg[TOP_SEGMENT + 1];
    layout(&net, NULL, seg);
    vkdp_effnet_tensor_spec specs[VKDP_EFFNET_MAX_TENSORS];
    int ns = vkdp_effnet_tensor_specs(specs, VKDP_EFFNET_MAX_TENSORS);
    int n = 0;
    int64_t offset = 0;
    for (int i = ns - 1; i >= 0; i--) {
        const vkdp_effnet_tensor_spec *t = &specs[i];
        if (trainable_segment(&net, t) < p->first_block)
            continue;
        int64_t numel = 1;
        for (int d = 0; d < t->rank; d++)
            numel *= t->shape[d];
        if (n < max) {
            vkdp_finetune_tensor *o = &out[n];
            memset(o, 0, sizeof *o);
            snprintf(o->path, sizeof o->path, "%s/%s/%s", t->layer, t->layer, t->weight);
            o->rank = t->rank;
            memcpy(o->shape, t->shape, sizeof o->shape);
            o->offset = offset;
            o->numel = numel;
        }
        offset += numel;
        n++;
    }
    return n;
}
