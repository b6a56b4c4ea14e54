/* The training loop behind `trainer train`: what it is configured with, and the run itself. */
#ifndef VKDP_TRAIN_H
#define VKDP_TRAIN_H

#include "vkdp/ckpt/ckpt.h"
#include "vkdp/model/finetune_plan.h"
#include "vkdp/train/session_cfg.h"

typedef struct {
    vkdp_session_cfg sc;         /* data, backbone, batch, seed, split, decode threads, device */
    int epochs;
    double lr, dropout;
    int feature_cache;           /* 0: recompute the backbone every epoch (--no-feature-cache) */
    int augment;                 /* --augment: training images augmented on the device, not cached */
    uint32_t draw_seed;          /* --draw-seed: shuffle, augmentation, dropout, drop connect and the
                                    head's initialisation; --seed's value unless given (the split
                                    stays --seed's) */
    const char *out_dir;         /* checkpoint folder */
    const char *resume;          /* --resume FILE|auto, or NULL */
    int keep;                    /* keep the newest N checkpoints, 0 all */
    long ckpt_every;             /* also checkpoint every N global steps, 0 only per epoch */
    long check_replicas;         /* compare the ranks' heads every N steps, 0 never */
    double log_interval;         /* seconds between progress lines when stdout is no TTY */
    double collective_timeout;   /* --collective-timeout: seconds a collective or device wait may take, 0 never */
    const char *csv_log;         /* --csv-log FILE (Keras CSVLogger rows), or NULL */
    /* phase 2 (docs/fine-tuning.md): --fine-tune-epochs after --epochs of head-only training */
    int fine_tune_epochs;        /* 0: no phase 2 */
    double fine_tune_lr;         /* --fine-tune-lr, a new Adam's at the switch */
    double drop_connect_rate;    /* --drop-connect-rate: Keras' EfficientNetB0 drop_connect_rate (0.2) */
    int drop_connect_all;        /* --drop-connect all: also in the frozen residual blocks, both
                                    phases (the Keras example's model); 0: trainable blocks only */
    const char *fine_tune_from;  /* --fine-tune-from LAYER, or NULL */
    long trainable_top;          /* --trainable-top N, 0: not given */
    double bucket_mb;            /* --bucket-mb: gradient bucket cap in MiB (PyTorch DDP's 25) */
    vkdp_finetune_plan plan;     /* resolved by vkdp_finetune_check_opts when fine_tune_epochs > 0 */
} vkdp_train_opts;

/* Checks the fine-tuning flags together (conflicts, flags without --fine-tune-epochs, the layer
 * or layer count at a block boundary) and resolves t->plan. 0, or -1 with a message in err. */
int vkdp_finetune_check_opts(vkdp_train_opts *t, char *err, size_t errlen);
/* "fine-tuning from block6a: 3,129,884 trainable parameters, 2.92 MiB of saved activations per
 * image" (docs/fine-tuning.md's log line) into buf. */
void vkdp_finetune_describe(const vkdp_finetune_plan *p, char *buf, size_t len);
/* The augmentation and fine-tuning settings into a checkpoint's config (0 / "" when unused;
 * drop_connect_rate then its default, left out of the file). */
void vkdp_finetune_state_config(vkdp_ckpt_state *st, const vkdp_train_opts *t);
/* A resume must keep them: 0, or -1 and "it was trained with ..., this run has ..." in err. */
int vkdp_finetune_check_resume(const vkdp_ckpt_state *ck, const vkdp_ckpt_state *st, char *err,
                               size_t errlen);

/* Runs the whole training (a collective over all ranks); returns the exit status. Any error is
 * fatal on every rank with one clear line. */
int vkdp_train_run(const vkdp_train_opts *t);

#endif
