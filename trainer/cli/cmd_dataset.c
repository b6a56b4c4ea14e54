/* `trainer dataset`: index an image folder the way Keras' image_dataset_from_directory does, print
 * its summary and optionally the chosen training or validation files in order. */
#include "vkdp/cli/cli.h"
#include "vkdp/core/common.h"
#include "vkdp/data/data.h"
#include "vkdp/data/image.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: trainer dataset --data DIR [--seed S] [--validation-split F]\n"
            "                       [--class-names a,b,...] [--list training|validation]\n"
            "\n"
            "Indexes DIR (one subfolder per class, JPEG files found recursively) exactly as\n"
            "Keras' image_dataset_from_directory(DIR, validation_split=F, seed=S) and prints\n"
            "its summary: files found, classes and per-class counts, the training/validation\n"
            "split, and every file left out with the reason (invalid JPEG header, empty,\n"
            "unreadable, absurd size; PNG/BMP/GIF are listed by Keras but not decoded here).\n"
            "\n"
            "  --data DIR               image folder (required)\n"
            "  --seed S                 shuffle seed, 0..4294967295 (default 123)\n"
            "  --validation-split F     fraction in [0,1) held out for validation (default 0.2)\n"
            "  --class-names a,b,...    use these classes in this order (default: sorted\n"
            "                           subfolder names)\n"
            "  --list training|validation\n"
            "                           print the chosen files in order, one path per line, on\n"
            "                           stdout (the summary then goes to stderr)\n"
            "  --grid OUT.jpg           also draw the first N training images of every class, one\n"
            "                           row per class, each labelled with its class (as the Keras\n"
            "                           tutorial shows them), into OUT.jpg\n"
            "  --grid-per-class N       images per class in the grid, 1..64 (default 9)\n"
            "  --grid-cell PX           cell side in pixels, a multiple of 16 in 32..1024 (default 160)\n"
            "  -h, --help               this help\n");
}

static int parse_classes(char *s, char ***out)
{
    int n = 0;
    char **v = NULL;
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        v = vkdp_xrealloc(v, (size_t)(n + 1) * sizeof *v);
        v[n++] = tok;
    }
    *out = v;
    return n;
}

int cmd_dataset(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, 0, 'd'},
        {"seed", required_argument, 0, 's'},
        {"validation-split", required_argument, 0, 'v'},
        {"class-names", required_argument, 0, 'c'},
        {"list", required_argument, 0, 'l'},
        {"grid", required_argument, 0, 'g'},
        {"grid-per-class", required_argument, 0, 'G'},
        {"grid-cell", required_argument, 0, 'P'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *data = NULL, *list = NULL, *grid = NULL;
    long grid_n = 9, grid_cell = 160;
    char *classes_arg = NULL;
    unsigned long long seed = 123;
    double split = 0.2;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'd': data = optarg; break;
        case 's':
            errno = 0;
            seed = strtoull(optarg, &end, 10);
            if (errno || !*optarg || *end || optarg[0] == '-' || seed > 0xffffffffull) {
                fprintf(stderr, "trainer dataset: --seed '%s' is not an integer in 0..4294967295\n", optarg);
                return 2;
            }
            break;
        case 'v':
            errno = 0;
            split = strtod(optarg, &end);
            if (errno || !*optarg || *end || !(split >= 0.0 && split < 1.0)) {
                fprintf(stderr, "trainer dataset: --validation-split '%s' is not a number in [0,1)\n", optarg);
                return 2;
            }
            break;
        case 'c': classes_arg = optarg; break;
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
    if (!data) {
        fprintf(stderr, "trainer dataset: --data DIR is required\n");
        usage(stderr);
        return 2;
    }
    char **names = NULL;
    int nnames = 0;
    char *classes_copy = classes_arg ? vkdp_xstrdup(classes_arg) : NULL;
    if (classes_copy) {
        nnames = parse_classes(classes_copy, &names);
        if (nnames == 0) {
            fprintf(stderr, "trainer dataset: --class-names is empty\n");
            free(classes_copy);
            return 2;
        }
    }
    vkdp_index idx;
    char err[1024];
    int rc = vkdp_index_build(data, (const char *const *)names, nnames, &idx, err, sizeof err);
    free(names);
    free(classes_copy);
    if (rc != 0) {
        fprintf(stderr, "trainer dataset: error: %s\n", err);
        return 1;
    }
    vkdp_split sp;
    vkdp_split_make(&idx, (uint32_t)seed, split, &sp);
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
