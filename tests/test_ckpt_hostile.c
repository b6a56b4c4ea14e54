/* Hostile checkpoints (issue #13 items 1, 5 and 9): crafted variants of a good checkpoint, each
 * of which must be refused by vkdp_ckpt_read with a message naming the file, the group or object
 * and the field, before anything is allocated for it or read from another file:
 *   ranges    /config, /state, /optimizer values outside their valid range (step_in_epoch -50,
 *             image_size 0, batch -8, validation_split NaN, epoch -3, beta1 1, ...) and
 *             inconsistent ones (step_in_epoch >= steps_per_epoch, /metrics rows vs /state);
 *   sizes     a 2^32-element tensor, a tensor whose storage was never written, a compressed
 *             tensor that declares ~1000x more than it stores;
 *   links     external and soft links, external raw storage, a virtual dataset.
 * usage: test_ckpt_hostile DIR */
#include <math.h>

#include "test_ckpt_common.h"

static const char *scratch;

/* ---------------------------------------------------------------- edits */

typedef struct {
    const char *group, *name;
    int is_float;
    int64_t i;
    double d;
} attr_edit;

/* Replaces an attribute by an int64 or double one of the given value. */
static void set_attr(hid_t f, const void *arg)
{
    const attr_edit *e = arg;
    /* an optional field a default checkpoint leaves out is added */
    htri_t ex = H5Aexists_by_name(f, e->group, e->name, H5P_DEFAULT);
    if (ex < 0 || (ex > 0 && H5Adelete_by_name(f, e->group, e->name, H5P_DEFAULT) < 0))
        VKDP_FATAL("H5Adelete %s %s", e->group, e->name);
    hid_t t = e->is_float ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64, sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate_by_name(f, e->group, e->name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, t, e->is_float ? (const void *)&e->d : (const void *)&e->i) < 0)
        VKDP_FATAL("rewrite %s %s", e->group, e->name);
    H5Aclose(a);
    H5Sclose(sp);
}

typedef struct {
    const char *path;
    int rank;
    hsize_t dims[2];
    int deflate_one_chunk; /* chunked + deflate, only the first chunk written */
} dset_edit;

/* Replaces a tensor by a float dataset of another declared size whose data is (mostly) never
 * written: its storage stays unallocated and HDF5 would hand out fill values. */
static void unwritten_tensor(hid_t f, const void *arg)
{
    const dset_edit *e = arg;
    if (H5Ldelete(f, e->path, H5P_DEFAULT) < 0)
        VKDP_FATAL("H5Ldelete %s", e->path);
    hid_t sp = H5Screate_simple(e->rank, e->dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hsize_t chunk[1] = {1 << 16};
    if (e->deflate_one_chunk && (H5Pset_chunk(dcpl, 1, chunk) < 0 || H5Pset_deflate(dcpl, 9) < 0))
        VKDP_FATAL("dcpl");
    hid_t ds = H5Dcreate2(f, e->path, H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ds < 0)
        VKDP_FATAL("create %s", e->path);
    if (e->deflate_one_chunk) {
        float *z = vkdp_xcalloc(chunk[0], sizeof *z);
        hsize_t start[1] = {0};
        hid_t mem = H5Screate_simple(1, chunk, NULL);
        if (H5Sselect_hyperslab(sp, H5S_SELECT_SET, start, NULL, chunk, NULL) < 0 ||
            H5Dwrite(ds, H5T_NATIVE_FLOAT, mem, sp, H5P_DEFAULT, z) < 0)
            VKDP_FATAL("write the first chunk of %s", e->path);
        H5Sclose(mem);
        free(z);
    }
    H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(sp);
}

#define BIAS "/head/pred/pred/bias:0"

/* Five floats in a file of their own, at /bias; and the same bytes as a raw file. */
static void make_other_files(char *h5, char *raw, size_t len)
{
    snprintf(h5, len, "%s/other.h5", scratch);
    snprintf(raw, len, "%s/other.raw", scratch);
    float v[5] = {1, 2, 3, 4, 5};
    hsize_t d[1] = {5};
    hid_t f = H5Fcreate(h5, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), sp = H5Screate_simple(1, d, NULL);
    hid_t ds = H5Dcreate2(f, "bias", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (ds < 0 || H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0)
        VKDP_FATAL("write %s", h5);
    H5Dclose(ds);
    H5Sclose(sp);
    H5Fclose(f);
    FILE *r = fopen(raw, "wb");
    if (!r || fwrite(v, sizeof v, 1, r) != 1 || fclose(r) != 0)
        VKDP_FATAL("write %s", raw);
}

static void external_link(hid_t f, const void *arg)
{
    if (H5Ldelete(f, BIAS, H5P_DEFAULT) < 0 ||
        H5Lcreate_external((const char *)arg, "/bias", f, BIAS, H5P_DEFAULT, H5P_DEFAULT) < 0)
        VKDP_FATAL("external link");
}

/* The bias moved to /elsewhere and a soft link left in its place. */
static void soft_link(hid_t f, const void *arg)
{
    (void)arg;
    if (H5Lmove(f, BIAS, f, "/elsewhere", H5P_DEFAULT, H5P_DEFAULT) < 0 ||
        H5Lcreate_soft("/elsewhere", f, BIAS, H5P_DEFAULT, H5P_DEFAULT) < 0)
        VKDP_FATAL("soft link");
}

/* BIAS replaced by a [5] float dataset made with creation properties from set_up(dcpl, arg). */
static void bias_with_dcpl(hid_t f, const void *arg, herr_t (*set_up)(hid_t dcpl, hid_t sp, const void *arg))
{
    hsize_t d[1] = {5};
    hid_t sp = H5Screate_simple(1, d, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (H5Ldelete(f, BIAS, H5P_DEFAULT) < 0 || set_up(dcpl, sp, arg) < 0)
        VKDP_FATAL("set up the replacement of %s", BIAS);
    hid_t ds = H5Dcreate2(f, BIAS, H5T_NATIVE_FLOAT, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ds < 0)
        VKDP_FATAL("create %s", BIAS);
    H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(sp);
}

static herr_t in_raw_file(hid_t dcpl, hid_t sp, const void *raw)
{
    (void)sp;
    return H5Pset_external(dcpl, (const char *)raw, 0, 5 * sizeof(float));
}

static herr_t mapped_to_other(hid_t dcpl, hid_t sp, const void *other)
{
    return H5Pset_virtual(dcpl, sp, (const char *)other, "/bias", sp);
}

static void external_storage(hid_t f, const void *arg) { bias_with_dcpl(f, arg, in_raw_file); }
static void virtual_dataset(hid_t f, const void *arg) { bias_with_dcpl(f, arg, mapped_to_other); }

/* /metrics/step with `rows` rows of the writer's layout. */
static void step_rows(hid_t f, const void *arg)
{
    hsize_t n[1] = {(hsize_t)*(const int *)arg};
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(vkdp_step_metrics));
    H5Tinsert(t, "step", HOFFSET(vkdp_step_metrics, step), H5T_NATIVE_INT64);
    H5Tinsert(t, "loss", HOFFSET(vkdp_step_metrics, loss), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "accuracy", HOFFSET(vkdp_step_metrics, accuracy), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "lr", HOFFSET(vkdp_step_metrics, lr), H5T_NATIVE_DOUBLE);
    vkdp_step_metrics *rows = vkdp_xcalloc(n[0], sizeof *rows);
    hid_t sp = H5Screate_simple(1, n, NULL);
    if (H5Ldelete(f, "/metrics/step", H5P_DEFAULT) < 0)
        VKDP_FATAL("H5Ldelete /metrics/step");
    hid_t ds = H5Dcreate2(f, "/metrics/step", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (ds < 0 || H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) < 0)
        VKDP_FATAL("rewrite /metrics/step");
    H5Dclose(ds);
    H5Sclose(sp);
    H5Tclose(t);
    free(rows);
}

/* ---------------------------------------------------------------- cases */

#define INT_ATTR(g, n, v) {g, n, 0, v, 0}
#define F64_ATTR(g, n, v) {g, n, 1, 0, v}

/* One attribute rewritten per file, and the message its read must fail with. */
static const struct {
    const char *file;
    attr_edit edit;
    const char *msg;
} attr_cases[] = {
    {"step-in-epoch-neg.h5", INT_ATTR("/state", "step_in_epoch", -50),
     "/state step_in_epoch = -50 is out of range (expected an integer in 0.."},
    {"step-in-epoch-past.h5", INT_ATTR("/state", "step_in_epoch", 92),
     "/state step_in_epoch = 92 is not below /state steps_per_epoch = 92"},
    {"image-size-0.h5", INT_ATTR("/config", "image_size", 0),
     "/config image_size = 0 is out of range (expected an integer in 32..4096)"},
    {"batch-neg.h5", INT_ATTR("/config", "batch", -8),
     "/config batch = -8 is out of range (expected an integer in 1..4096)"},
    {"split-nan.h5", F64_ATTR("/config", "validation_split", NAN),
     "/config validation_split = nan is out of range (expected a number in [0, 0.99])"},
    {"epoch-neg.h5", INT_ATTR("/state", "epoch", -3), "/state epoch = -3 is out of range"},
    /* optional fields (absent in the good file) are range-checked when present */
    {"augment-2.h5", INT_ATTR("/config", "augment", 2),
     "/config augment = 2 is out of range (expected an integer in 0..1)"},
    {"ft-epochs-neg.h5", INT_ATTR("/config", "fine_tune_epochs", -1),
     "/config fine_tune_epochs = -1 is out of range (expected an integer in 0..100000)"},
    {"ft-lr-inf.h5", F64_ATTR("/config", "fine_tune_lr", INFINITY),
     "/config fine_tune_lr = inf is out of range"},
    {"dc-rate-1.h5", F64_ATTR("/config", "drop_connect_rate", 1.0),
     "/config drop_connect_rate = 1 is out of range (expected a number in [0, 0.99])"},
    {"dc-all-2.h5", INT_ATTR("/config", "drop_connect_all", 2),
     "/config drop_connect_all = 2 is out of range (expected an integer in 0..1)"},
    {"int32-overflow.h5", INT_ATTR("/config", "nclasses", INT64_C(1) << 32),
     "/config nclasses = 4294967296 is out of range"},
    {"lr-inf.h5", F64_ATTR("/config", "lr", INFINITY), "/config lr = inf is out of range"},
    {"iterations-neg.h5", INT_ATTR("/optimizer", "iterations", -1),
     "/optimizer iterations = -1 is out of range"},
    {"beta1-one.h5", F64_ATTR("/optimizer", "beta1", 1.0), "/optimizer beta1 = 1 is out of range"},
    {"epsilon-zero.h5", F64_ATTR("/optimizer", "epsilon", 0.0),
     "/optimizer epsilon = 0 is out of range"},
    {"correct-gt-count.h5", INT_ATTR("/state", "epoch_correct", 7),
     "/state epoch_correct = 7 exceeds /state epoch_count = 0"},
    {"skipped-neg.h5", INT_ATTR("/state", "epoch_skipped", -1),
     "/state epoch_skipped = -1 is out of range"},
    /* one epoch completed fewer than the metrics table holds */
    {"epoch-rows.h5", INT_ATTR("/state", "epoch", 1),
     "table /metrics/epoch has 2 rows but /state has epoch (completed epochs) = 1"},
};

static void test_ranges(const char *good)
{
    for (size_t i = 0; i < VKDP_ARRAY_LEN(attr_cases); i++) {
        char p[4400], what[200];
        tc_make_variant(good, scratch, attr_cases[i].file, p, sizeof p, set_attr, &attr_cases[i].edit);
        snprintf(what, sizeof what, "%s %s", attr_cases[i].edit.group, attr_cases[i].edit.name);
        tc_expect_error(p, what, attr_cases[i].msg, NULL);
    }
    char p[4400];
    int rows = 10;
    tc_make_variant(good, scratch, "step-rows.h5", p, sizeof p, step_rows, &rows);
    tc_expect_error(p, "/metrics/step rows", "table /metrics/step has 10 rows but /state has "
                    "global_step = 184", NULL);
}

static void test_sizes(const char *good)
{
    char p[4400];
    dset_edit huge = {"/head/pred/pred/kernel:0", 2, {65536, 65536}, 0};
    tc_make_variant(good, scratch, "tensor-2p32.h5", p, sizeof p, unwritten_tensor, &huge);
    tc_expect_error(p, "a 2^32-element tensor in a small file",
                    "/head/pred/pred/kernel:0 has shape [65536,65536], more than 268435456 elements: "
                    "refused before allocating", NULL);

    dset_edit unwritten = {"/optimizer/m/pred/pred/kernel:0", 2, {1280, 5}, 0};
    tc_make_variant(good, scratch, "unwritten.h5", p, sizeof p, unwritten_tensor, &unwritten);
    tc_expect_error(p, "a tensor whose data was never written",
                    "/optimizer/m/pred/pred/kernel:0 declares 25600 bytes of data but the file "
                    "stores 0 for it", NULL);

    dset_edit bomb = {"/head/head_bn/head_bn/gamma:0", 1, {(hsize_t)1 << 26, 0}, 1};
    tc_make_variant(good, scratch, "deflate-bomb.h5", p, sizeof p, unwritten_tensor, &bomb);
    tc_expect_error(p, "a compressed tensor declaring far more than it stores",
                    "/head/head_bn/head_bn/gamma:0 declares 268435456 bytes of data but stores only",
                    "beyond any real compression ratio");
}

static void test_links(const char *good)
{
    char p[4400], other[4400], raw[4400];
    make_other_files(other, raw, sizeof other);
    tc_make_variant(good, scratch, "external-link.h5", p, sizeof p, external_link, other);
    tc_expect_error(p, "external link", BIAS " is an external link to /bias in file", other);
    tc_make_variant(good, scratch, "soft-link.h5", p, sizeof p, soft_link, NULL);
    tc_expect_error(p, "soft link", BIAS " is a soft link to /elsewhere: refused", NULL);
    tc_make_variant(good, scratch, "external-storage.h5", p, sizeof p, external_storage, raw);
    tc_expect_error(p, "external raw storage", BIAS " keeps its data in 1 external file(s): refused",
                    NULL);
    tc_make_variant(good, scratch, "virtual.h5", p, sizeof p, virtual_dataset, other);
    tc_expect_error(p, "virtual dataset", BIAS " is a virtual dataset", "refused");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_ckpt_hostile DIR\n");
        return 2;
    }
    scratch = argv[1];
    tc_fresh_dir(scratch);
    char good[4400], err[2048];
    vkdp_ckpt_state s;
    tc_make_state(&s, 2, 1280, 41);
    int rc = vkdp_ckpt_write(scratch, &s, 0, good, sizeof good, err, sizeof err);
    vkdp_ckpt_state_free(&s);
    TC_CHECK(rc == 0, "good checkpoint written %s", rc ? err : good);
    if (rc)
        return 1;
    vkdp_ckpt_state r;
    rc = vkdp_ckpt_read(good, &r, err, sizeof err);
    vkdp_ckpt_state_free(&r);
    TC_CHECK(rc == 0, "the good checkpoint reads %s", rc ? err : "");
    test_ranges(good);
    test_sizes(good);
    test_links(good);
    printf("hostile: %d failure(s)\n", tc_failures);
    return tc_failures ? 1 : 0;
}
