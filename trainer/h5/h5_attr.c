/* HDF5 layer, attributes: scalar numbers and string arrays, read (any string flavour that h5py,
 * Keras or we write) and written. */
#include <stdlib.h>
#include <string.h>

#include "h5_internal.h"

/* Bounds checked before anything is allocated for a string attribute. */
#define MAX_STRINGS (1 << 20)
#define MAX_FIXED_STRING (1 << 16)

static hid_t open_attr(vkdp_h5_io *io, hid_t loc, const char *where, const char *name)
{
    htri_t ex = H5Aexists(loc, name);
    if (ex < 0)
        return vkdp_h5_fail_h5(io, "cannot look up attribute '%s' of %s", name, where);
    if (ex == 0)
        return vkdp_h5_fail(io, "missing attribute '%s' of %s%s%s%s", name, where,
                            io->hint ? " (" : "", io->hint ? io->hint : "", io->hint ? ")" : "");
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0)
        return vkdp_h5_fail_h5(io, "cannot open attribute '%s' of %s", name, where);
    return a;
}

int vkdp_h5_attr_read(vkdp_h5_io *io, hid_t loc, const char *where, const char *name,
                      hid_t memtype, H5T_class_t cls, void *value)
{
    hid_t a = open_attr(io, loc, where, name);
    if (a < 0)
        return -1;
    int rc = 0;
    hid_t ft = H5Aget_type(a), sp = H5Aget_space(a);
    H5T_class_t fc = ft >= 0 ? H5Tget_class(ft) : H5T_NO_CLASS;
    hssize_t np = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    if (fc != cls)
        rc = vkdp_h5_fail(io, "attribute '%s' of %s has the wrong type (expected %s)", name, where,
                          cls == H5T_INTEGER ? "an integer" : "a floating-point number");
    else if (np != 1)
        rc = vkdp_h5_fail(io, "attribute '%s' of %s is not a single value", name, where);
    else if (H5Aread(a, memtype, value) < 0)
        rc = vkdp_h5_fail_h5(io, "cannot read attribute '%s' of %s", name, where);
    if (ft >= 0)
        H5Tclose(ft);
    if (sp >= 0)
        H5Sclose(sp);
    H5Aclose(a);
    return rc;
}

void vkdp_h5_strs_free(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Variable-length strings: HDF5 allocates them; we copy them into our own and reclaim its. */
static int read_vlen(hid_t a, hid_t mt, hid_t sp, char **out, size_t n)
{
    char **h = vkdp_xcalloc(n, sizeof *h);
    if (H5Tset_size(mt, H5T_VARIABLE) < 0 || H5Aread(a, mt, h) < 0) {
        free(h);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = vkdp_xstrdup(h[i] ? h[i] : "");
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(mt, sp, H5P_DEFAULT, h);
#else
    H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, h);
#endif
    free(h);
    return 0;
}

/* Fixed-length strings, read null-padded at the file's width: a name that fills the whole width
 * keeps its last character whatever the file's padding (null-terminated, null- or space-padded;
 * HDF5 strips space padding in the conversion). */
static int read_fixed(hid_t a, hid_t mt, size_t width, char **out, size_t n)
{
    char *buf = vkdp_xcalloc(n, width);
    if (H5Tset_size(mt, width) < 0 || H5Tset_strpad(mt, H5T_STR_NULLPAD) < 0 ||
        H5Aread(a, mt, buf) < 0) {
        free(buf);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const char *p = buf + i * width;
        size_t len = strnlen(p, width);
        out[i] = vkdp_xmalloc(len + 1);
        memcpy(out[i], p, len);
        out[i][len] = '\0';
    }
    free(buf);
    return 0;
}

int vkdp_h5_attr_read_strs(vkdp_h5_io *io, hid_t loc, const char *where, const char *name,
                           char ***out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    hid_t a = open_attr(io, loc, where, name);
    if (a < 0)
        return -1;
    int rc = -1;
    hid_t ft = H5Aget_type(a), sp = H5Aget_space(a), mt = -1;
    int nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    hssize_t np = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    htri_t isv = ft >= 0 ? H5Tis_variable_str(ft) : -1;
    size_t width = ft >= 0 ? H5Tget_size(ft) : 0;
    if (ft < 0 || nd < 0 || np < 0) {
        vkdp_h5_fail_h5(io, "cannot inspect attribute '%s' of %s", name, where);
        goto done;
    }
    if (np == 0) {
        rc = 0;
        goto done;
    }
    if (H5Tget_class(ft) != H5T_STRING || isv < 0) {
        vkdp_h5_fail(io, "attribute '%s' of %s is not a string array", name, where);
        goto done;
    }
    if (nd > 1 || np > MAX_STRINGS || (!isv && (width == 0 || width > MAX_FIXED_STRING))) {
        vkdp_h5_fail(io, "attribute '%s' of %s is not a 1-D array of at most %d strings of at "
                         "most %d bytes", name, where, MAX_STRINGS, MAX_FIXED_STRING);
        goto done;
    }
    size_t n = (size_t)np;
    char **v = vkdp_xcalloc(n, sizeof *v);
    /* h5py writes UTF-8 names; HDF5 will not convert between character sets */
    mt = H5Tcopy(H5T_C_S1);
    if (mt < 0 || H5Tset_cset(mt, H5Tget_cset(ft)) < 0 ||
        (isv ? read_vlen(a, mt, sp, v, n) : read_fixed(a, mt, width, v, n)) < 0) {
        free(v);
        vkdp_h5_fail_h5(io, "cannot read attribute '%s' of %s", name, where);
        goto done;
    }
    *out = v;
    *nout = n;
    rc = 0;
done:
    if (mt >= 0)
        H5Tclose(mt);
    if (sp >= 0)
        H5Sclose(sp);
    if (ft >= 0)
        H5Tclose(ft);
    H5Aclose(a);
    return rc;
}

int vkdp_h5_attr_read_str(vkdp_h5_io *io, hid_t loc, const char *where, const char *name,
                          char *buf, size_t buflen)
{
    char **v = NULL;
    size_t n = 0;
    if (vkdp_h5_attr_read_strs(io, loc, where, name, &v, &n) < 0)
        return -1;
    int rc = 0;
    if (n != 1)
        rc = vkdp_h5_fail(io, "attribute '%s' of %s holds %zu strings, expected one", name, where,
                          n);
    else if (strlen(v[0]) >= buflen)
        rc = vkdp_h5_fail(io, "attribute '%s' of %s is too long (%zu bytes, at most %zu)", name,
                          where, strlen(v[0]), buflen - 1);
    else
        memcpy(buf, v[0], strlen(v[0]) + 1);
    vkdp_h5_strs_free(v, n);
    return rc;
}

/* ---------------------------------------------------------------- writing */

int vkdp_h5_attr_write(vkdp_h5_io *io, hid_t loc, const char *name, hid_t memtype,
                       const void *value)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    if (sp < 0)
        return vkdp_h5_fail_h5(io, "cannot create a dataspace for attribute %s", name);
    hid_t a = H5Acreate2(loc, name, memtype, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Sclose(sp);
    if (a < 0)
        return vkdp_h5_fail_h5(io, "cannot create attribute %s", name);
    herr_t st = H5Awrite(a, memtype, value);
    if (H5Aclose(a) < 0 || st < 0)
        return vkdp_h5_fail_h5(io, "cannot write attribute %s", name);
    return 0;
}

hid_t vkdp_h5_string_type(vkdp_h5_io *io, const char *const *v, size_t n, int vlen,
                          size_t *width)
{
    size_t maxlen = 1;
    for (size_t i = 0; i < n; i++)
        if (strlen(v[i]) + 1 > maxlen)
            maxlen = strlen(v[i]) + 1;
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0)
        return vkdp_h5_fail_h5(io, "cannot create a string type");
    herr_t st = vlen ? H5Tset_size(t, H5T_VARIABLE) : H5Tset_size(t, maxlen);
    if (st >= 0)
        st = H5Tset_cset(t, vlen ? H5T_CSET_UTF8 : H5T_CSET_ASCII);
    if (st >= 0 && !vlen)
        st = H5Tset_strpad(t, H5T_STR_NULLPAD);
    if (st < 0) {
        H5Tclose(t);
        return vkdp_h5_fail_h5(io, "cannot set up a string type");
    }
    *width = maxlen;
    return t;
}

const void *vkdp_h5_string_buf(const char *const *v, size_t n, int vlen, size_t width,
                               char **owned)
{
    *owned = NULL;
    if (vlen)
        return v;
    *owned = vkdp_xcalloc(n ? n : 1, width);
    for (size_t i = 0; i < n; i++)
        memcpy(*owned + i * width, v[i], strlen(v[i]));
    return *owned;
}

static int write_strs(vkdp_h5_io *io, hid_t loc, const char *name, const char *const *v,
                      size_t n, int vlen, int scalar)
{
    size_t width = 0;
    hid_t t = vkdp_h5_string_type(io, v, n, vlen, &width);
    if (t < 0)
        return -1;
    hsize_t dims[1] = {n};
    hid_t sp = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, dims, NULL);
    hid_t a = sp >= 0 ? H5Acreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT) : -1;
    if (sp >= 0)
        H5Sclose(sp);
    if (a < 0) {
        H5Tclose(t);
        return vkdp_h5_fail_h5(io, "cannot create attribute %s", name);
    }
    char *owned;
    herr_t st = H5Awrite(a, t, vkdp_h5_string_buf(v, n, vlen, width, &owned));
    free(owned);
    herr_t cl = H5Aclose(a);
    H5Tclose(t);
    if (st < 0 || cl < 0)
        return vkdp_h5_fail_h5(io, "cannot write attribute %s", name);
    return 0;
}

int vkdp_h5_attr_write_str(vkdp_h5_io *io, hid_t loc, const char *name, const char *value)
{
    return write_strs(io, loc, name, &value, 1, 1, 1);
}

int vkdp_h5_attr_write_strs(vkdp_h5_io *io, hid_t loc, const char *name, const char *const *v,
                            size_t n, int vlen)
{
    return write_strs(io, loc, name, v, n, vlen, 0);
}

int vkdp_h5_attr_write_empty_f64(vkdp_h5_io *io, hid_t loc, const char *name)
{
    hsize_t dims[1] = {0};
    double none = 0;
    hid_t sp = H5Screate_simple(1, dims, NULL);
    hid_t a = sp >= 0 ? H5Acreate2(loc, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT) : -1;
    if (sp >= 0)
        H5Sclose(sp);
    if (a < 0)
        return vkdp_h5_fail_h5(io, "cannot create attribute %s", name);
    herr_t st = H5Awrite(a, H5T_NATIVE_DOUBLE, &none);
    if (H5Aclose(a) < 0 || st < 0)
        return vkdp_h5_fail_h5(io, "cannot write attribute %s", name);
    return 0;
}
