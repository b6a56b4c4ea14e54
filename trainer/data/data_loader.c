/* Prefetching loader: a pool of decode threads fills a ring of batch slots ahead of the consumer.
 *
 * Step s always lives in slot s % ring_depth, assigned once that slot is free, so batches come out
 * in step order and at most ring_depth steps are in flight. Workers claim single samples (lowest
 * step first), decode and resize them straight into the slot, and the last one to finish marks the
 * slot ready. Samples whose decode fails are dropped from their batch when it is handed out. */
#include "vkdp/core/common.h"
#include "vkdp/data/data.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { SLOT_FREE, SLOT_FILLING, SLOT_READY, SLOT_HELD };

typedef struct {
    int state, step, lo, m; /* m samples: epoch positions [lo, lo + m) */
    int claimed, done;
    unsigned char *ok;
    char (*why)[256]; /* decode failure reasons, reported by the consumer thread */
    float *images;
    int *labels, *ids, *pos;
} slot;

struct vkdp_loader {
    const vkdp_index *idx;
    int *items, nitems;
    int batch, rank, nranks, size, nsteps, depth, max_per_rank;
    slot *slots;
    int next_assign, next_consume, stop;
    int paused, busy; /* vkdp_loader_restart: no new claims, wait for in-flight decodes */
    pthread_mutex_t mu;
    pthread_cond_t work, ready, idle;
    pthread_t *threads;
    int nthreads;
};

static void pcheck(int rc, const char *what)
{
    if (rc != 0)
        VKDP_FATAL("%s failed: %s", what, strerror(rc));
}

/* Under the lock: the next sample to decode, or NULL. */
static slot *claim(vkdp_loader *l, int *k)
{
    slot *best = NULL;
    if (l->paused)
        return NULL;
    for (int i = 0; i < l->depth; i++) {
        slot *s = &l->slots[i];
        if (s->state == SLOT_FILLING && s->claimed < s->m && (!best || s->step < best->step))
            best = s;
    }
    while (!best && l->next_assign < l->nsteps) {
        slot *s = &l->slots[l->next_assign % l->depth];
        if (s->state != SLOT_FREE)
            break;
        int hi;
        s->step = l->next_assign++;
        vkdp_shard_range(l->nitems, l->batch, s->step, l->rank, l->nranks, &s->lo, &hi);
        s->m = hi - s->lo;
        s->claimed = s->done = 0;
        if (s->m == 0) {
            s->state = SLOT_READY;
            pcheck(pthread_cond_broadcast(&l->ready), "pthread_cond_broadcast");
        } else {
            s->state = SLOT_FILLING;
            best = s;
        }
    }
    if (best) {
        *k = best->claimed++;
        l->busy++;
    }
    return best;
}

static void decode_one(vkdp_loader *l, vkdp_jpeg_decoder *dec, slot *s, int k)
{
    int p = s->lo + k;
    int id = l->items[p];
    size_t px = (size_t)l->size * l->size * 3;
    char path[4096];
    const uint8_t *rgb = NULL;
    int w = 0, h = 0;
    s->ids[k] = id;
    s->pos[k] = p;
    s->labels[k] = l->idx->label[id];
    vkdp_index_path(l->idx, id, path, sizeof path);
    if (vkdp_jpeg_decoder_file(dec, path, 0, &rgb, &w, &h, s->why[k], sizeof s->why[k]) != 0) {
        s->ok[k] = 0;
        return;
    }
    vkdp_resize_bilinear_rgb(rgb, h, w, s->images + (size_t)k * px, l->size, l->size);
    s->ok[k] = 1;
}

static void *worker(void *arg)
{
    vkdp_loader *l = arg;
    vkdp_jpeg_decoder *dec = vkdp_jpeg_decoder_create();
    pcheck(pthread_mutex_lock(&l->mu), "pthread_mutex_lock");
    while (!l->stop) {
        int k;
        slot *s = claim(l, &k);
        if (!s) {
            pcheck(pthread_cond_wait(&l->work, &l->mu), "pthread_cond_wait");
            continue;
        }
        pcheck(pthread_mutex_unlock(&l->mu), "pthread_mutex_unlock");
        decode_one(l, dec, s, k);
        pcheck(pthread_mutex_lock(&l->mu), "pthread_mutex_lock");
        if (--l->busy == 0)
            pcheck(pthread_cond_broadcast(&l->idle), "pthread_cond_broadcast");
        if (++s->done == s->m) {
            s->state = SLOT_READY;
            pcheck(pthread_cond_broadcast(&l->ready), "pthread_cond_broadcast");
        }
    }
    pcheck(pthread_mutex_unlock(&l->mu), "pthread_mutex_unlock");
    vkdp_jpeg_decoder_destroy(dec);
    return NULL;
}

static void check_items(const vkdp_index *idx, const int *items, int nitems)
{
    if (nitems < 0)
        VKDP_FATAL("loader: %d items", nitems);
    for (int i = 0; i < nitems; i++)
        if (items[i] < 0 || items[i] >= idx->n)
            VKDP_FATAL("loader: item %d is id %d, outside the index (%d files)", i, items[i], idx->n);
}

vkdp_loader *vkdp_loader_create(const vkdp_index *idx, const int *items, int nitems,
                                int global_batch, int rank, int nranks, int image_size,
                                int threads, int ring_depth)
{
    if (global_batch <= 0 || nranks <= 0 || rank < 0 || rank >= nranks || image_size <= 0)
        VKDP_FATAL("loader: invalid arguments (batch %d, rank %d of %d, image size %d, %d items)",
                   global_batch, rank, nranks, image_size, nitems);
    check_items(idx, items, nitems);
    vkdp_loader *l = vkdp_xcalloc(1, sizeof *l);
    l->idx = idx;
    l->nitems = nitems;
    l->items = vkdp_xmalloc((size_t)(nitems ? nitems : 1) * sizeof(int));
    if (nitems > 0)
        memcpy(l->items, items, (size_t)nitems * sizeof(int));
    l->batch = global_batch;
    l->rank = rank;
    l->nranks = nranks;
    l->size = image_size;
    l->nsteps = vkdp_num_steps(nitems, global_batch);
    l->depth = ring_depth > 0 ? ring_depth : 3;
    l->max_per_rank = (global_batch + nranks - 1) / nranks;
    if (threads <= 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores > nranks ? (int)(cores / nranks) : 1;
    }
    l->nthreads = threads;
    size_t px = (size_t)image_size * image_size * 3;
    size_t mp = (size_t)l->max_per_rank;
    l->slots = vkdp_xcalloc((size_t)l->depth, sizeof(slot));
    for (int i = 0; i < l->depth; i++) {
        slot *s = &l->slots[i];
        s->state = SLOT_FREE;
        s->ok = vkdp_xcalloc(mp, 1);
        s->why = vkdp_xcalloc(mp, sizeof *s->why);
        s->images = vkdp_xmalloc(mp * px * sizeof(float));
        s->labels = vkdp_xmalloc(mp * sizeof(int));
        s->ids = vkdp_xmalloc(mp * sizeof(int));
        s->pos = vkdp_xmalloc(mp * sizeof(int));
    }
    pcheck(pthread_mutex_init(&l->mu, NULL), "pthread_mutex_init");
    pcheck(pthread_cond_init(&l->work, NULL), "pthread_cond_init");
    pcheck(pthread_cond_init(&l->ready, NULL), "pthread_cond_init");
    pcheck(pthread_cond_init(&l->idle, NULL), "pthread_cond_init");
    l->threads = vkdp_xmalloc((size_t)threads * sizeof(pthread_t));
    for (int t = 0; t < threads; t++)
        pcheck(pthread_create(&l->threads[t], NULL, worker, l), "pthread_create");
    return l;
}

int vkdp_loader_steps(const vkdp_loader *l) { return l->nsteps; }

void vkdp_loader_restart(vkdp_loader *l, const int *items, int nitems)
{
    check_items(l->idx, items, nitems);
    pcheck(pthread_mutex_lock(&l->mu), "pthread_mutex_lock");
    for (int i = 0; i < l->depth; i++)
        if (l->slots[i].state == SLOT_HELD)
            VKDP_FATAL("loader: restart while step %d is still held: release it first",
                       l->slots[i].step);
    l->paused = 1;
    while (l->busy > 0)
        pcheck(pthread_cond_wait(&l->idle, &l->mu), "pthread_cond_wait");
    l->items = vkdp_xrealloc(l->items, (size_t)(nitems ? nitems : 1) * sizeof(int));
    if (nitems > 0)
        memcpy(l->items, items, (size_t)nitems * sizeof(int));
    l->nitems = nitems;
    l->nsteps = vkdp_num_steps(nitems, l->batch);
    for (int i = 0; i < l->depth; i++)
        l->slots[i].state = SLOT_FREE;
    l->next_assign = l->next_consume = 0;
    l->paused = 0;
    pcheck(pthread_cond_broadcast(&l->work), "pthread_cond_broadcast");
    pcheck(pthread_mutex_unlock(&l->mu), "pthread_mutex_unlock");
}

int vkdp_loader_next(vkdp_loader *l, vkdp_batch *b)
{
    memset(b, 0, sizeof *b);
    b->slot_ = -1;
    pcheck(pthread_mutex_lock(&l->mu), "pthread_mutex_lock");
    if (l->next_consume >= l->nsteps) {
        pcheck(pthread_mutex_unlock(&l->mu), "pthread_mutex_unlock");
        return 0;
    }
    int step = l->next_consume;
    int si = step % l->depth;
    slot *s = &l->slots[si];
    if (s->state == SLOT_HELD)
        VKDP_FATAL("loader: step %d needs the slot still held by step %d: release batches "
                   "(at most %d held at once)", step, s->step, l->depth - 1);
    while (!(s->state == SLOT_READY && s->step == step))
        pcheck(pthread_cond_wait(&l->ready, &l->mu), "pthread_cond_wait");
    s->state = SLOT_HELD;
    l->next_consume++;
    pcheck(pthread_mutex_unlock(&l->mu), "pthread_mutex_unlock");

    /* Drop failed samples, keeping order. Warnings are printed here, on the caller's thread, so
     * they come in step order whatever order the workers finished in. */
    size_t px = (size_t)l->size * l->size * 3;
    int c = 0;
    for (int k = 0; k < s->m; k++) {
        if (!s->ok[k]) {
            char path[4096];
            vkdp_warn("%s: sample dropped from step %d: %s",
                      vkdp_index_path(l->idx, l->items[s->lo + k], path, sizeof path), step, s->why[k]);
            continue;
        }
        if (c != k) {
            memmove(s->images + (size_t)c * px, s->images + (size_t)k * px, px * sizeof(float));
            s->labels[c] = s->labels[k];
            s->ids[c] = s->ids[k];
            s->pos[c] = s->pos[k];
        }
        c++;
    }
    b->step = step;
    b->count = c;
    b->skipped = s->m - c;
    b->image_size = l->size;
    b->images = s->images;
    b->labels = s->labels;
    b->ids = s->ids;
    b->pos = s->pos;
    b->global_lo = s->lo;
    b->global_hi = s->lo + s->m;
    b->slot_ = si;
    return 1;
}

void vkdp_loader_release(vkdp_loader *l, vkdp_batch *b)
{
    if (b->slot_ < 0)
        return;
    pcheck(pthread_mutex_lock(&l->mu), "pthread_mutex_lock");
    l->slots[b->slot_].state = SLOT_FREE;
    pcheck(pthread_cond_broadcast(&l->work), "pthread_cond_broadcast");
    pcheck(pthread_mutex_unlock(&l->mu), "pthread_mutex_unlock");
    b->slot_ = -1;
}

void vkdp_loader_destroy(vkdp_loader *l)
{
    if (!l)
        return;
    pcheck(pthread_mutex_lock(&l->mu), "pthread_mutex_lock");
    l->stop = 1;
    pcheck(pthread_cond_broadcast(&l->work), "pthread_cond_broadcast");
    pcheck(pthread_mutex_unlock(&l->mu), "pthread_mutex_unlock");
    for (int t = 0; t < l->nthreads; t++)
        pcheck(pthread_join(l->threads[t], NULL), "pthread_join");
    for (int i = 0; i < l->depth; i++) {
        slot *s = &l->slots[i];
        free(s->ok);
        free(s->why);
        free(s->images);
        free(s->labels);
        free(s->ids);
        free(s->pos);
    }
    free(l->slots);
    free(l->threads);
    free(l->items);
    pthread_cond_destroy(&l->work);
    pthread_cond_destroy(&l->ready);
    pthread_cond_destroy(&l->idle);
    pthread_mutex_destroy(&l->mu);
    free(l);
}
