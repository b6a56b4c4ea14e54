/* One pass of the training loop over an order of images (a training epoch or a validation pass):
 * this rank's features, labels and positions step by step, from the feature cache, decoding and
 * running the backbone only for images it does not hold yet. Private to trainer/train. */
#ifndef VKDP_TRAIN_PHASE_H
#define VKDP_TRAIN_PHASE_H
#include <stdint.h>

#include "vkdp/data/data.h"
#include "vkdp/model/ft_part.h"
#include "vkdp/ops/augment_ref.h"
#include "vkdp/train/featcache.h"
#include "vkdp/train/session.h"

typedef struct {
    vkdp_session *s;
    const int *order;
    int n, batch, s0;
    vkdp_loader *loader;     /* NULL when the cache holds every image of the remaining steps */
    /* with a loader and no augmentation: the backbone runs ahead of the head, in calls of up to
     * s->feature_batch images packed from the next steps */
    vkdp_feat_pack pack;
    int next;                /* the next step the loader delivers */
    int *step_skipped;       /* [steps - s0]: the loader's drops, counted at their own step */
    vkdp_feat_batch fb;      /* this rank's samples of the current step */
    int cap;                 /* fb's room: a rank's most samples per step */
    /* --augment: every step decodes and runs the backbone on augmented images, no cache */
    const vkdp_augment_cfg *aug;
    uint32_t seed, epoch;    /* the augmentation's draws: (seed, epoch, global sample index) */
    float *aug_params;
    uint64_t *aug_pos;
    /* fine-tuning: the frozen part up to block `stop`, then the trainable part, every step */
    vkdp_ftpart *ft;
    int stop, training;       /* training: drop connect in the trainable part */
    float *boundary;
    /* --drop-connect all: drop connect in the frozen blocks too, at this drop_connect_rate (0:
     * none); drop [cap, 16] holds the step's scales */
    double frozen_drop;
    float *drop;
} vkdp_phase;

/* Starts a pass over order[0..n) in global batches of `batch`, from step s0 (decoding, when
 * needed, with s->cfg.decode_threads threads). */
void vkdp_phase_begin(vkdp_phase *ph, vkdp_session *s, const int *order, int n, int batch, int s0);
/* The same for a training epoch whose frozen backbone is stochastic: under --augment (cfg not
 * NULL) and/or --drop-connect all (frozen_drop > 0: Keras' drop_connect_rate in every residual
 * block) the images of every step are decoded, augmented on the device and/or dropped with the
 * draws of (seed, epoch, global sample index) and run through the backbone; the feature cache is
 * neither read nor filled. */
void vkdp_phase_begin_augmented(vkdp_phase *ph, vkdp_session *s, const int *order, int n,
                                int batch, int s0, const vkdp_augment_cfg *cfg, uint32_t seed,
                                uint32_t epoch, double frozen_drop);
/* The same for phase 2 (fine-tuning): every step decodes its images, runs the frozen part to the
 * activation entering block `stop` (augmented first when cfg is not NULL; with drop connect at
 * frozen_drop when training and frozen_drop > 0) and ft's trainable part (with ft's drop connect
 * when training), whose tape then serves the step's vkdp_ftpart_step; the feature cache is
 * neither read nor filled. */
void vkdp_phase_begin_ft(vkdp_phase *ph, vkdp_session *s, const int *order, int n, int batch, int s0,
                         vkdp_ftpart *ft, int stop, int training, const vkdp_augment_cfg *cfg,
                         uint32_t seed, uint32_t epoch, double frozen_drop);
/* Fills ph->fb for `step` (steps in order from s0) and returns its sample count; images dropped
 * because they cannot be decoded are added to *skipped once, when the loader tries them. */
int vkdp_phase_step(vkdp_phase *ph, int step, int64_t *skipped);
void vkdp_phase_end(vkdp_phase *ph);

#endif
