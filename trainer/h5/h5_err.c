/* HDF5 layer: error messages naming the file, and the scoped switch of HDF5's own printing. */
#include <stdarg.h>
#include <stdio.h>

#include "vkdp/core/errmsg.h"
#include "vkdp/h5/h5.h"

static void set_msg(vkdp_h5_io *io, const char *msg, const char *why)
{
    vkdp_seterr(io->err, io->errlen, "%s%s%s: %s%s%s%s", io->what ? io->what : "",
                io->what ? " " : "", io->path, msg, why[0] ? " (HDF5: " : "", why,
                why[0] ? ")" : "");
}

int vkdp_h5_fail(vkdp_h5_io *io, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    set_msg(io, msg, "");
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

int vkdp_h5_fail_h5(vkdp_h5_io *io, const char *fmt, ...)
{
    char msg[1024], why[512] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, innermost_cb, why);
    H5Eclear2(H5E_DEFAULT);
    set_msg(io, msg, why);
    return -1;
}

int vkdp_h5_quietly(int (*fn)(void *arg), void *arg)
{
    H5E_auto2_t func = NULL;
    void *data = NULL;
    if (H5Eget_auto2(H5E_DEFAULT, &func, &data) < 0)
        VKDP_FATAL("H5Eget_auto2 failed");
    if (H5Eset_auto2(H5E_DEFAULT, NULL, NULL) < 0)
        VKDP_FATAL("H5Eset_auto2(off) failed");
    int rc = fn(arg);
    if (H5Eset_auto2(H5E_DEFAULT, func, data) < 0)
        VKDP_FATAL("H5Eset_auto2(restore) failed");
    return rc;
}

void vkdp_h5_shape_str(char *buf, size_t len, int rank, const int64_t *dims)
{
    size_t pos = (size_t)snprintf(buf, len, "[");
    for (int d = 0; d < rank && pos < len; d++)
        pos += (size_t)snprintf(buf + pos, len - pos, "%s%lld", d ? "," : "", (long long)dims[d]);
    if (pos < len)
        snprintf(buf + pos, len - pos, "]");
}
