/* EfficientNetB0 weights from the Keras HDF5 weights layout: every tensor is found by layer and
 * weight name (the per-layer `weight_names` attribute), never by position, and checked against the
 * architecture's shape; then each inference-mode BN is folded into the conv before it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkdp/core/common.h"
#include "vkdp/core/errmsg.h"
#include "vkdp/h5/h5.h"
#include "vkdp/core/rng.h"
#include "vkdp/model/effnet.h"
#include "vkdp/model/effnet_arch.h"
#include "vkdp/core/sha256.h"

/* Errors read "weights file PATH: ..."; tensors larger than this are refused before reading. */
#define MAX_TENSOR_ELEMS ((int64_t)1 << 28)

typedef struct {
    char **s;
    size_t n;
} strings;

static void strings_free(strings *l)
{
    vkdp_h5_strs_free(l->s, l->n);
    l->s = NULL;
    l->n = 0;
}

/* "stem_bn/gamma:0" -> "gamma:0": Keras prefixes weight names with the name of the layer that
 * created them, which need not equal the saved layer name; the last component identifies it. */
static const char *weight_basename(const char *w)
{
    const char *slash = strrchr(w, '/');
    return slash ? slash + 1 : w;
}

/* ---- missing-weight initialisation, as Keras' EfficientNet initialisers would ---- */

static double uniform01(uint64_t *s) { return ((vkdp_splitmix64(s) >> 11) + 0.5) * (1.0 / 9007199254740992.0); }

/* Keras' TruncatedNormal: normal samples beyond 2 stddev are redrawn. */
static double truncated_normal(uint64_t *s)
{
    for (;;) {
        double z = sqrt(-2.0 * log(uniform01(s))) * cos(6.283185307179586 * uniform01(s));
        if (fabs(z) <= 2.0)
            return z;
    }
}

static void init_missing(vkdp_tensor *t, const vkdp_effnet_tensor_spec *spec, size_t n, uint64_t seed)
{
    /* one stream per tensor name: a tensor's values do not depend on which others are missing */
    uint64_t s = seed ^ vkdp_fnv1a64(t->name, strlen(t->name), 0);
    switch (spec->init) {
    case VKDP_INIT_ZEROS:
        memset(t->data, 0, n * sizeof *t->data);
        break;
    case VKDP_INIT_ONES:
        for (size_t i = 0; i < n; i++)
            t->data[i] = 1.0f;
        break;
    case VKDP_INIT_CONV_KERNEL: {
        /* VarianceScaling(scale=2, mode="fan_out", distribution="truncated_normal"); the constant
         * is the stddev of a unit normal truncated to [-2, 2] */
        double stddev = sqrt(2.0 / (double)vkdp_effnet_fan_out(spec)) / 0.87962566103423978;
        for (size_t i = 0; i < n; i++)
            t->data[i] = (float)(stddev * truncated_normal(&s));
        break;
    }
    }
}

/* ---- reading ---- */

/* Reads one dataset into t (allocated for spec's shape, n values). Returns 1 read, 0 absent,
 * -1 error. The file's shape must be spec's before anything is read. */
static int read_tensor(vkdp_h5_io *c, hid_t layer_group, const strings *wnames,
                       const vkdp_effnet_tensor_spec *spec, vkdp_tensor *t, size_t n)
{
    const char *wname = NULL;
    for (size_t i = 0; i < wnames->n; i++)
        if (!strcmp(weight_basename(wnames->s[i]), spec->weight))
            wname = wnames->s[i];
    if (!wname)
        return 0;
    vkdp_h5_dset d;
    int ex = vkdp_h5_dset_open(c, layer_group, wname, t->name, VKDP_H5_MAX_RANK, MAX_TENSOR_ELEMS, &d);
    if (ex <= 0)
        return ex;
    int rc = -1;
    int same = d.rank == spec->rank;
    for (int i = 0; same && i < d.rank; i++)
        same = d.dims[i] == spec->shape[i];
    if (d.cls != H5T_FLOAT && d.cls != H5T_INTEGER) {
        vkdp_h5_fail(c, "tensor %s is not numeric", t->name);
    } else if (!same) {
        char gs[128], es[128];
        vkdp_h5_shape_str(gs, sizeof gs, d.rank, d.dims);
        vkdp_h5_shape_str(es, sizeof es, spec->rank, spec->shape);
        vkdp_h5_fail(c, "tensor %s has shape %s, EfficientNetB0 expects %s", t->name, gs, es);
    } else if (vkdp_h5_dset_read(c, &d, t->name, H5T_NATIVE_FLOAT, t->data, n * sizeof *t->data) == 0) {
        rc = 1;
        for (size_t i = 0; i < n && rc == 1; i++)
            if (!isfinite(t->data[i]))
                rc = vkdp_h5_fail(c, "tensor %s holds a non-finite value at index %zu", t->name, i);
    }
    vkdp_h5_dset_close(&d);
    return rc;
}

static int is_known_layer(const vkdp_effnet_tensor_spec *specs, int n, const char *layer)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(specs[i].layer, layer))
            return 1;
    return 0;
}

/* The Keras tutorial's head (build_model) after the backbone: what an export adds with weights. */
static int is_tutorial_head(const char *layer)
{
    return !strcmp(layer, "batch_normalization") || !strcmp(layer, "pred");
}

/* Every layer of the file that holds weights must belong to EfficientNetB0 (a B1 file, say, would
 * otherwise load its B0-shaped subset silently); the with-top classifier is ignored, and the
 * tutorial's head when the file is an export (flags). */
static int check_no_foreign_layers(vkdp_h5_io *c, hid_t root, const vkdp_effnet_tensor_spec *specs, int nspecs,
                                   int flags)
{
    strings layers;
    if (vkdp_h5_attr_read_strs(c, root, "/", "layer_names", &layers.s, &layers.n))
        return -1;
    int rc = 0;
    for (size_t i = 0; i < layers.n && !rc; i++) {
        const char *l = layers.s[i];
        if (is_known_layer(specs, nspecs, l) || !strcmp(l, "predictions") ||
            ((flags & VKDP_EFFNET_TUTORIAL_HEAD) && is_tutorial_head(l)))
            continue;
        int ex = vkdp_h5_exists(c, root, l, l);
        if (ex <= 0) {
            rc = ex;
            continue;
        }
        hid_t g = vkdp_h5_group_open(c, root, l, l);
        if (g < 0) {
            rc = -1;
            continue;
        }
        strings w;
        rc = vkdp_h5_attr_read_strs(c, g, l, "weight_names", &w.s, &w.n);
        if (!rc && w.n > 0)
            rc = vkdp_h5_fail(c, "layer '%s' holds weights (%s) but is not part of EfficientNetB0", l, w.s[0]);
        strings_free(&w);
        H5Gclose(g);
    }
    strings_free(&layers);
    return rc;
}

/* Loads every spec'd tensor into net->tensors; missing ones are an error unless allow_missing. */
static int read_all(vkdp_h5_io *c, hid_t root, vkdp_effnet *net, const vkdp_effnet_tensor_spec *specs,
                    int nspecs, int allow_missing, uint64_t seed)
{
    net->tensors = vkdp_xcalloc((size_t)nspecs, sizeof *net->tensors);
    net->ntensors = nspecs;
    size_t list_len = 0, list_cap = 256;
    char *missing = vkdp_xmalloc(list_cap);
    missing[0] = '\0';
    int nmissing = 0;
    int rc = 0;
    for (int i = 0; i < nspecs && !rc;) {
        /* one layer group at a time */
        const char *layer = specs[i].layer;
        int end = i;
        while (end < nspecs && !strcmp(specs[end].layer, layer))
            end++;
        hid_t g = H5I_INVALID_HID;
        strings wnames = {NULL, 0};
        int ex = vkdp_h5_exists(c, root, layer, layer);
        if (ex < 0)
            rc = -1;
        if (ex > 0) {
            g = vkdp_h5_group_open(c, root, layer, layer);
            if (g < 0)
                rc = -1;
            else
                rc = vkdp_h5_attr_read_strs(c, g, layer, "weight_names", &wnames.s, &wnames.n);
        }
        for (int j = i; j < end && !rc; j++) {
            const vkdp_effnet_tensor_spec *s = &specs[j];
            vkdp_tensor *t = &net->tensors[j];
            snprintf(t->name, sizeof t->name, "%s/%s/%s", s->layer, s->layer, s->weight);
            t->rank = s->rank;
            size_t n = 1;
            for (int k = 0; k < s->rank; k++) {
                t->shape[k] = s->shape[k];
                n *= (size_t)s->shape[k];
            }
            t->data = vkdp_xmalloc(n * sizeof *t->data);
            int got = g >= 0 ? read_tensor(c, g, &wnames, s, t, n) : 0;
            if (got < 0) {
                rc = -1;
            } else if (got == 0) {
                if (!allow_missing) {
                    rc = vkdp_h5_fail(c, "missing tensor %s (%s); --allow-missing-weights initialises missing "
                                 "tensors as Keras would",
                              t->name, g < 0 ? "no such layer group" : "not in the layer's weight_names or absent");
                    break;
                }
                init_missing(t, s, n, seed);
                t->was_missing = 1;
                size_t need = list_len + strlen(t->name) + 3;
                if (need > list_cap) {
                    list_cap = 2 * need;
                    missing = vkdp_xrealloc(missing, list_cap);
                }
                list_len += (size_t)sprintf(missing + list_len, "%s%s", nmissing ? ", " : "", t->name);
                nmissing++;
            }
        }
        /* weights in a known layer that EfficientNetB0 does not have mean a different network */
        for (size_t w = 0; w < wnames.n && !rc; w++) {
            int expected = 0;
            for (int j = i; j < end; j++)
                expected |= !strcmp(weight_basename(wnames.s[w]), specs[j].weight);
            if (!expected)
                rc = vkdp_h5_fail(c, "layer '%s' holds unexpected weight '%s'", layer, wnames.s[w]);
        }
        strings_free(&wnames);
        if (g >= 0)
            H5Gclose(g);
        i = end;
    }
    if (!rc && nmissing) {
        /* one line however long the list: vkdp_warn's buffer would cut it */
        fflush(stdout);
        fprintf(stderr,
                "vkdp: rank %d: warning: %d of %d weight tensors missing from %s, initialised as Keras "
                "would (seed %llu): %s\n",
                vkdp_rank(), nmissing, nspecs, c->path, (unsigned long long)seed, missing);
        fflush(stderr);
    }
    free(missing);
    return rc;
}

/* ---- BN folding ---- */

static const float *tensor_data(const vkdp_effnet *net, const char *layer, const char *weight)
{
    char name[128];
    snprintf(name, sizeof name, "%s/%s/%s", layer, layer, weight);
    const vkdp_tensor *t = vkdp_effnet_tensor(net, name);
    if (!t)
        VKDP_FATAL("internal: tensor %s not loaded", name);
    return t->data;
}

/* conv (kernel with the BN's channel fastest, C channels) then BN == conv with w', b' */
static void fold(const vkdp_effnet *net, const char *conv, const char *kernel_name, const char *bn, int C,
                 size_t kernel_n, float **w_out, float **b_out)
{
    const float *w = tensor_data(net, conv, kernel_name);
    const float *gamma = tensor_data(net, bn, "gamma:0");
    const float *beta = tensor_data(net, bn, "beta:0");
    const float *mean = tensor_data(net, bn, "moving_mean:0");
    const float *var = tensor_data(net, bn, "moving_variance:0");
    double *scale = vkdp_xmalloc((size_t)C * sizeof *scale);
    float *b = vkdp_xmalloc((size_t)C * sizeof *b);
    for (int ch = 0; ch < C; ch++) {
        scale[ch] = gamma[ch] / sqrt((double)var[ch] + VKDP_EFFNET_BN_EPS);
        b[ch] = (float)(beta[ch] - mean[ch] * scale[ch]);
    }
    float *wf = vkdp_xmalloc(kernel_n * sizeof *wf);
    for (size_t i = 0; i < kernel_n; i++)
        wf[i] = (float)(w[i] * scale[i % (size_t)C]);
    free(scale);
    *w_out = wf;
    *b_out = b;
}

static float *copy_of(const vkdp_effnet *net, const char *layer, const char *weight, size_t n)
{
    float *p = vkdp_xmalloc(n * sizeof *p);
    memcpy(p, tensor_data(net, layer, weight), n * sizeof *p);
    return p;
}

static int fold_all(vkdp_h5_io *c, vkdp_effnet *net)
{
    const float *mean = tensor_data(net, "normalization", "mean:0");
    const float *var = tensor_data(net, "normalization", "variance:0");
    for (int ch = 0; ch < 3; ch++) {
        if (!(var[ch] > 0))
            return vkdp_h5_fail(c, "normalization/normalization/variance:0[%d] = %g must be positive", ch, (double)var[ch]);
        /* Normalization: (x - mean) / max(sqrt(var), 1e-7); then Rescaling(1 / sqrt(var)), because
         * the file's "variance" holds the ImageNet stddev (Keras' own correction, TF issue 49930) */
        double sd = sqrt((double)var[ch]);
        double div = (sd > 1e-7 ? sd : 1e-7) * sd;
        net->in_scale[ch] = (float)(1.0 / 255.0 / div);
        net->in_shift[ch] = (float)(-(double)mean[ch] / div);
    }
    fold(net, "stem_conv", "kernel:0", "stem_bn", VKDP_EFFNET_STEM_CH, 3 * 3 * 3 * VKDP_EFFNET_STEM_CH,
         &net->stem_w, &net->stem_b);
    for (int i = 0; i < net->nblocks; i++) {
        vkdp_mbconv *b = &net->blocks[i];
        char conv[48], bn[48];
#define NAMES(c_suffix, bn_suffix)                                      \
    (snprintf(conv, sizeof conv, "%s_" c_suffix, b->name),              \
     snprintf(bn, sizeof bn, "%s_" bn_suffix, b->name))
        size_t ex = (size_t)b->exp_ch;
        if (b->has_expand) {
            NAMES("expand_conv", "expand_bn");
            fold(net, conv, "kernel:0", bn, b->exp_ch, (size_t)b->in_ch * ex, &b->expand_w, &b->expand_b);
        }
        NAMES("dwconv", "bn");
        fold(net, conv, "depthwise_kernel:0", bn, b->exp_ch, (size_t)(b->kernel * b->kernel) * ex, &b->dw_w,
             &b->dw_b);
        /* squeeze-excite convs have biases and no BN */
        char se_reduce[48], se_expand[48];
        snprintf(se_reduce, sizeof se_reduce, "%s_se_reduce", b->name);
        snprintf(se_expand, sizeof se_expand, "%s_se_expand", b->name);
        b->se_reduce_w = copy_of(net, se_reduce, "kernel:0", ex * (size_t)b->se_ch);
        b->se_reduce_b = copy_of(net, se_reduce, "bias:0", (size_t)b->se_ch);
        b->se_expand_w = copy_of(net, se_expand, "kernel:0", (size_t)b->se_ch * ex);
        b->se_expand_b = copy_of(net, se_expand, "bias:0", ex);
        NAMES("project_conv", "project_bn");
        fold(net, conv, "kernel:0", bn, b->out_ch, ex * (size_t)b->out_ch, &b->project_w, &b->project_b);
#undef NAMES
    }
    fold(net, "top_conv", "kernel:0", "top_bn", VKDP_EFFNET_FEATURES,
         (size_t)VKDP_EFFNET_HEAD_IN * VKDP_EFFNET_FEATURES, &net->top_w, &net->top_b);
    return 0;
}

typedef struct {
    vkdp_h5_io *io;
    vkdp_effnet *net;
    int flags;
    uint64_t seed;
} load_args;

static int load_file(void *arg)
{
    load_args *a = arg;
    vkdp_h5_io *c = a->io;
    hid_t f = vkdp_h5_open_read(c);
    if (f < 0)
        return -1;
    /* model.save() files keep the weights layout under /model_weights */
    hid_t root = f;
    int rc = 0;
    htri_t has_names = H5Aexists(f, "layer_names");
    int has_model = has_names > 0 ? 0 : vkdp_h5_exists(c, f, "model_weights", "/model_weights");
    if (has_names < 0)
        rc = vkdp_h5_fail_h5(c, "cannot read the attributes of /");
    else if (has_model < 0)
        rc = -1;
    else if (has_model > 0 && (root = vkdp_h5_group_open(c, f, "model_weights", "/model_weights")) < 0)
        rc = -1;
    if (rc == 0) {
        vkdp_effnet_tensor_spec specs[VKDP_EFFNET_MAX_TENSORS];
        int nspecs = vkdp_effnet_tensor_specs(specs, VKDP_EFFNET_MAX_TENSORS);
        if (nspecs > VKDP_EFFNET_MAX_TENSORS)
            VKDP_FATAL("internal: %d tensors exceed VKDP_EFFNET_MAX_TENSORS", nspecs);
        rc = check_no_foreign_layers(c, root, specs, nspecs, a->flags);
        if (!rc)
            rc = read_all(c, root, a->net, specs, nspecs, a->flags & VKDP_EFFNET_ALLOW_MISSING, a->seed);
        if (root != f)
            H5Gclose(root);
    }
    if (vkdp_h5_close(c, f) < 0)
        rc = -1;
    return rc;
}

int vkdp_effnet_load(vkdp_effnet *net, const char *path, int flags, uint64_t seed, char *err,
                     size_t errlen)
{
    memset(net, 0, sizeof *net);
    vkdp_h5_io c = {path, "weights file", "not a Keras weights file?", err, errlen};
    if (errlen)
        err[0] = '\0';
    if (strlen(path) >= sizeof net->path)
        return vkdp_h5_fail(&c, "path too long");
    snprintf(net->path, sizeof net->path, "%s", path);
    vkdp_effnet_init_arch(net);
    FILE *f = fopen(path, "rb");
    if (!f)
        return vkdp_h5_fail(&c, "cannot read: %s", vkdp_errno_str());
    fclose(f);

    load_args a = {&c, net, flags, seed};
    int rc = vkdp_h5_quietly(load_file, &a);
    if (!rc)
        rc = fold_all(&c, net);
    /* hashed only once the file proved good: a checkpoint records exactly which weights it used */
    if (!rc && vkdp_sha256_file(path, net->sha256) < 0)
        rc = vkdp_h5_fail(&c, "cannot read for sha256: %s", vkdp_errno_str());
    if (rc)
        vkdp_effnet_free(net);
    return rc;
}

static void free_folded(vkdp_effnet *net)
{
    free(net->stem_w);
    free(net->stem_b);
    for (int i = 0; i < net->nblocks; i++) {
        vkdp_mbconv *b = &net->blocks[i];
        float *p[] = {b->expand_w, b->expand_b, b->dw_w, b->dw_b, b->se_reduce_w, b->se_reduce_b,
                      b->se_expand_w, b->se_expand_b, b->project_w, b->project_b};
        for (size_t j = 0; j < VKDP_ARRAY_LEN(p); j++)
            free(p[j]);
    }
    free(net->top_w);
    free(net->top_b);
    net->stem_w = net->stem_b = net->top_w = net->top_b = NULL;
    for (int i = 0; i < net->nblocks; i++) {
        vkdp_mbconv *b = &net->blocks[i];
        b->expand_w = b->expand_b = b->dw_w = b->dw_b = b->se_reduce_w = b->se_reduce_b = NULL;
        b->se_expand_w = b->se_expand_b = b->project_w = b->project_b = NULL;
    }
}

void vkdp_effnet_free(vkdp_effnet *net)
{
    for (int i = 0; i < net->ntensors; i++)
        free(net->tensors[i].data);
    free(net->tensors);
    free_folded(net);
    memset(net, 0, sizeof *net);
}

int vkdp_effnet_set_tensor(vkdp_effnet *net, const char *name, int rank, const int64_t *shape,
                           const float *data, const char *src, char *err, size_t errlen)
{
    vkdp_tensor *t = (vkdp_tensor *)vkdp_effnet_tensor(net, name);
    if (!t)
        return vkdp_seterr(err, errlen, "%s: tensor %s is not an EfficientNetB0 weight of %s", src, name,
                           net->path);
    int same = rank == t->rank;
    for (int k = 0; same && k < rank; k++)
        same = shape[k] == t->shape[k];
    if (!same) {
        char got[128], want[128];
        vkdp_h5_shape_str(got, sizeof got, rank, shape);
        vkdp_h5_shape_str(want, sizeof want, t->rank, t->shape);
        return vkdp_seterr(err, errlen, "%s: tensor %s has shape %s, EfficientNetB0 expects %s", src, name, got,
                           want);
    }
    int64_t n = 1;
    for (int k = 0; k < rank; k++)
        n *= shape[k];
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(data[i]))
            return vkdp_seterr(err, errlen, "%s: tensor %s has a non-finite value at element %lld", src, name,
                               (long long)i);
    memcpy(t->data, data, (size_t)n * sizeof *data);
    t->was_missing = 0;
    return 0;
}

void vkdp_effnet_refold(vkdp_effnet *net)
{
    char err[512];
    vkdp_h5_io c = {net->path, "weights file", "", err, sizeof err};
    free_folded(net);
    if (fold_all(&c, net) != 0)
        VKDP_FATAL("%s", err);
}

const vkdp_tensor *vkdp_effnet_tensor(const vkdp_effnet *net, const char *name)
{
    if (name[0] == '/')
        name++;
    for (int i = 0; i < net->ntensors; i++)
        if (!strcmp(net->tensors[i].name, name))
            return &net->tensors[i];
    return NULL;
}
