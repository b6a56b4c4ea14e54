/* `trainer dataset`: index an image folder the way Keras' image_dataset_from_directory does, print
 * its summary and optionally the chosen training or validation files in order. */
#include "vkdp/cli/cli.h"
#include "vkdp/cli/options.h"
#include "vkdp/core/common.h"
#include "vkdp/core/strlist.h"
#include "vkdp/data/data.h"
#include "vkdp/data/image.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum { W = 24 }; /* help: flag column width */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: trainer dataset [--data DIR] [--seed S] [--validation-split F]\n"
            "                       [--class-names a,b,...] [--max-pixels N]\n"
            "                       [--list training|validation]\n"
            "                       [--grid OUT.jpg [--grid-per-class N] [--grid-cell PX]]\n"
            "\n"
            "Indexes DIR (one subfolder per class, JPEG files found recursively) exactly as\n"
            "Keras' image_dataset_from_directory(DIR, validation_split=F, seed=S) and prints\n"
            "its summary: files found, classes and per-class counts, the training/validation\n"
            "split, and every file left out with the reason (invalid JPEG header, empty,\n"
            "unreadable, absurd size, over --max-pixels; PNG/BMP/GIF are listed by Keras but not decoded here).\n"
            "The flags mean what they mean for `trainer train`, with the same defaults.\n"
            "\n");
    const int shared[] = {VKDP_OPT_DATA, VKDP_OPT_SEED, VKDP_OPT_VALIDATION_SPLIT, VKDP_OPT_CLASS_NAMES,
                                 VKDP_OPT_MAX_PIXELS};
    for (size_t i = 0; i < VKDP_ARRAY_LEN(shared); i++)
        vkdp_opts_help(f, shared[i], W, NULL);
    fprintf(f, "  --list training|validation\n"
               "                           print the chosen files in order, one path per line, on\n"
               "                           stdout (the summary then goes to stderr)\n"
               "  --grid OUT.jpg           also draw the first N training images of every class, one\n"
               "                           row per class, each labelled with its class (as the Keras\n"
               "                           tutorial shows them), into OUT.jpg\n"
               "  --grid-per-class N       images per class in the grid, 1..64 (default 9)\n"
               "  --grid-cell PX           cell side in pixels, a multiple of 16 in 32..1024 (default 160)\n"
               "  -h, --help               this help\n");
}

int cmd_dataset(int argc, char **argv)
{
    static const int shared[] = {VKDP_OPT_DATA, VKDP_OPT_SEED, VKDP_OPT_VALIDATION_SPLIT, VKDP_OPT_CLASS_NAMES,
                                 VKDP_OPT_MAX_PIXELS};
    static const struct option own[] = {
        {"list", required_argument, 0, 'l'},
        {"grid", required_argument, 0, 'g'},
        {"grid-per-class", required_argument, 0, 'G'},
        {"grid-cell", required_argument, 0, 'P'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    vkdp_opt_parser opts;
    vkdp_session_cfg sc;
    vkdp_opts_begin(&opts, "dataset", argc, argv, shared, (int)VKDP_ARRAY_LEN(shared), own, &sc);
    const char *list = NULL, *grid = NULL;
    long grid_n = 9, grid_cell = 160;
    int c;
    while ((c = vkdp_opts_next(&opts)) != -1) {
        switch (c) {
        case VKDP_OPT_BAD: return 2;
        case 'l':
            if (strcmp(optarg, "training") && strcmp(optarg, "validation")) {
                fprintf(stderr, "trainer dataset: --list takes 'training' or 'validation', not '%s'\n", optarg);
                return 2;
            }
            list = optarg;
            break;
        case 'g': grid = optarg; break;
        case 'G': if (vkdp_parse_long("dataset", "--grid-per-class", optarg, 1, 64, &grid_n)) return 2; break;
        case 'P':
            if (vkdp_parse_long("dataset", "--grid-cell", optarg, 32, 1024, &grid_cell)) return 2;
            if (grid_cell % 16) {
                fprintf(stderr, "trainer dataset: --grid-cell %ld is not a multiple of 16\n", grid_cell);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "trainer dataset: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    char **names = NULL;
    int nnames = sc.class_names ? vkdp_split_csv(sc.class_names, &names) : 0;
    vkdp_index idx;
    char err[1024];
    vkdp_jpeg_set_max_pixels(sc.max_pixels);
    int rc = vkdp_index_build(sc.data_dir, (const char *const *)names, nnames, &idx, err, sizeof err);
    vkdp_free_strings(names, nnames);
    if (rc != 0) {
        fprintf(stderr, "trainer dataset: error: %s\n", err);
        return 1;
    }
    vkdp_split sp;
    vkdp_split_make(&idx, sc.seed, sc.validation_split, &sp);
    vkdp_dataset_print_summary(&idx, &sp, list ? stderr : stdout);
    if (list) {
        const int *ids = !strcmp(list, "training") ? sp.train : sp.val;
        int n = !strcmp(list, "training") ? sp.ntrain : sp.nval;
        char path[4096];
        for (int i = 0; i < n; i++)
            printf("%s\n", vkdp_index_path(&idx, ids[i], path, sizeof path));
    }
    if (grid) {
        const int *ids = sp.ntrain ? sp.train : sp.val;
        if (vkdp_dataset_grid(&idx, ids, sp.ntrain ? sp.ntrain : sp.nval, (int)grid_n, (int)grid_cell, grid, err,
                              sizeof err) != 0) {
            fprintf(stderr, "trainer dataset: error: %s\n", err);
            rc = 1;
        }
    }
    fflush(stdout);
    vkdp_split_free(&sp);
    vkdp_index_free(&idx);
    return ferror(stdout) ? 1 : rc;
}
