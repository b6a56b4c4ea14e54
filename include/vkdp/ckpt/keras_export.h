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
 * top_dropout and pred (kernel [1280, C], bias [C]: the checkpoint's pred). A backbone tensor the
 * checkpoint holds under /backbone (fine-tuned) replaces the weights file's (same shape, float).
 *
 * Root attributes Keras' loader ignores, for reading the export back (vkdp_keras_import):
 * vkdp_class_names (variable-length UTF-8 array, label order) and every /config field of the
 * checkpoint as vkdp_<field> (vkdp_image_size, vkdp_seed, vkdp_validation_split, vkdp_batch,
 * vkdp_data_dir, ...; vkdp_weights_file and vkdp_weights_sha256 name the weights file the export
 * was built from). */
#ifndef VKDP_KERAS_EXPORT_H
#define VKDP_KERAS_EXPORT_H
#include <stddef.h>

#include "vkdp/ckpt/ckpt.h"

/* Writes out_path atomically from ck and the backbone weights file `weights` (the caller has
 * checked that it is the checkpoint's: its SHA-256); ck's /backbone tensors, if any, replace the
 * weights file's (each must name one of its tensors, with its shape). 0, or -1 with a message
 * naming the file and object in err. */
int vkdp_keras_export(const vkdp_ckpt_state *ck, const char *weights, const char *out_path, char *err,
                      size_t errlen);

/* Reads an export back into *s (initialised here; free with vkdp_ckpt_state_free even on error):
 * class names, the vkdp_<field> config (range-checked as a checkpoint's /config) and the head
 * tensors under their checkpoint names, every shape checked before allocation; weights_file is
 * path itself and weights_sha256 its SHA-256 (the backbone is read from the export), from_export
 * is 1. An export without vkdp_class_names (written before they were stored) is refused. 0, or
 * -1 with a message naming the file and the attribute or dataset. */
int vkdp_keras_import(const char *path, vkdp_ckpt_state *s, char *err, size_t errlen);

/* A checkpoint or an export, told apart by the file: root attribute layer_names and no /config
 * is an export (vkdp_keras_import), anything else is read as a checkpoint (vkdp_ckpt_read). */
int vkdp_model_read(const char *path, vkdp_ckpt_state *s, char *err, size_t errlen);

#endif
