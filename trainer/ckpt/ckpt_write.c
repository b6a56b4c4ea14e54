/* Writing checkpoints: the state checked, built as an HDF5 file in memory (h5 layer), written by
 * the atomic writer; then latest.h5 switched and old checkpoints pruned (ckpt_dir.c). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt_io.h"
#include "vkdp/h5/atomic_file.h"

/* ---------------------------------------------------------------- state validation */

static int check_tensor(vkdp_h5_io *io, const char *what, const vkdp_named_tensor *t)
{
    if (!memchr(t->name, 0, sizeof t->name) || !t->name[0])
        return vkdp_h5_fail(io, "%s tensor has an empty or unterminated name", what);
    const char *slash = strchr(t->name, '/');
    if (!slash || slash == t->name || !strchr(slash + 1, '/'))
        return vkdp_h5_fail(io, "%s tensor name '%s' is not in the Keras layout "
                             "<layer>/<layer>/<weight>:0", what, t->name);
    if (t->rank < 0 || t->rank > 4)
        return vkdp_h5_fail(io, "%s tensor %s has rank %d (0..4 supported)", what, t->name, t->rank);
    for (int d = 0; d < t->rank; d++)
        if (t->shape[d] <= 0)
            return vkdp_h5_fail(io, "%s tensor %s has dimension %d = %lld", what, t->name, d,
                             (long long)t->shape[d]);
    if (!t->data)
        return vkdp_h5_fail(io, "%s tensor %s has no data", what, t->name);
    return 0;
}

static int same_shape(const vkdp_named_tensor *a, const vkdp_named_tensor *b)
{
    if (a->rank != b->rank)
        return 0;
    for (int d = 0; d < a->rank; d++)
        if (a->shape[d] != b->shape[d])
            return 0;
    return 1;
}

static int validate(vkdp_h5_io *io, const vkdp_ckpt_state *s)
{
    if (s->nclasses <= 0 || !s->class_names)
        return vkdp_h5_fail(io, "state has no class names");
    for (int i = 0; i < s->nclasses; i++)
        if (!s->class_names[i] || !s->class_names[i][0])
            return vkdp_h5_fail(io, "state's class name %d is empty", i);
    if (s->nweights <= 0 || !s->weights)
        return vkdp_h5_fail(io, "state has no head weights");
    if (s->backbone_trainable && (s->nbackbone <= 0 || !s->backbone))
        return vkdp_h5_fail(io, "state has a trainable backbone but no backbone tensors");
    for (int i = 0; i < s->nweights; i++)
        if (check_tensor(io, "head", &s->weights[i]) < 0)
            return -1;
    for (int i = 0; s->backbone_trainable && i < s->nbackbone; i++)
        if (check_tensor(io, "backbone", &s->backbone[i]) < 0)
            return -1;
    if (s->nslots < 0 || (s->nslots > 0 && (!s->adam_m || !s->adam_v)))
        return vkdp_h5_fail(io, "state's Adam slots are missing");
    for (int i = 0; i < s->nslots; i++) {
        if (check_tensor(io, "Adam m", &s->adam_m[i]) < 0 || check_tensor(io, "Adam v", &s->adam_v[i]) < 0)
            return -1;
        const vkdp_named_tensor *w = vkdp_ckpt_find_weight(s, s->adam_m[i].name);
        if (!w)
            return vkdp_h5_fail(io, "Adam slot %s belongs to no weight tensor", s->adam_m[i].name);
        if (strcmp(s->adam_m[i].name, s->adam_v[i].name))
            return vkdp_h5_fail(io, "Adam slot %d: m is %s but v is %s", i, s->adam_m[i].name,
                             s->adam_v[i].name);
        if (!same_shape(w, &s->adam_m[i]) || !same_shape(w, &s->adam_v[i]))
            return vkdp_h5_fail(io, "Adam slot %s does not have its weight's shape", w->name);
    }
    if (s->nepochs_m < 0 || (s->nepochs_m > 0 && !s->epoch_m) || s->nsteps_m < 0 ||
        (s->nsteps_m > 0 && !s->step_m))
        return vkdp_h5_fail(io, "state's metrics arrays are missing");
    return 0;
}

/* ---------------------------------------------------------------- HDF5 content */

static int write_tensor(vkdp_h5_io *io, hid_t loc, const char *path, const vkdp_named_tensor *t)
{
    hsize_t dims[4];
    for (int d = 0; d < t->rank; d++)
        dims[d] = (hsize_t)t->shape[d];
    return vkdp_h5_dset_write(io, loc, path, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, t->rank, dims, NULL,
                              t->data);
}

/* Keras legacy layout: <group>/<layer>/<layer>/<weight>:0 datasets, `weight_names` ("<layer>/<weight>:0")
 * on <group>/<layer>, `layer_names` on <group>. */
static int write_layers(vkdp_h5_io *io, hid_t f, const char *group, const vkdp_named_tensor *t, int n)
{
    hid_t g = vkdp_h5_group_create(io, f, group);
    if (g < 0)
        return -1;
    int rc = 0;
    const char **layers = vkdp_xcalloc((size_t)n, sizeof *layers);
    size_t *layer_len = vkdp_xcalloc((size_t)n, sizeof *layer_len);
    const char **wnames = vkdp_xcalloc((size_t)n, sizeof *wnames);
    int nlayers = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        size_t len = (size_t)(strchr(t[i].name, '/') - t[i].name);
        int seen = 0;
        for (int j = 0; j < nlayers; j++)
            seen |= layer_len[j] == len && !strncmp(layers[j], t[i].name, len);
        if (!seen) {
            layers[nlayers] = t[i].name;
            layer_len[nlayers++] = len;
        }
        if (H5Lexists(g, t[i].name, H5P_DEFAULT) > 0)
            rc = vkdp_h5_fail(io, "tensor %s/%s appears twice", group, t[i].name);
        else
            rc = write_tensor(io, g, t[i].name, &t[i]);
    }
    char **lnames = vkdp_xcalloc((size_t)(nlayers ? nlayers : 1), sizeof *lnames);
    for (int j = 0; j < nlayers; j++) {
        lnames[j] = vkdp_xcalloc(layer_len[j] + 1, 1);
        memcpy(lnames[j], layers[j], layer_len[j]);
    }
    for (int j = 0; j < nlayers && rc == 0; j++) {
        int nw = 0;
        for (int i = 0; i < n; i++)
            if (!strncmp(t[i].name, lnames[j], layer_len[j]) && t[i].name[layer_len[j]] == '/')
                wnames[nw++] = t[i].name + layer_len[j] + 1;
        hid_t lg = H5Gopen2(g, lnames[j], H5P_DEFAULT);
        if (lg < 0) {
            rc = vkdp_h5_fail_h5(io, "cannot open group %s/%s", group, lnames[j]);
            break;
        }
        rc = vkdp_h5_attr_write_strs(io, lg, "weight_names", wnames, (size_t)nw, 0);
        if (H5Gclose(lg) < 0 && rc == 0)
            rc = vkdp_h5_fail_h5(io, "cannot close group %s/%s", group, lnames[j]);
    }
    if (rc == 0)
        rc = vkdp_h5_attr_write_strs(io, g, "layer_names", (const char *const *)lnames, (size_t)nlayers, 0);
    for (int j = 0; j < nlayers; j++)
        free(lnames[j]);
    free(lnames);
    free(layers);
    free(layer_len);
    free(wnames);
    if (H5Gclose(g) < 0 && rc == 0)
        rc = vkdp_h5_fail_h5(io, "cannot close group %s", group);
    return rc;
}

/* A group holding the table's fields of `name` (and, for /config, the class names). */
static int write_fields(vkdp_h5_io *io, hid_t f, const char *name, const vkdp_ckpt_state *s)
{
    hid_t g = vkdp_h5_group_create(io, f, name);
    if (g < 0)
        return -1;
    int rc = 0;
    if (!strcmp(name, "config"))
        rc = vkdp_h5_attr_write_strs(io, g, "class_names", (const char *const *)s->class_names,
                                     (size_t)s->nclasses, 1);
    if (rc == 0)
        rc = ckpt_fields_write(io, g, name, s);
    if (H5Gclose(g) < 0 && rc == 0)
        rc = vkdp_h5_fail_h5(io, "cannot close group /%s", name);
    return rc;
}

static int write_optimizer(vkdp_h5_io *io, hid_t f, const vkdp_ckpt_state *s)
{
    hid_t g = vkdp_h5_group_create(io, f, "optimizer");
    if (g < 0)
        return -1;
    const char **names = vkdp_xcalloc((size_t)(s->nslots ? s->nslots : 1), sizeof *names);
    char path[160];
    int rc = ckpt_fields_write(io, g, "optimizer", s);
    for (int i = 0; rc == 0 && i < s->nslots; i++) {
        names[i] = s->adam_m[i].name;
        snprintf(path, sizeof path, "m/%s", s->adam_m[i].name);
        rc = write_tensor(io, g, path, &s->adam_m[i]);
        snprintf(path, sizeof path, "v/%s", s->adam_v[i].name);
        if (rc == 0)
            rc = write_tensor(io, g, path, &s->adam_v[i]);
    }
    if (rc == 0)
        rc = vkdp_h5_attr_write_strs(io, g, "slot_names", names, (size_t)s->nslots, 0);
    free(names);
    if (H5Gclose(g) < 0 && rc == 0)
        rc = vkdp_h5_fail_h5(io, "cannot close group /optimizer");
    return rc;
}

typedef struct {
    vkdp_h5_io *io;
    const vkdp_ckpt_state *s;
    void *img;
    size_t len;
} build_ctx;

/* The whole checkpoint as an HDF5 file image in memory (malloc'd img). */
static int build_image(void *arg)
{
    build_ctx *b = arg;
    vkdp_h5_io *io = b->io;
    const vkdp_ckpt_state *s = b->s;
    if (validate(io, s) < 0)
        return -1;
    hid_t f = vkdp_h5_mem_create(io);
    if (f < 0)
        return -1;
    int rc = write_fields(io, f, "config", s);
    if (rc == 0)
        rc = write_layers(io, f, "head", s->weights, s->nweights);
    if (rc == 0 && s->backbone_trainable)
        rc = write_layers(io, f, "backbone", s->backbone, s->nbackbone);
    if (rc == 0)
        rc = write_optimizer(io, f, s);
    if (rc == 0)
        rc = write_fields(io, f, "state", s);
    if (rc == 0)
        rc = ckpt_metrics_write(io, f, s);
    if (rc < 0) {
        H5Fclose(f);
        return -1;
    }
    return vkdp_h5_mem_finish(io, f, &b->img, &b->len);
}

int vkdp_ckpt_write(const char *dir, const vkdp_ckpt_state *s, int keep, char *path_out,
                    size_t path_len, char *err, size_t errlen)
{
    char fname[128], final[4400];
    snprintf(fname, sizeof fname, "ckpt-e%04d-s%09" PRId64 ".h5", s->epoch, s->global_step);
    snprintf(final, sizeof final, "%s/%s", dir, fname);
    vkdp_h5_io io = {final, NULL, NULL, err, errlen};
    if (!dir[0])
        return vkdp_h5_fail(&io, "empty checkpoint directory name");
    if (strlen(dir) > 4096)
        return vkdp_h5_fail(&io, "checkpoint directory name too long");
    if (s->epoch < 0 || s->global_step < 0)
        return vkdp_h5_fail(&io, "negative epoch %d or global step %" PRId64, s->epoch,
                            s->global_step);
    /* a shallow copy whose only change is the creation time */
    vkdp_ckpt_state w = *s;
    if (!w.created[0])
        vkdp_ckpt_utc_now(w.created, sizeof w.created);
    build_ctx b = {&io, &w, NULL, 0};
    if (vkdp_h5_quietly(build_image, &b) < 0)
        return -1;

    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        free(b.img);
        return vkdp_h5_fail(&io, "cannot create checkpoint directory %s: %s", dir, strerror(errno));
    }
    vkdp_atomic_remove_stale(dir);
    struct stat st;
    int existed = stat(final, &st) == 0;
    vkdp_atomic_file af;
    int rc = vkdp_atomic_write_temp(&io, &af, final, b.img, b.len);
    free(b.img);
    if (rc < 0)
        return -1;
    ckpt_test_sleep_hook();
    if (vkdp_atomic_commit(&io, &af) < 0 || ckpt_update_latest(&io, dir, fname) < 0) {
        /* latest.h5 still names the previous checkpoint: leave no newer file it does not name. */
        if (!existed)
            unlink(final);
        return -1;
    }
    if (keep > 0 && ckpt_prune(&io, dir, fname, keep) < 0)
        return -1;
    if (path_out && path_len)
        snprintf(path_out, path_len, "%s", final);
    return 0;
}
