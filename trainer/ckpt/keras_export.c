/* `trainer export --keras`: the tutorial's whole model in Keras' HDF5 weights layout, built in
 * memory from the backbone weights file (or the checkpoint's fine-tuned /backbone tensors) and the
 * checkpoint's head; see keras_export.h. */
#include "vkdp/ckpt/keras_export.h"

#include <stdlib.h>
#include <string.h>

#include "ckpt_io.h"
#include "keras_layout.h"
#include "vkdp/h5/atomic_file.h"

typedef struct {
    char **s;
    size_t n;
} strs;

typedef struct {
    vkdp_h5_io *in, *out;  /* messages name the weights file, resp. the export */
    const vkdp_ckpt_state *ck;
    hid_t src;             /* the weights file's root of the layout (/ or /model_weights) */
    hid_t dst;             /* the in-memory export */
    int64_t top_channels;  /* the backbone's output channels (top_bn/gamma:0), -1 unseen */
    char *used;            /* [ck->nbackbone]: 1 once that /backbone tensor has been exported */
    void *img;
    size_t len;
} exp_ctx;

/* The tutorial model's layers around the backbone's (build_model in the Keras tutorial). */
const char *const keras_before[1] = {"img_augmentation"};
const char *const keras_head_layers[4] = {"avg_pool", "batch_normalization", "top_dropout", "pred"};
const keras_head_weight keras_head_map[6] = {
    {"head_bn/head_bn/gamma:0", "batch_normalization/gamma:0"},
    {"head_bn/head_bn/beta:0", "batch_normalization/beta:0"},
    {"head_bn/head_bn/moving_mean:0", "batch_normalization/moving_mean:0"},
    {"head_bn/head_bn/moving_variance:0", "batch_normalization/moving_variance:0"},
    {"pred/pred/kernel:0", "pred/kernel:0"},
    {"pred/pred/bias:0", "pred/bias:0"},
};

/* A layer group of the export with its weight_names (Keras' empty float array when there are
 * none); the caller writes the datasets and closes. */
static hid_t new_layer(exp_ctx *x, const char *name, const char *const *wnames, size_t n)
{
    hid_t g = vkdp_h5_group_create(x->out, x->dst, name);
    if (g >= 0 && (n ? vkdp_h5_attr_write_strs(x->out, g, "weight_names", wnames, n, 0)
                     : vkdp_h5_attr_write_empty_f64(x->out, g, "weight_names")) < 0) {
        H5Gclose(g);
        return -1;
    }
    return g;
}

static int close_group(vkdp_h5_io *io, hid_t g, const char *name)
{
    return H5Gclose(g) < 0 ? vkdp_h5_fail_h5(io, "cannot close group %s", name) : 0;
}

/* The checkpoint's fine-tuned value of the weights file's tensor `full` (/<layer>/<weight>), or
 * NULL; it must have the weights file's dtype class and shape. */
static int ckpt_backbone(exp_ctx *x, const char *full, const vkdp_h5_dset *d, const vkdp_named_tensor **t)
{
    *t = NULL;
    for (int i = 0; i < x->ck->nbackbone; i++)
        if (!strcmp(x->ck->backbone[i].name, full + 1)) {
            *t = &x->ck->backbone[i];
            x->used[i] = 1;
        }
    if (!*t)
        return 0;
    int same = d->cls == H5T_FLOAT && (*t)->rank == d->rank;
    for (int k = 0; same && k < d->rank; k++)
        same = (*t)->shape[k] == d->dims[k];
    if (same)
        return 0;
    char a[96], b[96];
    vkdp_tensor_shape_str(*t, a, sizeof a);
    vkdp_h5_shape_str(b, sizeof b, d->rank, d->dims);
    return vkdp_h5_fail(x->out, "checkpoint tensor /backbone%s is float32%s but the weights file's %s is %s%s",
                        full, a, full, d->cls == H5T_FLOAT ? "float" : "integer", b);
}

/* Copies one dataset of the weights file (float or integer, as stored) into the export, or the
 * checkpoint's /backbone tensor of that name in its place. */
static int copy_weight(exp_ctx *x, hid_t sg, hid_t dg, const char *layer, const char *w)
{
    char full[512];
    snprintf(full, sizeof full, "/%s/%s", layer, w);
    vkdp_h5_dset d;
    int r = vkdp_h5_dset_open(x->in, sg, w, full, 4, CKPT_MAX_TENSOR_ELEMS, &d);
    if (r == 0)
        return vkdp_h5_fail(x->in, "missing dataset %s named by the weight_names of /%s", full, layer);
    if (r < 0)
        return -1;
    int rc = 0, is_int = d.cls == H5T_INTEGER;
    if (!is_int && d.cls != H5T_FLOAT)
        rc = vkdp_h5_fail(x->in, "dataset %s is neither float nor integer", full);
    const vkdp_named_tensor *tuned = NULL;
    if (rc == 0)
        rc = ckpt_backbone(x, full, &d, &tuned);
    void *buf = NULL;
    size_t bytes = (size_t)d.count * (is_int ? sizeof(int64_t) : sizeof(float));
    if (rc == 0 && !tuned) {
        buf = vkdp_xmalloc(bytes ? bytes : 1);
        rc = vkdp_h5_dset_read(x->in, &d, full, is_int ? H5T_NATIVE_INT64 : H5T_NATIVE_FLOAT, buf, bytes);
    }
    if (rc == 0 && !strcmp(w, "top_bn/gamma:0"))
        x->top_channels = d.rank == 1 ? d.dims[0] : -1;
    if (rc == 0) {
        hsize_t dims[4];
        for (int k = 0; k < d.rank; k++)
            dims[k] = (hsize_t)d.dims[k];
        rc = vkdp_h5_dset_write(x->out, dg, w, is_int ? H5T_STD_I64LE : H5T_IEEE_F32LE,
                                is_int ? H5T_NATIVE_INT64 : H5T_NATIVE_FLOAT, d.rank, dims, NULL,
                                tuned ? (const void *)tuned->data : buf);
    }
    free(buf);
    vkdp_h5_dset_close(&d);
    return rc;
}

/* One backbone layer: its weight_names (each "<layer>/<weight>") and datasets, as the weights file
 * holds them unless the checkpoint fine-tuned them. */
static int copy_layer(exp_ctx *x, const char *layer)
{
    hid_t sg = vkdp_h5_group_open(x->in, x->src, layer, layer);
    if (sg < 0)
        return -1;
    strs w = {NULL, 0};
    int rc = vkdp_h5_attr_read_strs(x->in, sg, layer, "weight_names", &w.s, &w.n);
    size_t ll = strlen(layer);
    for (size_t i = 0; rc == 0 && i < w.n; i++)
        if (strncmp(w.s[i], layer, ll) || w.s[i][ll] != '/' || strchr(w.s[i] + ll + 1, '/') || !w.s[i][ll + 1])
            rc = vkdp_h5_fail(x->in, "weight name '%s' of /%s is not '%s/<weight>'", w.s[i], layer, layer);
    hid_t dg = rc == 0 ? new_layer(x, layer, (const char *const *)w.s, w.n) : -1;
    if (rc == 0 && dg < 0)
        rc = -1;
    for (size_t i = 0; rc == 0 && i < w.n; i++)
        rc = copy_weight(x, sg, dg, layer, w.s[i]);
    if (dg >= 0 && close_group(x->out, dg, layer) < 0)
        rc = -1;
    if (close_group(x->in, sg, layer) < 0)
        rc = -1;
    vkdp_h5_strs_free(w.s, w.n);
    return rc;
}

static int weightless(exp_ctx *x, const char *name)
{
    hid_t g = new_layer(x, name, NULL, 0);
    return g < 0 ? -1 : close_group(x->out, g, name);
}

/* The checkpoint's head tensors, checked against the backbone and the classes. */
static int head_tensors(exp_ctx *x, const vkdp_named_tensor **t)
{
    const vkdp_ckpt_state *ck = x->ck;
    for (size_t i = 0; i < VKDP_ARRAY_LEN(keras_head_map); i++)
        if (!(t[i] = vkdp_ckpt_find_weight(ck, keras_head_map[i].ckpt)))
            return vkdp_h5_fail(x->out, "the checkpoint has no head tensor %s", keras_head_map[i].ckpt);
    const int64_t F = t[4]->rank == 2 ? t[4]->shape[0] : -1;
    char shape[64];
    for (size_t i = 0; i < VKDP_ARRAY_LEN(keras_head_map); i++) {
        int64_t want[2] = {i == 5 ? ck->nclasses : F, ck->nclasses};
        int rank = i == 4 ? 2 : 1;
        if (t[i]->rank != rank || t[i]->shape[0] != want[0] || (rank == 2 && t[i]->shape[1] != want[1])) {
            vkdp_tensor_shape_str(t[i], shape, sizeof shape);
            return vkdp_h5_fail(x->out, "head tensor %s has shape %s (%d classes)", keras_head_map[i].ckpt, shape,
                                ck->nclasses);
        }
    }
    if (x->top_channels != F)
        return vkdp_h5_fail(x->out, "the head takes %lld features but the backbone's top_bn has %lld channels",
                            (long long)F, (long long)x->top_channels);
    return 0;
}

static int write_head(exp_ctx *x)
{
    const vkdp_named_tensor *t[VKDP_ARRAY_LEN(keras_head_map)];
    if (head_tensors(x, t) < 0)
        return -1;
    int rc = 0;
    for (size_t l = 0; rc == 0 && l < VKDP_ARRAY_LEN(keras_head_layers); l++) {
        const char *layer = keras_head_layers[l], *wn[VKDP_ARRAY_LEN(keras_head_map)];
        size_t n = 0, idx[VKDP_ARRAY_LEN(keras_head_map)], ll = strlen(layer);
        for (size_t i = 0; i < VKDP_ARRAY_LEN(keras_head_map); i++)
            if (!strncmp(keras_head_map[i].keras, layer, ll) && keras_head_map[i].keras[ll] == '/') {
                idx[n] = i;
                wn[n++] = keras_head_map[i].keras;
            }
        hid_t g = new_layer(x, layer, wn, n);
        if (g < 0)
            return -1;
        for (size_t k = 0; rc == 0 && k < n; k++) {
            const vkdp_named_tensor *s = t[idx[k]];
            hsize_t dims[2] = {(hsize_t)s->shape[0], (hsize_t)s->shape[1]};
            rc = vkdp_h5_dset_write(x->out, g, wn[k], H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, s->rank, dims, NULL,
                                    s->data);
        }
        if (close_group(x->out, g, layer) < 0)
            rc = -1;
    }
    return rc;
}

/* Refuses layer names the export cannot hold as one group each, or that it adds itself. */
static int check_layer_names(exp_ctx *x, const strs *l)
{
    if (l->n < 2)
        return vkdp_h5_fail(x->in, "layer_names lists %zu layer(s): not an EfficientNet weights file", l->n);
    for (size_t i = 0; i < l->n; i++) {
        const char *s = l->s[i];
        if (!s[0] || strchr(s, '/') || !strcmp(s, ".") || strlen(s) > 200)
            return vkdp_h5_fail(x->in, "layer name '%s' cannot be a group name", s);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(l->s[j], s))
                return vkdp_h5_fail(x->in, "layer %s is listed twice", s);
        for (size_t j = 0; j < VKDP_ARRAY_LEN(keras_head_layers); j++)
            if (!strcmp(keras_head_layers[j], s) || (j < VKDP_ARRAY_LEN(keras_before) && !strcmp(keras_before[j], s)))
                return vkdp_h5_fail(x->in, "layer %s is one of the tutorial model's own", s);
    }
    return 0;
}

/* Root attributes and every layer, in the tutorial model's order. */
static int write_layers_in_order(exp_ctx *x)
{
    strs l = {NULL, 0};
    char backend[64], version[64];
    int rc = vkdp_h5_attr_read_strs(x->in, x->src, "/", "layer_names", &l.s, &l.n);
    if (rc == 0)
        rc = vkdp_h5_attr_read_str(x->in, x->src, "/", "backend", backend, sizeof backend);
    if (rc == 0)
        rc = vkdp_h5_attr_read_str(x->in, x->src, "/", "keras_version", version, sizeof version);
    if (rc == 0)
        rc = check_layer_names(x, &l);
    /* the file's first layer is the input layer; the tutorial model's data augmentation follows */
    const size_t nb = VKDP_ARRAY_LEN(keras_before), nh = VKDP_ARRAY_LEN(keras_head_layers), n = l.n + nb + nh;
    const char **names = vkdp_xcalloc(n, sizeof *names);
    if (rc == 0) {
        size_t k = 0;
        names[k++] = l.s[0];
        for (size_t i = 0; i < nb; i++)
            names[k++] = keras_before[i];
        for (size_t i = 1; i < l.n; i++)
            names[k++] = l.s[i];
        for (size_t i = 0; i < nh; i++)
            names[k++] = keras_head_layers[i];
        rc = vkdp_h5_attr_write_str(x->out, x->dst, "backend", backend);
    }
    if (rc == 0)
        rc = vkdp_h5_attr_write_str(x->out, x->dst, "keras_version", version);
    /* what reading the export back needs (vkdp_keras_import): classes and the run's settings */
    if (rc == 0)
        rc = vkdp_h5_attr_write_strs(x->out, x->dst, KERAS_CLASS_NAMES, (const char *const *)x->ck->class_names,
                                     (size_t)x->ck->nclasses, 1);
    if (rc == 0)
        rc = ckpt_fields_write_as(x->out, x->dst, "config", KERAS_ATTR_PREFIX, x->ck);
    if (rc == 0)
        rc = vkdp_h5_attr_write_strs(x->out, x->dst, "layer_names", names, n, 0);
    for (size_t i = 0; rc == 0 && i < l.n + nb; i++)
        rc = i >= 1 && i <= nb ? weightless(x, names[i]) : copy_layer(x, names[i]);
    if (rc == 0)
        rc = write_head(x);
    for (int i = 0; rc == 0 && i < x->ck->nbackbone; i++)
        if (!x->used[i])
            rc = vkdp_h5_fail(x->out, "checkpoint tensor /backbone/%s is not a tensor of the weights file",
                              x->ck->backbone[i].name);
    free(names);
    vkdp_h5_strs_free(l.s, l.n);
    return rc;
}

/* Opens the layout's root: / with layer_names, or /model_weights of a model.save() file. */
static int open_source(exp_ctx *x, hid_t f)
{
    htri_t has_names = H5Aexists(f, "layer_names");
    if (has_names < 0)
        return vkdp_h5_fail_h5(x->in, "cannot read the attributes of /");
    if (has_names > 0) {
        x->src = f;
        return 0;
    }
    int has_model = vkdp_h5_exists(x->in, f, "model_weights", "/model_weights");
    if (has_model <= 0)
        return has_model < 0 ? -1 : vkdp_h5_fail(x->in, "no layer_names on / and no /model_weights");
    x->src = vkdp_h5_group_open(x->in, f, "model_weights", "/model_weights");
    return x->src < 0 ? -1 : 0;
}

static int build(void *arg)
{
    exp_ctx *x = arg;
    hid_t f = vkdp_h5_open_read(x->in);
    if (f < 0)
        return -1;
    int rc = open_source(x, f);
    if (rc == 0) {
        x->dst = vkdp_h5_mem_create(x->out);
        if (x->dst < 0)
            rc = -1;
    }
    if (rc == 0)
        rc = write_layers_in_order(x);
    if (x->dst >= 0) {
        if (rc == 0)
            rc = vkdp_h5_mem_finish(x->out, x->dst, &x->img, &x->len);
        else
            H5Fclose(x->dst);
    }
    if (x->src >= 0 && x->src != f && close_group(x->in, x->src, "/model_weights") < 0)
        rc = -1;
    if (vkdp_h5_close(x->in, f) < 0)
        rc = -1;
    return rc;
}

int vkdp_keras_export(const vkdp_ckpt_state *ck, const char *weights, const char *out_path, char *err,
                      size_t errlen)
{
    vkdp_h5_io in = {weights, "weights file", "not a Keras weights file?", err, errlen};
    vkdp_h5_io out = {out_path, "Keras export", NULL, err, errlen};
    exp_ctx x = {&in, &out, ck, -1, -1, -1, vkdp_xcalloc((size_t)ck->nbackbone + 1, 1), NULL, 0};
    int rc = vkdp_h5_quietly(build, &x);
    if (rc == 0)
        rc = vkdp_atomic_write(&out, out_path, x.img, x.len);
    free(x.img);
    free(x.used);
    return rc;
}
