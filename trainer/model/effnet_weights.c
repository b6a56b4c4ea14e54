/* EfficientNetB0 weights from the Keras HDF5 weights layout: every tensor is found by layer and
 * weight name (the per-layer `weight_names` attribute), never by position, and checked against the
 * architecture's shape; then each inference-mode BN is folded into the conv before it. */
#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkdp/core/common.h"
#include "vkdp/core/rng.h"
#include "vkdp/model/effnet.h"
#include "vkdp/model/effnet_arch.h"
#include "vkdp/core/sha256.h"

typedef struct {
    const char *path;
    char *err;
    size_t errlen;
} load_ctx;

static int fail(load_ctx *c, const char *fmt, ...) VKDP_PRINTF(2, 3);
static int fail(load_ctx *c, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "weights file %s: %s", c->path, msg);
    return -1;
}

/* HDF5's innermost error description (its own printing is silenced while loading). */
static herr_t innermost_desc(unsigned n, const H5E_error2_t *e, void *out)
{
    (void)n;
    if (e->desc && e->desc[0])
        snprintf(out, 256, "%s", e->desc);
    return 0;
}

static void hdf5_reason(char reason[256])
{
    snprintf(reason, 256, "unknown HDF5 error");
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, innermost_desc, reason);
}

/* ---- string-array attributes (fixed or variable length, as h5py and Keras write them) ---- */

typedef struct {
    int n;
    char **s;
} strings;

static void strings_free(strings *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->s[i]);
    free(l->s);
    l->n = 0;
    l->s = NULL;
}

static int read_strings_attr(load_ctx *c, hid_t obj, const char *objname, const char *attr, strings *out)
{
    out->n = 0;
    out->s = NULL;
    htri_t exists = H5Aexists(obj, attr);
    if (exists <= 0)
        return fail(c, "'%s' has no '%s' attribute (not a Keras weights file?)", objname, attr);
    int rc = -1;
    hid_t a = H5Aopen(obj, attr, H5P_DEFAULT);
    hid_t ftype = a >= 0 ? H5Aget_type(a) : H5I_INVALID_HID;
    hid_t space = a >= 0 ? H5Aget_space(a) : H5I_INVALID_HID;
    hid_t mtype = H5I_INVALID_HID;
    hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    if (a < 0 || ftype < 0 || n < 0) {
        char reason[256];
        hdf5_reason(reason);
        fail(c, "cannot read attribute '%s' of '%s': %s", attr, objname, reason);
        goto done;
    }
    if (n == 0) { /* weightless layers: an empty array, of whatever type */
        rc = 0;
        goto done;
    }
    if (H5Tget_class(ftype) != H5T_STRING) {
        fail(c, "attribute '%s' of '%s' is not an array of strings", attr, objname);
        goto done;
    }
    out->s = vkdp_xcalloc((size_t)n, sizeof *out->s);
    out->n = (int)n;
    mtype = H5Tcopy(H5T_C_S1);
    /* h5py writes UTF-8 names; HDF5 will not convert between character sets */
    if (H5Tset_cset(mtype, H5Tget_cset(ftype)) < 0) {
        fail(c, "attribute '%s' of '%s' has an unsupported character set", attr, objname);
        goto done;
    }
    if (H5Tis_variable_str(ftype) > 0) {
        char **v = vkdp_xcalloc((size_t)n, sizeof *v);
        if (H5Tset_size(mtype, H5T_VARIABLE) < 0 || H5Aread(a, mtype, v) < 0) {
            free(v);
            fail(c, "cannot read attribute '%s' of '%s'", attr, objname);
            goto done;
        }
        for (hssize_t i = 0; i < n; i++)
            out->s[i] = vkdp_xstrdup(v[i] ? v[i] : "");
#if H5_VERSION_GE(1, 12, 0)
        H5Treclaim(mtype, space, H5P_DEFAULT, v);
#else
        H5Dvlen_reclaim(mtype, space, H5P_DEFAULT, v);
#endif
        free(v);
    } else {
        size_t sz = H5Tget_size(ftype);
        char *buf = vkdp_xcalloc((size_t)n, sz);
        /* NULLPAD: a name that fills the whole width keeps its last character */
        if (sz == 0 || H5Tset_size(mtype, sz) < 0 || H5Tset_strpad(mtype, H5T_STR_NULLPAD) < 0 ||
            H5Aread(a, mtype, buf) < 0) {
            free(buf);
            fail(c, "cannot read attribute '%s' of '%s'", attr, objname);
            goto done;
        }
        for (hssize_t i = 0; i < n; i++) {
            const char *p = buf + (size_t)i * sz;
            size_t len = strnlen(p, sz);
            out->s[i] = vkdp_xmalloc(len + 1);
            memcpy(out->s[i], p, len);
            out->s[i][len] = '\0';
        }
        free(buf);
    }
    rc = 0;
done:
    if (rc)
        strings_free(out);
    if (mtype >= 0)
        H5Tclose(mtype);
    if (space >= 0)
        H5Sclose(space);
    if (ftype >= 0)
        H5Tclose(ftype);
    if (a >= 0)
        H5Aclose(a);
    return rc;
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

static void shape_str(char *out, size_t len, int rank, const int64_t *d)
{
    size_t o = (size_t)snprintf(out, len, "[");
    for (int i = 0; i < rank && o < len; i++)
        o += (size_t)snprintf(out + o, len - o, "%s%lld", i ? "," : "", (long long)d[i]);
    if (o < len)
        snprintf(out + o, len - o, "]");
}

/* Reads one dataset into t (allocated for spec's shape). Returns 1 read, 0 absent, -1 error. */
static int read_tensor(load_ctx *c, hid_t layer_group, const strings *wnames, const vkdp_effnet_tensor_spec *spec,
                       vkdp_tensor *t, size_t n)
{
    const char *wname = NULL;
    for (int i = 0; i < wnames->n; i++)
        if (!strcmp(weight_basename(wnames->s[i]), spec->weight))
            wname = wnames->s[i];
    if (!wname)
        return 0;
    /* every intermediate group must exist before H5Lexists may look at the full path */
    char prefix[256];
    snprintf(prefix, sizeof prefix, "%s", wname);
    for (char *p = strchr(prefix, '/'); p; p = strchr(p + 1, '/')) {
        *p = '\0';
        int ok = H5Lexists(layer_group, prefix, H5P_DEFAULT) > 0;
        *p = '/';
        if (!ok)
            return 0;
    }
    if (H5Lexists(layer_group, wname, H5P_DEFAULT) <= 0)
        return 0;

    int rc = -1;
    char reason[256];
    hid_t d = H5Dopen2(layer_group, wname, H5P_DEFAULT);
    hid_t space = d >= 0 ? H5Dget_space(d) : H5I_INVALID_HID;
    hid_t type = d >= 0 ? H5Dget_type(d) : H5I_INVALID_HID;
    if (d < 0 || space < 0 || type < 0) {
        hdf5_reason(reason);
        fail(c, "cannot open tensor %s: %s", t->name, reason);
        goto done;
    }
    H5T_class_t cls = H5Tget_class(type);
    if (cls != H5T_FLOAT && cls != H5T_INTEGER) {
        fail(c, "tensor %s is not numeric", t->name);
        goto done;
    }
    int rank = H5Sget_simple_extent_ndims(space);
    hsize_t dims[8];
    if (rank < 0 || rank > 8 || H5Sget_simple_extent_dims(space, dims, NULL) < 0) {
        fail(c, "cannot read the shape of tensor %s", t->name);
        goto done;
    }
    int same = rank == spec->rank;
    for (int i = 0; same && i < rank; i++)
        same = (int64_t)dims[i] == spec->shape[i];
    if (!same) {
        int64_t got[8];
        for (int i = 0; i < rank; i++)
            got[i] = (int64_t)dims[i];
        char gs[128], es[128];
        shape_str(gs, sizeof gs, rank, got);
        shape_str(es, sizeof es, spec->rank, spec->shape);
        fail(c, "tensor %s has shape %s, EfficientNetB0 expects %s", t->name, gs, es);
        goto done;
    }
    if (H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->data) < 0) {
        hdf5_reason(reason);
        fail(c, "cannot read tensor %s (truncated or corrupt file?): %s", t->name, reason);
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        if (!isfinite(t->data[i])) {
            fail(c, "tensor %s holds a non-finite value at index %zu", t->name, i);
            goto done;
        }
    rc = 1;
done:
    if (type >= 0)
        H5Tclose(type);
    if (space >= 0)
        H5Sclose(space);
    if (d >= 0)
        H5Dclose(d);
    return rc;
}

static int is_known_layer(const vkdp_effnet_tensor_spec *specs, int n, const char *layer)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(specs[i].layer, layer))
            return 1;
    return 0;
}

/* Every layer of the file that holds weights must belong to EfficientNetB0 (a B1 file, say, would
 * otherwise load its B0-shaped subset silently); the with-top classifier is ignored. */
static int check_no_foreign_layers(load_ctx *c, hid_t root, const vkdp_effnet_tensor_spec *specs, int nspecs)
{
    strings layers;
    if (read_strings_attr(c, root, "/", "layer_names", &layers))
        return -1;
    int rc = 0;
    for (int i = 0; i < layers.n && !rc; i++) {
        const char *l = layers.s[i];
        if (is_known_layer(specs, nspecs, l) || !strcmp(l, "predictions"))
            continue;
        if (H5Lexists(root, l, H5P_DEFAULT) <= 0)
            continue;
        hid_t g = H5Gopen2(root, l, H5P_DEFAULT);
        if (g < 0)
            continue;
        strings w;
        rc = read_strings_attr(c, g, l, "weight_names", &w);
        if (!rc && w.n > 0)
            rc = fail(c, "layer '%s' holds weights (%s) but is not part of EfficientNetB0", l, w.s[0]);
        strings_free(&w);
        H5Gclose(g);
    }
    strings_free(&layers);
    return rc;
}

/* Loads every spec'd tensor into net->tensors; missing ones are an error unless allow_missing. */
static int read_all(load_ctx *c, hid_t root, vkdp_effnet *net, const vkdp_effnet_tensor_spec *specs,
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
        strings wnames = {0, NULL};
        if (H5Lexists(root, layer, H5P_DEFAULT) > 0) {
            g = H5Gopen2(root, layer, H5P_DEFAULT);
            if (g < 0)
                rc = fail(c, "'%s' is not a layer group", layer);
            else
                rc = read_strings_attr(c, g, layer, "weight_names", &wnames);
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
                    rc = fail(c, "missing tensor %s (%s); --allow-missing-weights initialises missing "
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
        for (int w = 0; w < wnames.n && !rc; w++) {
            int expected = 0;
            for (int j = i; j < end; j++)
                expected |= !strcmp(weight_basename(wnames.s[w]), specs[j].weight);
            if (!expected)
                rc = fail(c, "layer '%s' holds unexpected weight '%s'", layer, wnames.s[w]);
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

static int fold_all(load_ctx *c, vkdp_effnet *net)
{
    const float *mean = tensor_data(net, "normalization", "mean:0");
    const float *var = tensor_data(net, "normalization", "variance:0");
    for (int ch = 0; ch < 3; ch++) {
        if (!(var[ch] > 0))
            return fail(c, "normalization/normalization/variance:0[%d] = %g must be positive", ch, (double)var[ch]);
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

static int load_file(load_ctx *c, vkdp_effnet *net, int allow_missing, uint64_t seed)
{
    char reason[256];
#if H5_VERSION_GE(1, 12, 0)
    htri_t is_hdf5 = H5Fis_accessible(c->path, H5P_DEFAULT);
#else
    htri_t is_hdf5 = H5Fis_hdf5(c->path);
#endif
    if (is_hdf5 <= 0) {
        hdf5_reason(reason);
        return fail(c, "not an HDF5 file (%s)", is_hdf5 == 0 ? "no HDF5 signature" : reason);
    }
    hid_t f = H5Fopen(c->path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        hdf5_reason(reason);
        return fail(c, "cannot open as HDF5 (truncated or corrupt?): %s", reason);
    }
    /* model.save() files keep the weights layout under /model_weights */
    hid_t root = f;
    if (H5Aexists(f, "layer_names") <= 0 && H5Lexists(f, "model_weights", H5P_DEFAULT) > 0)
        root = H5Gopen2(f, "model_weights", H5P_DEFAULT);
    int rc = -1;
    if (root < 0) {
        fail(c, "cannot open group /model_weights");
    } else {
        vkdp_effnet_tensor_spec specs[VKDP_EFFNET_MAX_TENSORS];
        int nspecs = vkdp_effnet_tensor_specs(specs, VKDP_EFFNET_MAX_TENSORS);
        if (nspecs > VKDP_EFFNET_MAX_TENSORS)
            VKDP_FATAL("internal: %d tensors exceed VKDP_EFFNET_MAX_TENSORS", nspecs);
        rc = check_no_foreign_layers(c, root, specs, nspecs);
        if (!rc)
            rc = read_all(c, root, net, specs, nspecs, allow_missing, seed);
        if (root != f)
            H5Gclose(root);
    }
    if (H5Fclose(f) < 0 && !rc) {
        hdf5_reason(reason);
        rc = fail(c, "closing failed: %s", reason);
    }
    return rc;
}

int vkdp_effnet_load(vkdp_effnet *net, const char *path, int allow_missing, uint64_t seed, char *err,
                     size_t errlen)
{
    memset(net, 0, sizeof *net);
    load_ctx c = {path, err, errlen};
    if (errlen)
        err[0] = '\0';
    if (strlen(path) >= sizeof net->path)
        return fail(&c, "path too long");
    snprintf(net->path, sizeof net->path, "%s", path);
    vkdp_effnet_init_arch(net);
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(&c, "cannot read: %s", vkdp_errno_str());
    fclose(f);

    H5E_auto2_t old_fn;
    void *old_data;
    H5Eget_auto2(H5E_DEFAULT, &old_fn, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    int rc = load_file(&c, net, allow_missing, seed);
    H5Eset_auto2(H5E_DEFAULT, old_fn, old_data);

    if (!rc)
        rc = fold_all(&c, net);
    /* hashed only once the file proved good: a checkpoint records exactly which weights it used */
    if (!rc && vkdp_sha256_file(path, net->sha256) < 0)
        rc = fail(&c, "cannot read for sha256: %s", vkdp_errno_str());
    if (rc)
        vkdp_effnet_free(net);
    return rc;
}

void vkdp_effnet_free(vkdp_effnet *net)
{
    for (int i = 0; i < net->ntensors; i++)
        free(net->tensors[i].data);
    free(net->tensors);
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
    memset(net, 0, sizeof *net);
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
