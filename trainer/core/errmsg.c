/* vkdp_seterr: formatted error messages into caller-owned buffers. */
#include "vkdp/core/errmsg.h"

#include <stdio.h>

int vkdp_vseterr(char *err, size_t len, const char *fmt, va_list ap)
{
    if (err && len)
        vsnprintf(err, len, fmt, ap);
    return -1;
}

int vkdp_seterr(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vkdp_vseterr(err, len, fmt, ap);
    va_end(ap);
    return -1;
}
