/* `trainer train`: the Keras transfer-learning tutorial, data-parallel over MPI ranks.
 *
 * Each step every rank takes its contiguous slice of the global batch, runs the frozen backbone
 * (once per image: later epochs reuse the cached pooled features) and the head's forward/backward
 * in shaders; the head's sums are exact fixed-point integers reduced with MPI_Allreduce, so the
 * run is bit-identical for any number of ranks. Rank 0 prints Keras-style progress and writes
 * the checkpoints. This file parses the options; the loop is trainer/train/train_loop.c. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "vkdp/cli/cli.h"
#include "vkdp/cli/options.h"
#include "vkdp/core/common.h"
#include "vkdp/model/effnet_grad.h"
#include "vkdp/train/train.h"

enum { W = 24 }; /* help: flag column width */

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
            "data and model:\n");
    const int model[] = {VKDP_OPT_DATA, VKDP_OPT_WEIGHTS, VKDP_OPT_ALLOW_MISSING_WEIGHTS, VKDP_OPT_CLASS_NAMES,
                         VKDP_OPT_IMAGE_SIZE, VKDP_OPT_VALIDATION_SPLIT, VKDP_OPT_SEED};
    for (size_t i = 0; i < VKDP_ARRAY_LEN(model); i++)
        vkdp_opts_help(f, model[i], W, NULL);
    fprintf(f, "  --draw-seed N            seed of the random draws alone: head initialisation, shuffle,\n"
               "                           augmentation, dropout, drop connect; the split keeps --seed's\n"
               "                           (default: --seed's value, so --seed alone sets both)\n");
    fprintf(f, "training:\n"
               "  --epochs N               (default 2)\n");
    vkdp_opts_help(f, VKDP_OPT_BATCH, W, NULL);
    fprintf(f, "  --lr F                   Adam learning rate (default 1e-2)\n"
               "  --dropout F              dropout rate of the head (default 0.2)\n"
               "  --no-feature-cache       recompute the backbone every epoch (for measurement)\n"
               "  --augment                the Keras example's augmentation of training images on the\n"
               "                           device (rotation 0.15, translation 0.1, horizontal flip,\n"
               "                           contrast 0.1; per seed, epoch and sample); training images\n"
               "                           are then not cached\n");
    vkdp_opts_help(f, VKDP_OPT_DECODE_THREADS, W, NULL);
    vkdp_opts_help(f, VKDP_OPT_FEATURE_BATCH, W, NULL);
    vkdp_opts_help(f, VKDP_OPT_MAX_PIXELS, W, NULL);
    fprintf(f, "fine-tuning (after --epochs of head-only training; BatchNormalization stays frozen):\n"
               "  --fine-tune-epochs N     epochs with the top of the backbone trainable (default 0: none)\n"
               "  --fine-tune-from LAYER   train LAYER and every layer after it: a block (block1a ..\n"
               "                           block7a), top_conv, or the first layer of one of them\n"
               "  --trainable-top N        train Keras' model.layers[-N:] (the head's 4 layers\n"
               "                           included; 20 = block7a + top_conv), at a block boundary\n"
               "  --fine-tune-lr F         learning rate of the new Adam of phase 2 (default 1e-5)\n"
               "  --drop-connect-rate F    Keras' EfficientNetB0 drop_connect_rate: in phase 2 the b-th\n"
               "                           of the 16 blocks, where trainable and residual, drops a\n"
               "                           sample's branch at F * b / 16 (default 0.2; 0: never)\n"
               "  --drop-connect all|trainable\n"
               "                           all: also in the frozen residual blocks, in both phases, as\n"
               "                           the Keras example's model trains (the frozen backbone is then\n"
               "                           stochastic: training images are not cached); default\n"
               "                           trainable\n"
               "  --bucket-mb F            gradient bucket size in MiB for phase 2's allreduce, which\n"
               "                           starts bucket by bucket during the backward (default 25,\n"
               "                           the first bucket 1 MiB, as PyTorch DDP); results do not\n"
               "                           depend on it (exact int64 sums)\n");
    fprintf(f, "checkpoints:\n"
               "  --out DIR                checkpoint folder (default checkpoints)\n"
               "  --resume FILE|auto       continue from a checkpoint; auto = DIR/latest.h5 if present\n"
               "  --keep N                 keep the newest N checkpoints (default 0 = all)\n"
               "  --checkpoint-every N     also checkpoint every N steps (default: once per epoch)\n"
               "diagnostics:\n"
               "  --check-replicas N       compare a checksum of every rank's head every N steps; abort\n"
               "                           on divergence (default 0 = off)\n"
               "  --collective-timeout S   abort the job, naming the step and the operation, when one\n"
               "                           collective or device wait takes longer than S seconds\n"
               "                           (a lost host or cut link; default 600, 0 = never); time\n"
               "                           stopped (a suspended job) is not counted\n");
    vkdp_opts_help(f, VKDP_OPT_DEVICE, W, NULL);
    vkdp_opts_help(f, VKDP_OPT_PROFILE, W, NULL);
    fprintf(f, "  --log-interval S         seconds between progress lines when stdout is not a TTY (default 10)\n"
               "  --csv-log FILE           one row per epoch in Keras' CSVLogger format (epoch,accuracy,loss,\n"
               "                           val_accuracy,val_loss); a fresh run truncates FILE, a resumed one appends\n"
               "  -h, --help               this help\n");
}

/* 0: parsed; 1: --help printed; 2: bad usage (message printed). */
static int parse(int argc, char **argv, vkdp_train_opts *t)
{
    enum { O_EPOCHS = 256, O_LR, O_DROPOUT, O_NOCACHE, O_OUT, O_RESUME, O_KEEP, O_CKEVERY, O_CHECK, O_LOGINT,
           O_COLLTIMEOUT, O_CSVLOG, O_AUGMENT, O_FT_EPOCHS, O_FT_FROM, O_FT_TOP, O_FT_LR, O_BUCKET_MB, O_DRAW_SEED,
           O_DROP_CONNECT, O_DROP_CONNECT_BLOCKS };
    static const int shared[] = {VKDP_OPT_DATA, VKDP_OPT_WEIGHTS, VKDP_OPT_ALLOW_MISSING_WEIGHTS,
                                 VKDP_OPT_CLASS_NAMES, VKDP_OPT_IMAGE_SIZE, VKDP_OPT_VALIDATION_SPLIT,
                                 VKDP_OPT_SEED, VKDP_OPT_BATCH, VKDP_OPT_DECODE_THREADS, VKDP_OPT_DEVICE,
                                 VKDP_OPT_PROFILE, VKDP_OPT_MAX_PIXELS, VKDP_OPT_FEATURE_BATCH};
    static const struct option own[] = {
        {"epochs", required_argument, 0, O_EPOCHS},
        {"lr", required_argument, 0, O_LR},
        {"dropout", required_argument, 0, O_DROPOUT},
        {"no-feature-cache", no_argument, 0, O_NOCACHE},
        {"augment", no_argument, 0, O_AUGMENT},
        {"draw-seed", required_argument, 0, O_DRAW_SEED},
        {"out", required_argument, 0, O_OUT},
        {"resume", required_argument, 0, O_RESUME},
        {"keep", required_argument, 0, O_KEEP},
        {"checkpoint-every", required_argument, 0, O_CKEVERY},
        {"check-replicas", required_argument, 0, O_CHECK},
        {"log-interval", required_argument, 0, O_LOGINT},
        {"collective-timeout", required_argument, 0, O_COLLTIMEOUT},
        {"csv-log", required_argument, 0, O_CSVLOG},
        {"fine-tune-epochs", required_argument, 0, O_FT_EPOCHS},
        {"fine-tune-from", required_argument, 0, O_FT_FROM},
        {"trainable-top", required_argument, 0, O_FT_TOP},
        {"fine-tune-lr", required_argument, 0, O_FT_LR},
        {"bucket-mb", required_argument, 0, O_BUCKET_MB},
        {"drop-connect-rate", required_argument, 0, O_DROP_CONNECT},
        {"drop-connect", required_argument, 0, O_DROP_CONNECT_BLOCKS},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    vkdp_opt_parser opts;
    memset(t, 0, sizeof *t);
    vkdp_opts_begin(&opts, "train", argc, argv, shared, (int)VKDP_ARRAY_LEN(shared), own, &t->sc);
    t->epochs = 2;
    t->lr = 1e-2;
    t->dropout = 0.2;
    t->feature_cache = 1;
    t->out_dir = "checkpoints";
    t->log_interval = 10;
    t->collective_timeout = 600;
    t->fine_tune_lr = 1e-5;
    t->bucket_mb = 25;
    t->drop_connect_rate = VKDP_EFFNET_DROP_CONNECT_RATE;
    int c, ft_lr = 0, bucket_mb = 0, draw_seed = 0, drop_connect = 0;
    long v;
    while ((c = vkdp_opts_next(&opts)) != -1) {
        switch (c) {
        case VKDP_OPT_BAD: return 2;
        case O_EPOCHS: if (vkdp_parse_long("train", "--epochs", optarg, 0, 100000, &v)) return 2; t->epochs = (int)v; break;
        case O_LR: if (vkdp_parse_double("train", "--lr", optarg, 0, 10, &t->lr)) return 2; break;
        case O_DROPOUT: if (vkdp_parse_double("train", "--dropout", optarg, 0, 0.99, &t->dropout)) return 2; break;
        case O_NOCACHE: t->feature_cache = 0; break;
        case O_AUGMENT: t->augment = 1; break;
        case O_DRAW_SEED: if (vkdp_parse_long("train", "--draw-seed", optarg, 0, 0xffffffffL, &v)) return 2; t->draw_seed = (uint32_t)v; draw_seed = 1; break;
        case O_OUT: t->out_dir = optarg; break;
        case O_RESUME: t->resume = optarg; break;
        case O_KEEP: if (vkdp_parse_long("train", "--keep", optarg, 0, 1000000, &v)) return 2; t->keep = (int)v; break;
        case O_CKEVERY: if (vkdp_parse_long("train", "--checkpoint-every", optarg, 0, 1L << 30, &v)) return 2; t->ckpt_every = v; break;
        case O_CHECK: if (vkdp_parse_long("train", "--check-replicas", optarg, 0, 1L << 30, &v)) return 2; t->check_replicas = v; break;
        case O_LOGINT: if (vkdp_parse_double("train", "--log-interval", optarg, 0.01, 1e6, &t->log_interval)) return 2; break;
        case O_COLLTIMEOUT: if (vkdp_parse_double("train", "--collective-timeout", optarg, 0, 1e6, &t->collective_timeout)) return 2; break;
        case O_CSVLOG: t->csv_log = optarg; break;
        case O_FT_EPOCHS: if (vkdp_parse_long("train", "--fine-tune-epochs", optarg, 0, 100000, &v)) return 2; t->fine_tune_epochs = (int)v; break;
        case O_FT_FROM: t->fine_tune_from = optarg; break;
        case O_FT_TOP: if (vkdp_parse_long("train", "--trainable-top", optarg, 1, 100000, &v)) return 2; t->trainable_top = v; break;
        case O_FT_LR: if (vkdp_parse_double("train", "--fine-tune-lr", optarg, 0, 10, &t->fine_tune_lr)) return 2; ft_lr = 1; break;
        /* at most 2 GiB: a bucket's int64 count must fit MPI's int */
        case O_BUCKET_MB: if (vkdp_parse_double("train", "--bucket-mb", optarg, 0.001, 2048, &t->bucket_mb)) return 2; bucket_mb = 1; break;
        case O_DROP_CONNECT_BLOCKS:
            if (strcmp(optarg, "all") && strcmp(optarg, "trainable")) {
                fprintf(stderr, "trainer train: --drop-connect: expected all or trainable, got '%s'\n", optarg);
                return 2;
            }
            t->drop_connect_all = !strcmp(optarg, "all");
            break;
        case O_DROP_CONNECT: if (vkdp_parse_double("train", "--drop-connect-rate", optarg, 0, 0.99, &t->drop_connect_rate)) return 2; drop_connect = 1; break;
        case 'h': usage(stdout); return 1;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "trainer train: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    if (!draw_seed)
        t->draw_seed = t->sc.seed;
    char err[1024];
    if (t->drop_connect_all && t->drop_connect_rate <= 0) {
        fprintf(stderr, "trainer train: --drop-connect all with --drop-connect-rate 0 drops nothing\n");
        return 2;
    }
    if ((ft_lr || bucket_mb || (drop_connect && !t->drop_connect_all)) && t->fine_tune_epochs == 0) {
        fprintf(stderr, "trainer train: %s has no effect without --fine-tune-epochs N (N > 0)\n",
                ft_lr ? "--fine-tune-lr" : bucket_mb ? "--bucket-mb" : "--drop-connect-rate");
        return 2;
    }
    if (vkdp_finetune_check_opts(t, err, sizeof err) != 0) {
        fprintf(stderr, "trainer train: %s\n", err);
        return 2;
    }
    return 0;
}

int cmd_train(int argc, char **argv)
{
    vkdp_train_opts t;
    int rc = parse(argc, argv, &t);
    if (rc)
        return rc == 1 ? 0 : rc;
    return vkdp_train_run(&t);
}
