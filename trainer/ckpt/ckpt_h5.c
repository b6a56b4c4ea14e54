#include "ckpt_h5.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ckpt_fail(ckpt_io *io, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (io->err && io->errlen)
        snprintf(io->err, io->errlen, "%s: %s", io->path, msg);
    return -1;
}

/* The walk goes from the API call down to where it failed; the last entry says why. */
static herr_t innermost_cb(unsigned n, const H5E_error2_t *e, void *data)
{
    (void)n;
    if (e->desc && e->desc[0])
        snprintf((char *)data, 512, "%s", e->desc);
    return 0;
}

int ckpt_fail_h5(ckpt_io *io, const char *fmt, ...)
{
    char msg[1024], why[512] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, innermost_cb, why);
    H5Eclear2(H5E_DEFAULT);
    if (io->err && io->errlen) {
        if (why[0])
            snprintf(io->err, io->errlen, "%s: %s (HDF5: %s)", io->path, msg, why);
        else
            snprintf(io->err, io->errlen, "%s: %s", io->path, msg);
    }
    return -1;
}

void ckpt_h5_quiet_begin(ckpt_h5_quiet *q)
{
    q->func = NULL;
    q->data = NULL;
    H5Eget_auto2(H5E_DEFAULT, &q->func, &q->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void ckpt_h5_quiet_end(const ckpt_h5_quiet *q) { H5Eset_auto2(H5E_DEFAULT, q->func, q->data); }

/* Insert failures can only come from a broken HDF5 library: they are programming errors. */
#define INSERT(t, s, field, h5t)                                                                 \
    do {                                                                                         \
        if (H5Tinsert(t, #field, HOFFSET(s, field), h5t) < 0)                                    \
            VKDP_FATAL("H5Tinsert(%s.%s) failed", #s, #field);                                   \
    } while (0)

hid_t ckpt_epoch_metrics_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(vkdp_epoch_metrics));
    if (t < 0)
        VKDP_FATAL("H5Tcreate(compound vkdp_epoch_metrics) failed");
    INSERT(t, vkdp_epoch_metrics, epoch, H5T_NATIVE_INT32);
    INSERT(t, vkdp_epoch_metrics, loss, H5T_NATIVE_DOUBLE);
    INSERT(t, vkdp_epoch_metrics, accuracy, H5T_NATIVE_DOUBLE);
    INSERT(t, vkdp_epoch_metrics, val_loss, H5T_NATIVE_DOUBLE);
    INSERT(t, vkdp_epoch_metrics, val_accuracy, H5T_NATIVE_DOUBLE);
    INSERT(t, vkdp_epoch_metrics, images_per_s, H5T_NATIVE_DOUBLE);
    INSERT(t, vkdp_epoch_metrics, seconds, H5T_NATIVE_DOUBLE);
    INSERT(t, vkdp_epoch_metrics, skipped, H5T_NATIVE_INT64);
    return t;
}

hid_t ckpt_step_metrics_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(vkdp_step_metrics));
    if (t < 0)
        VKDP_FATAL("H5Tcreate(compound vkdp_step_metrics) failed");
    INSERT(t, vkdp_step_metrics, step, H5T_NATIVE_INT64);
    INSERT(t, vkdp_step_metrics, loss, H5T_NATIVE_DOUBLE);
    INSERT(t, vkdp_step_metrics, accuracy, H5T_NATIVE_DOUBLE);
    INSERT(t, vkdp_step_metrics, lr, H5T_NATIVE_DOUBLE);
    return t;
}

/* ---------------------------------------------------------------- writing */

int ckpt_attr_write(ckpt_io *io, hid_t loc, const char *name, hid_t memtype, const void *value)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    if (sp < 0)
        return ckpt_fail_h5(io, "cannot create a dataspace for attribute %s", name);
    hid_t a = H5Acreate2(loc, name, memtype, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Sclose(sp);
    if (a < 0)
        return ckpt_fail_h5(io, "cannot create attribute %s", name);
    herr_t st = H5Awrite(a, memtype, value);
    if (H5Aclose(a) < 0 || st < 0)
        return ckpt_fail_h5(io, "cannot write attribute %s", name);
    return 0;
}

static int write_strs(ckpt_io *io, hid_t loc, const char *name, const char *const *v, size_t n,
                      int vlen, int scalar);

int ckpt_attr_write_str(ckpt_io *io, hid_t loc, const char *name, const char *value)
{
    return write_strs(io, loc, name, &value, 1, 1, 1);
}

int ckpt_attr_write_strs(ckpt_io *io, hid_t loc, const char *name, const char *const *v, size_t n,
                         int vlen)
{
    return write_strs(io, loc, name, v, n, vlen, 0);
}

static int write_strs(ckpt_io *io, hid_t loc, const char *name, const char *const *v, size_t n,
                      int vlen, int scalar)
{
    size_t maxlen = 1;
    for (size_t i = 0; i < n; i++)
        if (strlen(v[i]) + 1 > maxlen)
            maxlen = strlen(v[i]) + 1;
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0)
        return ckpt_fail_h5(io, "cannot create a string type for attribute %s", name);
    herr_t st = vlen ? H5Tset_size(t, H5T_VARIABLE) : H5Tset_size(t, maxlen);
    if (st >= 0)
        st = H5Tset_cset(t, vlen ? H5T_CSET_UTF8 : H5T_CSET_ASCII);
    if (st >= 0 && !vlen)
        st = H5Tset_strpad(t, H5T_STR_NULLPAD);
    if (st < 0) {
        H5Tclose(t);
        return ckpt_fail_h5(io, "cannot set up the string type of attribute %s", name);
    }
    hsize_t dims[1] = {n};
    hid_t sp = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, dims, NULL);
    if (sp < 0) {
        H5Tclose(t);
        return ckpt_fail_h5(io, "cannot create a dataspace for attribute %s", name);
    }
    hid_t a = H5Acreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Sclose(sp);
    if (a < 0) {
        H5Tclose(t);
        return ckpt_fail_h5(io, "cannot create attribute %s", name);
    }
    if (vlen) {
        st = H5Awrite(a, t, v);
    } else {
        char *buf = vkdp_xcalloc(n ? n : 1, maxlen);
        for (size_t i = 0; i < n; i++)
            memcpy(buf + i * maxlen, v[i], strlen(v[i]));
        st = H5Awrite(a, t, buf);
        free(buf);
    }
    herr_t cl = H5Aclose(a);
    H5Tclose(t);
    if (st < 0 || cl < 0)
        return ckpt_fail_h5(io, "cannot write attribute %s", name);
    return 0;
}

hid_t ckpt_group_create(ckpt_io *io, hid_t loc, const char *name)
{
    hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        ckpt_fail_h5(io, "cannot create group %s", name);
    return g;
}

/* ---------------------------------------------------------------- reading */

static hid_t open_attr(ckpt_io *io, hid_t loc, const char *where, const char *name)
{
    htri_t ex = H5Aexists(loc, name);
    if (ex < 0) {
        ckpt_fail_h5(io, "cannot look up attribute '%s' of %s", name, where);
        return -1;
    }
    if (ex == 0) {
        ckpt_fail(io, "missing attribute '%s' of %s (not a vkdp checkpoint, or written by an "
                      "incompatible version)", name, where);
        return -1;
    }
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0)
        ckpt_fail_h5(io, "cannot open attribute '%s' of %s", name, where);
    return a;
}

static hssize_t attr_npoints(hid_t a)
{
    hid_t sp = H5Aget_space(a);
    if (sp < 0)
        return -1;
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    H5Sclose(sp);
    return n;
}

int ckpt_attr_read(ckpt_io *io, hid_t loc, const char *where, const char *name, hid_t memtype,
                   H5T_class_t cls, void *value)
{
    hid_t a = open_attr(io, loc, where, name);
    if (a < 0)
        return -1;
    int rc = 0;
    hid_t ft = H5Aget_type(a);
    H5T_class_t fc = ft >= 0 ? H5Tget_class(ft) : H5T_NO_CLASS;
    if (ft >= 0)
        H5Tclose(ft);
    if (fc != cls)
        rc = ckpt_fail(io, "attribute '%s' of %s has the wrong type (expected %s)", name, where,
                       cls == H5T_INTEGER ? "an integer" : "a floating-point number");
    else if (attr_npoints(a) != 1)
        rc = ckpt_fail(io, "attribute '%s' of %s is not a single value", name, where);
    else if (H5Aread(a, memtype, value) < 0)
        rc = ckpt_fail_h5(io, "cannot read attribute '%s' of %s", name, where);
    H5Aclose(a);
    return rc;
}

int ckpt_attr_read_str(ckpt_io *io, hid_t loc, const char *where, const char *name, char *buf,
                       size_t buflen)
{
    char **v = NULL;
    size_t n = 0;
    if (ckpt_attr_read_strs(io, loc, where, name, &v, &n) < 0)
        return -1;
    int rc = 0;
    if (n != 1)
        rc = ckpt_fail(io, "attribute '%s' of %s holds %zu strings, expected one", name, where, n);
    else if (strlen(v[0]) >= buflen)
        rc = ckpt_fail(io, "attribute '%s' of %s is too long (%zu bytes, at most %zu)", name, where,
                       strlen(v[0]), buflen - 1);
    else
        memcpy(buf, v[0], strlen(v[0]) + 1);
    ckpt_strs_free(v, n);
    return rc;
}

void ckpt_strs_free(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int ckpt_attr_read_strs(ckpt_io *io, hid_t loc, const char *where, const char *name, char ***out,
                        size_t *nout)
{
    *out = NULL;
    *nout = 0;
    hid_t a = open_attr(io, loc, where, name);
    if (a < 0)
        return -1;
    int rc = -1;
    hid_t ft = H5Aget_type(a), mt = -1, sp = -1;
    if (ft < 0 || H5Tget_class(ft) != H5T_STRING) {
        ckpt_fail(io, "attribute '%s' of %s is not a string", name, where);
        goto done;
    }
    sp = H5Aget_space(a);
    int nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    hssize_t np = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    if (nd < 0 || nd > 1 || np < 0) {
        ckpt_fail(io, "attribute '%s' of %s is not a 1-D string array", name, where);
        goto done;
    }
    size_t n = (size_t)np;
    htri_t isv = H5Tis_variable_str(ft);
    if (isv < 0) {
        ckpt_fail_h5(io, "cannot inspect the string type of attribute '%s' of %s", name, where);
        goto done;
    }
    mt = H5Tcopy(H5T_C_S1);
    char **v = vkdp_xcalloc(n ? n : 1, sizeof *v);
    if (isv) {
        if (H5Tset_size(mt, H5T_VARIABLE) < 0 || H5Tset_cset(mt, H5Tget_cset(ft)) < 0 ||
            H5Aread(a, mt, v) < 0) {
            free(v);
            ckpt_fail_h5(io, "cannot read attribute '%s' of %s", name, where);
            goto done;
        }
        /* Copy into our own malloc'd strings so that callers free them uniformly. */
        for (size_t i = 0; i < n; i++) {
            char *h = v[i];
            v[i] = vkdp_xstrdup(h ? h : "");
            H5free_memory(h);
        }
    } else {
        size_t len = H5Tget_size(ft);
        char *buf = vkdp_xcalloc(n ? n : 1, len + 1);
        if (H5Tset_size(mt, len + 1) < 0 || H5Tset_strpad(mt, H5T_STR_NULLTERM) < 0 ||
            H5Aread(a, mt, buf) < 0) {
            free(buf);
            free(v);
            ckpt_fail_h5(io, "cannot read attribute '%s' of %s", name, where);
            goto done;
        }
        for (size_t i = 0; i < n; i++)
            v[i] = vkdp_xstrdup(buf + i * (len + 1));
        free(buf);
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

hid_t ckpt_group_open(ckpt_io *io, hid_t loc, const char *name, const char *where)
{
    htri_t ex = H5Lexists(loc, name, H5P_DEFAULT);
    if (ex <= 0) {
        ckpt_fail(io, "missing group %s%s%s (not a vkdp checkpoint, or written by an incompatible "
                      "version)", where, strcmp(where, "/") ? "/" : "", name);
        return -1;
    }
    H5O_info_t info;
    if (H5Oget_info_by_name(loc, name, &info, H5P_DEFAULT) < 0 || info.type != H5O_TYPE_GROUP) {
        ckpt_fail(io, "%s%s%s is not a group", where, strcmp(where, "/") ? "/" : "", name);
        return -1;
    }
    hid_t g = H5Gopen2(loc, name, H5P_DEFAULT);
    if (g < 0)
        ckpt_fail_h5(io, "cannot open group %s/%s", where, name);
    return g;
}
