/* Reading a `trainer export --keras` file back as a checkpoint state (config, class names, head)
 * for predict and evaluate; the file is hostile until checked. See keras_export.h. */
#include <stdlib.h>
#include <string.h>

#include "ckpt_io.h"
#include "keras_layout.h"
#include "vkdp/ckpt/keras_export.h"
#include "vkdp/core/common.h"
#include "vkdp/core/sha256.h"

#define EXPORT_HINT "not a file written by trainer export --keras?"

typedef struct {
    vkdp_h5_io *io;
    vkdp_ckpt_state *s;
} import_ctx;

/* layer_names must end with the tutorial model's head layers, in its order. */
static int check_layer_names(vkdp_h5_io *io, hid_t f)
{
    char **l = NULL;
    size_t n = 0;
    const size_t nh = VKDP_ARRAY_LEN(keras_head_layers);
    int rc = vkdp_h5_attr_read_strs(io, f, "/", "layer_names", &l, &n);
    int ok = rc == 0 && n > nh;
    for (size_t i = 0; ok && i < nh; i++)
        ok = !strcmp(l[n - nh + i], keras_head_layers[i]);
    if (rc == 0 && !ok)
        rc = vkdp_h5_fail(io, "layer_names does not end with the tutorial model's avg_pool, batch_normalization, "
                              "top_dropout, pred (%s)", EXPORT_HINT);
    vkdp_h5_strs_free(l, n);
    return rc;
}

/* A layer's weight_names must be exactly the export's list: Keras loads them in that order. */
static int check_weight_names(vkdp_h5_io *io, hid_t f, const char *layer)
{
    char where[64], **w = NULL;
    size_t n = 0, want = 0, ll = strlen(layer);
    snprintf(where, sizeof where, "/%s", layer);
    hid_t g = vkdp_h5_group_open(io, f, layer, where);
    if (g < 0)
        return -1;
    int rc = vkdp_h5_attr_read_strs(io, g, where, "weight_names", &w, &n);
    for (size_t i = 0; rc == 0 && i < VKDP_ARRAY_LEN(keras_head_map); i++) {
        const char *k = keras_head_map[i].keras;
        if (strncmp(k, layer, ll) || k[ll] != '/')
            continue;
        if (want >= n || strcmp(w[want], k))
            rc = vkdp_h5_fail(io, "%s weight_names[%zu] is not %s", where, want, k);
        want++;
    }
    if (rc == 0 && n != want)
        rc = vkdp_h5_fail(io, "%s weight_names lists %zu weights, the tutorial's layer has %zu", where, n, want);
    vkdp_h5_strs_free(w, n);
    H5Gclose(g);
    return rc;
}

/* One head tensor /<layer>/<keras name> into t (named as in a checkpoint), its shape checked
 * against want (d1 < 0: rank 1) before anything is allocated. */
static int read_head_tensor(vkdp_h5_io *io, hid_t f, int i, int64_t d0, int64_t d1, vkdp_named_tensor *t)
{
    const char *k = keras_head_map[i].keras;
    char rel[160], full[170];
    snprintf(rel, sizeof rel, "%.*s/%s", (int)(strchr(k, '/') - k), k, k);
    snprintf(full, sizeof full, "/%s", rel);
    vkdp_h5_dset d;
    int ex = vkdp_h5_dset_open(io, f, rel, full, 2, CKPT_MAX_TENSOR_ELEMS, &d);
    if (ex <= 0)
        return ex < 0 ? -1 : vkdp_h5_fail(io, "missing dataset %s (%s)", full, EXPORT_HINT);
    int rank = d1 < 0 ? 1 : 2, rc = 0;
    char got[96], want[64];
    if (d.cls != H5T_FLOAT)
        rc = vkdp_h5_fail(io, "dataset %s is not floating-point", full);
    else if (d.rank != rank || d.dims[0] != d0 || (rank == 2 && d.dims[1] != d1)) {
        vkdp_h5_shape_str(got, sizeof got, d.rank, d.dims);
        if (rank == 1)
            snprintf(want, sizeof want, "[%lld]", (long long)d0);
        else
            snprintf(want, sizeof want, "[%lld,%lld]", (long long)d0, (long long)d1);
        rc = vkdp_h5_fail(io, "dataset %s has shape %s, expected %s", full, got, want);
    }
    if (rc == 0) {
        snprintf(t->name, sizeof t->name, "%s", keras_head_map[i].ckpt);
        t->rank = rank;
        t->shape[0] = d0;
        t->shape[1] = rank == 2 ? d1 : 0;
        size_t bytes = (size_t)d.count * sizeof(float);
        t->data = vkdp_xmalloc(bytes ? bytes : 1);
        rc = vkdp_h5_dset_read(io, &d, full, H5T_NATIVE_FLOAT, t->data, bytes);
    }
    vkdp_h5_dset_close(&d);
    return rc;
}

/* pred's kernel fixes the feature count F (the classes fix its columns); the rest follows. */
static int read_head(vkdp_h5_io *io, hid_t f, vkdp_ckpt_state *s)
{
    for (size_t l = 0; l < VKDP_ARRAY_LEN(keras_head_layers); l++)
        if (check_weight_names(io, f, keras_head_layers[l]) < 0)
            return -1;
    const int n = (int)VKDP_ARRAY_LEN(keras_head_map);
    vkdp_h5_dset k;
    int ex = vkdp_h5_dset_open(io, f, "pred/pred/kernel:0", "/pred/pred/kernel:0", 2, CKPT_MAX_TENSOR_ELEMS, &k);
    if (ex <= 0)
        return ex < 0 ? -1 : vkdp_h5_fail(io, "missing dataset /pred/pred/kernel:0 (%s)", EXPORT_HINT);
    const int64_t F = k.rank == 2 ? k.dims[0] : -1;
    vkdp_h5_dset_close(&k);
    if (F < 1)
        return vkdp_h5_fail(io, "dataset /pred/pred/kernel:0 is not a [features, classes] matrix");
    s->weights = vkdp_xcalloc((size_t)n, sizeof *s->weights);
    for (int i = 0; i < n; i++) {
        int64_t d0 = i == KERAS_HEAD_BIAS ? s->nclasses : F, d1 = i == KERAS_HEAD_KERNEL ? s->nclasses : -1;
        s->nweights = i + 1;
        if (read_head_tensor(io, f, i, d0, d1, &s->weights[i]) < 0)
            return -1;
    }
    return 0;
}

/* Layout, class names, config attributes, then the head. */
static int import_from(vkdp_h5_io *io, hid_t f, vkdp_ckpt_state *s)
{
    if (check_layer_names(io, f) < 0)
        return -1;
    htri_t has = H5Aexists(f, KERAS_CLASS_NAMES);
    if (has < 0)
        return vkdp_h5_fail_h5(io, "cannot read the attributes of /");
    if (!has)
        return vkdp_h5_fail(io, "no root attribute " KERAS_CLASS_NAMES " (the class names): an export by an "
                                "older trainer; export its checkpoint again");
    if (ckpt_class_names_read(io, f, "/", KERAS_CLASS_NAMES, s) < 0)
        return -1;
    int n = s->nclasses, rc = ckpt_fields_read_as(io, f, "/", "config", KERAS_ATTR_PREFIX, s);
    if (rc == 0 && s->nclasses != n)
        rc = vkdp_h5_fail(io, "/ " KERAS_ATTR_PREFIX "nclasses = %d but " KERAS_CLASS_NAMES " holds %d names",
                          s->nclasses, n);
    s->nclasses = n;
    return rc < 0 ? -1 : read_head(io, f, s);
}

static int import_file(void *arg)
{
    const import_ctx *c = arg;
    hid_t f = vkdp_h5_open_read(c->io);
    if (f < 0)
        return -1;
    int rc = import_from(c->io, f, c->s);
    if (vkdp_h5_close(c->io, f) < 0)
        rc = -1;
    return rc;
}

int vkdp_keras_import(const char *path, vkdp_ckpt_state *s, char *err, size_t errlen)
{
    vkdp_h5_io io = {path, "Keras export", NULL, err, errlen};
    vkdp_ckpt_state_init(s);
    import_ctx c = {&io, s};
    if (vkdp_h5_quietly(import_file, &c) < 0)
        return -1;
    /* the export is its own backbone weights file: the session loads and hashes it as such */
    if (strlen(path) >= sizeof s->weights_file)
        return vkdp_h5_fail(&io, "path too long");
    snprintf(s->weights_file, sizeof s->weights_file, "%s", path);
    if (vkdp_sha256_file(path, s->weights_sha256) != 0)
        return vkdp_h5_fail(&io, "cannot read for sha256: %s", vkdp_errno_str());
    s->backbone_trainable = 0;
    s->from_export = 1;
    return 0;
}

/* 1: the file has root layer_names and no /config (an export); 0: anything else, which the
 * checkpoint reader then judges. */
static int looks_like_export(void *arg)
{
    char scratch[256];
    vkdp_h5_io io = {(const char *)arg, NULL, NULL, scratch, sizeof scratch};
    hid_t f = vkdp_h5_open_read(&io);
    if (f < 0)
        return 0;
    htri_t names = H5Aexists(f, "layer_names");
    int export = names > 0 && vkdp_h5_exists(&io, f, "config", "/config") == 0;
    return vkdp_h5_close(&io, f) < 0 ? 0 : export;
}

int vkdp_model_read(const char *path, vkdp_ckpt_state *s, char *err, size_t errlen)
{
    if (vkdp_h5_quietly(looks_like_export, (void *)path))
        return vkdp_keras_import(path, s, err, errlen);
    return vkdp_ckpt_read(path, s, err, errlen);
}
