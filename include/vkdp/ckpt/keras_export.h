/* `trainer export --keras`: a checkpoint as the Keras tutorial's whole model, in Keras' HDF5
 * weights layout, so that the tutorial's build_model(C) followed by model.load_weights(FILE)
 * gives the trained model.
 *
 * Layout (the official EfficientNetB0 weights files' rules): root attributes backend,
 * keras_version (both copied from the backbone weights file) and layer_names (fixed-length ASCII,
 * model order); one group per layer with attribute weight_names ("<layer>/<weight>:0", an empty
 * array for a layer without weights) and datasets /<layer>/<layer>/<weight>:0. Layers, in the
 * tutorial model's order: input_1, img_augmentation (no weights), every layer of the weights file
 * after its input layer with its datasets copied unchanged (dtype, shape, values), then avg_pool,
 * batch_normalization (gamma, beta, moving_mean, moving_variance: the checkpoint's head_bn),
 * top_dropout and pred (kernel [1280, C], bias [C]: the checkpoint's pred). */
#ifndef VKDP_KERAS_EXPORT_H
#define VKDP_KERAS_EXPORT_H
#include <stddef.h>

#include "vkdp/ckpt/ckpt.h"

/* Writes out_path atomically from ck and the backbone weights file `weights` (the caller has
 * checked that it is the checkpoint's: its SHA-256). A checkpoint with a trainable backbone is
 * refused (fine-tuned backbones are not exported yet). 0, or -1 with a message naming the file
 * and object in err. */
int vkdp_keras_export(const vkdp_ckpt_state *ck, const char *weights, const char *out_path, char *err,
                      size_t errlen);

#endif
