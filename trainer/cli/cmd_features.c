/* `trainer features`: pooled EfficientNetB0 features of a folder's images into an HDF5 file:
 * /features [N,1280] float32, /labels [N] int32, /paths [N] strings, attribute class_names.
 * Images in Keras' index order (class by class, sorted); the ranks share the work, rank 0 writes. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "vkdp/cli/cli.h"
#include "vkdp/cli/options.h"
#include "vkdp/core/common.h"
#include "vkdp/h5/atomic_file.h"
#include "vkdp/h5/h5.h"
#include "vkdp/train/session.h"

static const int shared[] = {VKDP_OPT_DATA, VKDP_OPT_WEIGHTS, VKDP_OPT_BATCH, VKDP_OPT_IMAGE_SIZE,
                             VKDP_OPT_CLASS_NAMES, VKDP_OPT_ALLOW_MISSING_WEIGHTS, VKDP_OPT_DECODE_THREADS,
                             VKDP_OPT_MAX_PIXELS, VKDP_OPT_DEVICE, VKDP_OPT_PROFILE, VKDP_OPT_FEATURE_BATCH};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: [mpirun -np P] trainer features --data DIR --weights FILE --out FILE.h5\n"
            "                                       [--limit N] [--batch B] [OPTIONS]\n"
            "\n"
            "Writes the frozen EfficientNetB0's pooled features of the images in DIR (Keras'\n"
            "index order: class by class, files sorted) to FILE.h5: /features [N,1280] float32,\n"
            "/labels [N] int32, /paths [N] strings, attribute class_names.\n"
            "\n"
            "  --out FILE.h5           output file (written to a temporary file, fsynced, then renamed)\n"
            "  --limit N               only the first N images\n");
    for (size_t i = 0; i < VKDP_ARRAY_LEN(shared); i++)
        vkdp_opts_help(f, shared[i], 23, NULL);
    fprintf(f, "  -h, --help              this help\n");
}

typedef struct {
    vkdp_h5_io *io;
    const vkdp_session *s;
    int n;
    const float *feat;
    const int *labels;
    void *img;
    size_t len;
} feature_file;

/* The whole file, built in memory. */
static int build_file(void *arg)
{
    feature_file *ff = arg;
    vkdp_h5_io *io = ff->io;
    hid_t f = vkdp_h5_mem_create(io);
    if (f < 0)
        return -1;
    hsize_t d2[2] = {(hsize_t)ff->n, VKDP_EFFNET_FEATURES}, d1[1] = {(hsize_t)ff->n};
    char **paths = vkdp_xcalloc((size_t)ff->n + 1, sizeof *paths);
    for (int i = 0; i < ff->n; i++) {
        char buf[4096];
        paths[i] = vkdp_xstrdup(vkdp_index_path(&ff->s->idx, i, buf, sizeof buf));
    }
    int rc = vkdp_h5_dset_write(io, f, "features", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d2, NULL,
                                ff->feat);
    if (rc == 0)
        rc = vkdp_h5_dset_write(io, f, "labels", H5T_STD_I32LE, H5T_NATIVE_INT, 1, d1, NULL,
                                ff->labels);
    if (rc == 0)
        rc = vkdp_h5_dset_write_strs(io, f, "paths", (const char *const *)paths, (size_t)ff->n);
    if (rc == 0)
        rc = vkdp_h5_attr_write_strs(io, f, "class_names",
                                     (const char *const *)ff->s->idx.class_names,
                                     (size_t)ff->s->idx.nclasses, 1);
    for (int i = 0; i < ff->n; i++)
        free(paths[i]);
    free(paths);
    if (rc < 0) {
        H5Fclose(f);
        return -1;
    }
    return vkdp_h5_mem_finish(io, f, &ff->img, &ff->len);
}

static void write_h5(const char *out, const vkdp_session *s, int n, const float *feat, const int *labels)
{
    char err[4096];
    vkdp_h5_io io = {out, NULL, NULL, err, sizeof err};
    feature_file ff = {&io, s, n, feat, labels, NULL, 0};
    if (vkdp_h5_quietly(build_file, &ff) < 0)
        VKDP_FATAL("%s", err);
    int rc = vkdp_atomic_write(&io, out, ff.img, ff.len);
    free(ff.img);
    if (rc < 0)
        VKDP_FATAL("%s", err);
}

int cmd_features(int argc, char **argv)
{
    enum { O_OUT = 256, O_LIMIT };
    static const struct option own[] = {
        {"out", required_argument, 0, O_OUT},
        {"limit", required_argument, 0, O_LIMIT},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    vkdp_opt_parser opts;
    vkdp_session_cfg sc;
    vkdp_opts_begin(&opts, "features", argc, argv, shared, (int)VKDP_ARRAY_LEN(shared), own, &sc);
    sc.validation_split = 0; /* every image, in index order */
    const char *out = NULL;
    int limit = -1, c;
    long v;
    while ((c = vkdp_opts_next(&opts)) != -1) {
        switch (c) {
        case VKDP_OPT_BAD: return 2;
        case O_OUT: out = optarg; break;
        case O_LIMIT: if (vkdp_parse_long("features", "--limit", optarg, 0, 1L << 30, &v)) return 2; limit = (int)v; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!out || optind < argc) {
        usage(stderr);
        return 2;
    }
    vkdp_session s;
    vkdp_session_open(&s, &sc, 1);
    int n = limit >= 0 && limit < s.idx.n ? limit : s.idx.n;
    int *items = vkdp_xcalloc((size_t)n + 1, sizeof *items);
    for (int i = 0; i < n; i++)
        items[i] = i;
    double t0 = vkdp_now();
    vkdp_featurize(s.fc, s.bb, &s.idx, items, n, sc.batch, sc.image_size, sc.decode_threads,
                   s.feature_batch, "Computing features");
    double dt = vkdp_now() - t0;
    if (s.dist.rank == 0) {
        int bad = vkdp_featcache_count_missing(s.fc, items, n);
        if (bad)
            VKDP_FATAL("%d of %d image(s) could not be decoded (see the warnings); no features written", bad, n);
        vkdp_feat_batch fb = {vkdp_xmalloc((size_t)n * VKDP_EFFNET_FEATURES * sizeof *fb.x + 1),
                              vkdp_xcalloc((size_t)n + 1, sizeof *fb.labels), NULL, 0, 0};
        vkdp_featcache_gather(s.fc, items, 0, n, s.idx.label, &fb);
        write_h5(out, &s, n, fb.x, fb.labels);
        free(fb.x);
        free(fb.labels);
        printf("wrote %s: %d images x %d features (%.1f images/s over %d rank(s))\n", out, n, VKDP_EFFNET_FEATURES,
               n / dt, s.dist.size);
    }
    free(items);
    vkdp_session_close(&s);
    return 0;
}
