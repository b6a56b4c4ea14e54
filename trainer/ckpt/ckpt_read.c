/* Reading checkpoints, checking the layout as we go: every missing group, attribute or tensor
 * and every inconsistent shape is reported with the file's name and the object's path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ckpt_h5.h"

static int read_tensor(ckpt_io *io, hid_t loc, const char *rel, const char *full,
                       vkdp_named_tensor *t)
{
    htri_t ex = H5Lexists(loc, rel, H5P_DEFAULT);
    if (ex < 0) {
        /* An intermediate group of rel is missing. */
        H5Eclear2(H5E_DEFAULT);
        ex = 0;
    }
    if (ex == 0)
        return ckpt_fail(io, "missing tensor %s", full);
    hid_t ds = H5Dopen2(loc, rel, H5P_DEFAULT);
    if (ds < 0)
        return ckpt_fail_h5(io, "%s is not a readable dataset", full);
    int rc = 0;
    hid_t ty = H5Dget_type(ds), sp = H5Dget_space(ds);
    int nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    if (ty < 0 || H5Tget_class(ty) != H5T_FLOAT) {
        rc = ckpt_fail(io, "tensor %s is not floating-point", full);
    } else if (nd < 0 || nd > 4) {
        rc = ckpt_fail(io, "tensor %s has rank %d (0..4 supported)", full, nd);
    } else {
        hsize_t dims[4] = {0, 0, 0, 0};
        H5Sget_simple_extent_dims(sp, dims, NULL);
        t->rank = nd;
        for (int d = 0; d < 4; d++)
            t->shape[d] = d < nd ? (int64_t)dims[d] : 0;
        int64_t n = 1;
        for (int d = 0; d < nd && n <= (INT64_C(1) << 32); d++)
            n *= (int64_t)dims[d];
        if (n > (INT64_C(1) << 32)) {
            t->rank = 0;
            rc = ckpt_fail(io, "tensor %s is implausibly large (over 2^32 values)", full);
            goto out;
        }
        t->data = vkdp_xmalloc((size_t)(n ? n : 1) * sizeof(float));
        if (H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->data) < 0)
            rc = ckpt_fail_h5(io, "cannot read tensor %s (file truncated or corrupt?)", full);
    }
out:
    if (ty >= 0)
        H5Tclose(ty);
    if (sp >= 0)
        H5Sclose(sp);
    H5Dclose(ds);
    return rc;
}

/* <group>/<layer>/<layer>/<weight>:0 following the `layer_names` and `weight_names` attributes
 * (Keras' own reading order). */
static int read_layers(ckpt_io *io, hid_t f, const char *group, vkdp_named_tensor **out, int *nout)
{
    char where[160];
    snprintf(where, sizeof where, "/%s", group);
    hid_t g = ckpt_group_open(io, f, group, "/");
    if (g < 0)
        return -1;
    char **layers = NULL;
    size_t nlayers = 0;
    int rc = ckpt_attr_read_strs(io, g, where, "layer_names", &layers, &nlayers);
    vkdp_named_tensor *t = NULL;
    int n = 0, cap = 0;
    for (size_t l = 0; rc == 0 && l < nlayers; l++) {
        char lwhere[400];
        snprintf(lwhere, sizeof lwhere, "%s/%s", where, layers[l]);
        hid_t lg = ckpt_group_open(io, g, layers[l], where);
        if (lg < 0) {
            rc = -1;
            break;
        }
        char **w = NULL;
        size_t nw = 0;
        rc = ckpt_attr_read_strs(io, lg, lwhere, "weight_names", &w, &nw);
        for (size_t i = 0; rc == 0 && i < nw; i++) {
            char name[512], full[700];
            int len = snprintf(name, sizeof name, "%s/%s", layers[l], w[i]);
            snprintf(full, sizeof full, "%s/%s", where, name);
            if (len >= (int)sizeof(((vkdp_named_tensor *)0)->name)) {
                rc = ckpt_fail(io, "tensor name %s is too long", full);
                break;
            }
            if (n == cap) {
                cap = cap ? 2 * cap : 8;
                t = vkdp_xrealloc(t, (size_t)cap * sizeof *t);
            }
            memset(&t[n], 0, sizeof t[n]);
            memcpy(t[n].name, name, (size_t)len + 1);
            n++;
            rc = read_tensor(io, g, name, full, &t[n - 1]);
        }
        ckpt_strs_free(w, nw);
        H5Gclose(lg);
    }
    ckpt_strs_free(layers, nlayers);
    H5Gclose(g);
    *out = t;
    *nout = n;
    if (rc == 0 && n == 0)
        rc = ckpt_fail(io, "%s holds no tensors", where);
    return rc;
}

static int expect_shape(ckpt_io *io, const vkdp_named_tensor *t, const char *where, int rank,
                        int64_t d0, int64_t d1, const char *why)
{
    if (t->rank == rank && t->shape[0] == d0 && (rank < 2 || t->shape[1] == d1))
        return 0;
    char got[96];
    vkdp_tensor_shape_str(t, got, sizeof got);
    if (rank == 1)
        return ckpt_fail(io, "tensor %s/%s has shape %s, expected [%lld] (%s)", where, t->name, got,
                         (long long)d0, why);
    return ckpt_fail(io, "tensor %s/%s has shape %s, expected [%lld,%lld] (%s)", where, t->name,
                     got, (long long)d0, (long long)d1, why);
}

/* The head is GAP -> BatchNorm(head_bn) -> Dropout -> Dense(pred): shapes must agree with each
 * other and with the class list. */
static int check_head(ckpt_io *io, const vkdp_ckpt_state *s)
{
    const vkdp_named_tensor *k = vkdp_ckpt_find_weight(s, "pred/pred/kernel:0");
    const vkdp_named_tensor *b = vkdp_ckpt_find_weight(s, "pred/pred/bias:0");
    if (!k || !b)
        return ckpt_fail(io, "missing tensor /head/pred/pred/%s", k ? "bias:0" : "kernel:0");
    if (k->rank != 2)
        return expect_shape(io, k, "/head", 2, k->shape[0], s->nclasses, "features x classes");
    if (expect_shape(io, k, "/head", 2, k->shape[0], s->nclasses, "features x classes in /config") < 0 ||
        expect_shape(io, b, "/head", 1, s->nclasses, 0, "one per class in /config") < 0)
        return -1;
    for (int i = 0; i < s->nweights; i++)
        if (!strncmp(s->weights[i].name, "head_bn/", 8) &&
            expect_shape(io, &s->weights[i], "/head", 1, k->shape[0], 0,
                         "one per feature of pred/kernel") < 0)
            return -1;
    return 0;
}

#define RD(loc, where, name, type, cls, ptr)                                                     \
    do {                                                                                         \
        if (ckpt_attr_read(io, loc, where, name, type, cls, ptr) < 0)                            \
            goto fail;                                                                           \
    } while (0)
#define RDS(loc, where, name, buf)                                                               \
    do {                                                                                         \
        if (ckpt_attr_read_str(io, loc, where, name, buf, sizeof buf) < 0)                       \
            goto fail;                                                                           \
    } while (0)

static int read_config(ckpt_io *io, hid_t f, vkdp_ckpt_state *s)
{
    hid_t g = ckpt_group_open(io, f, "config", "/");
    if (g < 0)
        return -1;
    char **names = NULL;
    size_t n = 0;
    if (ckpt_attr_read_strs(io, g, "/config", "class_names", &names, &n) < 0)
        goto fail;
    s->class_names = names;
    s->nclasses = (int)n;
    int nclasses = 0;
    RD(g, "/config", "nclasses", H5T_NATIVE_INT, H5T_INTEGER, &nclasses);
    if (nclasses != s->nclasses || n == 0) {
        ckpt_fail(io, "/config has nclasses = %d but %zu class names", nclasses, n);
        goto fail;
    }
    RD(g, "/config", "image_size", H5T_NATIVE_INT, H5T_INTEGER, &s->image_size);
    RD(g, "/config", "seed", H5T_NATIVE_UINT64, H5T_INTEGER, &s->seed);
    RD(g, "/config", "batch", H5T_NATIVE_INT, H5T_INTEGER, &s->batch);
    RD(g, "/config", "epochs", H5T_NATIVE_INT, H5T_INTEGER, &s->epochs);
    RD(g, "/config", "lr", H5T_NATIVE_DOUBLE, H5T_FLOAT, &s->lr);
    RD(g, "/config", "dropout", H5T_NATIVE_DOUBLE, H5T_FLOAT, &s->dropout);
    RD(g, "/config", "validation_split", H5T_NATIVE_DOUBLE, H5T_FLOAT, &s->validation_split);
    RD(g, "/config", "nranks", H5T_NATIVE_INT, H5T_INTEGER, &s->nranks);
    RD(g, "/config", "backbone_trainable", H5T_NATIVE_INT, H5T_INTEGER, &s->backbone_trainable);
    RDS(g, "/config", "data_dir", s->data_dir);
    RDS(g, "/config", "weights_file", s->weights_file);
    RDS(g, "/config", "weights_sha256", s->weights_sha256);
    RDS(g, "/config", "version", s->version);
    RDS(g, "/config", "git_commit", s->git_commit);
    RDS(g, "/config", "created", s->created);
    H5Gclose(g);
    return 0;
fail:
    H5Gclose(g);
    return -1;
}

static int read_optimizer(ckpt_io *io, hid_t f, vkdp_ckpt_state *s)
{
    hid_t g = ckpt_group_open(io, f, "optimizer", "/");
    if (g < 0)
        return -1;
    char **names = NULL;
    size_t n = 0;
    double lr = 0;
    RD(g, "/optimizer", "iterations", H5T_NATIVE_INT64, H5T_INTEGER, &s->iterations);
    RD(g, "/optimizer", "lr", H5T_NATIVE_DOUBLE, H5T_FLOAT, &lr);
    RD(g, "/optimizer", "beta1", H5T_NATIVE_DOUBLE, H5T_FLOAT, &s->beta1);
    RD(g, "/optimizer", "beta2", H5T_NATIVE_DOUBLE, H5T_FLOAT, &s->beta2);
    RD(g, "/optimizer", "epsilon", H5T_NATIVE_DOUBLE, H5T_FLOAT, &s->epsilon);
    if (ckpt_attr_read_strs(io, g, "/optimizer", "slot_names", &names, &n) < 0)
        goto fail;
    s->adam_m = vkdp_xcalloc(n ? n : 1, sizeof *s->adam_m);
    s->adam_v = vkdp_xcalloc(n ? n : 1, sizeof *s->adam_v);
    s->nslots = (int)n;
    for (size_t i = 0; i < n; i++) {
        char rel[300], full[400];
        const vkdp_named_tensor *w = vkdp_ckpt_find_weight(s, names[i]);
        if (!w) {
            ckpt_fail(io, "/optimizer slot %s belongs to no tensor in /head%s", names[i],
                      s->backbone_trainable ? " or /backbone" : "");
            goto fail;
        }
        vkdp_named_tensor *mv[2] = {&s->adam_m[i], &s->adam_v[i]};
        for (int k = 0; k < 2; k++) {
            snprintf(mv[k]->name, sizeof mv[k]->name, "%s", names[i]);
            snprintf(rel, sizeof rel, "%c/%s", "mv"[k], names[i]);
            snprintf(full, sizeof full, "/optimizer/%s", rel);
            if (read_tensor(io, g, rel, full, mv[k]) < 0)
                goto fail;
            int same = mv[k]->rank == w->rank;
            for (int d = 0; same && d < w->rank; d++)
                same = mv[k]->shape[d] == w->shape[d];
            if (!same) {
                char a[96], b[96];
                vkdp_tensor_shape_str(mv[k], a, sizeof a);
                vkdp_tensor_shape_str(w, b, sizeof b);
                ckpt_fail(io, "tensor %s has shape %s but its weight has %s", full, a, b);
                goto fail;
            }
        }
    }
    ckpt_strs_free(names, n);
    H5Gclose(g);
    return 0;
fail:
    ckpt_strs_free(names, n);
    H5Gclose(g);
    return -1;
}

static int read_state(ckpt_io *io, hid_t f, vkdp_ckpt_state *s)
{
    hid_t g = ckpt_group_open(io, f, "state", "/");
    if (g < 0)
        return -1;
    RD(g, "/state", "epoch", H5T_NATIVE_INT, H5T_INTEGER, &s->epoch);
    RD(g, "/state", "global_step", H5T_NATIVE_INT64, H5T_INTEGER, &s->global_step);
    RD(g, "/state", "step_in_epoch", H5T_NATIVE_INT64, H5T_INTEGER, &s->step_in_epoch);
    RD(g, "/state", "steps_per_epoch", H5T_NATIVE_INT64, H5T_INTEGER, &s->steps_per_epoch);
    RD(g, "/state", "sampler_seed", H5T_NATIVE_UINT64, H5T_INTEGER, &s->sampler_seed);
    RD(g, "/state", "dropout_seed", H5T_NATIVE_UINT64, H5T_INTEGER, &s->dropout_seed);
    RD(g, "/state", "epoch_loss_sum", H5T_NATIVE_DOUBLE, H5T_FLOAT, &s->epoch_loss_sum);
    RD(g, "/state", "epoch_correct", H5T_NATIVE_INT64, H5T_INTEGER, &s->epoch_correct);
    RD(g, "/state", "epoch_count", H5T_NATIVE_INT64, H5T_INTEGER, &s->epoch_count);
    RD(g, "/state", "epoch_skipped", H5T_NATIVE_INT64, H5T_INTEGER, &s->epoch_skipped);
    RD(g, "/state", "epoch_seconds", H5T_NATIVE_DOUBLE, H5T_FLOAT, &s->epoch_seconds);
    H5Gclose(g);
    return 0;
fail:
    H5Gclose(g);
    return -1;
}

/* 1-D compound table whose fields include every field of memtype (matched by name). */
static int read_table(ckpt_io *io, hid_t g, const char *name, hid_t memtype, void **rows,
                      int64_t *nrows)
{
    char full[64];
    snprintf(full, sizeof full, "/metrics/%s", name);
    *rows = NULL;
    *nrows = 0;
    if (H5Lexists(g, name, H5P_DEFAULT) <= 0)
        return ckpt_fail(io, "missing table %s", full);
    hid_t ds = H5Dopen2(g, name, H5P_DEFAULT);
    if (ds < 0)
        return ckpt_fail_h5(io, "%s is not a readable dataset", full);
    int rc = 0;
    hid_t ty = H5Dget_type(ds), sp = H5Dget_space(ds);
    if (ty < 0 || H5Tget_class(ty) != H5T_COMPOUND) {
        rc = ckpt_fail(io, "table %s is not a compound dataset", full);
    } else if (sp < 0 || H5Sget_simple_extent_ndims(sp) != 1) {
        rc = ckpt_fail(io, "table %s is not one-dimensional", full);
    } else {
        int nm = H5Tget_nmembers(memtype);
        for (int i = 0; i < nm && rc == 0; i++) {
            char *field = H5Tget_member_name(memtype, (unsigned)i);
            int idx = field ? H5Tget_member_index(ty, field) : -1;
            hid_t ft = idx >= 0 ? H5Tget_member_type(ty, (unsigned)idx) : -1;
            H5T_class_t c = ft >= 0 ? H5Tget_class(ft) : H5T_NO_CLASS;
            if (ft >= 0)
                H5Tclose(ft);
            if (c != H5T_INTEGER && c != H5T_FLOAT)
                rc = ckpt_fail(io, "table %s has no numeric field '%s'", full, field ? field : "?");
            H5free_memory(field);
        }
        H5Eclear2(H5E_DEFAULT);
        hsize_t n = 0;
        H5Sget_simple_extent_dims(sp, &n, NULL);
        if (rc == 0 && n > 0) {
            *rows = vkdp_xcalloc((size_t)n, H5Tget_size(memtype));
            *nrows = (int64_t)n;
            if (H5Dread(ds, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, *rows) < 0)
                rc = ckpt_fail_h5(io, "cannot read table %s (file truncated or corrupt?)", full);
        }
    }
    if (ty >= 0)
        H5Tclose(ty);
    if (sp >= 0)
        H5Sclose(sp);
    H5Dclose(ds);
    return rc;
}

static int read_metrics(ckpt_io *io, hid_t f, vkdp_ckpt_state *s)
{
    hid_t g = ckpt_group_open(io, f, "metrics", "/");
    if (g < 0)
        return -1;
    hid_t et = ckpt_epoch_metrics_type(), st = ckpt_step_metrics_type();
    void *rows = NULL;
    int64_t n = 0;
    int rc = read_table(io, g, "epoch", et, &rows, &n);
    s->epoch_m = rows;
    s->nepochs_m = (int)n;
    if (rc == 0) {
        rc = read_table(io, g, "step", st, &rows, &n);
        s->step_m = rows;
        s->nsteps_m = n;
    }
    H5Tclose(et);
    H5Tclose(st);
    H5Gclose(g);
    return rc;
}

int vkdp_ckpt_read(const char *path, vkdp_ckpt_state *s, char *err, size_t errlen)
{
    ckpt_io io_ = {path, err, errlen}, *io = &io_;
    vkdp_ckpt_state_init(s);
    s->version[0] = s->git_commit[0] = 0;
    struct stat st;
    if (stat(path, &st) < 0)
        return ckpt_fail(io, "cannot open checkpoint: %s", strerror(errno));
    if (!S_ISREG(st.st_mode))
        return ckpt_fail(io, "not a regular file");
    ckpt_h5_quiet quiet;
    ckpt_h5_quiet_begin(&quiet);
    int rc = -1;
    hid_t f = -1;
    htri_t is = H5Fis_hdf5(path);
    if (is <= 0) {
        if (is == 0)
            ckpt_fail(io, "not an HDF5 file (no HDF5 signature in its %lld bytes)",
                      (long long)st.st_size);
        else
            ckpt_fail_h5(io, "cannot read the file");
        goto done;
    }
    f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        ckpt_fail_h5(io, "cannot open the HDF5 file (%lld bytes; truncated or corrupt?)",
                     (long long)st.st_size);
        goto done;
    }
    if (read_config(io, f, s) < 0 || read_layers(io, f, "head", &s->weights, &s->nweights) < 0 ||
        check_head(io, s) < 0)
        goto done;
    if (s->backbone_trainable &&
        read_layers(io, f, "backbone", &s->backbone, &s->nbackbone) < 0)
        goto done;
    if (read_optimizer(io, f, s) < 0 || read_state(io, f, s) < 0 || read_metrics(io, f, s) < 0)
        goto done;
    rc = 0;
done:
    if (f >= 0 && H5Fclose(f) < 0 && rc == 0)
        rc = ckpt_fail_h5(io, "cannot close the file");
    ckpt_h5_quiet_end(&quiet);
    return rc;
}
