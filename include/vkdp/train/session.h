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
#include "vkdp/vk/vk.h"

typedef struct {
    const char *data_dir;        /* NULL: no data folder (predict) */
    const char *weights;
    const char *class_names;     /* comma-separated, or NULL */
    uint32_t seed;
    double validation_split;
    int image_size;
    int batch;                   /* global batch: the backbone's largest micro-batch per rank */
    const char *device;          /* NULL: automatic; "N" (every rank) or "N,M,..." (per local rank) */
    int profile;
    int allow_missing_weights;
} vkdp_session_cfg;

void vkdp_session_cfg_default(vkdp_session_cfg *c);

typedef struct {
    vkdp_session_cfg cfg;
    vkdp_dist_info dist;
    vkdp_device *dev;
    int have_data;
    vkdp_index idx;
    vkdp_split split;
    vkdp_effnet net;
    vkdp_backbone *bb;
    vkdp_featcache fc;
    vkdp_profile *prof;          /* per-op table when cfg.profile */
} vkdp_session;

/* Any error (folder, weights file) is fatal on every rank with one clear line. summary: rank 0
 * prints Keras' "Found N files belonging to C classes." lines and every excluded file. */
void vkdp_session_open(vkdp_session *s, const vkdp_session_cfg *cfg, int summary);
void vkdp_session_close(vkdp_session *s);

/* --device's value: 0, or -1 after printing "trainer CMD: --device 'S': why" to stderr. */
int vkdp_check_device_flag(const char *cmd, const char *s);

/* Splits "a,b,c" into a malloc'ed array of malloc'ed strings; returns the count. */
int vkdp_split_csv(const char *csv, char ***out);
void vkdp_free_strings(char **v, int n);

#endif
