/* The one way a function reports a recoverable error: a formatted message into the caller's
 * buffer, and -1 to return. */
#ifndef VKDP_ERRMSG_H
#define VKDP_ERRMSG_H
#include <stdarg.h>
#include <stddef.h>

#include "vkdp/core/common.h"

/* Formats into err[len] (nothing when err is NULL or len 0; truncated to fit) and returns -1,
 * so that `return vkdp_seterr(err, errlen, "...", ...);` reports and fails in one line. */
int vkdp_seterr(char *err, size_t len, const char *fmt, ...) VKDP_PRINTF(3, 4);
int vkdp_vseterr(char *err, size_t len, const char *fmt, va_list ap) VKDP_PRINTF(3, 0);

#endif
