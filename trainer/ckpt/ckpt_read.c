/* Reading checkpoints, which may be hostile: the scalars first (/config, /state, /optimizer, each
 * range-checked by the field table), then every tensor's shape checked against the others and the
 * class list before any tensor data is allocated, then the metrics whose row counts /state fixes.
 * Every message names the file and the object. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ckpt_io.h"

/* A float tensor: with_data 0 puts its shape into t and reads nothing; with_data 1 reads the data
 * of the tensor whose shape a first call put into t and the caller approved. */
static int read_tensor(vkdp_h5_io *io, hid_t loc, const char *rel, const char *full,
                       vkdp_named_tensor *t, int with_data)
{
    vkdp_h5_dset d;
    int ex = vkdp_h5_dset_open(io, loc, rel, full, 4, CKPT_MAX_TENSOR_ELEMS, &d);
    if (ex <= 0)
        return ex < 0 ? -1 : vkdp_h5_fail(io, "missing tensor %s", full);
    int rc = 0;
    if (d.cls != H5T_FLOAT) {
        rc = vkdp_h5_fail(io, "tensor %s is not floating-point", full);
    } else if (!with_data) {
        t->rank = d.rank;
        for (int i = 0; i < 4; i++)
            t->shape[i] = i < d.rank ? d.dims[i] : 0;
    } else if (d.count != vkdp_tensor_numel(t)) {
        rc = vkdp_h5_fail(io, "tensor %s changed shape while being read", full);
    } else {
        size_t bytes = (size_t)d.count * sizeof(float);
        t->data = vkdp_xmalloc(bytes);
        rc = vkdp_h5_dset_read(io, &d, full, H5T_NATIVE_FLOAT, t->data, bytes);
    }
    vkdp_h5_dset_close(&d);
    return rc;
}

static int expect_shape(vkdp_h5_io *io, const vkdp_named_tensor *t, const char *where, int rank,
                        int64_t d0, int64_t d1, const char *why)
{
    if (t->rank == rank && t->shape[0] == d0 && (rank < 2 || t->shape[1] == d1))
        return 0;
    char got[96];
    vkdp_tensor_shape_str(t, got, sizeof got);
    if (rank == 1)
        return vkdp_h5_fail(io, "tensor %s/%s has shape %s, expected [%lld] (%s)", where, t->name,
                            got, (long long)d0, why);
    return vkdp_h5_fail(io, "tensor %s/%s has shape %s, expected [%lld,%lld] (%s)", where,
                        t->name, got, (long long)d0, (long long)d1, why);
}

/* The head is GAP -> BatchNorm(head_bn) -> Dropout -> Dense(pred): shapes must agree with each
 * other and with the class list. Called on shapes, before the data is read. */
static int check_head(vkdp_h5_io *io, const vkdp_ckpt_state *s)
{
    const vkdp_named_tensor *k = vkdp_ckpt_find_weight(s, "pred/pred/kernel:0");
    const vkdp_named_tensor *b = vkdp_ckpt_find_weight(s, "pred/pred/bias:0");
    if (!k || !b)
        return vkdp_h5_fail(io, "missing tensor /head/pred/pred/%s", k ? "bias:0" : "kernel:0");
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

/* <group>/<layer>/<layer>/<weight>:0 following the `layer_names` and `weight_names` attributes
 * (Keras' own reading order) into the state's head (or backbone) tensors: every name and shape
 * first, the head's checked by check_head, then the data. */
static int read_layers(vkdp_h5_io *io, hid_t f, const char *group, vkdp_ckpt_state *s,
                       int backbone)
{
    char where[160];
    snprintf(where, sizeof where, "/%s", group);
    vkdp_named_tensor **out = backbone ? &s->backbone : &s->weights;
    int *nout = backbone ? &s->nbackbone : &s->nweights;
    hid_t g = vkdp_h5_group_open(io, f, group, where);
    if (g < 0)
        return -1;
    char **layers = NULL;
    size_t nlayers = 0;
    int rc = vkdp_h5_attr_read_strs(io, g, where, "layer_names", &layers, &nlayers);
    vkdp_named_tensor *t = NULL;
    int n = 0, cap = 0;
    for (size_t l = 0; rc == 0 && l < nlayers; l++) {
        char lwhere[400];
        snprintf(lwhere, sizeof lwhere, "%s/%s", where, layers[l]);
        hid_t lg = vkdp_h5_group_open(io, g, layers[l], lwhere);
        if (lg < 0) {
            rc = -1;
            break;
        }
        char **w = NULL;
        size_t nw = 0;
        rc = vkdp_h5_attr_read_strs(io, lg, lwhere, "weight_names", &w, &nw);
        for (size_t i = 0; rc == 0 && i < nw; i++) {
            char name[512], full[700];
            int len = snprintf(name, sizeof name, "%s/%s", layers[l], w[i]);
            snprintf(full, sizeof full, "%s/%s", where, name);
            if (len >= (int)sizeof(((vkdp_named_tensor *)0)->name)) {
                rc = vkdp_h5_fail(io, "tensor name %s is too long", full);
                break;
            }
            if (n == cap) {
                cap = cap ? 2 * cap : 8;
                t = vkdp_xrealloc(t, (size_t)cap * sizeof *t);
            }
            memset(&t[n], 0, sizeof t[n]);
            memcpy(t[n].name, name, (size_t)len + 1);
            n++;
            rc = read_tensor(io, g, name, full, &t[n - 1], 0);
        }
        vkdp_h5_strs_free(w, nw);
        H5Gclose(lg);
    }
    vkdp_h5_strs_free(layers, nlayers);
    *out = t;
    *nout = n;
    if (rc == 0 && n == 0)
        rc = vkdp_h5_fail(io, "%s holds no tensors", where);
    if (rc == 0 && !backbone)
        rc = check_head(io, s);
    for (int i = 0; rc == 0 && i < n; i++) {
        char full[700];
        snprintf(full, sizeof full, "%s/%s", where, t[i].name);
        rc = read_tensor(io, g, t[i].name, full, &t[i], 1);
    }
    H5Gclose(g);
    return rc;
}

static int read_config(vkdp_h5_io *io, hid_t f, vkdp_ckpt_state *s)
{
    hid_t g = vkdp_h5_group_open(io, f, "config", "/config");
    if (g < 0)
        return -1;
    int rc = ckpt_class_names_read(io, g, "/config", "class_names", s);
    if (rc == 0) {
        int n = s->nclasses;
        rc = ckpt_fields_read(io, g, "config", s);
        if (rc == 0 && s->nclasses != n)
            rc = vkdp_h5_fail(io, "/config has nclasses = %d but %d class names", s->nclasses, n);
        s->nclasses = n;
    }
    H5Gclose(g);
    return rc;
}

int ckpt_class_names_read(vkdp_h5_io *io, hid_t g, const char *where, const char *name, vkdp_ckpt_state *s)
{
    char **names = NULL;
    size_t n = 0;
    int rc = vkdp_h5_attr_read_strs(io, g, where, name, &names, &n);
    s->class_names = names;
    s->nclasses = (int)n;
    if (rc == 0 && (n == 0 || n > (1 << 20)))
        rc = vkdp_h5_fail(io, "%s %s holds %zu names (1..%d expected)", where, name, n, 1 << 20);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (!names[i][0])
            rc = vkdp_h5_fail(io, "%s %s[%zu] is empty", where, name, i);
    return rc;
}

/* The loop position must be one the training loop can continue from. */
static int check_state(vkdp_h5_io *io, const vkdp_ckpt_state *s)
{
    if (s->steps_per_epoch == 0 ? s->step_in_epoch != 0 : s->step_in_epoch >= s->steps_per_epoch)
        return vkdp_h5_fail(io, "/state step_in_epoch = %" PRId64 " is not below /state "
                                "steps_per_epoch = %" PRId64, s->step_in_epoch, s->steps_per_epoch);
    if (s->global_step < s->step_in_epoch)
        return vkdp_h5_fail(io, "/state global_step = %" PRId64 " is below /state step_in_epoch = %"
                                PRId64, s->global_step, s->step_in_epoch);
    if (s->epoch_correct > s->epoch_count)
        return vkdp_h5_fail(io, "/state epoch_correct = %" PRId64 " exceeds /state epoch_count = %"
                                PRId64, s->epoch_correct, s->epoch_count);
    return 0;
}

static int read_scalars(vkdp_h5_io *io, hid_t f, const char *group, vkdp_ckpt_state *s)
{
    char where[32];
    snprintf(where, sizeof where, "/%s", group);
    hid_t g = vkdp_h5_group_open(io, f, group, where);
    if (g < 0)
        return -1;
    int rc = ckpt_fields_read(io, g, group, s);
    H5Gclose(g);
    return rc;
}

/* /optimizer's m/<name> and v/<name> for each of slot_names, each of its weight's shape (checked
 * before it is allocated). */
static int read_slots(vkdp_h5_io *io, hid_t f, vkdp_ckpt_state *s)
{
    hid_t g = vkdp_h5_group_open(io, f, "optimizer", "/optimizer");
    if (g < 0)
        return -1;
    char **names = NULL;
    size_t n = 0;
    int rc = vkdp_h5_attr_read_strs(io, g, "/optimizer", "slot_names", &names, &n);
    if (rc == 0 && n > (size_t)s->nweights + (size_t)s->nbackbone)
        rc = vkdp_h5_fail(io, "/optimizer slot_names lists %zu slots for %d weight tensors", n,
                          s->nweights + s->nbackbone);
    if (rc == 0) {
        s->adam_m = vkdp_xcalloc(n ? n : 1, sizeof *s->adam_m);
        s->adam_v = vkdp_xcalloc(n ? n : 1, sizeof *s->adam_v);
        s->nslots = (int)n;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const vkdp_named_tensor *w = vkdp_ckpt_find_weight(s, names[i]);
        if (!w) {
            rc = vkdp_h5_fail(io, "/optimizer slot %s belongs to no tensor in /head%s", names[i],
                              s->backbone_trainable ? " or /backbone" : "");
            break;
        }
        vkdp_named_tensor *mv[2] = {&s->adam_m[i], &s->adam_v[i]};
        for (int k = 0; rc == 0 && k < 2; k++) {
            char rel[300], full[400];
            snprintf(mv[k]->name, sizeof mv[k]->name, "%s", names[i]);
            snprintf(rel, sizeof rel, "%c/%s", "mv"[k], names[i]);
            snprintf(full, sizeof full, "/optimizer/%s", rel);
            rc = read_tensor(io, g, rel, full, mv[k], 0);
            int same = rc == 0 && mv[k]->rank == w->rank;
            for (int d = 0; same && d < w->rank; d++)
                same = mv[k]->shape[d] == w->shape[d];
            if (rc == 0 && !same) {
                char a[96], b[96];
                vkdp_tensor_shape_str(mv[k], a, sizeof a);
                vkdp_tensor_shape_str(w, b, sizeof b);
                rc = vkdp_h5_fail(io, "tensor %s has shape %s but its weight has %s", full, a, b);
            }
            if (rc == 0)
                rc = read_tensor(io, g, rel, full, mv[k], 1);
        }
    }
    vkdp_h5_strs_free(names, n);
    H5Gclose(g);
    return rc;
}

typedef struct {
    vkdp_h5_io *io;
    vkdp_ckpt_state *s;
} read_ctx;

static int read_file(void *arg)
{
    read_ctx *c = arg;
    vkdp_h5_io *io = c->io;
    vkdp_ckpt_state *s = c->s;
    hid_t f = vkdp_h5_open_read(io);
    if (f < 0)
        return -1;
    int rc = -1;
    if (read_config(io, f, s) < 0 || read_scalars(io, f, "state", s) < 0 || check_state(io, s) < 0 ||
        read_scalars(io, f, "optimizer", s) < 0)
        goto done;
    if (read_layers(io, f, "head", s, 0) < 0)
        goto done;
    if (s->backbone_trainable && read_layers(io, f, "backbone", s, 1) < 0)
        goto done;
    if (read_slots(io, f, s) < 0 || ckpt_metrics_read(io, f, s) < 0)
        goto done;
    rc = 0;
done:
    if (vkdp_h5_close(io, f) < 0 && rc == 0)
        rc = -1;
    return rc;
}

int vkdp_ckpt_read(const char *path, vkdp_ckpt_state *s, char *err, size_t errlen)
{
    vkdp_h5_io io = {path, NULL, CKPT_HINT, err, errlen};
    vkdp_ckpt_state_init(s);
    s->version[0] = s->git_commit[0] = 0;
    struct stat st;
    if (stat(path, &st) < 0)
        return vkdp_h5_fail(&io, "cannot open checkpoint: %s", strerror(errno));
    read_ctx c = {&io, s};
    return vkdp_h5_quietly(read_file, &c);
}
