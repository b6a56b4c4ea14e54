/* The one HDF5 layer: checked reading of hostile HDF5 files and checked writing of in-memory ones,
 * used by the weights loader (model), checkpoints (ckpt) and `trainer features` (cli).
 *
 * Every function reports failure as -1 (or an invalid hid) with "<what> <path>: <message>" in the
 * caller's io->err; messages name the file and the object. Reading refuses, before following or
 * allocating anything: links other than hard links (an external link would read another file),
 * external raw storage, virtual datasets, and datasets that declare more elements than allowed or
 * more bytes than the file stores. Call these with HDF5's error printing off (vkdp_h5_quietly):
 * their messages replace HDF5's stack dumps. */
#ifndef VKDP_H5_H
#define VKDP_H5_H
#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "vkdp/core/common.h"

typedef struct {
    const char *path;  /* the file, named in every message */
    const char *what;  /* NULL, or a noun put before the path: "weights file" */
    const char *hint;  /* NULL, or why an object may be missing: "not a Keras weights file?" */
    char *err;
    size_t errlen;
} vkdp_h5_io;

/* io->err = "[what ]path: <fmt...>"; returns -1. */
int vkdp_h5_fail(vkdp_h5_io *io, const char *fmt, ...) VKDP_PRINTF(2, 3);
/* Same, with the innermost message of HDF5's error stack appended as " (HDF5: ...)"; clears it. */
int vkdp_h5_fail_h5(vkdp_h5_io *io, const char *fmt, ...) VKDP_PRINTF(2, 3);

/* Runs fn(arg) with HDF5's automatic error printing off and restores the previous setting
 * whatever fn returns; returns fn's result. The only place that switches the printing. */
int vkdp_h5_quietly(int (*fn)(void *arg), void *arg);

/* "1.10.8": the HDF5 library loaded at run time; "unknown (...)" when it cannot say. */
void vkdp_h5_library_version(char *buf, size_t len);

/* "[1280,5]", "[]" for rank 0. */
void vkdp_h5_shape_str(char *buf, size_t len, int rank, const int64_t *dims);

/* ---------------------------------------------------------------- reading */

#define VKDP_H5_MAX_RANK 8

/* Opens io->path read-only: it must be a regular file with the HDF5 signature. */
hid_t vkdp_h5_open_read(vkdp_h5_io *io);
/* Closes a file opened by vkdp_h5_open_read or vkdp_h5_mem_create; -1 with a message on failure. */
int vkdp_h5_close(vkdp_h5_io *io, hid_t f);

/* rel: a '/'-separated path below loc; full: the same object's path as messages name it.
 * 1: it exists and every link on the way is a hard link; 0: absent; -1: a soft, external or
 * user-defined link on the way (refused: it would leave the object tree or the file), an empty
 * path component, or an HDF5 error. */
int vkdp_h5_exists(vkdp_h5_io *io, hid_t loc, const char *rel, const char *full);
/* Opens a group: "missing group FULL (hint)" when absent, "FULL is not a group" otherwise. */
hid_t vkdp_h5_group_open(vkdp_h5_io *io, hid_t loc, const char *rel, const char *full);

/* A dataset opened and checked, its data not read yet. */
typedef struct {
    hid_t id;
    H5T_class_t cls;                  /* class of the element type in the file */
    int rank;                         /* 0 for a scalar */
    int64_t dims[VKDP_H5_MAX_RANK];
    int64_t count;                    /* elements: the product of dims */
} vkdp_h5_dset;

/* Opens and checks a dataset without reading or allocating its data. Returns 1 (opened: close it
 * with vkdp_h5_dset_close), 0 (absent; no message, the caller names what is missing) or -1:
 * not a dataset, a virtual dataset or one with external raw storage, rank above max_rank, more
 * than max_count elements, fewer bytes stored than it declares (uncompressed), or more declared
 * than any compression of what it stores could hold. */
int vkdp_h5_dset_open(vkdp_h5_io *io, hid_t loc, const char *rel, const char *full, int max_rank,
                      int64_t max_count, vkdp_h5_dset *d);
/* Reads the whole dataset converted to memtype into buf of bufbytes, which must be exactly
 * d->count elements of memtype (checked: anything else is a programming error). */
int vkdp_h5_dset_read(vkdp_h5_io *io, const vkdp_h5_dset *d, const char *full, hid_t memtype,
                      void *buf, size_t bufbytes);
void vkdp_h5_dset_close(vkdp_h5_dset *d);

/* Scalar numeric attribute of class cls (H5T_INTEGER or H5T_FLOAT) converted to memtype; errors
 * name the attribute and `where` (the object's path): missing, wrong class, not one value. */
int vkdp_h5_attr_read(vkdp_h5_io *io, hid_t loc, const char *where, const char *name,
                      hid_t memtype, H5T_class_t cls, void *value);
/* String attribute, scalar or 1-D, fixed-length (null-terminated, null- or space-padded) or
 * variable-length: *v gets n malloc'd strings (free with vkdp_h5_strs_free). An empty array of
 * any type gives none: Keras writes a weightless layer's weight_names as an empty float array. */
int vkdp_h5_attr_read_strs(vkdp_h5_io *io, hid_t loc, const char *where, const char *name,
                           char ***v, size_t *n);
/* Exactly one string, at most buflen - 1 bytes. */
int vkdp_h5_attr_read_str(vkdp_h5_io *io, hid_t loc, const char *where, const char *name,
                          char *buf, size_t buflen);
void vkdp_h5_strs_free(char **v, size_t n);

/* ---------------------------------------------------------------- writing */

/* A file that lives only in memory (core driver, no backing store), readable by HDF5 1.8 and
 * later; its bytes go to disk through vkdp_h5_mem_finish and vkdp_atomic_write. */
hid_t vkdp_h5_mem_create(vkdp_h5_io *io);
/* Flushes and closes f (in every case) and returns its bytes in *img (malloc'd), *len. */
int vkdp_h5_mem_finish(vkdp_h5_io *io, hid_t f, void **img, size_t *len);

hid_t vkdp_h5_group_create(vkdp_h5_io *io, hid_t loc, const char *name);
int vkdp_h5_attr_write(vkdp_h5_io *io, hid_t loc, const char *name, hid_t memtype,
                       const void *value);
/* A scalar variable-length UTF-8 string. */
int vkdp_h5_attr_write_str(vkdp_h5_io *io, hid_t loc, const char *name, const char *value);
/* 1-D string array: vlen = 1 variable-length UTF-8; 0 fixed-length null-padded ASCII (Keras'
 * layer_names / weight_names). */
int vkdp_h5_attr_write_strs(vkdp_h5_io *io, hid_t loc, const char *name, const char *const *v,
                            size_t n, int vlen);
/* An empty 1-D float64 array: what Keras writes as a weightless layer's weight_names
 * (np.asarray([]) of an empty list), as the official weights files hold them. */
int vkdp_h5_attr_write_empty_f64(vkdp_h5_io *io, hid_t loc, const char *name);
/* Dataset `path` (intermediate groups created) of file type ftype, rank dims (0: scalar), from
 * data of memory type mtype. chunk NULL: contiguous; else chunked with these chunk dims, the
 * first dimension unlimited (extendable tables), shuffle + deflate level 6. */
int vkdp_h5_dset_write(vkdp_h5_io *io, hid_t loc, const char *path, hid_t ftype, hid_t mtype,
                       int rank, const hsize_t *dims, const hsize_t *chunk, const void *data);
/* 1-D dataset of variable-length UTF-8 strings. */
int vkdp_h5_dset_write_strs(vkdp_h5_io *io, hid_t loc, const char *path, const char *const *v,
                            size_t n);

#endif
