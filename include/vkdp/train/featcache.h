/* Pooled backbone features, kept per image: with a frozen backbone and no augmentation an image's
 * features never change, so each is computed once (by the rank that decodes it) and shared with
 * every rank; later epochs run only the head. The cache is opaque: callers gather what a step
 * needs and never see its arrays. */
#ifndef VKDP_FEATCACHE_H
#define VKDP_FEATCACHE_H
#include <stdint.h>

#include "vkdp/data/data.h"
#include "vkdp/model/backbone.h"

typedef struct vkdp_featcache vkdp_featcache;

/* A cache for index ids 0..n-1 of features of width dim, all unknown. */
vkdp_featcache *vkdp_featcache_create(int n, int dim);
void vkdp_featcache_destroy(vkdp_featcache *fc);
/* Forgets every image (features recomputed, e.g. each epoch under --no-feature-cache). */
void vkdp_featcache_reset(vkdp_featcache *fc);
/* Records that image id could not be decoded: it is dropped wherever it is gathered. */
void vkdp_featcache_mark_bad(vkdp_featcache *fc, int id);
/* 1 when every id of items has features or is marked bad. */
int vkdp_featcache_complete(const vkdp_featcache *fc, const int *items, int n);
/* Of items[0..n), how many have no features (undecodable, or not computed yet). */
int vkdp_featcache_count_missing(const vkdp_featcache *fc, const int *items, int n);
/* Host memory of the features, in bytes. */
double vkdp_featcache_bytes(const vkdp_featcache *fc);

/* What one rank feeds the head in one step. The caller allocates x [cap, dim], labels [cap]
 * and (optionally) pos [cap], cap >= the positions gathered. */
typedef struct {
    float *x;            /* features, one row per sample */
    int *labels;         /* class of each sample */
    int64_t *pos;        /* position of each sample in the order (its global sample index), or NULL */
    int count;           /* samples gathered */
    int missing;         /* positions skipped because their image has no features */
} vkdp_feat_batch;

/* Gathers the cached images at positions [lo, hi) of order (index ids; labels by id from
 * label_of_id), keeping order and dropping those without features. Returns out->count. */
int vkdp_featcache_gather(const vkdp_featcache *fc, const int *order, int lo, int hi, const int *label_of_id,
                          vkdp_feat_batch *out);

/* Collective: every rank receives every other rank's entries computed or marked bad since the
 * last sync (exact copies). */
void vkdp_featcache_sync(vkdp_featcache *fc);

/* Runs the backbone on the images of one loaded batch that are not cached yet and stores their
 * features, then marks bad the positions of this rank's slice that the loader dropped
 * (b->skipped, reported by the loader); order_of_pos[p] is the index id at slice position p.
 * Returns the images computed. */
int vkdp_featcache_fill_batch(vkdp_featcache *fc, vkdp_backbone *bb, const vkdp_batch *b, const int *order_of_pos,
                              float *scratch);

/* Collective: computes the features of every not-yet-cached id in items (each rank decoding and
 * running its shard of each global batch), then syncs. Shows progress under title. */
void vkdp_featurize(vkdp_featcache *fc, vkdp_backbone *bb, const vkdp_index *idx, const int *items, int n,
                    int batch, int image_size, int threads, const char *title);

#endif
