#include "vkdp/core/common.h"

#include <errno.h>
#include <mpi.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int mpi_running(void)
{
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    return init && !fin;
}

int vkdp_rank(void)
{
    int r = 0;
    if (mpi_running())
        MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

int vkdp_world_size(void)
{
    int n = 1;
    if (mpi_running())
        MPI_Comm_size(MPI_COMM_WORLD, &n);
    return n;
}

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
    if (mpi_running() && vkdp_world_size() > 1)
        MPI_Abort(MPI_COMM_WORLD, 1);
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

int vkdp_parse_double(const char *cmd, const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || !*s || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "trainer %s: %s '%s' is not a number in [%g, %g]\n", cmd, opt, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}
