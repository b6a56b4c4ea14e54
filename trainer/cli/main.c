/* trainer: entry point. Dispatches to subcommands; `trainer` alone runs `trainer train` with its
 * defaults, the Keras tutorial's settings. */
#include <stdio.h>
#include <string.h>

#include "vkdp/cli/cli.h"
#include "vkdp/core/common.h"
#include "vkdp/dist/dist.h"
#include "vkdp_git_commit.h" /* generated: VKDP_GIT_COMMIT */

static const vkdp_command commands[] = {
    {"train", cmd_train, 1, "train the head on a frozen EfficientNetB0, data-parallel (the default)"},
    {"evaluate", cmd_evaluate, 1, "loss, accuracy, per-class precision/recall/F1, confusion matrix of a checkpoint"},
    {"predict", cmd_predict, 1, "top classes with probabilities for each given image"},
    {"features", cmd_features, 1, "write the backbone's pooled features of a folder to HDF5"},
    {"devices", cmd_devices, 0, "list the Vulkan devices this process sees, with their limits"},
    {"dataset", cmd_dataset, 0, "index an image folder as Keras does: classes, split, skipped files"},
    {"info", cmd_info, 0, "print a checkpoint: config, weights, optimizer, state, metrics"},
    {"export", cmd_export, 0, "write a checkpoint as a Keras weights file for the tutorial's model"},
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: trainer [SUBCOMMAND] [OPTIONS]\n"
            "\n"
            "vkdp %s (%s): data-parallel transfer-learning trainer, Vulkan compute + MPI + HDF5.\n"
            "\n"
            "subcommands:\n",
            VKDP_VERSION, VKDP_GIT_COMMIT);
    for (size_t i = 0; i < VKDP_ARRAY_LEN(commands); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\n"
            "`trainer SUBCOMMAND --help` documents each subcommand's flags.\n"
            "Without a subcommand, `trainer [OPTIONS]` is `trainer train [OPTIONS]`.\n"
            "\n"
            "environment:\n"
            "  VKDP_DEVICE=N[,M..]  Vulkan device index (as listed by `trainer devices`) for every rank,\n"
            "                       or one per rank on a node\n"
            "  VKDP_FORCE_STAGING=1 discrete-GPU memory path (staging ring, readback) on any device;\n"
            "                       VKDP_BAR_MB=N sizes its host window (default 256)\n"
            "  VKDP_VALIDATION=0|1|3  force Vulkan validation layers off/on (3: on, with synchronization\n"
            "                       validation)\n"
            "  LP_NUM_THREADS=N     lavapipe threads per rank (default: cores / ranks on the node)\n"
            "  VKDP_PROGRESS=bar|lines  progress display (default: bar on a terminal; lines under MPI,\n"
            "                       whose ranks always see a pseudo-terminal; launch/run.sh sets it)\n");
}

/* `trainer SUBCOMMAND --help` needs no MPI: it works on a login node, and the build generates the
 * man page from it. (A subcommand run without MPI_Init is a single process anyway.) */
static int asks_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    const vkdp_command *cmd = NULL;
    int sub_argc = argc - 1;
    char **sub_argv = argv + 1;

    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))) {
        usage(stdout);
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "--version"))
        return vkdp_print_version(stdout);
    if (argc >= 2 && argv[1][0] != '-') {
        for (size_t i = 0; i < VKDP_ARRAY_LEN(commands); i++)
            if (!strcmp(argv[1], commands[i].name))
                cmd = &commands[i];
        if (!cmd) {
            fprintf(stderr, "trainer: unknown subcommand '%s'\n\n", argv[1]);
            usage(stderr);
            return 2;
        }
    } else {
        /* No subcommand: the main job. */
        static char train_name[] = "train";
        for (size_t i = 0; i < VKDP_ARRAY_LEN(commands); i++)
            if (!strcmp(commands[i].name, "train"))
                cmd = &commands[i];
        if (!cmd) {
            usage(stderr);
            return 2;
        }
        sub_argc = argc;
        sub_argv = argv;
        sub_argv[0] = train_name;
    }

    if (cmd->needs_mpi && !asks_help(sub_argc, sub_argv) && vkdp_dist_init(&argc, &argv) != 0)
        return 1;
    int rc = cmd->run(sub_argc, sub_argv);
    vkdp_dist_finalize();
    return rc;
}
