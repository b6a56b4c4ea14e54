/* The flags several subcommands share: one table (trainer/cli/options.c) holds each one's
 * default, limit, error message and help line, and every subcommand parses them through it, so
 * `--seed 5` means the same, within the same limits, wherever it is accepted. */
#ifndef VKDP_CLI_OPTIONS_H
#define VKDP_CLI_OPTIONS_H
#include <getopt.h>
#include <stdio.h>

#include "vkdp/train/session_cfg.h"

/* getopt_long values of the shared flags; a subcommand's own flags use values below these. */
enum {
    VKDP_OPT_DATA = 1000,
    VKDP_OPT_WEIGHTS,
    VKDP_OPT_ALLOW_MISSING_WEIGHTS,
    VKDP_OPT_CLASS_NAMES,
    VKDP_OPT_IMAGE_SIZE,
    VKDP_OPT_VALIDATION_SPLIT,
    VKDP_OPT_SEED,
    VKDP_OPT_BATCH,
    VKDP_OPT_DECODE_THREADS,
    VKDP_OPT_DEVICE,
    VKDP_OPT_PROFILE,
    VKDP_OPT_MAX_PIXELS,
    VKDP_OPT_FEATURE_BATCH,
    VKDP_OPT_END,
    VKDP_OPT_BAD = -2            /* vkdp_opts_next: a shared flag's value is outside its limit */
};

/* A subcommand's command line being parsed. */
typedef struct {
    const char *cmd;             /* subcommand name, for messages */
    int argc;
    char **argv;
    vkdp_session_cfg *sc;        /* where the shared flags go */
    struct option v[48];         /* getopt_long table: the shared flags taken, then the own ones */
} vkdp_opt_parser;

/* Starts parsing argv (argv[0]: the subcommand) with getopt_long: every shared field of sc at the
 * table's default, then accepting the shared flags in flags[0..n) and own (terminated by a
 * {0, 0, 0, 0} entry, values below VKDP_OPT_DATA). */
void vkdp_opts_begin(vkdp_opt_parser *p, const char *cmd, int argc, char **argv, const int *flags, int n,
                     const struct option *own, vkdp_session_cfg *sc);
/* Stores shared flags in sc (their limits checked) and returns the next other option as
 * getopt_long does (optarg set; -1 at the end, '?' for an unknown one), or VKDP_OPT_BAD after
 * printing "trainer CMD: --FLAG 'V' is not ..." to stderr (the subcommand then exits 2). */
int vkdp_opts_next(vkdp_opt_parser *p);
/* The help line of a shared flag, the flag column `width` wide: what it does and its default,
 * or "(default: DEFAULT_FROM)" when this subcommand takes it from elsewhere. */
void vkdp_opts_help(FILE *f, int flag, int width, const char *default_from);

#endif
