/* What train, evaluate, predict and features share: MPI layout, the Vulkan device, the indexed
 * and split image folder, the EfficientNetB0 weights, the backbone and the feature cache. */
#ifndef VKDP_SESSION_H
#define VKDP_SESSION_H
#include <stdint.h>

#include "vkdp/model/backbone.h"
#include "vkdp/data/data.h"
#include "vkdp/dist/dist.h"
#include "vkdp/model/effnet.h"
#include "vkdp/train/featcache.h"
#include "vkdp/train/session_cfg.h"
#include "vkdp/vk/vk.h"

typedef struct {
    vkdp_session_cfg cfg;
    vkdp_dist_info dist;
    vkdp_device *dev;
    int have_data;
    vkdp_index idx;
    vkdp_split split;
    vkdp_effnet net;
    vkdp_backbone *bb;
    vkdp_featcache *fc;          /* NULL without a data folder */
    vkdp_profile *prof;          /* per-op table when cfg.profile */
    int feature_batch;           /* images per backbone call while computing features (>= 1) */
} vkdp_session;

/* Any error (folder, weights file) is fatal on every rank with one clear line. summary: rank 0
 * prints Keras' "Found N files belonging to C classes." lines and every excluded file. */
void vkdp_session_open(vkdp_session *s, const vkdp_session_cfg *cfg, int summary);
void vkdp_session_close(vkdp_session *s);
/* The most samples one rank takes of a global batch of `batch` (the first ranks take one more). */
int vkdp_session_rank_share(const vkdp_session *s, int batch);

#endif
