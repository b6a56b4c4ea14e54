/* A pass of the training loop over an order of images; see phase.h. */
#include "phase.h"

#include <stdlib.h>
#include <string.h>

#include "vkdp/core/common.h"
#include "vkdp/model/effnet.h"
#include "vkdp/ops/augment.h"

static void begin(vkdp_phase *ph, vkdp_session *s, const int *order, int n, int batch, int s0,
                  const vkdp_augment_cfg *aug, uint32_t epoch, vkdp_ftpart *ft, int stop)
{
    memset(ph, 0, sizeof *ph);
    ph->ft = ft;
    ph->stop = stop;
    ph->s = s;
    ph->order = order;
    ph->n = n;
    ph->batch = batch;
    ph->s0 = s0;
    ph->aug = aug;
    ph->epoch = epoch;
    int cap = batch / s->dist.size + 2;
    ph->fb.x = vkdp_xmalloc((size_t)cap * VKDP_EFFNET_FEATURES * sizeof *ph->fb.x);
    ph->scratch = vkdp_xmalloc((size_t)cap * VKDP_EFFNET_FEATURES * sizeof *ph->scratch);
    ph->fb.labels = vkdp_xcalloc((size_t)cap, sizeof *ph->fb.labels);
    ph->fb.pos = vkdp_xcalloc((size_t)cap, sizeof *ph->fb.pos);
    if (aug) {
        ph->aug_params = vkdp_xmalloc((size_t)cap * VKDP_AUGMENT_PARAM_FLOATS * sizeof(float));
        ph->aug_pos = vkdp_xmalloc((size_t)cap * sizeof *ph->aug_pos);
    }
    if (ft)
        ph->boundary = vkdp_xmalloc((size_t)cap * vkdp_backbone_boundary_floats(s->bb, stop) * sizeof(float));
    /* Decode only when some image of the remaining steps has no cached features. */
    int from = s0 * batch;
    if (from < n && (aug || ft || !vkdp_featcache_complete(s->fc, order + from, n - from)))
        ph->loader = vkdp_loader_create(&s->idx, order + from, n - from, batch, s->dist.rank, s->dist.size,
                                        s->cfg.image_size, s->cfg.decode_threads, 0);
}

void vkdp_phase_begin(vkdp_phase *ph, vkdp_session *s, const int *order, int n, int batch, int s0)
{
    begin(ph, s, order, n, batch, s0, NULL, 0, NULL, 0);
}

void vkdp_phase_begin_augmented(vkdp_phase *ph, vkdp_session *s, const int *order, int n,
                                int batch, int s0, const vkdp_augment_cfg *cfg, uint32_t epoch)
{
    begin(ph, s, order, n, batch, s0, cfg, epoch, NULL, 0);
}

void vkdp_phase_begin_ft(vkdp_phase *ph, vkdp_session *s, const int *order, int n, int batch, int s0,
                         vkdp_ftpart *ft, int stop, int training, const vkdp_augment_cfg *cfg,
                         uint32_t epoch)
{
    begin(ph, s, order, n, batch, s0, cfg, epoch, ft, stop);
    ph->training = training;
}

/* This rank's decoded images of the step, augmented and/or through the trainable part, straight
 * into ph->fb. */
static int decoded_step(vkdp_phase *ph, const vkdp_batch *b)
{
    vkdp_session *s = ph->s;
    const int from = ph->s0 * ph->batch;
    for (int i = 0; i < b->count; i++) {
        if (ph->aug)
            ph->aug_pos[i] = (uint64_t)(from + b->pos[i]);
        ph->fb.labels[i] = b->labels[i];
        ph->fb.pos[i] = from + b->pos[i];
    }
    if (b->count > 0 && ph->aug)
        vkdp_augment_pack(ph->aug, s->cfg.seed, ph->epoch, ph->aug_pos, (uint32_t)b->count,
                          b->image_size, b->image_size, ph->aug_params);
    if (ph->ft) {
        /* also with no samples: the step's backward needs the forward's sample count */
        if (b->count > 0)
            vkdp_backbone_forward_to(s->bb, b->images, b->count, ph->aug ? ph->aug_params : NULL, ph->stop,
                                     ph->boundary);
        vkdp_ftpart_forward(ph->ft, ph->boundary, b->count, ph->training ? ph->fb.pos : NULL, ph->epoch,
                            ph->fb.x);
    } else if (b->count > 0) {
        vkdp_backbone_forward_augmented(s->bb, b->images, b->count, ph->aug_params, ph->fb.x);
    }
    ph->fb.count = b->count;
    ph->fb.missing = 0;
    return b->count;
}

int vkdp_phase_step(vkdp_phase *ph, int step, int64_t *skipped)
{
    vkdp_session *s = ph->s;
    int lo, hi;
    vkdp_shard_range(ph->n, ph->batch, step, s->dist.rank, s->dist.size, &lo, &hi);
    if (ph->loader) {
        vkdp_batch b;
        if (!vkdp_loader_next(ph->loader, &b))
            VKDP_FATAL("data loader ended before step %d of %d", step, vkdp_num_steps(ph->n, ph->batch));
        if (b.step + ph->s0 != step)
            VKDP_FATAL("data loader delivered step %d, expected %d", b.step + ph->s0, step);
        *skipped += b.skipped;
        if (ph->aug || ph->ft) {
            int count = decoded_step(ph, &b);
            vkdp_loader_release(ph->loader, &b);
            return count;
        }
        vkdp_featcache_fill_batch(s->fc, s->bb, &b, ph->order + ph->s0 * ph->batch, ph->scratch);
        vkdp_loader_release(ph->loader, &b);
    }
    vkdp_featcache_gather(s->fc, ph->order, lo, hi, s->idx.label, &ph->fb);
    /* undecodable images are dropped from their batch; the loader counted them when it tried */
    if (!ph->loader)
        *skipped += ph->fb.missing;
    return ph->fb.count;
}

void vkdp_phase_end(vkdp_phase *ph)
{
    if (ph->loader)
        vkdp_loader_destroy(ph->loader);
    free(ph->fb.x);
    free(ph->scratch);
    free(ph->fb.labels);
    free(ph->fb.pos);
    free(ph->aug_params);
    free(ph->aug_pos);
    free(ph->boundary);
}
