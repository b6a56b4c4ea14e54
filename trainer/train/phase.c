/* A pass of the training loop over an order of images; see phase.h. */
#include "phase.h"

#include <stdlib.h>
#include <string.h>

#include "vkdp/core/common.h"
#include "vkdp/model/effnet.h"
#include "vkdp/ops/augment.h"

static void begin(vkdp_phase *ph, vkdp_session *s, const int *order, int n, int batch, int s0,
                  const vkdp_augment_cfg *aug, uint32_t seed, uint32_t epoch, vkdp_ftpart *ft, int stop,
                  double frozen_drop)
{
    memset(ph, 0, sizeof *ph);
    ph->frozen_drop = frozen_drop;
    ph->ft = ft;
    ph->stop = stop;
    ph->s = s;
    ph->order = order;
    ph->n = n;
    ph->batch = batch;
    ph->s0 = s0;
    ph->aug = aug;
    ph->seed = seed;
    ph->epoch = epoch;
    const int cap = ph->cap = vkdp_session_rank_share(s, batch);
    ph->fb.x = vkdp_xmalloc((size_t)cap * VKDP_EFFNET_FEATURES * sizeof *ph->fb.x);
    ph->fb.labels = vkdp_xcalloc((size_t)cap, sizeof *ph->fb.labels);
    ph->fb.pos = vkdp_xcalloc((size_t)cap, sizeof *ph->fb.pos);
    if (aug) {
        ph->aug_params = vkdp_xmalloc((size_t)cap * VKDP_AUGMENT_PARAM_FLOATS * sizeof(float));
        ph->aug_pos = vkdp_xmalloc((size_t)cap * sizeof *ph->aug_pos);
    }
    if (frozen_drop > 0)
        ph->drop = vkdp_xmalloc((size_t)cap * VKDP_EFFNET_BLOCKS * sizeof *ph->drop);
    if (ft)
        ph->boundary = vkdp_xmalloc((size_t)cap * vkdp_backbone_boundary_floats(s->bb, stop) * sizeof(float));
    /* Decode only when some image of the remaining steps has no cached features. */
    int from = s0 * batch;
    if (from < n && (aug || ft || ph->drop || !vkdp_featcache_complete(s->fc, order + from, n - from))) {
        ph->loader = vkdp_loader_create(&s->idx, order + from, n - from, batch, s->dist.rank, s->dist.size,
                                        s->cfg.image_size, s->cfg.decode_threads, 0);
        ph->next = s0;
        ph->step_skipped = vkdp_xcalloc((size_t)(vkdp_num_steps(n, batch) - s0), sizeof *ph->step_skipped);
        if (!aug && !ft && !ph->drop)
            vkdp_feat_pack_init(&ph->pack, s->feature_batch > cap ? s->feature_batch : cap, s->cfg.image_size,
                                VKDP_EFFNET_FEATURES);
    }
}

void vkdp_phase_begin(vkdp_phase *ph, vkdp_session *s, const int *order, int n, int batch, int s0)
{
    begin(ph, s, order, n, batch, s0, NULL, 0, 0, NULL, 0, 0);
}

void vkdp_phase_begin_augmented(vkdp_phase *ph, vkdp_session *s, const int *order, int n,
                                int batch, int s0, const vkdp_augment_cfg *cfg, uint32_t seed,
                                uint32_t epoch, double frozen_drop)
{
    begin(ph, s, order, n, batch, s0, cfg, seed, epoch, NULL, 0, frozen_drop);
}

void vkdp_phase_begin_ft(vkdp_phase *ph, vkdp_session *s, const int *order, int n, int batch, int s0,
                         vkdp_ftpart *ft, int stop, int training, const vkdp_augment_cfg *cfg,
                         uint32_t seed, uint32_t epoch, double frozen_drop)
{
    begin(ph, s, order, n, batch, s0, cfg, seed, epoch, ft, stop, training ? frozen_drop : 0);
    ph->training = training;
}

/* fb is sized for a rank's share of a step (data_shard: slices differ by at most one sample). */
static void check_room(const vkdp_phase *ph, int count)
{
    if (count < 0 || count > ph->cap)
        VKDP_FATAL("a step of %d samples on this rank, at most %d (global batch %d)", count, ph->cap, ph->batch);
}

/* This rank's decoded images of the step, augmented and/or through the trainable part, straight
 * into ph->fb. */
static int decoded_step(vkdp_phase *ph, const vkdp_batch *b)
{
    vkdp_session *s = ph->s;
    const int from = ph->s0 * ph->batch;
    check_room(ph, b->count);
    for (int i = 0; i < b->count; i++) {
        if (ph->aug)
            ph->aug_pos[i] = (uint64_t)(from + b->pos[i]);
        ph->fb.labels[i] = b->labels[i];
        ph->fb.pos[i] = from + b->pos[i];
    }
    if (b->count > 0 && ph->aug)
        vkdp_augment_pack(ph->aug, ph->seed, ph->epoch, ph->aug_pos, (uint32_t)b->count,
                          b->image_size, b->image_size, ph->aug_params);
    /* --drop-connect all: the frozen blocks' scales, drawn as the trainable part draws its own
     * (vkdp_ftpart_drop_scale: seed, epoch, global sample index, block); blocks without a
     * residual get rate 0's scale 1 and are not read */
    for (int i = 0; ph->drop && i < b->count; i++)
        for (int k = 0; k < VKDP_EFFNET_BLOCKS; k++)
            ph->drop[(size_t)i * VKDP_EFFNET_BLOCKS + (size_t)k] =
                vkdp_ftpart_drop_scale(ph->seed, ph->frozen_drop, ph->epoch, ph->fb.pos[i], k);
    const float *params = ph->aug ? ph->aug_params : NULL;
    if (ph->ft) {
        /* also with no samples: the step's backward needs the forward's sample count */
        if (b->count > 0)
            vkdp_backbone_forward_train(s->bb, b->images, b->count, params, ph->drop, ph->stop, ph->boundary);
        vkdp_ftpart_forward(ph->ft, ph->boundary, b->count, ph->training ? ph->fb.pos : NULL, ph->epoch,
                            ph->fb.x);
    } else if (b->count > 0) {
        vkdp_backbone_forward_train(s->bb, b->images, b->count, params, ph->drop, -1, ph->fb.x);
    }
    ph->fb.count = b->count;
    ph->fb.missing = 0;
    return b->count;
}

/* The loader's next batch, which must be step ph->next's. */
static void next_batch(vkdp_phase *ph, vkdp_batch *b)
{
    int steps = vkdp_num_steps(ph->n, ph->batch);
    if (ph->next >= steps || !vkdp_loader_next(ph->loader, b))
        VKDP_FATAL("data loader ended before step %d of %d", ph->next, steps);
    if (b->step + ph->s0 != ph->next)
        VKDP_FATAL("data loader delivered step %d, expected %d", b->step + ph->s0, ph->next);
    ph->step_skipped[ph->next - ph->s0] = b->skipped;
    ph->next++;
}

/* Packs the loader's next steps: every step up to `step`, then as many as the pack has room for;
 * a step that does not fit runs the pack first. */
static void pack_steps(vkdp_phase *ph, int step)
{
    vkdp_session *s = ph->s;
    int steps = vkdp_num_steps(ph->n, ph->batch);
    int share = vkdp_session_rank_share(s, ph->batch);
    while (ph->next <= step || (ph->next < steps && vkdp_feat_pack_room(&ph->pack, share))) {
        vkdp_batch b;
        next_batch(ph, &b);
        if (!vkdp_feat_pack_room(&ph->pack, b.count))
            vkdp_featcache_run(s->fc, s->bb, &ph->pack);
        vkdp_featcache_pack(s->fc, s->bb, &ph->pack, &b, ph->order + ph->s0 * ph->batch);
        vkdp_loader_release(ph->loader, &b);
    }
}

/* Features for every step up to `step`, and for as many later steps as fill the pack, in as few
 * backbone calls as the pack allows. With two calls in flight (async_depth 2) the next pack's
 * steps are decoded and packed while that call runs, and their call is left running through the
 * head steps until a step needs it (vkdp_phase_step). */
static void features_ahead(vkdp_phase *ph, int step)
{
    vkdp_session *s = ph->s;
    pack_steps(ph, step);
    vkdp_featcache_run(s->fc, s->bb, &ph->pack);
    if (vkdp_backbone_async_depth(s->bb) > 1 && ph->next < vkdp_num_steps(ph->n, ph->batch)) {
        pack_steps(ph, ph->next);
        vkdp_featcache_run(s->fc, s->bb, &ph->pack); /* stores the first call's features */
    } else {
        vkdp_featcache_drain(s->fc, s->bb, &ph->pack);
    }
}

int vkdp_phase_step(vkdp_phase *ph, int step, int64_t *skipped)
{
    vkdp_session *s = ph->s;
    int lo, hi;
    vkdp_shard_range(ph->n, ph->batch, step, s->dist.rank, s->dist.size, &lo, &hi);
    if (ph->loader) {
        if (step < ph->s0 || step >= vkdp_num_steps(ph->n, ph->batch))
            VKDP_FATAL("pass step %d outside %d..%d", step, ph->s0, vkdp_num_steps(ph->n, ph->batch) - 1);
        if (ph->aug || ph->ft || ph->drop) {
            if (step != ph->next)
                VKDP_FATAL("decoding pass: step %d asked, the loader is at step %d", step, ph->next);
            vkdp_batch b;
            next_batch(ph, &b);
            *skipped += b.skipped;
            int count = decoded_step(ph, &b);
            vkdp_loader_release(ph->loader, &b);
            return count;
        }
        if (step >= ph->next)
            features_ahead(ph, step);
        else if (!vkdp_feat_pack_idle(&ph->pack) && !vkdp_featcache_complete(s->fc, ph->order + lo, hi - lo))
            vkdp_featcache_drain(s->fc, s->bb, &ph->pack); /* this step's images are in the call in flight */
        *skipped += ph->step_skipped[step - ph->s0];
    }
    check_room(ph, hi - lo);
    vkdp_featcache_gather(s->fc, ph->order, lo, hi, s->idx.label, &ph->fb);
    /* undecodable images are dropped from their batch; the loader counted them when it tried */
    if (!ph->loader)
        *skipped += ph->fb.missing;
    return ph->fb.count;
}

void vkdp_phase_end(vkdp_phase *ph)
{
    if (ph->loader) {
        vkdp_featcache_drain(ph->s->fc, ph->s->bb, &ph->pack);
        if (ph->pack.calls > 0)
            vkdp_log("features of %lld images in %lld backbone call%s (rank 0)\n", (long long)ph->pack.images_run,
                     (long long)ph->pack.calls, ph->pack.calls == 1 ? "" : "s");
        vkdp_loader_destroy(ph->loader);
    }
    vkdp_feat_pack_free(&ph->pack);
    free(ph->step_skipped);
    free(ph->fb.x);
    free(ph->fb.labels);
    free(ph->fb.pos);
    free(ph->aug_params);
    free(ph->aug_pos);
    free(ph->drop);
    free(ph->boundary);
}
