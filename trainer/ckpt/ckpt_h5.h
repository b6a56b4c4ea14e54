/* Internal to the checkpoint module: small checked HDF5 helpers shared by ckpt_write.c,
 * ckpt_read.c and cmd_info.c. Every helper returns 0 / -1 (or a valid hid / -1) and on failure
 * writes "<file>: <what> (<innermost HDF5 message>)" into io->err. */
#ifndef VKDP_CKPT_H5_H
#define VKDP_CKPT_H5_H
#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "vkdp/ckpt/ckpt.h"
#include "vkdp/core/common.h"

typedef struct {
    const char *path;   /* named in every message */
    char *err;
    size_t errlen;
} ckpt_io;

/* Sets io->err to "<path>: <fmt...>" and returns -1. */
int ckpt_fail(ckpt_io *io, const char *fmt, ...) VKDP_PRINTF(2, 3);
/* Same, with the innermost message of the current HDF5 error stack appended. */
int ckpt_fail_h5(ckpt_io *io, const char *fmt, ...) VKDP_PRINTF(2, 3);

/* Turns HDF5's automatic error printing off for the caller's scope; restore with the saved value. */
typedef struct {
    H5E_auto2_t func;
    void *data;
} ckpt_h5_quiet;
void ckpt_h5_quiet_begin(ckpt_h5_quiet *q);
void ckpt_h5_quiet_end(const ckpt_h5_quiet *q);

/* Memory compound types of the metrics rows (caller closes them). */
hid_t ckpt_epoch_metrics_type(void);
hid_t ckpt_step_metrics_type(void);

/* ---- writing (loc is a group or file) ---- */
int ckpt_attr_write(ckpt_io *io, hid_t loc, const char *name, hid_t memtype, const void *value);
int ckpt_attr_write_str(ckpt_io *io, hid_t loc, const char *name, const char *value);
/* vlen = 1: variable-length UTF-8 strings; 0: fixed-length (Keras' layer_names / weight_names). */
int ckpt_attr_write_strs(ckpt_io *io, hid_t loc, const char *name, const char *const *v, size_t n,
                         int vlen);
hid_t ckpt_group_create(ckpt_io *io, hid_t loc, const char *name);

/* ---- reading ---- */
/* Scalar numeric attribute converted to memtype; error names the object and attribute when it
 * is missing, not scalar, or not of the expected class (H5T_INTEGER / H5T_FLOAT). */
int ckpt_attr_read(ckpt_io *io, hid_t loc, const char *where, const char *name, hid_t memtype,
                   H5T_class_t cls, void *value);
int ckpt_attr_read_str(ckpt_io *io, hid_t loc, const char *where, const char *name, char *buf,
                       size_t buflen);
/* 1-D string array attribute (fixed or variable length); *v is an array of malloc'd strings. */
int ckpt_attr_read_strs(ckpt_io *io, hid_t loc, const char *where, const char *name, char ***v,
                        size_t *n);
void ckpt_strs_free(char **v, size_t n);
hid_t ckpt_group_open(ckpt_io *io, hid_t loc, const char *name, const char *where);

#endif
