/* `trainer train`: the Keras transfer-learning tutorial, data-parallel over MPI ranks.
 *
 * Each step every rank takes its contiguous slice of the global batch, runs the frozen backbone
 * (once per image: later epochs reuse the cached pooled features) and the head's forward/backward
 * in shaders; the head's sums are exact fixed-point integers reduced with MPI_Allreduce, so the
 * run is bit-identical for any number of ranks. Rank 0 prints Keras-style progress and writes
 * the checkpoints. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vkdp/ckpt/ckpt.h"
#include "vkdp/cli/cli.h"
#include "vkdp/core/common.h"
#include "vkdp/model/head.h"
#include "vkdp/core/progress.h"
#include "vkdp/train/session.h"
#include "vkdp/train/train.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: [mpirun -np P] trainer train [OPTIONS]\n"
            "       [mpirun -np P] trainer [OPTIONS]          (the same)\n"
            "\n"
            "Trains the Keras tutorial's head (GlobalAveragePooling2D -> BatchNormalization ->\n"
            "Dropout -> Dense(classes, softmax)) on a frozen ImageNet EfficientNetB0, with Adam\n"
            "and categorical cross-entropy, data-parallel over the MPI ranks. Results do not\n"
            "depend on the number of ranks (bit-identical).\n"
            "\n"
            "data and model:\n"
            "  --data DIR               image folder, one subfolder per class (default data/flower_photos)\n"
            "  --weights FILE           Keras EfficientNetB0 weights .h5 (default weights/efficientnetb0_notop.h5)\n"
            "  --allow-missing-weights  initialise tensors missing from FILE as Keras would (warns)\n"
            "  --class-names a,b,...    classes in this order (default: sorted subfolder names)\n"
            "  --image-size N           square input side (default 224)\n"
            "  --validation-split F     held-out fraction, Keras' split (default 0.2)\n"
            "  --seed N                 split, shuffling, initialisation and dropout seed (default 123)\n"
            "training:\n"
            "  --epochs N               (default 2)\n"
            "  --batch N                global batch size, split over the ranks (default 32)\n"
            "  --lr F                   Adam learning rate (default 1e-2)\n"
            "  --dropout F              dropout rate of the head (default 0.2)\n"
            "  --no-feature-cache       recompute the backbone every epoch (for measurement)\n"
            "  --decode-threads N       JPEG decode threads per rank (default cores / ranks per node)\n"
            "checkpoints:\n"
            "  --out DIR                checkpoint folder (default checkpoints)\n"
            "  --resume FILE|auto       continue from a checkpoint; auto = DIR/latest.h5 if present\n"
            "  --keep N                 keep the newest N checkpoints (default 0 = all)\n"
            "  --checkpoint-every N     also checkpoint every N steps (default: once per epoch)\n"
            "diagnostics:\n"
            "  --check-replicas N       compare a checksum of every rank's head every N steps; abort\n"
            "                           on divergence (default 0 = off)\n"
            "  --device N               Vulkan device index (see `trainer devices`)\n"
            "  --profile                print the per-op device time table at the end\n"
            "  --log-interval S         seconds between progress lines when stdout is not a TTY (default 10)\n"
            "  --csv-log FILE           one row per epoch in Keras' CSVLogger format (epoch,accuracy,loss,\n"
            "                           val_accuracy,val_loss); a fresh run truncates FILE, a resumed one appends\n"
            "  -h, --help               this help\n");
}

int vkdp_train_parse(int argc, char **argv, vkdp_train_opts *t)
{
    enum { O_DATA = 256, O_WEIGHTS, O_MISSING, O_CLASSES, O_SIZE, O_VSPLIT, O_SEED, O_EPOCHS, O_BATCH, O_LR,
           O_DROPOUT, O_NOCACHE, O_THREADS, O_OUT, O_RESUME, O_KEEP, O_CKEVERY, O_CHECK, O_DEVICE, O_PROFILE,
           O_LOGINT, O_CSVLOG };
    static const struct option opts[] = {
        {"data", required_argument, 0, O_DATA},
        {"weights", required_argument, 0, O_WEIGHTS},
        {"allow-missing-weights", no_argument, 0, O_MISSING},
        {"class-names", required_argument, 0, O_CLASSES},
        {"image-size", required_argument, 0, O_SIZE},
        {"validation-split", required_argument, 0, O_VSPLIT},
        {"seed", required_argument, 0, O_SEED},
        {"epochs", required_argument, 0, O_EPOCHS},
        {"batch", required_argument, 0, O_BATCH},
        {"lr", required_argument, 0, O_LR},
        {"dropout", required_argument, 0, O_DROPOUT},
        {"no-feature-cache", no_argument, 0, O_NOCACHE},
        {"decode-threads", required_argument, 0, O_THREADS},
        {"out", required_argument, 0, O_OUT},
        {"resume", required_argument, 0, O_RESUME},
        {"keep", required_argument, 0, O_KEEP},
        {"checkpoint-every", required_argument, 0, O_CKEVERY},
        {"check-replicas", required_argument, 0, O_CHECK},
        {"device", required_argument, 0, O_DEVICE},
        {"profile", no_argument, 0, O_PROFILE},
        {"log-interval", required_argument, 0, O_LOGINT},
        {"csv-log", required_argument, 0, O_CSVLOG},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    memset(t, 0, sizeof *t);
    vkdp_session_cfg_default(&t->sc);
    t->epochs = 2;
    t->lr = 1e-2;
    t->dropout = 0.2;
    t->feature_cache = 1;
    t->out_dir = "checkpoints";
    t->log_interval = 10;
    optind = 1;
    int c;
    long v;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA: t->sc.data_dir = optarg; break;
        case O_WEIGHTS: t->sc.weights = optarg; break;
        case O_MISSING: t->sc.allow_missing_weights = 1; break;
        case O_CLASSES: t->sc.class_names = optarg; break;
        case O_SIZE: if (vkdp_parse_long("train", "--image-size", optarg, 32, 4096, &v)) return 2; t->sc.image_size = (int)v; break;
        case O_VSPLIT: if (vkdp_parse_double("train", "--validation-split", optarg, 0, 0.99, &t->sc.validation_split)) return 2; break;
        case O_SEED: if (vkdp_parse_long("train", "--seed", optarg, 0, 0x7fffffffL, &v)) return 2; t->sc.seed = (uint32_t)v; break;
        case O_EPOCHS: if (vkdp_parse_long("train", "--epochs", optarg, 0, 100000, &v)) return 2; t->epochs = (int)v; break;
        case O_BATCH: if (vkdp_parse_long("train", "--batch", optarg, 1, 4096, &v)) return 2; t->sc.batch = (int)v; break;
        case O_LR: if (vkdp_parse_double("train", "--lr", optarg, 0, 10, &t->lr)) return 2; break;
        case O_DROPOUT: if (vkdp_parse_double("train", "--dropout", optarg, 0, 0.99, &t->dropout)) return 2; break;
        case O_NOCACHE: t->feature_cache = 0; break;
        case O_THREADS: if (vkdp_parse_long("train", "--decode-threads", optarg, 1, 256, &v)) return 2; t->threads = (int)v; break;
        case O_OUT: t->out_dir = optarg; break;
        case O_RESUME: t->resume = optarg; break;
        case O_KEEP: if (vkdp_parse_long("train", "--keep", optarg, 0, 1000000, &v)) return 2; t->keep = (int)v; break;
        case O_CKEVERY: if (vkdp_parse_long("train", "--checkpoint-every", optarg, 0, 1L << 30, &v)) return 2; t->ckpt_every = v; break;
        case O_CHECK: if (vkdp_parse_long("train", "--check-replicas", optarg, 0, 1L << 30, &v)) return 2; t->check_replicas = v; break;
        case O_DEVICE: if (vkdp_parse_long("train", "--device", optarg, 0, 64, &v)) return 2; t->sc.device = (int)v; break;
        case O_PROFILE: t->sc.profile = 1; break;
        case O_LOGINT: if (vkdp_parse_double("train", "--log-interval", optarg, 0.01, 1e6, &t->log_interval)) return 2; break;
        case O_CSVLOG: t->csv_log = optarg; break;
        case 'h': usage(stdout); return 1;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "trainer train: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    return 0;
}

int cmd_train(int argc, char **argv)
{
    vkdp_train_opts t;
    int rc = vkdp_train_parse(argc, argv, &t);
    if (rc)
        return rc == 1 ? 0 : rc;
    return vkdp_train_run(&t);
}
