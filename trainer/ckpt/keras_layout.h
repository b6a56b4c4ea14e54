/* Internal to the checkpoint module (keras_export.c, keras_import.c): the tutorial model's layers
 * around the backbone and where the checkpoint's head tensors go in a Keras export. */
#ifndef VKDP_KERAS_LAYOUT_H
#define VKDP_KERAS_LAYOUT_H
#include <stddef.h>

/* Root attributes of an export named "vkdp_" + a /config field (vkdp_image_size, ...), and the
 * class names; Keras' loader reads only layer_names, backend and keras_version. */
#define KERAS_ATTR_PREFIX "vkdp_"
#define KERAS_CLASS_NAMES "vkdp_class_names"

/* The tutorial model's layers before the backbone's (after its input layer) and after it. */
extern const char *const keras_before[1];
extern const char *const keras_head_layers[4];

/* The head's weights in Keras' order: checkpoint name -> export weight name (its layer group
 * is the part before the '/'). */
typedef struct {
    const char *ckpt, *keras;
} keras_head_weight;
extern const keras_head_weight keras_head_map[6];
enum { KERAS_HEAD_KERNEL = 4, KERAS_HEAD_BIAS = 5 }; /* pred's entries in keras_head_map */

#endif
