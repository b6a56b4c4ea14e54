/* Subcommands of the `trainer` executable. Each parses its own argv (argv[0] is the subcommand
 * name; the flags several share through the option table of options.h), prints its own --help,
 * and returns the process exit status. */
#ifndef VKDP_CLI_H
#define VKDP_CLI_H
#include <stdio.h>

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    int needs_mpi;          /* main() calls vkdp_dist_init/finalize around it */
    const char *summary;    /* one line for `trainer --help` */
} vkdp_command;

int cmd_devices(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_evaluate(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_features(int argc, char **argv);
int cmd_dataset(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_export(int argc, char **argv);

/* `trainer --version`: build, Vulkan loader and driver, MPI, HDF5 and OpenSSL versions; returns
 * the exit status. */
int vkdp_print_version(FILE *f);

#endif
