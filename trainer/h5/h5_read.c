/* HDF5 layer, reading: files, links, groups and datasets of files that may be hostile. Nothing
 * is followed out of the file and no dataset is read before its size is known to be sane. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vkdp/h5/h5.h"

/* Deflate, the only compression our files use, cannot shrink data by more than about 1032:1;
 * a dataset that declares more than this many times what it stores is not a real one. */
#define MAX_COMPRESSION_RATIO 1100

hid_t vkdp_h5_open_read(vkdp_h5_io *io)
{
    struct stat st;
    if (stat(io->path, &st) < 0)
        return vkdp_h5_fail(io, "cannot open: %s", strerror(errno));
    if (!S_ISREG(st.st_mode))
        return vkdp_h5_fail(io, "not a regular file");
#if H5_VERSION_GE(1, 12, 0)
    htri_t is = H5Fis_accessible(io->path, H5P_DEFAULT);
#else
    htri_t is = H5Fis_hdf5(io->path);
#endif
    if (is == 0)
        return vkdp_h5_fail(io, "not an HDF5 file (no HDF5 signature in its %lld bytes)",
                            (long long)st.st_size);
    if (is < 0)
        return vkdp_h5_fail_h5(io, "cannot read the file");
    hid_t f = H5Fopen(io->path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return vkdp_h5_fail_h5(io, "cannot open the HDF5 file (%lld bytes; truncated or corrupt?)",
                               (long long)st.st_size);
    return f;
}

int vkdp_h5_close(vkdp_h5_io *io, hid_t f)
{
    if (H5Fclose(f) < 0)
        return vkdp_h5_fail_h5(io, "cannot close the file");
    return 0;
}

/* The message for a link we do not follow, naming where it points. */
static int refuse_link(vkdp_h5_io *io, hid_t loc, const char *rel, const char *shown,
                       const H5L_info_t *li)
{
    if (li->type != H5L_TYPE_SOFT && li->type != H5L_TYPE_EXTERNAL)
        return vkdp_h5_fail(io, "%s is a user-defined link (class %d): refused, only hard links "
                                "are followed", shown, (int)li->type);
    size_t n = li->u.val_size;
    char *val = vkdp_xcalloc(n + 1, 1);
    const char *file = NULL, *obj = NULL;
    unsigned flags = 0;
    int ok = n > 0 && n <= 65536 && H5Lget_val(loc, rel, val, n, H5P_DEFAULT) >= 0 &&
             (li->type == H5L_TYPE_SOFT || H5Lunpack_elink_val(val, n, &flags, &file, &obj) >= 0);
    H5Eclear2(H5E_DEFAULT);
    if (li->type == H5L_TYPE_SOFT)
        vkdp_h5_fail(io, "%s is a soft link to %s: refused, only hard links are followed", shown,
                     ok ? val : "?");
    else
        vkdp_h5_fail(io, "%s is an external link to %s in file %s: refused, nothing outside this "
                         "file is read", shown, ok && obj ? obj : "?", ok && file ? file : "?");
    free(val);
    return -1;
}

int vkdp_h5_exists(vkdp_h5_io *io, hid_t loc, const char *rel, const char *full)
{
    char p[1024], shown[1400];
    size_t n = strlen(rel), nf = strlen(full);
    if (n == 0 || n >= sizeof p)
        return vkdp_h5_fail(io, "object path %s is empty or too long", full);
    memcpy(p, rel, n + 1);
    for (char *s = p;;) {
        char *slash = strchr(s, '/');
        if (slash == s || !*s)
            return vkdp_h5_fail(io, "object path %s has an empty component", full);
        if (slash)
            *slash = '\0';
        htri_t ex = H5Lexists(loc, p, H5P_DEFAULT);
        if (ex < 0)
            return vkdp_h5_fail_h5(io, "cannot look up %s", full);
        if (ex == 0)
            return 0;
        H5L_info_t li;
        if (H5Lget_info(loc, p, &li, H5P_DEFAULT) < 0)
            return vkdp_h5_fail_h5(io, "cannot inspect the link %s", full);
        if (li.type != H5L_TYPE_HARD) {
            /* name the link itself: full up to where p ends, when full ends with rel */
            if (nf >= n && !strcmp(full + nf - n, rel))
                snprintf(shown, sizeof shown, "%.*s", (int)(nf - n + strlen(p)), full);
            else
                snprintf(shown, sizeof shown, "%s", p);
            return refuse_link(io, loc, p, shown, &li);
        }
        if (!slash)
            return 1;
        *slash = '/';
        s = slash + 1;
    }
}

/* Object type of an existing hard-linked path, or -1 with a message. */
static int object_type(vkdp_h5_io *io, hid_t loc, const char *rel, const char *full)
{
    H5O_info_t info;
    if (H5Oget_info_by_name(loc, rel, &info, H5P_DEFAULT) < 0)
        return vkdp_h5_fail_h5(io, "cannot inspect %s", full);
    return (int)info.type;
}

static int missing(vkdp_h5_io *io, const char *kind, const char *full)
{
    return vkdp_h5_fail(io, "missing %s %s%s%s%s", kind, full, io->hint ? " (" : "",
                        io->hint ? io->hint : "", io->hint ? ")" : "");
}

hid_t vkdp_h5_group_open(vkdp_h5_io *io, hid_t loc, const char *rel, const char *full)
{
    int ex = vkdp_h5_exists(io, loc, rel, full);
    if (ex <= 0)
        return ex < 0 ? -1 : missing(io, "group", full);
    int type = object_type(io, loc, rel, full);
    if (type < 0)
        return -1;
    if (type != H5O_TYPE_GROUP)
        return vkdp_h5_fail(io, "%s is not a group", full);
    hid_t g = H5Gopen2(loc, rel, H5P_DEFAULT);
    if (g < 0)
        return vkdp_h5_fail_h5(io, "cannot open group %s", full);
    return g;
}

/* Layout, external storage and filters, read from the creation properties before the data is
 * touched: a virtual dataset or external storage would read other files. */
static int check_storage(vkdp_h5_io *io, hid_t ds, const char *full, int *nfilters)
{
    hid_t dcpl = H5Dget_create_plist(ds);
    if (dcpl < 0)
        return vkdp_h5_fail_h5(io, "cannot read the creation properties of %s", full);
    H5D_layout_t layout = H5Pget_layout(dcpl);
    int next = H5Pget_external_count(dcpl);
    *nfilters = layout == H5D_CHUNKED ? H5Pget_nfilters(dcpl) : 0;
    H5Pclose(dcpl);
    if (layout < 0 || next < 0 || *nfilters < 0)
        return vkdp_h5_fail_h5(io, "cannot read the storage layout of %s", full);
    if (layout == H5D_VIRTUAL)
        return vkdp_h5_fail(io, "%s is a virtual dataset (its data lives in other datasets or "
                                "files): refused", full);
    if (next > 0)
        return vkdp_h5_fail(io, "%s keeps its data in %d external file(s): refused, nothing "
                                "outside this file is read", full, next);
    return 0;
}

/* Shape and element count within the limits, without overflow. */
static int check_shape(vkdp_h5_io *io, vkdp_h5_dset *d, const char *full, int max_rank,
                       int64_t max_count)
{
    hid_t sp = H5Dget_space(d->id);
    if (sp < 0)
        return vkdp_h5_fail_h5(io, "cannot read the shape of %s", full);
    H5S_class_t sc = H5Sget_simple_extent_type(sp);
    int nd = H5Sget_simple_extent_ndims(sp);
    hsize_t dims[H5S_MAX_RANK];
    int rc = 0;
    if (sc == H5S_NO_CLASS || nd < 0 || nd > H5S_MAX_RANK ||
        H5Sget_simple_extent_dims(sp, dims, NULL) < 0)
        rc = vkdp_h5_fail_h5(io, "cannot read the shape of %s", full);
    else if (nd > max_rank || nd > VKDP_H5_MAX_RANK)
        rc = vkdp_h5_fail(io, "%s has rank %d (0..%d supported)", full, nd, max_rank);
    H5Sclose(sp);
    if (rc < 0)
        return -1;
    d->rank = nd;
    d->count = sc == H5S_NULL ? 0 : 1;
    int too_many = 0;
    for (int i = 0; i < nd; i++) {
        d->dims[i] = dims[i] > (hsize_t)INT64_MAX ? INT64_MAX : (int64_t)dims[i];
        if (d->dims[i] > 0 && d->count > max_count / d->dims[i])
            too_many = 1;
        d->count = too_many ? max_count + 1 : d->count * d->dims[i];
    }
    if (too_many || d->count > max_count) {
        char shape[200];
        vkdp_h5_shape_str(shape, sizeof shape, d->rank, d->dims);
        return vkdp_h5_fail(io, "%s has shape %s, more than %lld elements: refused before "
                                "allocating", full, shape, (long long)max_count);
    }
    return 0;
}

/* The bytes the dataset declares against the bytes the file stores for it: a crafted dataset
 * that declares gigabytes in a small file (unallocated storage reads as fill values) is refused
 * here, before anything is allocated for it. */
static int check_stored(vkdp_h5_io *io, const vkdp_h5_dset *d, const char *full, int nfilters)
{
    hid_t ft = H5Dget_type(d->id);
    size_t el = ft >= 0 ? H5Tget_size(ft) : 0;
    if (ft >= 0)
        H5Tclose(ft);
    if (el == 0)
        return vkdp_h5_fail_h5(io, "cannot read the element type of %s", full);
    if (d->count == 0)
        return 0;
    if ((uint64_t)d->count > UINT64_MAX / el)
        return vkdp_h5_fail(io, "%s declares more bytes than can be addressed", full);
    uint64_t declared = (uint64_t)d->count * el, stored = H5Dget_storage_size(d->id);
    hsize_t fsize = 0;
    hid_t fid = H5Iget_file_id(d->id);
    if (fid < 0 || H5Fget_filesize(fid, &fsize) < 0) {
        if (fid >= 0)
            H5Fclose(fid);
        return vkdp_h5_fail_h5(io, "cannot read the size of the file holding %s", full);
    }
    H5Fclose(fid);
    if (stored > fsize)
        return vkdp_h5_fail(io, "%s claims %llu bytes of storage in a %llu-byte file (truncated "
                                "or corrupt)", full, (unsigned long long)stored,
                            (unsigned long long)fsize);
    if ((nfilters == 0 && stored < declared) || stored == 0)
        return vkdp_h5_fail(io, "%s declares %llu bytes of data but the file stores %llu for it "
                                "(truncated or crafted): refused before allocating", full,
                            (unsigned long long)declared, (unsigned long long)stored);
    if (nfilters > 0 && declared / MAX_COMPRESSION_RATIO > stored)
        return vkdp_h5_fail(io, "%s declares %llu bytes of data but stores only %llu compressed, "
                                "beyond any real compression ratio: refused before allocating",
                            full, (unsigned long long)declared, (unsigned long long)stored);
    return 0;
}

int vkdp_h5_dset_open(vkdp_h5_io *io, hid_t loc, const char *rel, const char *full, int max_rank,
                      int64_t max_count, vkdp_h5_dset *d)
{
    memset(d, 0, sizeof *d);
    d->id = -1;
    int ex = vkdp_h5_exists(io, loc, rel, full);
    if (ex <= 0)
        return ex;
    int type = object_type(io, loc, rel, full);
    if (type < 0)
        return -1;
    if (type != H5O_TYPE_DATASET)
        return vkdp_h5_fail(io, "%s is not a dataset", full);
    d->id = H5Dopen2(loc, rel, H5P_DEFAULT);
    if (d->id < 0)
        return vkdp_h5_fail_h5(io, "%s is not a readable dataset", full);
    int nfilters = 0;
    int rc = check_storage(io, d->id, full, &nfilters);
    if (rc == 0)
        rc = check_shape(io, d, full, max_rank, max_count);
    if (rc == 0)
        rc = check_stored(io, d, full, nfilters);
    if (rc == 0) {
        hid_t ft = H5Dget_type(d->id);
        d->cls = ft >= 0 ? H5Tget_class(ft) : H5T_NO_CLASS;
        if (ft >= 0)
            H5Tclose(ft);
        if (d->cls == H5T_NO_CLASS)
            rc = vkdp_h5_fail_h5(io, "cannot read the element type of %s", full);
    }
    if (rc < 0) {
        vkdp_h5_dset_close(d);
        return -1;
    }
    return 1;
}

int vkdp_h5_dset_read(vkdp_h5_io *io, const vkdp_h5_dset *d, const char *full, hid_t memtype,
                      void *buf, size_t bufbytes)
{
    size_t el = H5Tget_size(memtype);
    if (el == 0 || (uint64_t)d->count > SIZE_MAX / el || (size_t)d->count * el != bufbytes)
        VKDP_FATAL("internal: reading %s (%lld elements of %zu bytes) into a %zu-byte buffer",
                   full, (long long)d->count, el, bufbytes);
    if (d->count == 0)
        return 0;
    if (H5Dread(d->id, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
        return vkdp_h5_fail_h5(io, "cannot read %s (file truncated or corrupt?)", full);
    return 0;
}

void vkdp_h5_dset_close(vkdp_h5_dset *d)
{
    if (d->id >= 0)
        H5Dclose(d->id);
    d->id = -1;
}
