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

/* Decoded images of one or more loaded batches waiting for one backbone call: a pass that fills
 * the cache packs several steps' uncached images and runs the backbone once over them, ahead of
 * the head, instead of once per step's 4-8 images. An image's features do not depend on the
 * other images of its call (ctest backbone_batch_independence), so no result changes.
 * Double-buffered: while one half's call runs on the device (vkdp_backbone_submit) the host
 * fills the other; a half's features enter the cache when the next half is run, or at
 * vkdp_featcache_drain. */
typedef struct {
    float *images;       /* [cap, S, S, 3] */
    float *feat;         /* [cap, dim] */
    int *ids;            /* [cap] */
    int n;
    uint64_t ticket;     /* its backbone call in flight, 0: none */
} vkdp_feat_half;

typedef struct {
    vkdp_feat_half half[2];
    int cur;             /* the half being filled */
    int cap;
    size_t img;          /* floats per image */
    int64_t calls, images_run; /* backbone calls and images over the pack's life */
} vkdp_feat_pack;

void vkdp_feat_pack_init(vkdp_feat_pack *p, int cap, int image_size, int dim);
void vkdp_feat_pack_free(vkdp_feat_pack *p);
/* Adds the images of a loaded batch that are neither cached nor packed, running the pack first
 * when they do not fit, then marks bad the positions of this rank's slice that the loader
 * dropped (b->skipped, reported by the loader); order_of_pos[p] is the index id at slice
 * position p. The batch may be released on return. */
void vkdp_featcache_pack(vkdp_featcache *fc, vkdp_backbone *bb, vkdp_feat_pack *p, const vkdp_batch *b,
                         const int *order_of_pos);
/* 1 when the pack has room for `count` more images without running. */
int vkdp_feat_pack_room(const vkdp_feat_pack *p, int count);
/* Submits the backbone over the packed images (if any) and switches to the other half, first
 * storing that half's features (its call must end before it is refilled). With the backbone's
 * async depth 1 the features are stored before it returns. */
void vkdp_featcache_run(vkdp_featcache *fc, vkdp_backbone *bb, vkdp_feat_pack *p);
/* Stores the features of the call in flight, if any: before the cache is read or synced. */
void vkdp_featcache_drain(vkdp_featcache *fc, vkdp_backbone *bb, vkdp_feat_pack *p);
/* 1 when no call of the pack is in flight. */
int vkdp_feat_pack_idle(const vkdp_feat_pack *p);

/* Collective: computes the features of every not-yet-cached id in items (each rank decoding its
 * shard of each global batch, in backbone calls of up to feature_batch images), then syncs.
 * Shows progress under title. */
void vkdp_featurize(vkdp_featcache *fc, vkdp_backbone *bb, const vkdp_index *idx, const int *items, int n,
                    int batch, int image_size, int threads, int feature_batch, const char *title);

#endif
