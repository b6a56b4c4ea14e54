/* The per-image feature cache behind include/vkdp/train/featcache.h: features and a state per
 * index id, and the ids this rank filled since the last sync. */
#include "vkdp/train/featcache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkdp/core/common.h"
#include "vkdp/core/progress.h"
#include "vkdp/dist/dist.h"

enum { FEAT_UNKNOWN = 0, FEAT_HAVE = 1, FEAT_BAD = 2 };

struct vkdp_featcache {
    int n, dim;          /* index size, feature width */
    float *feat;         /* [n, dim] */
    uint8_t *state;      /* FEAT_* per index id */
    int *fresh;          /* ids computed or marked bad here since the last sync */
    int nfresh, capfresh;
};

vkdp_featcache *vkdp_featcache_create(int n, int dim)
{
    if (n < 0 || dim < 1)
        VKDP_FATAL("feature cache of %d images x %d features", n, dim);
    vkdp_featcache *fc = vkdp_xcalloc(1, sizeof *fc);
    fc->n = n;
    fc->dim = dim;
    fc->feat = vkdp_xcalloc((size_t)n * dim, sizeof *fc->feat);
    fc->state = vkdp_xcalloc((size_t)n, 1);
    return fc;
}

void vkdp_featcache_destroy(vkdp_featcache *fc)
{
    if (!fc)
        return;
    free(fc->feat);
    free(fc->state);
    free(fc->fresh);
    free(fc);
}

void vkdp_featcache_reset(vkdp_featcache *fc)
{
    memset(fc->state, FEAT_UNKNOWN, (size_t)fc->n);
    fc->nfresh = 0;
}

static void check_id(const vkdp_featcache *fc, int id)
{
    if (id < 0 || id >= fc->n)
        VKDP_FATAL("feature cache: image id %d out of range 0..%d", id, fc->n - 1);
}

static void add_fresh(vkdp_featcache *fc, int id)
{
    if (fc->nfresh == fc->capfresh) {
        fc->capfresh = fc->capfresh ? 2 * fc->capfresh : 256;
        fc->fresh = vkdp_xrealloc(fc->fresh, (size_t)fc->capfresh * sizeof *fc->fresh);
    }
    fc->fresh[fc->nfresh++] = id;
}

static void put(vkdp_featcache *fc, int id, const float *f)
{
    check_id(fc, id);
    memcpy(fc->feat + (size_t)id * fc->dim, f, (size_t)fc->dim * sizeof *f);
    if (fc->state[id] == FEAT_UNKNOWN)
        add_fresh(fc, id);
    fc->state[id] = FEAT_HAVE;
}

static void mark_bad(vkdp_featcache *fc, int id)
{
    check_id(fc, id);
    if (fc->state[id] == FEAT_UNKNOWN)
        add_fresh(fc, id);
    fc->state[id] = FEAT_BAD;
}

int vkdp_featcache_complete(const vkdp_featcache *fc, const int *items, int n)
{
    for (int i = 0; i < n; i++) {
        check_id(fc, items[i]);
        if (fc->state[items[i]] == FEAT_UNKNOWN)
            return 0;
    }
    return 1;
}

int vkdp_featcache_count_missing(const vkdp_featcache *fc, const int *items, int n)
{
    int m = 0;
    for (int i = 0; i < n; i++) {
        check_id(fc, items[i]);
        m += fc->state[items[i]] != FEAT_HAVE;
    }
    return m;
}

double vkdp_featcache_bytes(const vkdp_featcache *fc) { return (double)fc->n * fc->dim * sizeof(float); }

int vkdp_featcache_gather(const vkdp_featcache *fc, const int *order, int lo, int hi, const int *label_of_id,
                          vkdp_feat_batch *out)
{
    const size_t F = (size_t)fc->dim;
    out->count = out->missing = 0;
    for (int p = lo; p < hi; p++) {
        int id = order[p], m = out->count;
        check_id(fc, id);
        if (fc->state[id] != FEAT_HAVE) {
            out->missing++;
            continue;
        }
        memcpy(out->x + (size_t)m * F, fc->feat + (size_t)id * F, F * sizeof *out->x);
        out->labels[m] = label_of_id[id];
        if (out->pos)
            out->pos[m] = p;
        out->count++;
    }
    return out->count;
}

/* Every rank's part of a gather whose items are `item` bytes each (counts: items per rank). */
static void gather_items(const void *mine, void *all, const size_t *counts, size_t item, size_t *bytes, int P)
{
    for (int r = 0; r < P; r++)
        bytes[r] = counts[r] * item;
    vkdp_allgatherv_bytes(mine, all, bytes);
}

void vkdp_featcache_sync(vkdp_featcache *fc)
{
    int P = vkdp_world_size();
    if (P == 1) {
        fc->nfresh = 0;
        return;
    }
    size_t *counts = vkdp_xcalloc((size_t)P, sizeof *counts), *bytes = vkdp_xcalloc((size_t)P, sizeof *bytes);
    vkdp_allgather_size((size_t)fc->nfresh, counts);
    size_t total = 0, dim = (size_t)fc->dim;
    for (int r = 0; r < P; r++) {
        if (counts[r] > (size_t)fc->n)
            VKDP_FATAL("feature sync: rank %d reports %zu fresh images of %d", r, counts[r], fc->n);
        total += counts[r];
    }
    if (total > 0) {
        /* ids with the state in the sign: -(id+1) marks a bad image */
        int *mine = vkdp_xcalloc((size_t)fc->nfresh + 1, sizeof *mine);
        for (int i = 0; i < fc->nfresh; i++)
            mine[i] = fc->state[fc->fresh[i]] == FEAT_BAD ? -(fc->fresh[i] + 1) : fc->fresh[i];
        int *all = vkdp_xcalloc(total, sizeof *all);
        gather_items(mine, all, counts, sizeof *all, bytes, P);
        float *fmine = vkdp_xcalloc((size_t)fc->nfresh * dim + 1, sizeof *fmine);
        for (int i = 0; i < fc->nfresh; i++)
            memcpy(fmine + (size_t)i * dim, fc->feat + (size_t)fc->fresh[i] * dim, dim * sizeof *fmine);
        float *fall = vkdp_xcalloc(total * dim, sizeof *fall);
        gather_items(fmine, fall, counts, dim * sizeof *fall, bytes, P);
        for (size_t i = 0; i < total; i++) {
            int id = all[i] < 0 ? -(all[i] + 1) : all[i];
            if (id < 0 || id >= fc->n)
                VKDP_FATAL("feature sync: image id %d out of range 0..%d", id, fc->n - 1);
            if (all[i] < 0) {
                fc->state[id] = FEAT_BAD;
            } else {
                memcpy(fc->feat + (size_t)id * dim, fall + i * dim, dim * sizeof *fall);
                fc->state[id] = FEAT_HAVE;
            }
        }
        free(mine); free(all); free(fmine); free(fall);
    }
    free(counts);
    free(bytes);
    fc->nfresh = 0;
}

void vkdp_feat_pack_init(vkdp_feat_pack *p, int cap, int image_size, int dim)
{
    if (cap < 1 || image_size < 1 || dim < 1)
        VKDP_FATAL("feature pack of %d images of %dx%d, %d features", cap, image_size, image_size, dim);
    memset(p, 0, sizeof *p);
    p->cap = cap;
    p->img = (size_t)image_size * image_size * 3;
    for (int h = 0; h < 2; h++) {
        vkdp_feat_half *f = &p->half[h];
        f->images = vkdp_xmalloc((size_t)cap * p->img * sizeof *f->images);
        f->feat = vkdp_xmalloc((size_t)cap * dim * sizeof *f->feat);
        f->ids = vkdp_xcalloc((size_t)cap, sizeof *f->ids);
    }
}

void vkdp_feat_pack_free(vkdp_feat_pack *p)
{
    if (!vkdp_feat_pack_idle(p))
        VKDP_FATAL("feature pack freed with a backbone call in flight (vkdp_featcache_drain first)");
    for (int h = 0; h < 2; h++) {
        free(p->half[h].images);
        free(p->half[h].feat);
        free(p->half[h].ids);
    }
    memset(p, 0, sizeof *p);
}

int vkdp_feat_pack_room(const vkdp_feat_pack *p, int count) { return p->half[p->cur].n + count <= p->cap; }

int vkdp_feat_pack_idle(const vkdp_feat_pack *p) { return !p->half[0].ticket && !p->half[1].ticket; }

/* Waits for a half's call and stores its features; the half is empty afterwards. */
static void collect_half(vkdp_featcache *fc, vkdp_backbone *bb, vkdp_feat_half *f)
{
    if (!f->ticket)
        return;
    vkdp_backbone_collect(bb, f->ticket);
    for (int j = 0; j < f->n; j++)
        put(fc, f->ids[j], f->feat + (size_t)j * fc->dim);
    f->ticket = 0;
    f->n = 0;
}

void vkdp_featcache_run(vkdp_featcache *fc, vkdp_backbone *bb, vkdp_feat_pack *p)
{
    vkdp_feat_half *f = &p->half[p->cur];
    if (f->n == 0)
        return;
    f->ticket = vkdp_backbone_submit(bb, f->images, f->n, f->feat);
    p->calls++;
    p->images_run += f->n;
    p->cur ^= 1;
    /* the other half is refilled next: its call (submitted before this one) must have ended */
    collect_half(fc, bb, &p->half[p->cur]);
    if (vkdp_backbone_async_depth(bb) == 1)
        collect_half(fc, bb, f);
}

void vkdp_featcache_drain(vkdp_featcache *fc, vkdp_backbone *bb, vkdp_feat_pack *p)
{
    /* The other half first: packed before the current one, it holds the call run left in flight,
     * so its ids join the fresh list in packing order, as run stores them. Then the current half,
     * the one being filled: run collects it before refilling it, so it has no call now, and this
     * second call is a no-op kept so that the pack is idle on return whatever its state. */
    collect_half(fc, bb, &p->half[p->cur ^ 1]);
    collect_half(fc, bb, &p->half[p->cur]);
}

void vkdp_featcache_pack(vkdp_featcache *fc, vkdp_backbone *bb, vkdp_feat_pack *p, const vkdp_batch *b,
                         const int *order_of_pos)
{
    if ((size_t)b->image_size * b->image_size * 3 != p->img)
        VKDP_FATAL("feature pack: a batch of %dx%d images in a pack of %zu floats per image", b->image_size,
                   b->image_size, p->img);
    for (int i = 0; i < b->count; i++) {
        check_id(fc, b->ids[i]);
        if (fc->state[b->ids[i]] == FEAT_HAVE)
            continue;
        if (!vkdp_feat_pack_room(p, 1))
            vkdp_featcache_run(fc, bb, p);
        vkdp_feat_half *f = &p->half[p->cur];
        memcpy(f->images + (size_t)f->n * p->img, b->images + (size_t)i * p->img, p->img * sizeof *f->images);
        f->ids[f->n++] = b->ids[i];
    }
    /* positions of this rank's slice whose decode failed */
    for (int q = b->global_lo, i = 0; q < b->global_hi; q++) {
        if (i < b->count && b->pos[i] == q)
            i++;
        else
            mark_bad(fc, order_of_pos[q]);
    }
}

void vkdp_featurize(vkdp_featcache *fc, vkdp_backbone *bb, const vkdp_index *idx, const int *items, int n,
                    int batch, int image_size, int threads, int feature_batch, const char *title)
{
    int *todo = vkdp_xcalloc((size_t)n + 1, sizeof *todo);
    int m = 0;
    for (int i = 0; i < n; i++) {
        check_id(fc, items[i]);
        if (fc->state[items[i]] == FEAT_UNKNOWN)
            todo[m++] = items[i];
    }
    if (m > 0) {
        vkdp_loader *l = vkdp_loader_create(idx, todo, m, batch, vkdp_rank(), vkdp_world_size(), image_size,
                                            threads, 0);
        int share = (batch + vkdp_world_size() - 1) / vkdp_world_size();
        vkdp_feat_pack pack;
        vkdp_feat_pack_init(&pack, feature_batch > share ? feature_batch : share, image_size, fc->dim);
        vkdp_progress *p = vkdp_progress_start(title, vkdp_loader_steps(l), 10);
        vkdp_batch b;
        while (vkdp_loader_next(l, &b)) {
            if (!vkdp_feat_pack_room(&pack, b.count))
                vkdp_featcache_run(fc, bb, &pack);
            vkdp_featcache_pack(fc, bb, &pack, &b, todo);
            int step = b.step;
            vkdp_loader_release(l, &b);
            vkdp_progress_update(p, step + 1, "");
        }
        vkdp_featcache_run(fc, bb, &pack);
        vkdp_featcache_drain(fc, bb, &pack);
        vkdp_progress_finish(p, "");
        vkdp_feat_pack_free(&pack);
        vkdp_loader_destroy(l);
    }
    free(todo);
    vkdp_featcache_sync(fc);
}
