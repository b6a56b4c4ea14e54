/* The training loop: epochs of data-parallel head steps over cached or freshly computed backbone
 * features, validation, metrics, checkpoints and exact resume. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "phase.h"
#include "vkdp/ckpt/ckpt.h"
#include "vkdp/core/common.h"
#include "vkdp/core/progress.h"
#include "vkdp/core/watchdog.h"
#include "vkdp/model/head.h"
#include "vkdp/train/csv_log.h"
#include "vkdp/train/ft_ckpt.h"
#include "vkdp/train/head_ckpt.h"
#include "vkdp/train/session.h"
#include "vkdp/train/train.h"

typedef struct {
    double loss_sum;
    int64_t correct, count, skipped;
} sums;

/* What a run carries from epoch to epoch. */
typedef struct {
    const vkdp_train_opts *t;
    vkdp_session s;
    vkdp_head *h;
    vkdp_head_cfg hc;        /* the head's phase-1 configuration */
    vkdp_ftpart *ft;         /* phase 2's trainable part of the backbone; NULL without fine-tuning */
    float *dx;               /* phase 2: the head's input gradient of this rank's samples */
    int total_epochs;        /* --epochs + --fine-tune-epochs */
    vkdp_ckpt_state st;      /* config, loop position and metrics: what a checkpoint holds */
    int start_epoch, start_step;
    sums resumed;            /* the interrupted epoch's sums (skipped: over all ranks) */
    double resumed_seconds;
    int resumed_run;         /* 1 when resume() found a checkpoint to continue */
    int steps, vsteps;       /* training / validation steps per epoch */
    int *order;              /* this epoch's training order */
} run;

/* One training epoch in progress. */
typedef struct {
    int e, s0;               /* epoch (0-based), first step to run */
    sums tr;                 /* skipped: the resumed global count + this rank's skips since */
    int64_t skipped_base;    /* the resumed global count included in tr.skipped */
    double t0, t_run;        /* epoch start (resumed time included), this process's start */
    int64_t trained_now;     /* samples trained by this process */
    vkdp_progress *pg;
} epoch;

static int64_t global_count(int n_local)
{
    int64_t n = n_local;
    vkdp_allreduce_i64_sum(&n, 1);
    return n;
}

/* Collective: images skipped this epoch over all ranks. */
static int64_t global_skipped(const epoch *ep)
{
    int64_t sk = ep->tr.skipped - ep->skipped_base;
    vkdp_allreduce_i64_sum(&sk, 1);
    return sk + ep->skipped_base;
}

static void metrics_str(char *buf, size_t len, const sums *t)
{
    double c = t->count > 0 ? (double)t->count : NAN;
    snprintf(buf, len, " - loss: %.4f - accuracy: %.4f", t->loss_sum / c, (double)t->correct / c);
}

/* The run's configuration, as its checkpoints record it. */
static void state_config(vkdp_ckpt_state *st, const vkdp_train_opts *t, const vkdp_session *s)
{
    vkdp_ckpt_state_init(st);
    st->nclasses = s->idx.nclasses;
    st->class_names = vkdp_xcalloc((size_t)st->nclasses, sizeof *st->class_names);
    for (int c = 0; c < st->nclasses; c++)
        st->class_names[c] = vkdp_xstrdup(s->idx.class_names[c]);
    st->image_size = t->sc.image_size;
    st->seed = t->sc.seed;
    st->batch = t->sc.batch;
    st->epochs = t->epochs;
    st->lr = t->lr;
    st->dropout = t->dropout;
    st->validation_split = t->sc.validation_split;
    st->nranks = s->dist.size;
    snprintf(st->data_dir, sizeof st->data_dir, "%s", t->sc.data_dir);
    snprintf(st->weights_file, sizeof st->weights_file, "%s", t->sc.weights);
    snprintf(st->weights_sha256, sizeof st->weights_sha256, "%s", s->net.sha256);
    st->steps_per_epoch = vkdp_num_steps(s->split.ntrain, t->sc.batch);
    st->sampler_seed = t->draw_seed;
    st->dropout_seed = t->draw_seed;
    vkdp_finetune_state_config(st, t);
    st->backbone_trainable = t->fine_tune_epochs > 0; /* every checkpoint of the run holds /backbone */
}

/* The head's and the trainable backbone's current tensors into st. */
static void state_tensors(vkdp_ckpt_state *st, vkdp_head *h, vkdp_ftpart *ft)
{
    vkdp_ckpt_state_from_head(st, h);
    if (ft)
        vkdp_ckpt_state_add_ftpart(st, ft);
}

/* Rank 0 writes st, with the current tensors, as the next checkpoint. */
static void write_checkpoint(vkdp_ckpt_state *st, vkdp_head *h, vkdp_ftpart *ft, const vkdp_train_opts *t)
{
    state_tensors(st, h, ft); /* every rank: the tensors are identical, the copy is cheap */
    if (vkdp_rank() != 0)
        return;
    char path[4096], err[4096];
    if (vkdp_ckpt_write(t->out_dir, st, t->keep, path, sizeof path, err, sizeof err) != 0)
        VKDP_FATAL("%s", err);
    vkdp_log("checkpoint: %s\n", path);
}

/* Test hook for failure tests: VKDP_TEST_KILL=RANK:STEP makes that rank SIGKILL itself right
 * after global step STEP, as a node failure would. */
static void test_kill_hook(int64_t global_step)
{
    const char *k = getenv("VKDP_TEST_KILL");
    int rank;
    long long step;
    if (k && sscanf(k, "%d:%lld", &rank, &step) == 2 && rank == vkdp_rank() && step == global_step) {
        fprintf(stderr, "vkdp: rank %d: test hook VKDP_TEST_KILL: killing myself after step %lld\n", rank, step);
        fflush(stderr);
        raise(SIGKILL);
    }
}

/* Test hook for requeue tests: VKDP_TEST_HOLD_AFTER_EPOCH=E makes every rank of a run that
 * started from scratch stop after writing epoch E's checkpoint and wait there until it is killed,
 * so that a requeue always lands mid-run however fast the machine is; a resumed run ignores it. */
static void test_hold_hook(const run *r, int epochs_done)
{
    const char *h = getenv("VKDP_TEST_HOLD_AFTER_EPOCH");
    if (!h || r->resumed_run || atoi(h) != epochs_done)
        return;
    vkdp_log("test hook VKDP_TEST_HOLD_AFTER_EPOCH: holding after epoch %d until killed\n", epochs_done);
    fflush(stdout);
    fflush(stderr);
    for (;;)
        pause();
}

/* Test hook for the watchdog and host-failure tests: VKDP_TEST_STALL=RANK:STEP[:FILE] makes that
 * rank stop right after global step STEP, as a hung process would, until FILE exists (forever
 * without FILE); the others wait for it in their next collective. */
static void test_stall_hook(int64_t global_step)
{
    const char *k = getenv("VKDP_TEST_STALL");
    int rank, file_at = 0;
    long long step;
    if (!k || sscanf(k, "%d:%lld%n", &rank, &step, &file_at) != 2 || rank != vkdp_rank() || step != global_step)
        return;
    const char *file = k[file_at] == ':' ? k + file_at + 1 : NULL;
    fprintf(stderr, "vkdp: rank %d: test hook VKDP_TEST_STALL: stalling after step %lld%s%s\n", rank, step,
            file ? " until this file exists: " : "", file ? file : "");
    fflush(stderr);
    struct stat sb;
    const struct timespec poll = {0, 20 * 1000 * 1000};
    while (!file || stat(file, &sb) != 0)
        nanosleep(&poll, NULL);
    fprintf(stderr, "vkdp: rank %d: test hook VKDP_TEST_STALL: %s appeared, continuing\n", rank, file);
}

/* Test hook for --check-replicas over the backbone: VKDP_TEST_PERTURB_BACKBONE=RANK:STEP makes that
 * rank add 1e-3 to the first trainable backbone weight right after global step STEP. */
static void test_perturb_hook(run *r, int64_t global_step)
{
    const char *k = getenv("VKDP_TEST_PERTURB_BACKBONE");
    int rank;
    long long step;
    if (!r->ft || !k || sscanf(k, "%d:%lld", &rank, &step) != 2 || rank != vkdp_rank() || step != global_step)
        return;
    const vkdp_finetune_tensor *t = vkdp_ftpart_tensor(r->ft, 0);
    float *w = vkdp_xmalloc((size_t)t->numel * sizeof *w);
    vkdp_ftpart_get(r->ft, VKDP_FT_WEIGHT, 0, w);
    w[0] += 1e-3f;
    vkdp_ftpart_set(r->ft, VKDP_FT_WEIGHT, 0, w);
    free(w);
}

static void run_open(run *r, const vkdp_train_opts *t)
{
    memset(r, 0, sizeof *r);
    r->t = t;
    vkdp_session_open(&r->s, &t->sc, 1);
    if (r->s.split.ntrain == 0)
        VKDP_FATAL("%s: no training images after the validation split", t->sc.data_dir);
    /* on a cluster the first thing to check: which device, and whether memory is staged */
    const vkdp_device_info *di = vkdp_device_get_info(r->s.dev);
    char plan[320];
    vkdp_memplan_describe(r->s.dev, plan, sizeof plan);
    vkdp_log("Device (rank 0): %s (%s), memory %s; %d rank(s) on its node (`trainer devices` lists every "
             "device)\n", di->name, di->type_name, plan, r->s.dist.local_size);
    vkdp_head_cfg_default(&r->hc);
    r->hc.feat_dim = VKDP_EFFNET_FEATURES;
    r->hc.nclasses = r->s.idx.nclasses;
    r->hc.lr = t->lr;
    r->hc.dropout = t->dropout;
    r->hc.seed = t->draw_seed;
    r->h = vkdp_head_create(r->s.dev, &r->hc);
    state_config(&r->st, t, &r->s);
    r->total_epochs = t->epochs + t->fine_tune_epochs;
    if (t->fine_tune_epochs > 0) {
        int cap = vkdp_session_rank_share(&r->s, t->sc.batch); /* as a phase's per-rank buffers */
        r->ft = vkdp_ftpart_create(r->s.dev, &r->s.net, &t->plan,
                                   vkdp_backbone_boundary_floats(r->s.bb, t->plan.first_block), cap,
                                   t->draw_seed, t->drop_connect_rate, (size_t)(t->bucket_mb * 1048576.0));
        r->dx = vkdp_xmalloc((size_t)cap * VKDP_EFFNET_FEATURES * sizeof *r->dx);
        vkdp_ftpart_set_profile(r->ft, r->s.prof);
    }
    r->steps = vkdp_num_steps(r->s.split.ntrain, t->sc.batch);
    r->vsteps = vkdp_num_steps(r->s.split.nval, t->sc.batch);
    r->order = vkdp_xcalloc((size_t)r->s.split.ntrain, sizeof *r->order);
}

/* Phase 2's optimizer (Keras recompiles with a new Adam at --fine-tune-lr): the head again with
 * that learning rate, its weights and moving statistics kept; keep_adam: also its moments and
 * iteration count. */
static void phase2_head(run *r, int keep_adam)
{
    vkdp_head_cfg hc = r->hc;
    hc.lr = r->t->fine_tune_lr;
    vkdp_head *h = vkdp_head_create(r->s.dev, &hc);
    int n = vkdp_head_tensor_count(r->h);
    float *buf = NULL;
    for (int i = 0; i < n; i++) {
        vkdp_head_tensor d;
        vkdp_head_tensor_desc(r->h, i, &d);
        if (d.kind != VKDP_HEAD_WEIGHT && !keep_adam)
            continue;
        buf = vkdp_xrealloc(buf, (size_t)d.size * sizeof *buf);
        vkdp_head_tensor_get(r->h, i, buf);
        vkdp_head_tensor_set(h, i, buf);
    }
    free(buf);
    if (keep_adam)
        vkdp_head_set_iterations(h, vkdp_head_iterations(r->h));
    vkdp_head_destroy(r->h);
    r->h = h;
}

static void run_close(run *r)
{
    free(r->order);
    free(r->dx);
    vkdp_ftpart_destroy(r->ft);
    vkdp_ckpt_state_free(&r->st);
    vkdp_head_destroy(r->h);
    vkdp_session_close(&r->s);
}

/* --resume: the head, loop position, metrics and the interrupted epoch's sums from a checkpoint
 * of a compatible run (nothing when there is none to resume from). Returns 1 when it resumed. */
static int resume(run *r)
{
    const vkdp_train_opts *t = r->t;
    vkdp_ckpt_state *st = &r->st;
    char ckpath[4096], err[4096];
    int rc = vkdp_ckpt_resolve(t->resume, t->out_dir, ckpath, sizeof ckpath, err, sizeof err);
    if (rc < 0)
        VKDP_FATAL("%s", err);
    if (rc != 1)
        return 0; /* nothing to resume from */
    vkdp_ckpt_state ck;
    if (vkdp_ckpt_read(ckpath, &ck, err, sizeof err) != 0)
        VKDP_FATAL("%s", err);
    if (vkdp_ckpt_check_compatible(&ck, st, err, sizeof err) != 0)
        VKDP_FATAL("cannot resume from %s: %s", ckpath, err);
    if (ck.batch != st->batch || ck.seed != st->seed || fabs(ck.validation_split - st->validation_split) > 0)
        VKDP_FATAL("cannot resume from %s: it was trained with --batch %d --seed %llu --validation-split %g, "
                   "this run has --batch %d --seed %llu --validation-split %g",
                   ckpath, ck.batch, (unsigned long long)ck.seed, ck.validation_split, st->batch,
                   (unsigned long long)st->seed, st->validation_split);
    /* the draws would differ from the interrupted run's from here on: not a resume */
    if (ck.sampler_seed != st->sampler_seed || ck.dropout_seed != st->dropout_seed)
        VKDP_FATAL("cannot resume from %s: its random draws were seeded with /state sampler_seed %llu and "
                   "dropout_seed %llu (--draw-seed), this run has --draw-seed %llu",
                   ckpath, (unsigned long long)ck.sampler_seed, (unsigned long long)ck.dropout_seed,
                   (unsigned long long)st->sampler_seed);
    if (vkdp_finetune_check_resume(&ck, st, err, sizeof err) != 0)
        VKDP_FATAL("cannot resume from %s: %s", ckpath, err);
    if (ck.epoch >= t->epochs && r->ft)
        phase2_head(r, 0); /* its tensors come from the checkpoint next */
    vkdp_head_from_ckpt(r->h, &ck, ckpath);
    if (r->ft)
        vkdp_ftpart_from_ckpt(r->ft, &ck, ckpath);
    r->start_epoch = ck.epoch;
    r->start_step = (int)ck.step_in_epoch;
    st->global_step = ck.global_step;
    st->iterations = ck.iterations;
    for (int i = 0; i < ck.nepochs_m; i++)
        vkdp_ckpt_add_epoch_metrics(st, &ck.epoch_m[i]);
    for (int64_t i = 0; i < ck.nsteps_m; i++)
        vkdp_ckpt_add_step_metrics(st, &ck.step_m[i]);
    r->resumed = (sums){ck.epoch_loss_sum, ck.epoch_correct, ck.epoch_count, ck.epoch_skipped};
    r->resumed_seconds = ck.epoch_seconds;
    r->resumed_run = 1;
    vkdp_log("Resuming from %s: %d epoch(s) and %lld step(s) done (step %d of epoch %d).\n", ckpath, ck.epoch,
             (long long)ck.global_step, r->start_step, ck.epoch + 1);
    vkdp_ckpt_state_free(&ck);
    return 1;
}

static void epoch_begin(run *r, epoch *ep, int e)
{
    const vkdp_train_opts *t = r->t;
    if (!t->feature_cache)
        vkdp_featcache_reset(r->s.fc);
    vkdp_epoch_order(r->s.split.train, r->s.split.ntrain, t->draw_seed, e, r->order);
    int resumed = e == r->start_epoch;
    ep->e = e;
    ep->s0 = resumed ? r->start_step : 0;
    ep->tr = resumed ? r->resumed : (sums){0, 0, 0, 0};
    ep->skipped_base = resumed ? r->resumed.skipped : 0;
    ep->t0 = vkdp_now() - (resumed ? r->resumed_seconds : 0);
    ep->t_run = vkdp_now();
    ep->trained_now = 0;
    char title[64];
    snprintf(title, sizeof title, "Epoch %d/%d", e + 1, r->total_epochs);
    ep->pg = vkdp_progress_start(title, r->steps, t->log_interval);
}

/* --checkpoint-every: the loop position after `step` and the epoch's sums so far. */
static void checkpoint_mid_epoch(run *r, const epoch *ep, int step)
{
    int64_t skipped = global_skipped(ep);
    vkdp_ckpt_state *st = &r->st;
    st->epoch = ep->e;
    st->step_in_epoch = step + 1;
    st->epoch_loss_sum = ep->tr.loss_sum;
    st->epoch_correct = ep->tr.correct;
    st->epoch_count = ep->tr.count;
    st->epoch_skipped = skipped;
    st->epoch_seconds = vkdp_now() - ep->t0;
    write_checkpoint(st, r->h, r->ft, r->t);
}

/* Phase 2's allreduce at the end of an epoch: its cost alone (the buckets reduced once more,
 * blocking, after a barrier: vkdp_buckets_probe) against the mean step, and how much of it the
 * overlap with the backward hid (what rank 0 still waited after its own backward; that wait also
 * holds the other ranks' lateness, so the hidden share is a lower bound). Collective. */
static void allreduce_report(run *r, const epoch *ep, double train_s, double waited_s)
{
    vkdp_buckets *bk = vkdp_ftpart_buckets(r->ft);
    const double cost = vkdp_buckets_probe(bk);
    const int steps = r->steps - ep->s0;
    if (steps <= 0 || r->s.dist.size == 1) {
        vkdp_log("Fine-tuning: gradient allreduce not measured (%s).\n",
                 steps <= 0 ? "no step this epoch" : "one rank: nothing to reduce");
        return;
    }
    const double step_s = train_s / steps, wait_s = waited_s / steps;
    const double hidden = cost > 0 ? 1.0 - (wait_s < cost ? wait_s : cost) / cost : 0;
    vkdp_log("Fine-tuning allreduce (%d ranks, %.1f MB in %d buckets): %.3f s alone = %.1f%% of the "
             "%.2f s mean step; rank %d waited %.3f s per step after its backward, so at least %.0f%% "
             "of it was hidden by the overlap.\n",
             r->s.dist.size, (double)vkdp_buckets_bytes(bk) / 1e6, vkdp_buckets_count(bk), cost,
             100.0 * cost / step_s, step_s, vkdp_rank(), wait_s, 100.0 * hidden);
}

/* The epoch's remaining training steps: one head step per global batch, progress, per-step
 * metrics, failure-test hook, replica checks and mid-epoch checkpoints. */
static void train_epoch(run *r, epoch *ep)
{
    const vkdp_train_opts *t = r->t;
    vkdp_ckpt_state *st = &r->st;
    char m[256];
    vkdp_phase ph;
    const vkdp_augment_cfg aug = vkdp_augment_default_cfg();
    const int phase2 = ep->e >= t->epochs;
    const double lr = phase2 ? t->fine_tune_lr : t->lr;
    const double frozen_drop = t->drop_connect_all ? t->drop_connect_rate : 0;
    const double wait0 = phase2 ? vkdp_ftpart_allreduce_wait(r->ft) : 0, t0 = vkdp_now();
    if (phase2)
        vkdp_phase_begin_ft(&ph, &r->s, r->order, r->s.split.ntrain, t->sc.batch, ep->s0, r->ft,
                            t->plan.first_block, 1, t->augment ? &aug : NULL, t->draw_seed,
                            (uint32_t)ep->e, frozen_drop);
    else if (t->augment || frozen_drop > 0)
        vkdp_phase_begin_augmented(&ph, &r->s, r->order, r->s.split.ntrain, t->sc.batch, ep->s0,
                                   t->augment ? &aug : NULL, t->draw_seed, (uint32_t)ep->e, frozen_drop);
    else
        vkdp_phase_begin(&ph, &r->s, r->order, r->s.split.ntrain, t->sc.batch, ep->s0);
    for (int step = ep->s0; step < r->steps; step++) {
        vkdp_watch_where("training step %lld (epoch %d, step %d of %d)", (long long)st->global_step + 1,
                         ep->e + 1, step + 1, r->steps);
        int n = vkdp_phase_step(&ph, step, &ep->tr.skipped);
        int64_t ng = global_count(n);
        vkdp_head_result res;
        if (phase2) {
            int64_t it = vkdp_head_iterations(r->h); /* one optimizer: head and backbone share t */
            vkdp_head_train_step_dx(r->h, ph.fb.x, ph.fb.labels, ph.fb.pos, n, ng, ep->e, &res, r->dx);
            vkdp_ftpart_step(r->ft, r->dx, n, lr, it);
        } else {
            vkdp_head_train_step(r->h, ph.fb.x, ph.fb.labels, ph.fb.pos, n, ng, ep->e, &res);
        }
        ep->tr.loss_sum += res.loss_sum;
        ep->tr.correct += res.correct;
        ep->tr.count += res.count;
        ep->trained_now += res.count;
        st->global_step++;
        vkdp_step_metrics sm = {st->global_step, res.count ? res.loss_sum / (double)res.count : NAN,
                                res.count ? (double)res.correct / (double)res.count : NAN, lr};
        vkdp_ckpt_add_step_metrics(st, &sm);
        metrics_str(m, sizeof m, &ep->tr);
        vkdp_progress_update(ep->pg, step + 1, m);
        test_kill_hook(st->global_step);
        test_stall_hook(st->global_step);
        test_perturb_hook(r, st->global_step);
        vkdp_head_check_replicas(r->h, st->global_step, (int)t->check_replicas);
        if (r->ft && t->check_replicas > 0 && st->global_step % t->check_replicas == 0)
            vkdp_check_replicas(vkdp_ftpart_checksum(r->ft), st->global_step,
                                "trainable backbone tensors and their Adam state");
        if (t->ckpt_every > 0 && st->global_step % t->ckpt_every == 0 && step + 1 < r->steps)
            checkpoint_mid_epoch(r, ep, step);
    }
    vkdp_phase_end(&ph);
    vkdp_watch_where("the end of epoch %d", ep->e + 1);
    if (phase2)
        allreduce_report(r, ep, vkdp_now() - t0, vkdp_ftpart_allreduce_wait(r->ft) - wait0);
}

/* Inference over the fixed validation order; sums over this rank, skipped over all ranks. */
static sums validate(run *r, int e)
{
    sums va = {0, 0, 0, 0};
    if (r->vsteps == 0)
        return va;
    if (!r->t->feature_cache)
        vkdp_featcache_reset(r->s.fc);
    vkdp_phase ph;
    if (e >= r->t->epochs)
        vkdp_phase_begin_ft(&ph, &r->s, r->s.split.val, r->s.split.nval, r->t->sc.batch, 0, r->ft,
                            r->t->plan.first_block, 0, NULL, 0, 0, 0);
    else
        vkdp_phase_begin(&ph, &r->s, r->s.split.val, r->s.split.nval, r->t->sc.batch, 0);
    for (int step = 0; step < r->vsteps; step++) {
        vkdp_watch_where("validation step %d of %d (epoch %d)", step + 1, r->vsteps, e + 1);
        int n = vkdp_phase_step(&ph, step, &va.skipped);
        vkdp_head_result res;
        vkdp_head_evaluate(r->h, ph.fb.x, ph.fb.labels, n, &res, NULL);
        va.loss_sum += res.loss_sum;
        va.correct += res.correct;
        va.count += res.count;
    }
    vkdp_phase_end(&ph);
    vkdp_watch_where("the end of epoch %d", e + 1);
    vkdp_allreduce_i64_sum(&va.skipped, 1);
    return va;
}

/* The epoch's metrics: Keras' final progress line, the left-out count, the metrics table. */
static void epoch_metrics(run *r, epoch *ep, const sums *va, double train_s, int64_t skipped)
{
    const sums *tr = &ep->tr;
    vkdp_epoch_metrics em;
    em.epoch = ep->e + 1;
    em.loss = tr->count ? tr->loss_sum / (double)tr->count : NAN;
    em.accuracy = tr->count ? (double)tr->correct / (double)tr->count : NAN;
    em.val_loss = va->count ? va->loss_sum / (double)va->count : NAN;
    em.val_accuracy = va->count ? (double)va->correct / (double)va->count : NAN;
    em.images_per_s = train_s > 0 ? (double)ep->trained_now / train_s : 0;
    em.seconds = vkdp_now() - ep->t0;
    em.skipped = skipped + va->skipped;
    char m[256];
    metrics_str(m, sizeof m, tr);
    size_t ml = strlen(m);
    if (va->count)
        snprintf(m + ml, sizeof m - ml, " - val_loss: %.4f - val_accuracy: %.4f - images/s: %.1f", em.val_loss,
                 em.val_accuracy, em.images_per_s);
    else
        snprintf(m + ml, sizeof m - ml, " - images/s: %.1f", em.images_per_s);
    vkdp_progress_finish(ep->pg, m);
    ep->pg = NULL;
    if (em.skipped)
        vkdp_log("%lld image(s) could not be decoded and were left out of this epoch (see the warnings).\n",
                 (long long)em.skipped);
    vkdp_ckpt_add_epoch_metrics(&r->st, &em);
}

/* The end-of-epoch checkpoint: the next epoch starts from its first step with empty sums. */
static void checkpoint_epoch_end(run *r, int e)
{
    vkdp_ckpt_state *st = &r->st;
    st->epoch = e + 1;
    st->step_in_epoch = 0;
    st->epoch_loss_sum = 0;
    st->epoch_correct = st->epoch_count = st->epoch_skipped = 0;
    st->epoch_seconds = 0;
    write_checkpoint(st, r->h, r->ft, r->t);
}

/* Rank 0 locks --out for this job alone before anything else, so that a second job given the
 * same folder stops at once instead of pruning the first one's checkpoints. */
static vkdp_ckpt_lock *lock_out_dir(const vkdp_train_opts *t)
{
    if (vkdp_rank() != 0)
        return NULL;
    char err[4096];
    vkdp_ckpt_lock *l = vkdp_ckpt_lock_take(t->out_dir, err, sizeof err);
    if (!l)
        VKDP_FATAL("%s", err);
    return l;
}

/* Rank 0 probes --out before the first step: writable, and room for two checkpoints. */
static void probe_out_dir(run *r)
{
    if (vkdp_rank() != 0)
        return;
    state_tensors(&r->st, r->h, r->ft);
    uint64_t bytes = vkdp_ckpt_estimate_bytes(&r->st, (int64_t)r->total_epochs * r->steps, r->total_epochs);
    char err[4096];
    if (vkdp_ckpt_dir_probe(r->t->out_dir, bytes, err, sizeof err) != 0)
        VKDP_FATAL("%s", err);
}

int vkdp_train_run(const vkdp_train_opts *t)
{
    if (t->collective_timeout > 0)
        vkdp_watchdog_start(t->collective_timeout, "--collective-timeout");
    vkdp_ckpt_lock *lock = lock_out_dir(t);
    run r;
    run_open(&r, t);
    probe_out_dir(&r);
    int resumed = resume(&r);
    const int has_val = r.s.split.nval > 0, csv = t->csv_log && r.s.dist.rank == 0;
    if (csv)
        vkdp_csv_log_start(t->csv_log, has_val, resumed, r.st.epoch_m, r.st.nepochs_m);
    if (t->draw_seed != t->sc.seed)
        vkdp_log("Random draws (head initialisation, shuffle, augmentation, dropout, drop connect) seeded with "
                 "--draw-seed %u; the validation split with --seed %u.\n",
                 (unsigned)t->draw_seed, (unsigned)t->sc.seed);
    if (t->feature_cache)
        vkdp_log("Feature cache: the frozen backbone's pooled features of each image are computed once and kept "
                 "in host memory (%.1f MB); later epochs run only the head (--no-feature-cache disables).\n",
                 vkdp_featcache_bytes(r.s.fc) / 1e6);
    if (t->augment)
        vkdp_log("Augmentation on (--augment): RandomRotation(0.15), RandomTranslation(0.1, 0.1), "
                 "RandomFlip(\"horizontal\"), RandomContrast(0.1) on the device, per (draw seed, epoch, "
                 "sample); the feature cache is off for training images (the backbone runs on every "
                 "training batch)%s.\n",
                 t->feature_cache ? "; validation images are not augmented and stay cached" : "");
    if (t->drop_connect_all)
        vkdp_log("Drop connect in every residual block (--drop-connect all, the Keras example's model): block b of 16 "
                 "drops a training sample's branch at %g * b / 16, per (draw seed, epoch, sample), frozen blocks "
                 "included; the frozen backbone is stochastic in training, so training images are not cached%s.\n",
                 t->drop_connect_rate, t->feature_cache ? " (validation images stay cached)" : "");
    if (r.ft) {
        char plan[256];
        vkdp_finetune_describe(&t->plan, plan, sizeof plan);
        vkdp_log("Phase 2 after epoch %d: %s; %d epoch(s) at --fine-tune-lr %g with a new Adam for head and "
                 "backbone; BatchNormalization frozen; drop connect at --drop-connect-rate %g%s; the frozen part runs on every image of every step "
                 "(no feature cache in phase 2); the backbone gradients (%.1f MB of exact int64 sums) in "
                 "%d buckets of at most %g MiB (--bucket-mb), each allreduced as soon as the backward "
                 "has filled it.\n",
                 t->epochs, plan, t->fine_tune_epochs, t->fine_tune_lr, t->drop_connect_rate,
                 t->drop_connect_rate <= 0          ? " (none)"
                 : t->drop_connect_all              ? " (block b of every residual block: rate * b / 16)"
                                                    : " (block b of the trainable residual blocks: rate * b / 16)",
                 (double)vkdp_buckets_bytes(vkdp_ftpart_buckets(r.ft)) / 1e6,
                 vkdp_buckets_count(vkdp_ftpart_buckets(r.ft)), t->bucket_mb);
        const int per_rank = vkdp_session_rank_share(&r.s, t->sc.batch);
        if (vkdp_ftpart_tile(r.ft) < per_rank) {
            char why[160];
            if (vkdp_ftpart_tile_forced(r.ft))
                snprintf(why, sizeof why, "the test hook VKDP_TEST_FT_CHUNK sets them");
            else
                snprintf(why, sizeof why, "one tensor of them all would pass the device's binding limit "
                         "(maxStorageBufferRange %.0f MiB)", (double)vkdp_max_binding_bytes(r.s.dev) / 1048576.0);
            vkdp_log("Phase 2 runs a rank's %d samples in tiles of at most %d: %s.\n", per_rank,
                     vkdp_ftpart_tile(r.ft), why);
        }
    }
    for (int e = r.start_epoch; e < r.total_epochs; e++) {
        epoch ep;
        epoch_begin(&r, &ep, e);
        if (e == t->epochs && ep.s0 == 0 && r.ft) {
            phase2_head(&r, 0);
            vkdp_ftpart_reset_adam(r.ft);
            vkdp_log("Fine-tuning from %s (epoch %d of %d).\n", t->plan.from, e + 1, r.total_epochs);
        }
        train_epoch(&r, &ep);
        double train_s = vkdp_now() - ep.t_run;
        int64_t skipped = global_skipped(&ep);
        sums va = validate(&r, e);
        if (t->feature_cache)
            vkdp_featcache_sync(r.s.fc);
        epoch_metrics(&r, &ep, &va, train_s, skipped);
        checkpoint_epoch_end(&r, e);
        if (csv) /* after the checkpoint: a crash in between is repaired from it on resume */
            vkdp_csv_log_append(t->csv_log, has_val, &r.st.epoch_m[r.st.nepochs_m - 1]);
        test_hold_hook(&r, e + 1);
    }
    if (r.start_epoch >= r.total_epochs)
        vkdp_log("Nothing to do: the checkpoint already has %d of %d epoch(s).\n", r.start_epoch, r.total_epochs);
    run_close(&r);
    vkdp_ckpt_lock_release(lock);
    vkdp_watchdog_stop();
    return 0;
}
