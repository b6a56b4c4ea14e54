/* Pooled backbone features, kept per image: with a frozen backbone and no augmentation an image's
 * features never change, so each is computed once (by the rank that decodes it) and shared with
 * every rank; later epochs run only the head. */
#ifndef VKDP_FEATCACHE_H
#define VKDP_FEATCACHE_H
#include <stdint.h>

#include "vkdp/model/backbone.h"
#include "vkdp/data/data.h"

enum { VKDP_FEAT_UNKNOWN = 0, VKDP_FEAT_HAVE = 1, VKDP_FEAT_BAD = 2 };

typedef struct {
    int n, dim;          /* index size, feature width */
    float *feat;         /* [n, dim] */
    uint8_t *state;      /* VKDP_FEAT_* per index id */
    int *fresh;          /* ids computed or marked bad here since the last sync */
    int nfresh, capfresh;
} vkdp_featcache;

void vkdp_featcache_init(vkdp_featcache *fc, int n, int dim);
void vkdp_featcache_free(vkdp_featcache *fc);
void vkdp_featcache_put(vkdp_featcache *fc, int id, const float *f);
void vkdp_featcache_mark_bad(vkdp_featcache *fc, int id);
/* Collective: every rank receives every other rank's fresh entries (exact copies). */
void vkdp_featcache_sync(vkdp_featcache *fc);
/* 1 when every id of items is HAVE or BAD. */
int vkdp_featcache_complete(const vkdp_featcache *fc, const int *items, int n);
double vkdp_featcache_bytes(const vkdp_featcache *fc);

/* Runs the backbone on the images of one loaded batch that are not cached yet and stores their
 * features; decode failures (b->skipped) are reported by the loader. Returns images computed. */
int vkdp_featcache_fill_batch(vkdp_featcache *fc, vkdp_backbone *bb, const vkdp_batch *b, float *scratch);

/* Collective: computes the features of every not-yet-cached id in items (each rank decoding and
 * running its shard of each global batch), then syncs. Shows progress under title. */
void vkdp_featurize(vkdp_featcache *fc, vkdp_backbone *bb, const vkdp_index *idx, const int *items, int n,
                    int batch, int image_size, int threads, const char *title);

#endif
