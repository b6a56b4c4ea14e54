/* The training loop behind `trainer train` (options parsed in trainer/cli/cmd_train.c). */
#ifndef VKDP_TRAIN_H
#define VKDP_TRAIN_H
#include <stdint.h>

#include "vkdp/ckpt/ckpt.h"
#include "vkdp/model/head.h"
#include "vkdp/train/session.h"

typedef struct {
    vkdp_session_cfg sc;
    int epochs;
    double lr, dropout;
    int feature_cache;
    int threads;
    const char *out_dir;
    const char *resume;
    int keep;
    long ckpt_every;
    long check_replicas;
    double log_interval;
    const char *csv_log;  /* --csv-log FILE (Keras CSVLogger rows), or NULL */
} vkdp_train_opts;

/* 0: parsed; 1: --help printed; 2: bad usage (message printed). */
int vkdp_train_parse(int argc, char **argv, vkdp_train_opts *t);
/* Runs the whole training (a collective over all ranks); returns the exit status. */
int vkdp_train_run(const vkdp_train_opts *t);
/* Loads the head's weights, Adam moments and iteration count from a checkpoint (fatal error
 * naming the file and tensor when one is missing or has another size). */
void vkdp_head_from_ckpt(vkdp_head *h, const vkdp_ckpt_state *ck, const char *path);
/* A head configured as the checkpoint's run was, with its tensors loaded. */
vkdp_head *vkdp_head_open_ckpt(vkdp_device *dev, const vkdp_ckpt_state *ck, const char *path);
/* The same, after checking that the session's backbone weights are the checkpoint's (SHA-256). */
vkdp_head *vkdp_session_head_for_ckpt(vkdp_session *s, const vkdp_ckpt_state *ck, const char *path);

#endif
