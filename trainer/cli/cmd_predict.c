/* `trainer predict`: the top classes of each given image under a checkpoint's head (or a Keras
 * export's). Images are spread over the ranks; rank 0 prints them in the order given. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "vkdp/ckpt/ckpt.h"
#include "vkdp/cli/cli.h"
#include "vkdp/cli/model_file.h"
#include "vkdp/cli/options.h"
#include "vkdp/core/common.h"
#include "vkdp/data/data.h"
#include "vkdp/model/head.h"
#include "vkdp/train/head_ckpt.h"
#include "vkdp/train/session.h"

enum { W = 19 }; /* help: flag column width */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: [mpirun -np P] trainer predict --checkpoint FILE [--top K] [--exact] [--weights FILE] IMG...\n"
            "\n"
            "Prints, for every JPEG image given, its top K classes (default 3) with probabilities\n"
            "under the checkpoint's head on the frozen EfficientNetB0. Images that cannot be\n"
            "decoded are reported and make the exit status non-zero.\n"
            "\n"
            "  --checkpoint FILE   checkpoint .h5, or a Keras export of one (trainer export --keras:\n"
            "                      backbone, head and classes from that file)\n"
            "  --top K             classes per image (default 3)\n"
            "  --exact             probabilities as exact hexadecimal floats (%%a), not rounded\n");
    vkdp_opts_help(f, VKDP_OPT_WEIGHTS, W, "the checkpoint's; SHA-256 must match");
    vkdp_opts_help(f, VKDP_OPT_MAX_PIXELS, W, NULL);
    vkdp_opts_help(f, VKDP_OPT_DEVICE, W, NULL);
    fprintf(f, "  -h, --help          this help\n");
}

int cmd_predict(int argc, char **argv)
{
    static const int shared[] = {VKDP_OPT_WEIGHTS, VKDP_OPT_MAX_PIXELS, VKDP_OPT_DEVICE};
    static const struct option own[] = {
        {"checkpoint", required_argument, 0, 'c'},
        {"top", required_argument, 0, 'k'},
        {"exact", no_argument, 0, 'x'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    vkdp_opt_parser opts;
    vkdp_session_cfg sc;
    vkdp_opts_begin(&opts, "predict", argc, argv, shared, (int)VKDP_ARRAY_LEN(shared), own, &sc);
    sc.data_dir = NULL; /* images are given one by one */
    sc.weights = NULL;  /* not given: the checkpoint's */
    const char *ckpath = NULL;
    int top = 3, exact = 0, c;
    long v;
    while ((c = vkdp_opts_next(&opts)) != -1) {
        switch (c) {
        case VKDP_OPT_BAD: return 2;
        case 'c': ckpath = optarg; break;
        case 'k': if (vkdp_parse_long("predict", "--top", optarg, 1, 1000, &v)) return 2; top = (int)v; break;
        case 'x': exact = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!ckpath || optind >= argc || top < 1) {
        usage(stderr);
        return 2;
    }
    char **imgs = argv + optind;
    int nimg = argc - optind;
    vkdp_ckpt_state ck;
    vkdp_cli_read_model("predict", ckpath, &ck, &sc);
    sc.image_size = ck.image_size;
    sc.batch = 1;
    vkdp_session s;
    vkdp_session_open(&s, &sc, 0);
    vkdp_head *h = vkdp_session_head_for_ckpt(&s, &ck, ckpath);
    const int C = ck.nclasses, S = ck.image_size, P = s.dist.size;
    /* probs of every image; row i is filled by rank i % P, -1 marks an undecodable image */
    double *probs = vkdp_xcalloc((size_t)nimg * C, sizeof *probs);
    float *img = vkdp_xmalloc((size_t)S * S * 3 * sizeof *img), feat[VKDP_EFFNET_FEATURES];
    float *p = vkdp_xmalloc((size_t)C * sizeof *p);
    for (int round = 0; round * P < nimg; round++) {
        int i = round * P + s.dist.rank, n = 0;
        if (i < nimg) {
            uint8_t *rgb = NULL;
            int w, hgt;
            char reason[512];
            if (vkdp_jpeg_decode_file(imgs[i], &rgb, &w, &hgt, reason, sizeof reason) == 0) {
                vkdp_resize_bilinear_rgb(rgb, hgt, w, img, S, S);
                free(rgb);
                vkdp_backbone_forward(s.bb, img, 1, feat);
                n = 1;
            } else {
                vkdp_warn("%s: %s", imgs[i], reason);
                probs[(size_t)i * C] = -1;
            }
        }
        vkdp_head_evaluate(h, feat, NULL, n, NULL, p); /* a collective: every rank calls it */
        for (int k = 0; n && k < C; k++)
            probs[(size_t)i * C + k] = p[k];
    }
    vkdp_allreduce_f64_sum(probs, (size_t)nimg * C);
    int failed = 0;
    if (s.dist.rank == 0) {
        int K = top < C ? top : C;
        for (int i = 0; i < nimg; i++) {
            double *row = probs + (size_t)i * C;
            if (row[0] < 0) {
                printf("%s: cannot be decoded\n", imgs[i]);
                failed++;
                continue;
            }
            printf("%s:", imgs[i]);
            int used[256] = {0};
            for (int k = 0; k < K && k < 256; k++) {
                int best = -1;
                for (int j = 0; j < C && j < 256; j++)
                    if (!used[j] && (best < 0 || row[j] > row[best]))
                        best = j;
                used[best] = 1;
                printf(exact ? "  %s %a" : "  %s %.4f", ck.class_names[best], row[best]);
            }
            printf("\n");
        }
        fflush(stdout);
    }
    vkdp_bcast(&failed, sizeof failed, 0);
    free(probs); free(img); free(p);
    vkdp_head_destroy(h);
    vkdp_session_close(&s);
    vkdp_ckpt_state_free(&ck);
    return failed ? 1 : 0;
}
