/* Internal to the checkpoint module (ckpt_write.c, ckpt_read.c, ckpt_fields.c, ckpt_metrics.c,
 * ckpt_dir.c, keras_export.c, keras_import.c):
 * the table-driven field I/O and the metrics tables, on top of the h5 layer. */
#ifndef VKDP_CKPT_IO_H
#define VKDP_CKPT_IO_H
#include "vkdp/ckpt/ckpt.h"
#include "vkdp/h5/h5.h"

/* Added to every "missing ..." message of a checkpoint read. */
#define CKPT_HINT "not a vkdp checkpoint, or written by an incompatible version"
/* The largest tensor a checkpoint may hold (1 GiB of float32): refused before allocating. */
#define CKPT_MAX_TENSOR_ELEMS ((int64_t)1 << 28)

/* Writes / reads the vkdp_ckpt_fields() of `group` as attributes of g. The reader checks each
 * value's HDF5 class and range before storing it in s. */
int ckpt_fields_write(vkdp_h5_io *io, hid_t g, const char *group, const vkdp_ckpt_state *s);
int ckpt_fields_read(vkdp_h5_io *io, hid_t g, const char *group, vkdp_ckpt_state *s);
/* The same with each attribute named prefix + field name (a Keras export's root attributes,
 * "vkdp_image_size"); `where` names g in messages. */
int ckpt_fields_write_as(vkdp_h5_io *io, hid_t g, const char *group, const char *prefix, const vkdp_ckpt_state *s);
int ckpt_fields_read_as(vkdp_h5_io *io, hid_t g, const char *where, const char *group, const char *prefix,
                        vkdp_ckpt_state *s);
/* The string-array attribute `name` of g as s's class names: 1..2^20 names, none empty. */
int ckpt_class_names_read(vkdp_h5_io *io, hid_t g, const char *where, const char *name, vkdp_ckpt_state *s);

/* /metrics/epoch and /metrics/step. The reader requires a table per row type with every field
 * of the row (matched by name; extra fields are ignored) and exactly as many rows as /state says
 * were completed (epoch rows) or taken (global_step rows), checked before allocating. */
int ckpt_metrics_write(vkdp_h5_io *io, hid_t f, const vkdp_ckpt_state *s);
int ckpt_metrics_read(vkdp_h5_io *io, hid_t f, vkdp_ckpt_state *s);

/* The checkpoint directory (ckpt_dir.c): points dir/latest.h5 at fname atomically; deletes the
 * oldest checkpoints so that `keep` remain, never `current`; the VKDP_CKPT_TEST_SLEEP hook. */
int ckpt_update_latest(vkdp_h5_io *io, const char *dir, const char *fname);
int ckpt_prune(vkdp_h5_io *io, const char *dir, const char *current, int keep);
void ckpt_test_sleep_hook(void);

#endif
