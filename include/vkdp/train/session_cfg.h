/* What a session is opened with: the settings train, evaluate, predict and features share. The
 * command line fills it (defaults and limits: the option table of trainer/cli/options.c). */
#ifndef VKDP_SESSION_CFG_H
#define VKDP_SESSION_CFG_H
#include <stdint.h>

typedef struct {
    const char *data_dir;        /* NULL: no data folder (predict) */
    const char *weights;
    const char *class_names;     /* comma-separated, or NULL */
    const char *const *class_list; /* or the classes as an array (a checkpoint's: any folder name,
                                      commas included, round-trips); used when nclass_list > 0 */
    int nclass_list;
    uint32_t seed;
    double validation_split;
    int image_size;
    int batch;                   /* global batch: the backbone's largest micro-batch per rank */
    int max_pixels;              /* per-image pixel budget, checked from the header (--max-pixels) */
    int decode_threads;          /* JPEG decode threads per rank, 0: cores / ranks on the node */
    int feature_batch;           /* images per backbone call while computing features, 0: the
                                    device's tune row (0 there: one step's share per rank) */
    const char *device;          /* NULL: automatic; "N" (every rank) or "N,M,..." (one per local rank) */
    int profile;
    int allow_missing_weights;
    int weights_with_head;       /* weights is a Keras export: skip its tutorial head layers */
} vkdp_session_cfg;

#endif
