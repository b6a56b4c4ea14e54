/* HDF5 layer, writing: in-memory files, groups and datasets. The file is built in memory and its
 * bytes written by the atomic writer, so a disk error is one errno, never a half-closed file. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h5_internal.h"

hid_t vkdp_h5_mem_create(vkdp_h5_io *io)
{
    static unsigned serial;
    char name[64];
    snprintf(name, sizeof name, "vkdp-mem-%ld-%u.h5", (long)getpid(), serial++);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fapl_core(fapl, 1 << 20, 0) < 0 ||
        H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0 ||
        H5Pset_libver_bounds(fapl, H5F_LIBVER_EARLIEST, H5F_LIBVER_V18) < 0) {
        if (fapl >= 0)
            H5Pclose(fapl);
        return vkdp_h5_fail_h5(io, "cannot set up an in-memory HDF5 file");
    }
    hid_t f = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (f < 0)
        return vkdp_h5_fail_h5(io, "cannot create an in-memory HDF5 file");
    return f;
}

int vkdp_h5_mem_finish(vkdp_h5_io *io, hid_t f, void **img, size_t *len)
{
    *img = NULL;
    *len = 0;
    int rc = 0;
    ssize_t n = -1;
    if (H5Fflush(f, H5F_SCOPE_GLOBAL) < 0)
        rc = vkdp_h5_fail_h5(io, "cannot flush the in-memory HDF5 file");
    if (rc == 0 && (n = H5Fget_file_image(f, NULL, 0)) <= 0)
        rc = vkdp_h5_fail_h5(io, "cannot get the size of the HDF5 file image");
    if (rc == 0) {
        *img = vkdp_xmalloc((size_t)n);
        *len = (size_t)n;
        if (H5Fget_file_image(f, *img, (size_t)n) != n)
            rc = vkdp_h5_fail_h5(io, "cannot copy the HDF5 file image");
    }
    if (H5Fclose(f) < 0 && rc == 0)
        rc = vkdp_h5_fail_h5(io, "cannot close the in-memory HDF5 file");
    if (rc < 0) {
        free(*img);
        *img = NULL;
        *len = 0;
    }
    return rc;
}

hid_t vkdp_h5_group_create(vkdp_h5_io *io, hid_t loc, const char *name)
{
    hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return vkdp_h5_fail_h5(io, "cannot create group %s", name);
    return g;
}

int vkdp_h5_dset_write(vkdp_h5_io *io, hid_t loc, const char *path, hid_t ftype, hid_t mtype,
                       int rank, const hsize_t *dims, const hsize_t *chunk, const void *data)
{
    if (chunk && H5Zfilter_avail(H5Z_FILTER_DEFLATE) <= 0)
        return vkdp_h5_fail(io, "this HDF5 library has no deflate (zlib) filter");
    hsize_t maxdims[VKDP_H5_MAX_RANK];
    hsize_t count = 1;
    for (int d = 0; d < rank; d++) {
        maxdims[d] = chunk && d == 0 ? H5S_UNLIMITED : dims[d];
        count *= dims[d];
    }
    hid_t sp = rank ? H5Screate_simple(rank, dims, maxdims) : H5Screate(H5S_SCALAR);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    int ok = sp >= 0 && lcpl >= 0 && dcpl >= 0 && H5Pset_create_intermediate_group(lcpl, 1) >= 0;
    if (ok && chunk)
        ok = H5Pset_chunk(dcpl, rank, chunk) >= 0 && H5Pset_shuffle(dcpl) >= 0 &&
             H5Pset_deflate(dcpl, 6) >= 0;
    hid_t ds = ok ? H5Dcreate2(loc, path, ftype, sp, lcpl, dcpl, H5P_DEFAULT) : -1;
    if (sp >= 0)
        H5Sclose(sp);
    if (lcpl >= 0)
        H5Pclose(lcpl);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (ds < 0)
        return vkdp_h5_fail_h5(io, "cannot create dataset %s", path);
    herr_t st = count ? H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) : 0;
    if (H5Dclose(ds) < 0 || st < 0)
        return vkdp_h5_fail_h5(io, "cannot write dataset %s", path);
    return 0;
}

int vkdp_h5_dset_write_strs(vkdp_h5_io *io, hid_t loc, const char *path, const char *const *v,
                            size_t n)
{
    size_t width;
    hid_t t = vkdp_h5_string_type(io, v, n, 1, &width);
    if (t < 0)
        return -1;
    char *owned;
    hsize_t dims[1] = {n};
    int rc = vkdp_h5_dset_write(io, loc, path, t, t, 1, dims, NULL,
                                vkdp_h5_string_buf(v, n, 1, width, &owned));
    free(owned);
    H5Tclose(t);
    return rc;
}
