/* Shared by the checkpoint tests: a seeded synthetic training state shaped like the real head
 * (features x classes), bitwise comparison, scratch-directory handling, and crafted variants of a
 * good checkpoint that must fail to read with a given message. */
#ifndef VKDP_TEST_CKPT_COMMON_H
#define VKDP_TEST_CKPT_COMMON_H
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "vkdp/ckpt/ckpt.h"
#include "vkdp/core/common.h"

static const char *const test_classes[5] = {"daisy", "dandelion", "roses", "sunflowers", "tulips"};

static int tc_failures __attribute__((unused));
#define TC_CHECK(cond, ...)                                                                      \
    do {                                                                                         \
        if (cond) {                                                                              \
            printf("ok   ");                                                                     \
        } else {                                                                                 \
            printf("FAIL ");                                                                     \
            tc_failures++;                                                                       \
        }                                                                                        \
        printf(__VA_ARGS__);                                                                     \
        printf("\n");                                                                            \
        fflush(stdout);                                                                          \
    } while (0)

/* err must contain every one of the given substrings. */
static inline int tc_contains(const char *err, const char *a, const char *b)
{
    return strstr(err, a) && (!b || strstr(err, b));
}

static inline void tc_tensor(vkdp_named_tensor *t, const char *name, int rank, int64_t d0,
                             int64_t d1, uint64_t seed)
{
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->rank = rank;
    t->shape[0] = d0;
    t->shape[1] = rank > 1 ? d1 : 0;
    int64_t n = vkdp_tensor_numel(t);
    t->data = vkdp_xmalloc((size_t)n * sizeof(float));
    test_fill_uniform(t->data, (size_t)n, seed, -1.f, 1.f);
}

/* The state after `epoch` epochs of `steps_per_epoch` steps, head of `features` inputs. */
static inline void tc_make_state(vkdp_ckpt_state *s, int epoch, int features, uint64_t seed)
{
    static const char *const bn[4] = {"gamma", "beta", "moving_mean", "moving_variance"};
    vkdp_ckpt_state_init(s);
    s->nclasses = 5;
    s->class_names = vkdp_xcalloc(5, sizeof *s->class_names);
    for (int i = 0; i < 5; i++)
        s->class_names[i] = vkdp_xstrdup(test_classes[i]);
    s->image_size = 180;
    s->seed = 123456789012345ull;
    s->batch = 32;
    s->epochs = 10;
    s->lr = 1e-2;
    s->dropout = 0.2;
    s->validation_split = 0.2;
    s->nranks = 4;
    snprintf(s->data_dir, sizeof s->data_dir, "/data/flower_photos");
    snprintf(s->weights_file, sizeof s->weights_file, "/weights/efficientnetb0_notop.h5");
    snprintf(s->weights_sha256, sizeof s->weights_sha256, "%064d", 7);
    snprintf(s->created, sizeof s->created, "2026-11-28T12:00:0%dZ", epoch % 10);

    s->nweights = 6;
    s->weights = vkdp_xcalloc(6, sizeof *s->weights);
    char name[128];
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "head_bn/head_bn/%s:0", bn[i]);
        tc_tensor(&s->weights[i], name, 1, features, 0, seed + (uint64_t)i);
    }
    tc_tensor(&s->weights[4], "pred/pred/kernel:0", 2, features, 5, seed + 4);
    tc_tensor(&s->weights[5], "pred/pred/bias:0", 1, 5, 0, seed + 5);
    /* Trainable: BN gamma/beta and the dense layer (moving statistics are not). */
    static const int trainable[4] = {0, 1, 4, 5};
    s->nslots = 4;
    s->adam_m = vkdp_xcalloc(4, sizeof *s->adam_m);
    s->adam_v = vkdp_xcalloc(4, sizeof *s->adam_v);
    for (int i = 0; i < 4; i++) {
        const vkdp_named_tensor *w = &s->weights[trainable[i]];
        tc_tensor(&s->adam_m[i], w->name, w->rank, w->shape[0], w->shape[1], seed + 100 + (uint64_t)i);
        tc_tensor(&s->adam_v[i], w->name, w->rank, w->shape[0], w->shape[1], seed + 200 + (uint64_t)i);
    }
    s->steps_per_epoch = 92;
    s->epoch = epoch;
    s->global_step = (int64_t)epoch * s->steps_per_epoch;
    s->iterations = s->global_step;
    s->sampler_seed = 0xfeedbeefcafef00dull;
    s->dropout_seed = 0x0123456789abcdefull;
    for (int e = 1; e <= epoch; e++) {
        vkdp_epoch_metrics m = {e, 1.0 / e, 0.5 + 0.04 * e, 1.1 / e, 0.45 + 0.04 * e, 150.5 + e,
                                20.25 + e, e == 2 ? 1 : 0};
        vkdp_ckpt_add_epoch_metrics(s, &m);
    }
    for (int64_t t = 1; t <= s->global_step; t++) {
        vkdp_step_metrics m = {t, 2.0 / (double)t, 0.2 + 0.5 * (double)t / (double)(s->global_step + 1),
                               1e-2};
        vkdp_ckpt_add_step_metrics(s, &m);
    }
}

static inline int tc_tensors_equal(const vkdp_named_tensor *a, const vkdp_named_tensor *b, int n)
{
    for (int i = 0; i < n; i++) {
        if (strcmp(a[i].name, b[i].name) || a[i].rank != b[i].rank ||
            memcmp(a[i].shape, b[i].shape, sizeof a[i].shape))
            return 0;
        if (memcmp(a[i].data, b[i].data, (size_t)vkdp_tensor_numel(&a[i]) * sizeof(float)))
            return 0;
    }
    return 1;
}

/* Bitwise equality of everything a checkpoint stores. */
static inline int tc_states_equal(const vkdp_ckpt_state *a, const vkdp_ckpt_state *b)
{
    if (a->nclasses != b->nclasses)
        return 0;
    for (int i = 0; i < a->nclasses; i++)
        if (strcmp(a->class_names[i], b->class_names[i]))
            return 0;
#define EQ(f) (memcmp(&a->f, &b->f, sizeof a->f) == 0)
    int ok = EQ(image_size) && EQ(seed) && EQ(batch) && EQ(epochs) && EQ(lr) && EQ(dropout) &&
             EQ(validation_split) && EQ(nranks) && EQ(backbone_trainable) && EQ(iterations) &&
             EQ(beta1) && EQ(beta2) && EQ(epsilon) && EQ(epoch) && EQ(global_step) &&
             EQ(step_in_epoch) && EQ(steps_per_epoch) && EQ(sampler_seed) && EQ(dropout_seed) &&
             EQ(nweights) && EQ(nbackbone) && EQ(nslots) && EQ(nepochs_m) && EQ(nsteps_m) &&
             EQ(augment) && EQ(fine_tune_epochs) && EQ(fine_tune_lr) && EQ(drop_connect_rate) &&
             EQ(drop_connect_all);
#undef EQ
    ok = ok && !strcmp(a->data_dir, b->data_dir) && !strcmp(a->weights_file, b->weights_file) &&
         !strcmp(a->weights_sha256, b->weights_sha256) && !strcmp(a->version, b->version) &&
         !strcmp(a->git_commit, b->git_commit) && !strcmp(a->created, b->created) &&
         !strcmp(a->fine_tune_from, b->fine_tune_from);
    ok = ok && tc_tensors_equal(a->weights, b->weights, a->nweights) &&
         tc_tensors_equal(a->backbone, b->backbone, a->backbone_trainable ? a->nbackbone : 0) &&
         tc_tensors_equal(a->adam_m, b->adam_m, a->nslots) &&
         tc_tensors_equal(a->adam_v, b->adam_v, a->nslots);
    for (int i = 0; ok && i < a->nepochs_m; i++) {
        const vkdp_epoch_metrics *x = &a->epoch_m[i], *y = &b->epoch_m[i];
        ok = x->epoch == y->epoch && !memcmp(&x->loss, &y->loss, sizeof x->loss) &&
             !memcmp(&x->accuracy, &y->accuracy, sizeof x->loss) &&
             !memcmp(&x->val_loss, &y->val_loss, sizeof x->loss) &&
             !memcmp(&x->val_accuracy, &y->val_accuracy, sizeof x->loss) &&
             !memcmp(&x->images_per_s, &y->images_per_s, sizeof x->loss) &&
             !memcmp(&x->seconds, &y->seconds, sizeof x->loss) && x->skipped == y->skipped;
    }
    for (int64_t i = 0; ok && i < a->nsteps_m; i++) {
        const vkdp_step_metrics *x = &a->step_m[i], *y = &b->step_m[i];
        ok = x->step == y->step && !memcmp(&x->loss, &y->loss, sizeof x->loss) &&
             !memcmp(&x->accuracy, &y->accuracy, sizeof x->loss) &&
             !memcmp(&x->lr, &y->lr, sizeof x->lr);
    }
    return ok;
}

static int tc_rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p) < 0 && errno != ENOENT ? -1 : 0;
}

/* rm -rf dir; mkdir -p dir (one level). */
static inline void tc_fresh_dir(const char *dir)
{
    struct stat st;
    if (lstat(dir, &st) == 0 && nftw(dir, tc_rm_cb, 16, FTW_DEPTH | FTW_PHYS) < 0)
        VKDP_FATAL("cannot remove %s: %s", dir, strerror(errno));
    if (mkdir(dir, 0755) < 0)
        VKDP_FATAL("cannot create %s: %s", dir, strerror(errno));
}

static inline int tc_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Target of dir/latest.h5, "" when absent. */
static inline void tc_latest_target(const char *dir, char *buf, size_t len)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/latest.h5", dir);
    ssize_t n = readlink(p, buf, len - 1);
    buf[n < 0 ? 0 : n] = 0;
}

/* Number of directory entries starting with prefix. */
static inline int tc_count_prefix(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += !strncmp(e->d_name, prefix, strlen(prefix));
    closedir(d);
    return n;
}

/* Copies nbytes (all when < 0) of from to to. */
static inline void tc_copy_file(const char *from, const char *to, long nbytes)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    if (!in || !out)
        VKDP_FATAL("cannot copy %s to %s: %s", from, to, strerror(errno));
    char buf[65536];
    long left = nbytes < 0 ? -1 : nbytes;
    size_t n;
    while ((n = fread(buf, 1, left < 0 || left > (long)sizeof buf ? sizeof buf : (size_t)left, in)) > 0) {
        if (fwrite(buf, 1, n, out) != n)
            VKDP_FATAL("write %s failed", to);
        if (left >= 0 && (left -= (long)n) == 0)
            break;
    }
    fclose(in);
    if (fclose(out) != 0)
        VKDP_FATAL("close %s failed", to);
}

/* Copies good to dir/name (path in out) and lets edit(f, arg) change it with the HDF5 API. */
static inline void tc_make_variant(const char *good, const char *dir, const char *name, char *out,
                                   size_t len, void (*edit)(hid_t f, const void *arg),
                                   const void *arg)
{
    snprintf(out, len, "%s/%s", dir, name);
    tc_copy_file(good, out, -1);
    hid_t f = H5Fopen(out, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0)
        VKDP_FATAL("cannot open %s to edit it", out);
    edit(f, arg);
    if (H5Fclose(f) < 0)
        VKDP_FATAL("cannot close %s", out);
}

typedef int (*tc_reader)(const char *path, vkdp_ckpt_state *s, char *err, size_t errlen);

/* Reading path with `read` must fail with a message naming it and containing a (and b unless
 * NULL). */
static inline void tc_expect_error_by(tc_reader read, const char *path, const char *what, const char *a,
                                      const char *b)
{
    vkdp_ckpt_state r;
    char err[2048] = "";
    int rc = read(path, &r, err, sizeof err);
    vkdp_ckpt_state_free(&r);
    TC_CHECK(rc < 0 && strstr(err, path) && tc_contains(err, a, b), "%s: %s", what,
             rc < 0 ? err : "read succeeded");
}

/* The same for vkdp_ckpt_read. */
static inline void tc_expect_error(const char *path, const char *what, const char *a, const char *b)
{
    tc_expect_error_by(vkdp_ckpt_read, path, what, a, b);
}

#endif
