/* The training loop behind `trainer train`: what it is configured with, and the run itself. */
#ifndef VKDP_TRAIN_H
#define VKDP_TRAIN_H

#include "vkdp/train/session_cfg.h"

typedef struct {
    vkdp_session_cfg sc;         /* data, backbone, batch, seed, split, decode threads, device */
    int epochs;
    double lr, dropout;
    int feature_cache;           /* 0: recompute the backbone every epoch (--no-feature-cache) */
    int augment;                 /* --augment: training images augmented on the device, not cached */
    const char *out_dir;         /* checkpoint folder */
    const char *resume;          /* --resume FILE|auto, or NULL */
    int keep;                    /* keep the newest N checkpoints, 0 all */
    long ckpt_every;             /* also checkpoint every N global steps, 0 only per epoch */
    long check_replicas;         /* compare the ranks' heads every N steps, 0 never */
    double log_interval;         /* seconds between progress lines when stdout is no TTY */
    double collective_timeout;   /* --collective-timeout: seconds a collective or device wait may take, 0 never */
    const char *csv_log;         /* --csv-log FILE (Keras CSVLogger rows), or NULL */
} vkdp_train_opts;

/* Runs the whole training (a collective over all ranks); returns the exit status. Any error is
 * fatal on every rank with one clear line. */
int vkdp_train_run(const vkdp_train_opts *t);

#endif
