/* The training loop: epochs of data-parallel head steps over cached or freshly computed backbone
 * features, validation, metrics, checkpoints and exact resume. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkdp/ckpt/ckpt.h"
#include "vkdp/core/common.h"
#include "vkdp/model/head.h"
#include "vkdp/core/progress.h"
#include "vkdp/train/csv_log.h"
#include "vkdp/train/train.h"

typedef struct {
    double loss_sum;
    int64_t correct, count, skipped;
} sums;

/* One phase (a training epoch or a validation pass) over `order`, from step s0. */
typedef struct {
    vkdp_session *s;
    const int *order;
    int n, batch, s0;
    vkdp_loader *loader;
    float *x, *scratch;
    int *labels;
    int64_t *pos;
} phase;

static void phase_begin(phase *ph, vkdp_session *s, const int *order, int n, int batch, int s0, int threads)
{
    memset(ph, 0, sizeof *ph);
    ph->s = s;
    ph->order = order;
    ph->n = n;
    ph->batch = batch;
    ph->s0 = s0;
    int cap = batch / s->dist.size + 2;
    ph->x = vkdp_xmalloc((size_t)cap * VKDP_EFFNET_FEATURES * sizeof *ph->x);
    ph->scratch = vkdp_xmalloc((size_t)cap * VKDP_EFFNET_FEATURES * sizeof *ph->scratch);
    ph->labels = vkdp_xcalloc((size_t)cap, sizeof *ph->labels);
    ph->pos = vkdp_xcalloc((size_t)cap, sizeof *ph->pos);
    /* Decode only when some image of the remaining steps has no cached features. */
    int from = s0 * batch;
    if (from < n && !vkdp_featcache_complete(&s->fc, order + from, n - from))
        ph->loader = vkdp_loader_create(&s->idx, order + from, n - from, batch, s->dist.rank, s->dist.size,
                                        s->cfg.image_size, threads, 0);
}

/* Fills this rank's features, labels and global positions for `step`; returns the sample count. */
static int phase_step(phase *ph, int step, int64_t *skipped)
{
    vkdp_session *s = ph->s;
    const int F = VKDP_EFFNET_FEATURES;
    int lo, hi, m = 0;
    vkdp_shard_range(ph->n, ph->batch, step, s->dist.rank, s->dist.size, &lo, &hi);
    if (ph->loader) {
        vkdp_batch b;
        if (!vkdp_loader_next(ph->loader, &b))
            VKDP_FATAL("data loader ended before step %d of %d", step, vkdp_num_steps(ph->n, ph->batch));
        if (b.step + ph->s0 != step)
            VKDP_FATAL("data loader delivered step %d, expected %d", b.step + ph->s0, step);
        vkdp_featcache_fill_batch(&s->fc, s->bb, &b, ph->scratch);
        int off = ph->s0 * ph->batch;
        for (int p = b.global_lo, i = 0; p < b.global_hi; p++) {
            if (i < b.count && b.pos[i] == p)
                i++;
            else
                vkdp_featcache_mark_bad(&s->fc, ph->order[off + p]);
        }
        *skipped += b.skipped;
        vkdp_loader_release(ph->loader, &b);
    }
    for (int p = lo; p < hi; p++) {
        int id = ph->order[p];
        if (s->fc.state[id] != VKDP_FEAT_HAVE) {
            /* undecodable: dropped from its batch (the loader counted it when it tried) */
            *skipped += !ph->loader && s->fc.state[id] == VKDP_FEAT_BAD;
            continue;
        }
        memcpy(ph->x + (size_t)m * F, s->fc.feat + (size_t)id * F, F * sizeof(float));
        ph->labels[m] = s->idx.label[id];
        ph->pos[m] = p;
        m++;
    }
    return m;
}

static void phase_end(phase *ph)
{
    if (ph->loader)
        vkdp_loader_destroy(ph->loader);
    free(ph->x);
    free(ph->scratch);
    free(ph->labels);
    free(ph->pos);
}

static int64_t global_count(int n_local)
{
    int64_t n = n_local;
    vkdp_allreduce_i64_sum(&n, 1);
    return n;
}

static void metrics_str(char *buf, size_t len, const sums *t)
{
    double c = t->count > 0 ? (double)t->count : NAN;
    snprintf(buf, len, " - loss: %.4f - accuracy: %.4f", t->loss_sum / c, (double)t->correct / c);
}

/* ---------------- checkpoint state <-> head ---------------- */
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
    st->sampler_seed = t->sc.seed;
    st->dropout_seed = t->sc.seed;
}

static void free_tensors(vkdp_named_tensor *v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i].data);
    free(v);
}

/* "Adam/m/pred/kernel:0" -> "pred/pred/kernel:0": checkpoints keep each moment under the name
 * of the weight it belongs to. */
static void slot_weight_name(const char *slot, char *out, size_t len)
{
    const char *lw = slot + 7; /* after "Adam/m/" */
    const char *slash = strchr(lw, '/');
    if (strncmp(slot, "Adam/", 5) != 0 || !slash)
        VKDP_FATAL("unexpected optimizer slot name %s", slot);
    snprintf(out, len, "%.*s/%s", (int)(slash - lw), lw, lw);
}

static void state_from_head(vkdp_ckpt_state *st, vkdp_head *h)
{
    free_tensors(st->weights, st->nweights);
    free_tensors(st->adam_m, st->nslots);
    free_tensors(st->adam_v, st->nslots);
    int n = vkdp_head_tensor_count(h);
    st->weights = vkdp_xcalloc((size_t)n, sizeof *st->weights);
    st->adam_m = vkdp_xcalloc((size_t)n, sizeof *st->adam_m);
    st->adam_v = vkdp_xcalloc((size_t)n, sizeof *st->adam_v);
    st->nweights = 0;
    int nm = 0, nv = 0;
    for (int i = 0; i < n; i++) {
        vkdp_head_tensor d;
        vkdp_head_tensor_desc(h, i, &d);
        vkdp_named_tensor *nt;
        if (d.kind == VKDP_HEAD_WEIGHT) {
            nt = &st->weights[st->nweights++];
            snprintf(nt->name, sizeof nt->name, "%s", d.name);
        } else {
            nt = d.kind == VKDP_HEAD_ADAM_M ? &st->adam_m[nm++] : &st->adam_v[nv++];
            slot_weight_name(d.name, nt->name, sizeof nt->name);
        }
        nt->rank = d.ndims;
        for (int k = 0; k < d.ndims; k++)
            nt->shape[k] = d.dims[k];
        nt->data = vkdp_xmalloc((size_t)d.size * sizeof(float));
        vkdp_head_tensor_get(h, i, nt->data);
    }
    if (nm != nv)
        VKDP_FATAL("head has %d Adam m slots but %d v slots", nm, nv);
    st->nslots = nm;
    st->iterations = vkdp_head_iterations(h);
}

static const vkdp_named_tensor *find_slot(const vkdp_named_tensor *v, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(v[i].name, name))
            return &v[i];
    return NULL;
}

void vkdp_head_from_ckpt(vkdp_head *h, const vkdp_ckpt_state *ck, const char *path)
{
    int n = vkdp_head_tensor_count(h);
    for (int i = 0; i < n; i++) {
        vkdp_head_tensor d;
        vkdp_head_tensor_desc(h, i, &d);
        const vkdp_named_tensor *nt;
        char wname[128];
        if (d.kind == VKDP_HEAD_WEIGHT) {
            nt = vkdp_ckpt_find_weight(ck, d.name);
        } else {
            slot_weight_name(d.name, wname, sizeof wname);
            nt = find_slot(d.kind == VKDP_HEAD_ADAM_M ? ck->adam_m : ck->adam_v, ck->nslots, wname);
        }
        if (!nt)
            VKDP_FATAL("%s: checkpoint has no tensor %s", path, d.name);
        if (vkdp_tensor_numel(nt) != d.size)
            VKDP_FATAL("%s: tensor %s has %lld values, the head needs %lld", path, d.name,
                       (long long)vkdp_tensor_numel(nt), (long long)d.size);
        vkdp_head_tensor_set(h, i, nt->data);
    }
    vkdp_head_set_iterations(h, ck->iterations);
}

vkdp_head *vkdp_head_open_ckpt(vkdp_device *dev, const vkdp_ckpt_state *ck, const char *path)
{
    vkdp_head_cfg hc;
    vkdp_head_cfg_default(&hc);
    hc.feat_dim = VKDP_EFFNET_FEATURES;
    hc.nclasses = ck->nclasses;
    hc.lr = ck->lr;
    hc.dropout = ck->dropout;
    hc.seed = ck->seed;
    vkdp_head *h = vkdp_head_create(dev, &hc);
    vkdp_head_from_ckpt(h, ck, path);
    return h;
}

vkdp_head *vkdp_session_head_for_ckpt(vkdp_session *s, const vkdp_ckpt_state *ck, const char *path)
{
    if (strcmp(s->net.sha256, ck->weights_sha256) != 0)
        VKDP_FATAL("%s has SHA-256 %s, but checkpoint %s was trained on weights with SHA-256 %s", s->cfg.weights,
                   s->net.sha256, path, ck->weights_sha256);
    return vkdp_head_open_ckpt(s->dev, ck, path);
}

static void write_checkpoint(vkdp_ckpt_state *st, vkdp_head *h, const vkdp_train_opts *t)
{
    state_from_head(st, h); /* every rank: the tensors are identical, the copy is cheap */
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

int vkdp_train_run(const vkdp_train_opts *t)
{
    vkdp_session s;
    vkdp_session_open(&s, &t->sc, 1);
    const int B = t->sc.batch, F = VKDP_EFFNET_FEATURES;
    if (s.split.ntrain == 0)
        VKDP_FATAL("%s: no training images after the validation split", t->sc.data_dir);

    vkdp_head_cfg hc;
    vkdp_head_cfg_default(&hc);
    hc.feat_dim = F;
    hc.nclasses = s.idx.nclasses;
    hc.lr = t->lr;
    hc.dropout = t->dropout;
    hc.seed = t->sc.seed;
    vkdp_head *h = vkdp_head_create(s.dev, &hc);

    vkdp_ckpt_state st;
    state_config(&st, t, &s);
    int start_epoch = 0, start_step = 0;
    sums resumed = {0, 0, 0, 0};
    double resumed_seconds = 0;

    char ckpath[4096], err[4096];
    int r = vkdp_ckpt_resolve(t->resume, t->out_dir, ckpath, sizeof ckpath, err, sizeof err);
    if (r < 0)
        VKDP_FATAL("%s", err);
    if (r == 1) {
        vkdp_ckpt_state ck;
        if (vkdp_ckpt_read(ckpath, &ck, err, sizeof err) != 0)
            VKDP_FATAL("%s", err);
        if (vkdp_ckpt_check_compatible(&ck, &st, err, sizeof err) != 0)
            VKDP_FATAL("cannot resume from %s: %s", ckpath, err);
        if (ck.batch != st.batch || ck.seed != st.seed || fabs(ck.validation_split - st.validation_split) > 0)
            VKDP_FATAL("cannot resume from %s: it was trained with --batch %d --seed %llu --validation-split %g, "
                       "this run has --batch %d --seed %llu --validation-split %g",
                       ckpath, ck.batch, (unsigned long long)ck.seed, ck.validation_split, st.batch,
                       (unsigned long long)st.seed, st.validation_split);
        vkdp_head_from_ckpt(h, &ck, ckpath);
        start_epoch = ck.epoch;
        start_step = (int)ck.step_in_epoch;
        st.global_step = ck.global_step;
        st.iterations = ck.iterations;
        for (int i = 0; i < ck.nepochs_m; i++)
            vkdp_ckpt_add_epoch_metrics(&st, &ck.epoch_m[i]);
        for (int64_t i = 0; i < ck.nsteps_m; i++)
            vkdp_ckpt_add_step_metrics(&st, &ck.step_m[i]);
        resumed.loss_sum = ck.epoch_loss_sum;
        resumed.correct = ck.epoch_correct;
        resumed.count = ck.epoch_count;
        resumed.skipped = ck.epoch_skipped;
        resumed_seconds = ck.epoch_seconds;
        vkdp_log("Resuming from %s: %d epoch(s) and %lld step(s) done (step %d of epoch %d).\n", ckpath, ck.epoch,
                 (long long)ck.global_step, start_step, ck.epoch + 1);
        vkdp_ckpt_state_free(&ck);
    }

    const int has_val = s.split.nval > 0, csv = t->csv_log && s.dist.rank == 0;
    if (csv)
        vkdp_csv_log_start(t->csv_log, has_val, r == 1, st.epoch_m, st.nepochs_m);
    if (t->feature_cache)
        vkdp_log("Feature cache: the frozen backbone's pooled features of each image are computed once and kept "
                 "in host memory (%.1f MB); later epochs run only the head (--no-feature-cache disables).\n",
                 vkdp_featcache_bytes(&s.fc) / 1e6);

    const int steps = vkdp_num_steps(s.split.ntrain, B);
    const int vsteps = vkdp_num_steps(s.split.nval, B);
    int *order = vkdp_xcalloc((size_t)s.split.ntrain, sizeof *order);
    for (int e = start_epoch; e < t->epochs; e++) {
        if (!t->feature_cache)
            memset(s.fc.state, 0, (size_t)s.fc.n);
        vkdp_epoch_order(s.split.train, s.split.ntrain, t->sc.seed, e, order);
        int s0 = e == start_epoch ? start_step : 0;
        sums tr = e == start_epoch ? resumed : (sums){0, 0, 0, 0};
        double t0 = vkdp_now() - (e == start_epoch ? resumed_seconds : 0), t_run = vkdp_now();
        int64_t trained_now = 0;
        char title[64], m[256];
        snprintf(title, sizeof title, "Epoch %d/%d", e + 1, t->epochs);
        vkdp_progress *pg = vkdp_progress_start(title, steps, t->log_interval);
        phase ph;
        phase_begin(&ph, &s, order, s.split.ntrain, B, s0, t->threads);
        for (int step = s0; step < steps; step++) {
            int n = phase_step(&ph, step, &tr.skipped);
            int64_t ng = global_count(n);
            vkdp_head_result res;
            vkdp_head_train_step(h, ph.x, ph.labels, ph.pos, n, ng, e, &res);
            tr.loss_sum += res.loss_sum;
            tr.correct += res.correct;
            tr.count += res.count;
            trained_now += res.count;
            st.global_step++;
            vkdp_step_metrics sm = {st.global_step, res.count ? res.loss_sum / (double)res.count : NAN,
                                    res.count ? (double)res.correct / (double)res.count : NAN, t->lr};
            vkdp_ckpt_add_step_metrics(&st, &sm);
            metrics_str(m, sizeof m, &tr);
            vkdp_progress_update(pg, step + 1, m);
            test_kill_hook(st.global_step);
            vkdp_head_check_replicas(h, st.global_step, (int)t->check_replicas);
            if (t->ckpt_every > 0 && st.global_step % t->ckpt_every == 0 && step + 1 < steps) {
                /* tr.skipped = the resumed (global) count + this rank's skips since */
                int64_t base = e == start_epoch ? resumed.skipped : 0, sk = tr.skipped - base;
                vkdp_allreduce_i64_sum(&sk, 1);
                sk += base;
                st.epoch = e;
                st.step_in_epoch = step + 1;
                st.epoch_loss_sum = tr.loss_sum;
                st.epoch_correct = tr.correct;
                st.epoch_count = tr.count;
                st.epoch_skipped = sk;
                st.epoch_seconds = vkdp_now() - t0;
                write_checkpoint(&st, h, t);
            }
        }
        phase_end(&ph);
        double train_s = vkdp_now() - t_run;
        int64_t skipped = tr.skipped - (e == start_epoch ? resumed.skipped : 0);
        vkdp_allreduce_i64_sum(&skipped, 1);
        skipped += e == start_epoch ? resumed.skipped : 0;

        /* validation: inference over the fixed validation order */
        sums va = {0, 0, 0, 0};
        if (vsteps > 0) {
            if (!t->feature_cache)
                memset(s.fc.state, 0, (size_t)s.fc.n);
            phase_begin(&ph, &s, s.split.val, s.split.nval, B, 0, t->threads);
            for (int step = 0; step < vsteps; step++) {
                int n = phase_step(&ph, step, &va.skipped);
                vkdp_head_result res;
                vkdp_head_evaluate(h, ph.x, ph.labels, n, &res, NULL);
                va.loss_sum += res.loss_sum;
                va.correct += res.correct;
                va.count += res.count;
            }
            phase_end(&ph);
            vkdp_allreduce_i64_sum(&va.skipped, 1);
        }
        if (t->feature_cache)
            vkdp_featcache_sync(&s.fc);

        vkdp_epoch_metrics em;
        em.epoch = e + 1;
        em.loss = tr.count ? tr.loss_sum / (double)tr.count : NAN;
        em.accuracy = tr.count ? (double)tr.correct / (double)tr.count : NAN;
        em.val_loss = va.count ? va.loss_sum / (double)va.count : NAN;
        em.val_accuracy = va.count ? (double)va.correct / (double)va.count : NAN;
        em.images_per_s = train_s > 0 ? (double)trained_now / train_s : 0;
        em.seconds = vkdp_now() - t0;
        em.skipped = skipped + va.skipped;
        metrics_str(m, sizeof m, &tr);
        size_t ml = strlen(m);
        if (va.count)
            snprintf(m + ml, sizeof m - ml, " - val_loss: %.4f - val_accuracy: %.4f - images/s: %.1f", em.val_loss,
                     em.val_accuracy, em.images_per_s);
        else
            snprintf(m + ml, sizeof m - ml, " - images/s: %.1f", em.images_per_s);
        vkdp_progress_finish(pg, m);
        if (em.skipped)
            vkdp_log("%lld image(s) could not be decoded and were left out of this epoch (see the warnings).\n",
                     (long long)em.skipped);
        vkdp_ckpt_add_epoch_metrics(&st, &em);
        st.epoch = e + 1;
        st.step_in_epoch = 0;
        st.epoch_loss_sum = 0;
        st.epoch_correct = st.epoch_count = st.epoch_skipped = 0;
        st.epoch_seconds = 0;
        write_checkpoint(&st, h, t);
        if (csv) /* after the checkpoint: a crash in between is repaired from it on resume */
            vkdp_csv_log_append(t->csv_log, has_val, &em);
    }
    if (start_epoch >= t->epochs)
        vkdp_log("Nothing to do: the checkpoint already has %d of %d epoch(s).\n", start_epoch, t->epochs);

    free(order);
    vkdp_ckpt_state_free(&st);
    vkdp_head_destroy(h);
    vkdp_session_close(&s);
    vkdp_dist_shutdown();
    return 0;
}
