/* Stands in for `trainer train` in the launch-script test, so that launch/train.sbatch's
 * requeue-and-resume path is exercised under real Slurm before training exists: it takes the same
 * flags, resolves --resume with vkdp_ckpt_resolve, continues from the checkpoint it finds, and
 * "trains" each epoch by sleeping, rank 0 writing a real checkpoint per epoch.
 *
 * usage: ckpt_resume_sim train --data DIR --weights FILE --out DIR --resume auto
 *                              [--epochs N] [--epoch-seconds S] */
#include <getopt.h>
#include <mpi.h>
#include <time.h>

#include "test_ckpt_common.h"

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},       {"weights", required_argument, NULL, 'w'},
        {"out", required_argument, NULL, 'c'}, {"resume", required_argument, NULL, 'r'},
        {"epochs", required_argument, NULL, 'e'},     {"epoch-seconds", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL, *resume = NULL;
    int epochs = 4;
    double epoch_s = 1.0;
    int c;
    if (argc < 2 || strcmp(argv[1], "train")) {
        fprintf(stderr, "usage: ckpt_resume_sim train --out DIR --resume auto ...\n");
        return 2;
    }
    optind = 2;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c': dir = optarg; break;
        case 'r': resume = optarg; break;
        case 'e': epochs = atoi(optarg); break;
        case 's': epoch_s = atof(optarg); break;
        case 'd': case 'w': break;
        default: return 2;
        }
    }
    if (!dir) {
        fprintf(stderr, "ckpt_resume_sim: --out is required\n");
        return 2;
    }
    MPI_Init(&argc, &argv);
    int rank = vkdp_rank(), size = vkdp_world_size();
    char path[4400], err[2048];
    int start = 0;
    int found = vkdp_ckpt_resolve(resume, dir, path, sizeof path, err, sizeof err);
    if (found < 0)
        VKDP_FATAL("%s", err);
    if (found) {
        vkdp_ckpt_state s;
        if (vkdp_ckpt_read(path, &s, err, sizeof err) < 0)
            VKDP_FATAL("%s", err);
        start = s.epoch;
        vkdp_ckpt_state_free(&s);
        vkdp_log("ckpt_resume_sim: resumed from %s at epoch %d (%d ranks)\n", path, start, size);
    } else {
        vkdp_log("ckpt_resume_sim: starting fresh (%d ranks)\n", size);
    }
    for (int e = start + 1; e <= epochs; e++) {
        struct timespec ts = {(time_t)epoch_s, (long)((epoch_s - (double)(time_t)epoch_s) * 1e9)};
        nanosleep(&ts, NULL);
        MPI_Barrier(MPI_COMM_WORLD);
        if (rank == 0) {
            vkdp_ckpt_state s;
            tc_make_state(&s, e, 16, (uint64_t)e);
            s.nranks = size;
            if (vkdp_ckpt_write(dir, &s, 2, path, sizeof path, err, sizeof err) < 0)
                VKDP_FATAL("%s", err);
            vkdp_ckpt_state_free(&s);
            vkdp_log("ckpt_resume_sim: epoch %d/%d done, wrote %s\n", e, epochs, path);
        }
        MPI_Barrier(MPI_COMM_WORLD);
    }
    MPI_Finalize();
    return 0;
}
