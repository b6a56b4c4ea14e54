/* `trainer export`: a checkpoint as a file the Keras tutorial's model loads (load_weights). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "vkdp/ckpt/ckpt.h"
#include "vkdp/ckpt/keras_export.h"
#include "vkdp/cli/cli.h"
#include "vkdp/cli/options.h"
#include "vkdp/core/common.h"
#include "vkdp/core/sha256.h"

enum { W = 19 }; /* help: flag column width */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: trainer export --checkpoint FILE --keras OUT.h5 [--weights FILE]\n"
            "\n"
            "Writes the trained model in Keras' HDF5 weights layout: every EfficientNetB0 layer of\n"
            "the backbone weights file (with the checkpoint's fine-tuned /backbone tensors in place of\n"
            "its own), then avg_pool, batch_normalization, top_dropout and pred from the checkpoint,\n"
            "in the order of the Keras tutorial's build_model(num_classes), so that\n"
            "\n"
            "    model = build_model(num_classes)\n"
            "    model.load_weights(\"OUT.h5\")\n"
            "\n"
            "gives the trained model (classes in the checkpoint's order, see `trainer info`).\n"
            "The file also holds the classes and the run's settings (root attributes vkdp_*, which\n"
            "Keras ignores): `trainer predict` and `trainer evaluate` read it as --checkpoint.\n"
            "\n"
            "  --checkpoint FILE   checkpoint .h5 (e.g. checkpoints/latest.h5)\n"
            "  --keras OUT.h5      the file to write (atomically: replaced only when complete)\n");
    vkdp_opts_help(f, VKDP_OPT_WEIGHTS, W, "the checkpoint's; the SHA-256 must match");
    fprintf(f, "  -h, --help          this help\n");
}

int cmd_export(int argc, char **argv)
{
    static const int shared[] = {VKDP_OPT_WEIGHTS};
    static const struct option own[] = {
        {"checkpoint", required_argument, 0, 'c'},
        {"keras", required_argument, 0, 'k'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    vkdp_opt_parser opts;
    vkdp_session_cfg sc;
    vkdp_opts_begin(&opts, "export", argc, argv, shared, (int)VKDP_ARRAY_LEN(shared), own, &sc);
    sc.weights = NULL; /* not given: the checkpoint's */
    const char *ckpath = NULL, *out = NULL;
    int c;
    while ((c = vkdp_opts_next(&opts)) != -1) {
        switch (c) {
        case VKDP_OPT_BAD: return 2;
        case 'c': ckpath = optarg; break;
        case 'k': out = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!ckpath || !out || optind < argc) {
        if (optind < argc)
            fprintf(stderr, "trainer export: unexpected argument '%s'\n", argv[optind]);
        else
            fprintf(stderr, "trainer export: --checkpoint FILE and --keras OUT.h5 are required\n");
        usage(stderr);
        return 2;
    }
    vkdp_ckpt_state ck;
    char err[4096], sha[65];
    if (vkdp_ckpt_read(ckpath, &ck, err, sizeof err) != 0) {
        fprintf(stderr, "trainer export: error: %s\n", err);
        return 1;
    }
    const char *weights = sc.weights ? sc.weights : ck.weights_file;
    int rc = 1;
    if (vkdp_sha256_file(weights, sha) != 0)
        fprintf(stderr, "trainer export: error: cannot read weights file %s: %s\n", weights, vkdp_errno_str());
    else if (strcmp(sha, ck.weights_sha256))
        fprintf(stderr,
                "trainer export: error: %s has SHA-256 %s, but checkpoint %s was trained on weights with "
                "SHA-256 %s\n",
                weights, sha, ckpath, ck.weights_sha256);
    else if (vkdp_keras_export(&ck, weights, out, err, sizeof err) != 0)
        fprintf(stderr, "trainer export: error: %s\n", err);
    else {
        printf("Wrote %s: EfficientNetB0 (%s) + the head of %s, %d classes: ", out, weights, ckpath, ck.nclasses);
        for (int k = 0; k < ck.nclasses; k++)
            printf("%s%s", k ? ", " : "", ck.class_names[k]);
        printf("\n");
        rc = fflush(stdout) != 0 || ferror(stdout);
    }
    vkdp_ckpt_state_free(&ck);
    return rc;
}
