/* Error reporting and small helpers shared by every module.
 *
 * A fatal error prints exactly one line "vkdp: rank R: error: ... (file:line)" and, in a job of
 * several ranks, takes the whole job down (dist's abort hook: MPI_Abort) so that no rank hangs
 * waiting for a dead one. core itself knows nothing of MPI: dist attaches the rank at init. */
#ifndef VKDP_COMMON_H
#define VKDP_COMMON_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#if defined(__GNUC__)
#define VKDP_NORETURN __attribute__((noreturn))
#define VKDP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define VKDP_NORETURN
#define VKDP_PRINTF(a, b)
#endif

#define VKDP_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

VKDP_NORETURN void vkdp_fatal_at(const char *file, int line, const char *fmt, ...) VKDP_PRINTF(3, 4);
void vkdp_warn(const char *fmt, ...) VKDP_PRINTF(1, 2);
/* Prints only on rank 0 (or when MPI is not running). */
void vkdp_log(const char *fmt, ...) VKDP_PRINTF(1, 2);

#define VKDP_FATAL(...) vkdp_fatal_at(__FILE__, __LINE__, __VA_ARGS__)

/* libc/POSIX call returning -1/NULL on failure: reports errno with the expression. */
#define VKDP_CHECK_ERRNO(expr)                                                                  \
    do {                                                                                        \
        if ((expr) < 0)                                                                         \
            vkdp_fatal_at(__FILE__, __LINE__, "%s failed: %s", #expr, vkdp_errno_str());        \
    } while (0)

const char *vkdp_errno_str(void);

/* Checked allocation: never returns NULL (fatal error naming the size instead). */
void *vkdp_xmalloc(size_t n);
void *vkdp_xcalloc(size_t count, size_t size);
void *vkdp_xrealloc(void *p, size_t n);
char *vkdp_xstrdup(const char *s);

/* This process's rank and the job's size: 0 / 1 until a world is attached. */
int vkdp_rank(void);
int vkdp_world_size(void);
/* Attaches this process to a job (dist's init does; (0, 1, NULL) detaches): messages then name
 * `rank`, and a fatal error calls abort_job(1) before exiting when size > 1, so that the other
 * ranks stop too. Plain values, read without locks: call it before any thread starts. */
void vkdp_set_world(int rank, int size, void (*abort_job)(int status));

/* Command-line numbers: 0 and *out on success; -1 after printing
 * "trainer CMD: OPT 'S' is not an integer in LO..HI" (or "a number in [LO, HI]", "[LO, HI)" for
 * vkdp_parse_double_below, which excludes HI) to stderr. */
int vkdp_parse_long(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out);
int vkdp_parse_double(const char *cmd, const char *opt, const char *s, double lo, double hi, double *out);
int vkdp_parse_double_below(const char *cmd, const char *opt, const char *s, double lo, double hi, double *out);

/* Monotonic wall clock in seconds. */
double vkdp_now(void);

#endif
