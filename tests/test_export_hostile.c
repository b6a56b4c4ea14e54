/* Keras exports read back (vkdp_model_read -> vkdp_keras_import): a good export of a synthetic
 * checkpoint round-trips its classes, config and head; crafted variants of it must be refused
 * with a message naming the file and the attribute or dataset, before anything is allocated for
 * it: missing class names, out-of-range or inconsistent vkdp_* fields, head datasets of another
 * shape or type, a 2^32-element kernel, a reordered weight_names, layer_names without the head,
 * an external link. And vkdp_keras_export itself refuses /backbone tensors that do not fit the
 * weights file (another shape, a name it does not hold).
 * usage: test_export_hostile DIR WEIGHTS.h5 */
#include "test_ckpt_common.h"
#include "vkdp/ckpt/keras_export.h"

static const char *scratch;

/* ---------------------------------------------------------------- edits */

static void drop_attr(hid_t f, const void *name)
{
    if (H5Adelete(f, (const char *)name) < 0)
        VKDP_FATAL("H5Adelete %s", (const char *)name);
}

typedef struct {
    const char *name;
    int64_t v;
} int_attr;

static void set_int_attr(hid_t f, const void *arg)
{
    const int_attr *e = arg;
    hid_t sp = H5Screate(H5S_SCALAR);
    if (H5Adelete(f, e->name) < 0)
        VKDP_FATAL("H5Adelete %s", e->name);
    hid_t a = H5Acreate2(f, e->name, H5T_NATIVE_INT64, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, H5T_NATIVE_INT64, &e->v) < 0)
        VKDP_FATAL("rewrite %s", e->name);
    H5Aclose(a);
    H5Sclose(sp);
}

typedef struct {
    const char *path;
    hid_t type;
    int rank;
    hsize_t dims[2];
    int write; /* 0: storage left unwritten (a small file declaring a huge dataset) */
} dset_edit;

/* Replaces a dataset by one of another type and shape, zeros when written. */
static void replace_dset(hid_t f, const void *arg)
{
    const dset_edit *e = arg;
    if (H5Ldelete(f, e->path, H5P_DEFAULT) < 0)
        VKDP_FATAL("H5Ldelete %s", e->path);
    hid_t sp = H5Screate_simple(e->rank, e->dims, NULL);
    hid_t ds = H5Dcreate2(f, e->path, e->type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (ds < 0)
        VKDP_FATAL("create %s", e->path);
    if (e->write) {
        double *z = vkdp_xcalloc(e->dims[0] * (e->rank > 1 ? e->dims[1] : 1), sizeof *z);
        if (H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, z) < 0)
            VKDP_FATAL("write %s", e->path);
        free(z);
    }
    H5Dclose(ds);
    H5Sclose(sp);
}

typedef struct {
    const char *obj, *name;
    const char *v[4];
    size_t n;
} strs_attr;

/* Rewrites a fixed-length string array attribute (layer_names, weight_names). */
static void set_strs_attr(hid_t f, const void *arg)
{
    const strs_attr *e = arg;
    size_t w = 1;
    for (size_t i = 0; i < e->n; i++)
        w = strlen(e->v[i]) + 1 > w ? strlen(e->v[i]) + 1 : w;
    char *buf = vkdp_xcalloc(e->n, w);
    for (size_t i = 0; i < e->n; i++)
        memcpy(buf + i * w, e->v[i], strlen(e->v[i]));
    hsize_t d[1] = {e->n};
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate_simple(1, d, NULL);
    if (H5Tset_size(t, w) < 0 || H5Adelete_by_name(f, e->obj, e->name, H5P_DEFAULT) < 0)
        VKDP_FATAL("replace %s %s", e->obj, e->name);
    hid_t a = H5Acreate_by_name(f, e->obj, e->name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, t, buf) < 0)
        VKDP_FATAL("write %s %s", e->obj, e->name);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    free(buf);
}

static void external_bias(hid_t f, const void *other)
{
    if (H5Ldelete(f, "/pred/pred/bias:0", H5P_DEFAULT) < 0 ||
        H5Lcreate_external((const char *)other, "/pred/pred/bias:0", f, "/pred/pred/bias:0", H5P_DEFAULT,
                           H5P_DEFAULT) < 0)
        VKDP_FATAL("external link");
}

/* ---------------------------------------------------------------- cases */

static void bad(const char *good, const char *file, void (*edit)(hid_t, const void *), const void *arg,
                const char *a, const char *b)
{
    char p[4400];
    tc_make_variant(good, scratch, file, p, sizeof p, edit, arg);
    tc_expect_error_by(vkdp_model_read, p, file, a, b);
}

static void test_hostile(const char *good)
{
    bad(good, "no-class-names.h5", drop_attr, "vkdp_class_names",
        "no root attribute vkdp_class_names (the class names)", NULL);
    int_attr size0 = {"vkdp_image_size", 0};
    bad(good, "image-size-0.h5", set_int_attr, &size0,
        "/ vkdp_image_size = 0 is out of range (expected an integer in 32..4096)", NULL);
    int_attr four = {"vkdp_nclasses", 4};
    bad(good, "nclasses-4.h5", set_int_attr, &four, "vkdp_nclasses = 4 but vkdp_class_names holds 5 names", NULL);
    bad(good, "no-seed.h5", drop_attr, "vkdp_seed", "vkdp_seed", NULL);
    dset_edit huge = {"/pred/pred/kernel:0", H5T_IEEE_F32LE, 2, {65536, 65536}, 0};
    bad(good, "kernel-2p32.h5", replace_dset, &huge,
        "/pred/pred/kernel:0 has shape [65536,65536], more than 268435456 elements: refused before allocating",
        NULL);
    dset_edit bias4 = {"/pred/pred/bias:0", H5T_IEEE_F32LE, 1, {4, 0}, 1};
    bad(good, "bias-4.h5", replace_dset, &bias4, "dataset /pred/pred/bias:0 has shape [4], expected [5]", NULL);
    dset_edit gamma = {"/batch_normalization/batch_normalization/gamma:0", H5T_IEEE_F32LE, 1, {1279, 0}, 1};
    bad(good, "gamma-1279.h5", replace_dset, &gamma,
        "dataset /batch_normalization/batch_normalization/gamma:0 has shape [1279], expected [1280]", NULL);
    dset_edit ints = {"/batch_normalization/batch_normalization/beta:0", H5T_STD_I64LE, 1, {1280, 0}, 1};
    bad(good, "beta-int.h5", replace_dset, &ints,
        "dataset /batch_normalization/batch_normalization/beta:0 is not floating-point", NULL);
    strs_attr swapped = {"/pred", "weight_names", {"pred/bias:0", "pred/kernel:0"}, 2};
    bad(good, "pred-swapped.h5", set_strs_attr, &swapped, "/pred weight_names[0] is not pred/kernel:0", NULL);
    strs_attr extra = {"/pred", "weight_names", {"pred/kernel:0", "pred/bias:0", "pred/extra:0"}, 3};
    bad(good, "pred-extra.h5", set_strs_attr, &extra,
        "/pred weight_names lists 3 weights, the tutorial's layer has 2", NULL);
    strs_attr nohead = {"/", "layer_names", {"input_1", "stem_conv", "top_bn"}, 3};
    bad(good, "no-head.h5", set_strs_attr, &nohead,
        "layer_names does not end with the tutorial model's avg_pool, batch_normalization, top_dropout, pred",
        NULL);
    char other[4400];
    snprintf(other, sizeof other, "%s/other.h5", scratch);
    tc_copy_file(good, other, -1);
    bad(good, "external-bias.h5", external_bias, other, "/pred/pred/bias:0 is an external link", other);
}

/* The export of s reads back as s's classes, config and head, bit for bit. */
static void test_round_trip(const vkdp_ckpt_state *s, const char *path)
{
    vkdp_ckpt_state r;
    char err[2048] = "";
    int rc = vkdp_model_read(path, &r, err, sizeof err);
    TC_CHECK(rc == 0, "the good export reads back %s", err);
    int same = rc == 0 && r.from_export && r.nclasses == s->nclasses && r.image_size == s->image_size &&
               r.seed == s->seed && r.batch == s->batch && r.validation_split == s->validation_split &&
               !strcmp(r.data_dir, s->data_dir) && !strcmp(r.weights_file, path) && r.nweights == s->nweights;
    for (int i = 0; same && i < s->nclasses; i++)
        same = !strcmp(r.class_names[i], s->class_names[i]);
    TC_CHECK(same, "classes, image size, seed, batch, split and data folder round-trip; weights_file is the export");
    for (int i = 0; same && i < s->nweights; i++) {
        const vkdp_named_tensor *t = vkdp_ckpt_find_weight(&r, s->weights[i].name);
        same = t && tc_tensors_equal(t, &s->weights[i], 1);
    }
    TC_CHECK(same, "the head tensors round-trip bit for bit under their checkpoint names");
    vkdp_ckpt_state_free(&r);
}

/* /backbone tensors that the weights file does not hold as given are refused by the export. */
static void test_backbone_refused(vkdp_ckpt_state *s, const char *weights)
{
    static const struct {
        const char *name;
        int64_t d0, d1;
        const char *msg;
    } cases[] = {
        {"top_bn/top_bn/gamma:0", 1279, 0,
         "checkpoint tensor /backbone/top_bn/top_bn/gamma:0 is float32[1279] but the weights file's "
         "/top_bn/top_bn/gamma:0 is float[1280]"},
        {"top_bn/top_bn/nonsense:0", 1280, 0,
         "checkpoint tensor /backbone/top_bn/top_bn/nonsense:0 is not a tensor of the weights file"},
    };
    char out[4400], err[2048];
    snprintf(out, sizeof out, "%s/tuned.h5", scratch);
    for (size_t i = 0; i < VKDP_ARRAY_LEN(cases); i++) {
        s->backbone_trainable = 1;
        s->nbackbone = 1;
        s->backbone = vkdp_xcalloc(1, sizeof *s->backbone);
        tc_tensor(s->backbone, cases[i].name, 1, cases[i].d0, 0, 5);
        err[0] = 0;
        int rc = vkdp_keras_export(s, weights, out, err, sizeof err);
        TC_CHECK(rc < 0 && strstr(err, cases[i].msg) && !tc_exists(out), "export refuses %s: %s", cases[i].name,
                 rc < 0 ? err : "exported");
        free(s->backbone[0].data);
        free(s->backbone);
        s->backbone = NULL;
        s->nbackbone = s->backbone_trainable = 0;
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_export_hostile DIR WEIGHTS.h5\n");
        return 2;
    }
    scratch = argv[1];
    tc_fresh_dir(scratch);
    char good[4400], err[2048] = "";
    snprintf(good, sizeof good, "%s/good.h5", scratch);
    vkdp_ckpt_state s;
    tc_make_state(&s, 2, 1280, 41);
    int rc = vkdp_keras_export(&s, argv[2], good, err, sizeof err);
    TC_CHECK(rc == 0, "good export written %s", rc ? err : good);
    if (rc == 0) {
        test_round_trip(&s, good);
        test_hostile(good);
    }
    test_backbone_refused(&s, argv[2]);
    vkdp_ckpt_state_free(&s);
    printf("export hostile: %d failure(s)\n", tc_failures);
    return tc_failures ? 1 : 0;
}
