/* `trainer features`: pooled EfficientNetB0 features of a folder's images into an HDF5 file:
 * /features [N,1280] float32, /labels [N] int32, /paths [N] strings, attribute class_names.
 * Images in Keras' index order (class by class, sorted); the ranks share the work, rank 0 writes. */
#include <getopt.h>
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vkdp/cli/cli.h"
#include "vkdp/core/common.h"
#include "vkdp/train/session.h"

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
            "  --data DIR           image folder, one subfolder per class\n"
            "  --weights FILE       Keras EfficientNetB0 weights .h5\n"
            "  --out FILE.h5        output file (written to a temporary file, then renamed)\n"
            "  --limit N            only the first N images\n"
            "  --batch B            images per global batch (default 32)\n"
            "  --image-size N       input side (default 224)\n"
            "  --class-names a,b    classes in this order\n"
            "  --allow-missing-weights  initialise missing tensors as Keras would (warns)\n"
            "  --device N[,M...]    Vulkan device for every rank, or one per rank on a node\n"
            "  --profile            print the per-op device time table\n"
            "  -h, --help           this help\n");
}

#define H5_OK(expr, what)                                                                       \
    do {                                                                                        \
        if ((expr) < 0)                                                                         \
            VKDP_FATAL("%s: cannot %s", out, what);                                             \
    } while (0)

static void write_h5(const char *out, const vkdp_session *s, int n, const float *feat, const int *labels)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", out, (int)getpid());
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0)
        VKDP_FATAL("%s: cannot create the HDF5 file", tmp);
    hsize_t d2[2] = {(hsize_t)n, VKDP_EFFNET_FEATURES}, d1[1] = {(hsize_t)n};
    hid_t sp = H5Screate_simple(2, d2, NULL);
    hid_t ds = H5Dcreate2(f, "features", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5_OK(ds, "create /features");
    H5_OK(H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, feat), "write /features");
    H5Dclose(ds);
    H5Sclose(sp);
    sp = H5Screate_simple(1, d1, NULL);
    ds = H5Dcreate2(f, "labels", H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5_OK(ds, "create /labels");
    H5_OK(H5Dwrite(ds, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, labels), "write /labels");
    H5Dclose(ds);
    hid_t st = H5Tcopy(H5T_C_S1);
    H5_OK(H5Tset_size(st, H5T_VARIABLE), "make a string type");
    H5_OK(H5Tset_cset(st, H5T_CSET_UTF8), "make a string type");
    char **paths = vkdp_xcalloc((size_t)n + 1, sizeof *paths);
    for (int i = 0; i < n; i++) {
        char buf[4096];
        paths[i] = vkdp_xstrdup(vkdp_index_path(&s->idx, i, buf, sizeof buf));
    }
    ds = H5Dcreate2(f, "paths", st, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5_OK(ds, "create /paths");
    H5_OK(H5Dwrite(ds, st, H5S_ALL, H5S_ALL, H5P_DEFAULT, paths), "write /paths");
    H5Dclose(ds);
    H5Sclose(sp);
    hsize_t dc[1] = {(hsize_t)s->idx.nclasses};
    sp = H5Screate_simple(1, dc, NULL);
    hid_t a = H5Acreate2(f, "class_names", st, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5_OK(a, "create attribute class_names");
    H5_OK(H5Awrite(a, st, s->idx.class_names), "write attribute class_names");
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(st);
    H5_OK(H5Fclose(f), "close the file");
    for (int i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    if (rename(tmp, out) != 0)
        VKDP_FATAL("rename %s -> %s: %s", tmp, out, vkdp_errno_str());
}

int cmd_features(int argc, char **argv)
{
    enum { O_DATA = 256, O_WEIGHTS, O_OUT, O_LIMIT, O_BATCH, O_SIZE, O_CLASSES, O_MISSING, O_DEVICE, O_PROFILE };
    static const struct option opts[] = {
        {"data", required_argument, 0, O_DATA},       {"weights", required_argument, 0, O_WEIGHTS},
        {"out", required_argument, 0, O_OUT},         {"limit", required_argument, 0, O_LIMIT},
        {"batch", required_argument, 0, O_BATCH},     {"image-size", required_argument, 0, O_SIZE},
        {"class-names", required_argument, 0, O_CLASSES}, {"allow-missing-weights", no_argument, 0, O_MISSING},
        {"device", required_argument, 0, O_DEVICE},   {"profile", no_argument, 0, O_PROFILE},
        {"help", no_argument, 0, 'h'},                {0, 0, 0, 0},
    };
    vkdp_session_cfg sc;
    vkdp_session_cfg_default(&sc);
    sc.validation_split = 0;
    const char *out = NULL;
    int limit = -1, c;
    long v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA: sc.data_dir = optarg; break;
        case O_WEIGHTS: sc.weights = optarg; break;
        case O_OUT: out = optarg; break;
        case O_LIMIT: if (vkdp_parse_long("features", "--limit", optarg, 0, 1L << 30, &v)) return 2; limit = (int)v; break;
        case O_BATCH: if (vkdp_parse_long("features", "--batch", optarg, 1, 4096, &v)) return 2; sc.batch = (int)v; break;
        case O_SIZE: if (vkdp_parse_long("features", "--image-size", optarg, 32, 4096, &v)) return 2; sc.image_size = (int)v; break;
        case O_CLASSES: sc.class_names = optarg; break;
        case O_MISSING: sc.allow_missing_weights = 1; break;
        case O_DEVICE: if (vkdp_check_device_flag("features", optarg)) return 2; sc.device = optarg; break;
        case O_PROFILE: sc.profile = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!out || optind < argc || sc.batch < 1 || sc.image_size < 32) {
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
    vkdp_featurize(&s.fc, s.bb, &s.idx, items, n, sc.batch, sc.image_size, 0, "Computing features");
    double dt = vkdp_now() - t0;
    int bad = 0;
    for (int i = 0; i < n; i++)
        bad += s.fc.state[i] != VKDP_FEAT_HAVE;
    if (s.dist.rank == 0) {
        if (bad)
            VKDP_FATAL("%d of %d image(s) could not be decoded (see the warnings); no features written", bad, n);
        write_h5(out, &s, n, s.fc.feat, s.idx.label);
        printf("wrote %s: %d images x %d features (%.1f images/s over %d rank(s))\n", out, n, VKDP_EFFNET_FEATURES,
               n / dt, s.dist.size);
    }
    free(items);
    vkdp_session_close(&s);
    vkdp_dist_shutdown();
    return 0;
}
