/* Writing checkpoints. The HDF5 file is built in memory (core driver, no backing store) and its
 * image written with plain write(2): every disk error (ENOSPC included) is then one errno we
 * check ourselves, never a half-closed HDF5 file. Then: fsync, rename, fsync(dir), latest.h5
 * symlink swapped by rename, fsync(dir), pruning. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ckpt_h5.h"

#define TMP_PREFIX ".tmp-"

/* Temporary names end in ".<host>.<pid>": a writer that died is recognised by its pid only on
 * its own host (the checkpoint directory may be on a file system shared by several nodes). */
static const char *host_name(void)
{
    static char host[256];
    if (!host[0] && (gethostname(host, sizeof host - 1) < 0 || !host[0]))
        snprintf(host, sizeof host, "localhost");
    return host;
}

/* ---------------------------------------------------------------- state validation */

static int check_tensor(ckpt_io *io, const char *what, const vkdp_named_tensor *t)
{
    if (!memchr(t->name, 0, sizeof t->name) || !t->name[0])
        return ckpt_fail(io, "%s tensor has an empty or unterminated name", what);
    const char *slash = strchr(t->name, '/');
    if (!slash || slash == t->name || !strchr(slash + 1, '/'))
        return ckpt_fail(io, "%s tensor name '%s' is not in the Keras layout "
                             "<layer>/<layer>/<weight>:0", what, t->name);
    if (t->rank < 0 || t->rank > 4)
        return ckpt_fail(io, "%s tensor %s has rank %d (0..4 supported)", what, t->name, t->rank);
    for (int d = 0; d < t->rank; d++)
        if (t->shape[d] <= 0)
            return ckpt_fail(io, "%s tensor %s has dimension %d = %lld", what, t->name, d,
                             (long long)t->shape[d]);
    if (!t->data)
        return ckpt_fail(io, "%s tensor %s has no data", what, t->name);
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

static int validate(ckpt_io *io, const vkdp_ckpt_state *s)
{
    if (s->nclasses <= 0 || !s->class_names)
        return ckpt_fail(io, "state has no class names");
    for (int i = 0; i < s->nclasses; i++)
        if (!s->class_names[i] || !s->class_names[i][0])
            return ckpt_fail(io, "state's class name %d is empty", i);
    if (s->nweights <= 0 || !s->weights)
        return ckpt_fail(io, "state has no head weights");
    if (s->backbone_trainable && (s->nbackbone <= 0 || !s->backbone))
        return ckpt_fail(io, "state has a trainable backbone but no backbone tensors");
    for (int i = 0; i < s->nweights; i++)
        if (check_tensor(io, "head", &s->weights[i]) < 0)
            return -1;
    for (int i = 0; s->backbone_trainable && i < s->nbackbone; i++)
        if (check_tensor(io, "backbone", &s->backbone[i]) < 0)
            return -1;
    if (s->nslots < 0 || (s->nslots > 0 && (!s->adam_m || !s->adam_v)))
        return ckpt_fail(io, "state's Adam slots are missing");
    for (int i = 0; i < s->nslots; i++) {
        if (check_tensor(io, "Adam m", &s->adam_m[i]) < 0 || check_tensor(io, "Adam v", &s->adam_v[i]) < 0)
            return -1;
        const vkdp_named_tensor *w = vkdp_ckpt_find_weight(s, s->adam_m[i].name);
        if (!w)
            return ckpt_fail(io, "Adam slot %s belongs to no weight tensor", s->adam_m[i].name);
        if (strcmp(s->adam_m[i].name, s->adam_v[i].name))
            return ckpt_fail(io, "Adam slot %d: m is %s but v is %s", i, s->adam_m[i].name,
                             s->adam_v[i].name);
        if (!same_shape(w, &s->adam_m[i]) || !same_shape(w, &s->adam_v[i]))
            return ckpt_fail(io, "Adam slot %s does not have its weight's shape", w->name);
    }
    if (s->nepochs_m < 0 || (s->nepochs_m > 0 && !s->epoch_m) || s->nsteps_m < 0 ||
        (s->nsteps_m > 0 && !s->step_m))
        return ckpt_fail(io, "state's metrics arrays are missing");
    return 0;
}

/* ---------------------------------------------------------------- HDF5 content */

static int write_tensor(ckpt_io *io, hid_t loc, const char *path, const vkdp_named_tensor *t)
{
    hsize_t dims[4];
    for (int d = 0; d < t->rank; d++)
        dims[d] = (hsize_t)t->shape[d];
    hid_t sp = t->rank ? H5Screate_simple(t->rank, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    if (sp < 0 || lcpl < 0 || H5Pset_create_intermediate_group(lcpl, 1) < 0) {
        if (sp >= 0)
            H5Sclose(sp);
        if (lcpl >= 0)
            H5Pclose(lcpl);
        return ckpt_fail_h5(io, "cannot set up dataset %s", path);
    }
    hid_t ds = H5Dcreate2(loc, path, H5T_IEEE_F32LE, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Sclose(sp);
    H5Pclose(lcpl);
    if (ds < 0)
        return ckpt_fail_h5(io, "cannot create dataset %s", path);
    herr_t st = H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->data);
    if (H5Dclose(ds) < 0 || st < 0)
        return ckpt_fail_h5(io, "cannot write dataset %s", path);
    return 0;
}

/* Keras legacy layout: <group>/<layer>/<layer>/<weight>:0 datasets, `weight_names` ("<layer>/<weight>:0")
 * on <group>/<layer>, `layer_names` on <group>. */
static int write_layers(ckpt_io *io, hid_t f, const char *group, const vkdp_named_tensor *t, int n)
{
    hid_t g = ckpt_group_create(io, f, group);
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
            rc = ckpt_fail(io, "tensor %s/%s appears twice", group, t[i].name);
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
            rc = ckpt_fail_h5(io, "cannot open group %s/%s", group, lnames[j]);
            break;
        }
        rc = ckpt_attr_write_strs(io, lg, "weight_names", wnames, (size_t)nw, 0);
        if (H5Gclose(lg) < 0 && rc == 0)
            rc = ckpt_fail_h5(io, "cannot close group %s/%s", group, lnames[j]);
    }
    if (rc == 0)
        rc = ckpt_attr_write_strs(io, g, "layer_names", (const char *const *)lnames, (size_t)nlayers, 0);
    for (int j = 0; j < nlayers; j++)
        free(lnames[j]);
    free(lnames);
    free(layers);
    free(layer_len);
    free(wnames);
    if (H5Gclose(g) < 0 && rc == 0)
        rc = ckpt_fail_h5(io, "cannot close group %s", group);
    return rc;
}

/* Extendable (unlimited rows), chunked, deflate-compressed table. */
static int write_table(ckpt_io *io, hid_t loc, const char *name, hid_t type, const void *rows,
                       hsize_t n, hsize_t chunk)
{
    hsize_t dims[1] = {n}, maxdims[1] = {H5S_UNLIMITED}, chunks[1] = {chunk};
    hid_t sp = H5Screate_simple(1, dims, maxdims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    int ok = sp >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 1, chunks) >= 0 &&
             H5Pset_shuffle(dcpl) >= 0 && H5Pset_deflate(dcpl, 6) >= 0;
    hid_t ds = ok ? H5Dcreate2(loc, name, type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT) : -1;
    if (sp >= 0)
        H5Sclose(sp);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (ds < 0)
        return ckpt_fail_h5(io, "cannot create table /metrics/%s", name);
    herr_t st = n ? H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) : 0;
    if (H5Dclose(ds) < 0 || st < 0)
        return ckpt_fail_h5(io, "cannot write table /metrics/%s", name);
    return 0;
}

#define ATTR(loc, name, type, ptr)                                                               \
    do {                                                                                         \
        if (ckpt_attr_write(io, loc, name, type, ptr) < 0)                                       \
            goto fail;                                                                           \
    } while (0)
#define ATTR_STR(loc, name, value)                                                               \
    do {                                                                                         \
        if (ckpt_attr_write_str(io, loc, name, value) < 0)                                       \
            goto fail;                                                                           \
    } while (0)

static int write_config(ckpt_io *io, hid_t f, const vkdp_ckpt_state *s, const char *created)
{
    hid_t g = ckpt_group_create(io, f, "config");
    if (g < 0)
        return -1;
    int32_t bt = s->backbone_trainable;
    if (ckpt_attr_write_strs(io, g, "class_names", (const char *const *)s->class_names,
                             (size_t)s->nclasses, 1) < 0)
        goto fail;
    ATTR(g, "nclasses", H5T_NATIVE_INT, &s->nclasses);
    ATTR(g, "image_size", H5T_NATIVE_INT, &s->image_size);
    ATTR(g, "seed", H5T_NATIVE_UINT64, &s->seed);
    ATTR(g, "batch", H5T_NATIVE_INT, &s->batch);
    ATTR(g, "epochs", H5T_NATIVE_INT, &s->epochs);
    ATTR(g, "lr", H5T_NATIVE_DOUBLE, &s->lr);
    ATTR(g, "dropout", H5T_NATIVE_DOUBLE, &s->dropout);
    ATTR(g, "validation_split", H5T_NATIVE_DOUBLE, &s->validation_split);
    ATTR(g, "nranks", H5T_NATIVE_INT, &s->nranks);
    ATTR(g, "backbone_trainable", H5T_NATIVE_INT32, &bt);
    ATTR_STR(g, "data_dir", s->data_dir);
    ATTR_STR(g, "weights_file", s->weights_file);
    ATTR_STR(g, "weights_sha256", s->weights_sha256);
    ATTR_STR(g, "version", s->version);
    ATTR_STR(g, "git_commit", s->git_commit);
    ATTR_STR(g, "created", created);
    if (H5Gclose(g) < 0)
        return ckpt_fail_h5(io, "cannot close group /config");
    return 0;
fail:
    H5Gclose(g);
    return -1;
}

static int write_optimizer(ckpt_io *io, hid_t f, const vkdp_ckpt_state *s)
{
    hid_t g = ckpt_group_create(io, f, "optimizer");
    if (g < 0)
        return -1;
    const char **names = vkdp_xcalloc((size_t)(s->nslots ? s->nslots : 1), sizeof *names);
    char path[160];
    ATTR(g, "iterations", H5T_NATIVE_INT64, &s->iterations);
    ATTR(g, "lr", H5T_NATIVE_DOUBLE, &s->lr);
    ATTR(g, "beta1", H5T_NATIVE_DOUBLE, &s->beta1);
    ATTR(g, "beta2", H5T_NATIVE_DOUBLE, &s->beta2);
    ATTR(g, "epsilon", H5T_NATIVE_DOUBLE, &s->epsilon);
    for (int i = 0; i < s->nslots; i++) {
        names[i] = s->adam_m[i].name;
        snprintf(path, sizeof path, "m/%s", s->adam_m[i].name);
        if (write_tensor(io, g, path, &s->adam_m[i]) < 0)
            goto fail;
        snprintf(path, sizeof path, "v/%s", s->adam_v[i].name);
        if (write_tensor(io, g, path, &s->adam_v[i]) < 0)
            goto fail;
    }
    if (ckpt_attr_write_strs(io, g, "slot_names", names, (size_t)s->nslots, 0) < 0)
        goto fail;
    free(names);
    if (H5Gclose(g) < 0)
        return ckpt_fail_h5(io, "cannot close group /optimizer");
    return 0;
fail:
    free(names);
    H5Gclose(g);
    return -1;
}

static int write_state(ckpt_io *io, hid_t f, const vkdp_ckpt_state *s)
{
    hid_t g = ckpt_group_create(io, f, "state");
    if (g < 0)
        return -1;
    ATTR(g, "epoch", H5T_NATIVE_INT, &s->epoch);
    ATTR(g, "global_step", H5T_NATIVE_INT64, &s->global_step);
    ATTR(g, "step_in_epoch", H5T_NATIVE_INT64, &s->step_in_epoch);
    ATTR(g, "steps_per_epoch", H5T_NATIVE_INT64, &s->steps_per_epoch);
    ATTR(g, "sampler_seed", H5T_NATIVE_UINT64, &s->sampler_seed);
    ATTR(g, "dropout_seed", H5T_NATIVE_UINT64, &s->dropout_seed);
    ATTR(g, "epoch_loss_sum", H5T_NATIVE_DOUBLE, &s->epoch_loss_sum);
    ATTR(g, "epoch_correct", H5T_NATIVE_INT64, &s->epoch_correct);
    ATTR(g, "epoch_count", H5T_NATIVE_INT64, &s->epoch_count);
    ATTR(g, "epoch_skipped", H5T_NATIVE_INT64, &s->epoch_skipped);
    ATTR(g, "epoch_seconds", H5T_NATIVE_DOUBLE, &s->epoch_seconds);
    if (H5Gclose(g) < 0)
        return ckpt_fail_h5(io, "cannot close group /state");
    return 0;
fail:
    H5Gclose(g);
    return -1;
}

static int write_metrics(ckpt_io *io, hid_t f, const vkdp_ckpt_state *s)
{
    hid_t g = ckpt_group_create(io, f, "metrics");
    if (g < 0)
        return -1;
    hid_t et = ckpt_epoch_metrics_type(), st = ckpt_step_metrics_type();
    int rc = write_table(io, g, "epoch", et, s->epoch_m, (hsize_t)s->nepochs_m, 64);
    if (rc == 0)
        rc = write_table(io, g, "step", st, s->step_m, (hsize_t)s->nsteps_m, 1024);
    H5Tclose(et);
    H5Tclose(st);
    if (H5Gclose(g) < 0 && rc == 0)
        rc = ckpt_fail_h5(io, "cannot close group /metrics");
    return rc;
}

/* The whole checkpoint as an HDF5 file image in memory (malloc'd *img). */
static int build_image(ckpt_io *io, const vkdp_ckpt_state *s, const char *created, void **img,
                       size_t *len)
{
    static unsigned serial;
    char name[64];
    snprintf(name, sizeof name, "vkdp-ckpt-mem-%ld-%u.h5", (long)getpid(), serial++);
    *img = NULL;
    if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) <= 0)
        return ckpt_fail(io, "this HDF5 library has no deflate (zlib) filter");
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fapl_core(fapl, 1 << 20, 0) < 0 ||
        H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0 ||
        H5Pset_libver_bounds(fapl, H5F_LIBVER_EARLIEST, H5F_LIBVER_V18) < 0) {
        if (fapl >= 0)
            H5Pclose(fapl);
        return ckpt_fail_h5(io, "cannot set up the in-memory HDF5 file");
    }
    hid_t f = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (f < 0)
        return ckpt_fail_h5(io, "cannot create the in-memory HDF5 file");
    int rc = write_config(io, f, s, created);
    if (rc == 0)
        rc = write_layers(io, f, "head", s->weights, s->nweights);
    if (rc == 0 && s->backbone_trainable)
        rc = write_layers(io, f, "backbone", s->backbone, s->nbackbone);
    if (rc == 0)
        rc = write_optimizer(io, f, s);
    if (rc == 0)
        rc = write_state(io, f, s);
    if (rc == 0)
        rc = write_metrics(io, f, s);
    if (rc == 0 && H5Fflush(f, H5F_SCOPE_GLOBAL) < 0)
        rc = ckpt_fail_h5(io, "cannot flush the in-memory HDF5 file");
    ssize_t n = rc == 0 ? H5Fget_file_image(f, NULL, 0) : -1;
    if (rc == 0 && n <= 0)
        rc = ckpt_fail_h5(io, "cannot get the size of the HDF5 file image");
    if (rc == 0) {
        *img = vkdp_xmalloc((size_t)n);
        if (H5Fget_file_image(f, *img, (size_t)n) != n)
            rc = ckpt_fail_h5(io, "cannot copy the HDF5 file image");
        *len = (size_t)n;
    }
    if (H5Fclose(f) < 0 && rc == 0)
        rc = ckpt_fail_h5(io, "cannot close the in-memory HDF5 file");
    if (rc < 0) {
        free(*img);
        *img = NULL;
    }
    return rc;
}

/* ---------------------------------------------------------------- files */

static int fsync_dir(ckpt_io *io, const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return ckpt_fail(io, "cannot open directory %s to sync it: %s", dir, strerror(errno));
    if (fsync(fd) < 0) {
        int e = errno;
        close(fd);
        return ckpt_fail(io, "cannot sync directory %s: %s", dir, strerror(e));
    }
    if (close(fd) < 0)
        return ckpt_fail(io, "cannot close directory %s: %s", dir, strerror(errno));
    return 0;
}

static const char *enospc_hint(int e)
{
    return e == ENOSPC ? " (disk full)" : e == EDQUOT ? " (quota exceeded)" : "";
}

/* Writes img to path (created exclusively), fsynced. Removes path on failure. */
static int write_file(ckpt_io *io, const char *path, const void *img, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return ckpt_fail(io, "cannot create temporary file %s: %s", path, strerror(errno));
    const char *p = img;
    size_t left = len;
    int e = 0;
    const char *what = "write";
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            e = w < 0 ? errno : EIO;
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    if (!e && fsync(fd) < 0) {
        e = errno;
        what = "fsync";
    }
    if (close(fd) < 0 && !e) {
        e = errno;
        what = "close";
    }
    if (e) {
        unlink(path);
        return ckpt_fail(io, "cannot %s temporary file %s (%zu of %zu bytes written): %s%s", what,
                         path, len - left, len, strerror(e), enospc_hint(e));
    }
    return 0;
}

static void test_sleep_hook(void)
{
    const char *v = getenv("VKDP_CKPT_TEST_SLEEP");
    if (!v || !v[0])
        return;
    double sec = atof(v);
    if (sec <= 0)
        return;
    fprintf(stderr, "vkdp: VKDP_CKPT_TEST_SLEEP: sleeping %.3f s before the rename\n", sec);
    fflush(stderr);
    struct timespec ts = {(time_t)sec, (long)((sec - (double)(time_t)sec) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* "ckpt-e<epoch>-s<step>.h5" exactly -> 1 and the numbers. */
static int parse_ckpt_name(const char *name, int *epoch, int64_t *step)
{
    int n = -1;
    if (sscanf(name, "ckpt-e%d-s%" SCNd64 ".h5%n", epoch, step, &n) != 2 || n < 0)
        return 0;
    return (size_t)n == strlen(name);
}

/* Temporary files of writers that died: ".tmp-...<pid>" whose pid is gone. */
static void remove_stale_temps(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[4400];
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, TMP_PREFIX, strlen(TMP_PREFIX)))
            continue;
        const char *dot = strrchr(e->d_name, '.');
        char *end = NULL;
        long pid = dot ? strtol(dot + 1, &end, 10) : 0;
        if (!dot || !end || *end || pid <= 0 || pid == (long)getpid())
            continue;
        size_t hl = strlen(host_name()), pre = (size_t)(dot - e->d_name);
        if (pre < hl + 1 || e->d_name[pre - hl - 1] != '.' ||
            strncmp(e->d_name + pre - hl, host_name(), hl))
            continue; /* another host's writer: its pid means nothing here */
        if (kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (unlink(path) == 0)
                vkdp_warn("removed %s, left by a checkpoint writer that died", path);
        }
    }
    closedir(d);
}

typedef struct {
    int epoch;
    int64_t step;
    char name[256];
} ckpt_entry;

static int entry_cmp(const void *a, const void *b)
{
    const ckpt_entry *x = a, *y = b;
    if (x->step != y->step)
        return x->step < y->step ? -1 : 1;
    return (x->epoch > y->epoch) - (x->epoch < y->epoch);
}

/* Deletes the oldest checkpoints so that `keep` remain, never `current`. */
static int prune(ckpt_io *io, const char *dir, const char *current, int keep)
{
    DIR *d = opendir(dir);
    if (!d)
        return ckpt_fail(io, "cannot list %s to prune old checkpoints: %s", dir, strerror(errno));
    ckpt_entry *v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        int ep;
        int64_t st;
        if (!parse_ckpt_name(e->d_name, &ep, &st) || !strcmp(e->d_name, current) ||
            strlen(e->d_name) >= sizeof v->name)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            v = vkdp_xrealloc(v, cap * sizeof *v);
        }
        v[n].epoch = ep;
        v[n].step = st;
        snprintf(v[n].name, sizeof v[n].name, "%s", e->d_name);
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(v, n, sizeof *v, entry_cmp);
    size_t others = (size_t)keep - 1;
    int rc = 0;
    char path[4400];
    for (size_t i = 0; n > others && i < n - others; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, v[i].name);
        if (unlink(path) < 0 && errno != ENOENT) {
            rc = ckpt_fail(io, "cannot delete old checkpoint %s: %s", path, strerror(errno));
            break;
        }
    }
    free(v);
    if (rc == 0 && n > others)
        rc = fsync_dir(io, dir);
    return rc;
}

/* Points dir/latest.h5 at fname: a temporary symlink renamed over it (atomic). */
static int update_latest(ckpt_io *io, const char *dir, const char *fname)
{
    char tmp[4400], latest[4400];
    snprintf(tmp, sizeof tmp, "%s/" TMP_PREFIX "latest.%s.%ld", dir, host_name(), (long)getpid());
    snprintf(latest, sizeof latest, "%s/%s", dir, VKDP_CKPT_LATEST);
    unlink(tmp);
    if (symlink(fname, tmp) < 0)
        return ckpt_fail(io, "cannot create symlink %s: %s", tmp, strerror(errno));
    if (rename(tmp, latest) < 0) {
        int e = errno;
        unlink(tmp);
        return ckpt_fail(io, "cannot replace %s: %s", latest, strerror(e));
    }
    return fsync_dir(io, dir);
}

int vkdp_ckpt_write(const char *dir, const vkdp_ckpt_state *s, int keep, char *path_out,
                    size_t path_len, char *err, size_t errlen)
{
    char fname[128], final[4400], tmp[4400], created[64];
    snprintf(fname, sizeof fname, "ckpt-e%04d-s%09" PRId64 ".h5", s->epoch, s->global_step);
    snprintf(final, sizeof final, "%s/%s", dir, fname);
    snprintf(tmp, sizeof tmp, "%s/" TMP_PREFIX "%s.%s.%ld", dir, fname, host_name(), (long)getpid());
    ckpt_io io = {final, err, errlen};
    if (!dir[0])
        return ckpt_fail(&io, "empty checkpoint directory name");
    if (strlen(dir) > 4096)
        return ckpt_fail(&io, "checkpoint directory name too long");
    if (s->epoch < 0 || s->global_step < 0)
        return ckpt_fail(&io, "negative epoch %d or global step %" PRId64, s->epoch, s->global_step);
    if (s->created[0])
        snprintf(created, sizeof created, "%s", s->created);
    else
        vkdp_ckpt_utc_now(created, sizeof created);

    ckpt_h5_quiet quiet;
    ckpt_h5_quiet_begin(&quiet);
    void *img = NULL;
    size_t len = 0;
    int rc = validate(&io, s);
    if (rc == 0)
        rc = build_image(&io, s, created, &img, &len);
    ckpt_h5_quiet_end(&quiet);
    if (rc < 0)
        return -1;

    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        free(img);
        return ckpt_fail(&io, "cannot create checkpoint directory %s: %s", dir, strerror(errno));
    }
    remove_stale_temps(dir);
    struct stat st;
    int existed = stat(final, &st) == 0;
    rc = write_file(&io, tmp, img, len);
    free(img);
    if (rc < 0)
        return -1;
    test_sleep_hook();
    if (rename(tmp, final) < 0) {
        int e = errno;
        unlink(tmp);
        return ckpt_fail(&io, "cannot rename %s to %s: %s", tmp, final, strerror(e));
    }
    if (fsync_dir(&io, dir) < 0 || update_latest(&io, dir, fname) < 0) {
        /* latest.h5 still names the previous checkpoint: leave no newer file it does not name. */
        if (!existed)
            unlink(final);
        return -1;
    }
    if (keep > 0 && prune(&io, dir, fname, keep) < 0)
        return -1;
    if (path_out && path_len)
        snprintf(path_out, path_len, "%s", final);
    return 0;
}
