/* Fatal errors, warnings and rank-0 logging, checked allocation, flag-number parsing, the clock. */
#include "vkdp/core/common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The attached world (vkdp_set_world); decode threads read it for their warnings. */
static int world_rank = 0, world_size = 1;
static void (*world_abort)(int status) = NULL;

void vkdp_set_world(int rank, int size, void (*abort_job)(int status))
{
    world_rank = rank;
    world_size = size;
    world_abort = abort_job;
}

int vkdp_rank(void) { return world_rank; }

int vkdp_world_size(void) { return world_size; }

void vkdp_fatal_at(const char *file, int line, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fflush(stdout);
    fprintf(stderr, "vkdp: rank %d: error: %s (%s:%d)\n", vkdp_rank(), msg, file, line);
    fflush(stderr);
    if (world_abort && world_size > 1)
        world_abort(1); /* returns only when the abort itself failed */
    exit(1);
}

void vkdp_warn(const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fflush(stdout);
    fprintf(stderr, "vkdp: rank %d: warning: %s\n", vkdp_rank(), msg);
    fflush(stderr);
}

void vkdp_log(const char *fmt, ...)
{
    if (vkdp_rank() != 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}

const char *vkdp_errno_str(void) { return strerror(errno); }

void *vkdp_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        VKDP_FATAL("out of memory allocating %zu bytes", n);
    return p;
}

void *vkdp_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        VKDP_FATAL("out of memory allocating %zu x %zu bytes", count, size);
    return p;
}

void *vkdp_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        VKDP_FATAL("out of memory reallocating to %zu bytes", n);
    return q;
}

char *vkdp_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = vkdp_xmalloc(n);
    memcpy(p, s, n);
    return p;
}

double vkdp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int vkdp_parse_long(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || !*s || *end || v < lo || v > hi) {
        fprintf(stderr, "trainer %s: %s '%s' is not an integer in %ld..%ld\n", cmd, opt, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_double(const char *cmd, const char *opt, const char *s, double lo, double hi, int hi_open,
                        double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || !*s || *end || !(v >= lo && (hi_open ? v < hi : v <= hi))) {
        fprintf(stderr, "trainer %s: %s '%s' is not a number in [%g, %g%c\n", cmd, opt, s, lo, hi,
                hi_open ? ')' : ']');
        return -1;
    }
    *out = v;
    return 0;
}

int vkdp_parse_double(const char *cmd, const char *opt, const char *s, double lo, double hi, double *out)
{
    return parse_double(cmd, opt, s, lo, hi, 0, out);
}

int vkdp_parse_double_below(const char *cmd, const char *opt, const char *s, double lo, double hi, double *out)
{
    return parse_double(cmd, opt, s, lo, hi, 1, out);
}
