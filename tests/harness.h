/* Per-op test harness: seeded random inputs and a comparison that reports max abs / relative
 * error against a tolerance (llm.c's validate_result, ncnn's test_<op> spirit).
 *
 * Relative error is normwise: max|got-ref| / max|ref| (and the L2 ratio ||got-ref|| / ||ref||),
 * so elements near zero do not make it meaningless. */
#ifndef VKDP_TEST_HARNESS_H
#define VKDP_TEST_HARNESS_H
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vkdp/core/rng.h"

/* splitmix64 (vkdp's own, core/rng.h): tiny, seedable, the same stream on every platform. */
typedef struct { uint64_t s; } test_rng;

static inline uint64_t test_rng_u64(test_rng *r) { return vkdp_splitmix64(&r->s); }

/* Uniform in [lo, hi). */
static inline float test_rng_uniform(test_rng *r, float lo, float hi)
{
    return lo + (hi - lo) * (float)((test_rng_u64(r) >> 40) * (1.0 / 16777216.0));
}

static inline void test_fill_uniform(float *x, size_t n, uint64_t seed, float lo, float hi)
{
    test_rng r = {seed};
    for (size_t i = 0; i < n; i++)
        x[i] = test_rng_uniform(&r, lo, hi);
}

typedef struct {
    double max_abs, max_ref, rel, l2_rel;
    size_t worst;
    int nonfinite;
} test_err;

static inline test_err test_compare(const float *got, const float *ref, size_t n)
{
    test_err e = {0, 0, 0, 0, 0, 0};
    double d2 = 0, r2 = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(got[i]) || !isfinite(ref[i])) {
            e.nonfinite++;
            continue;
        }
        double d = fabs((double)got[i] - (double)ref[i]);
        if (d > e.max_abs) {
            e.max_abs = d;
            e.worst = i;
        }
        if (fabs(ref[i]) > e.max_ref)
            e.max_ref = fabs(ref[i]);
        d2 += d * d;
        r2 += (double)ref[i] * ref[i];
    }
    e.rel = e.max_ref > 0 ? e.max_abs / e.max_ref : e.max_abs;
    e.l2_rel = r2 > 0 ? sqrt(d2 / r2) : sqrt(d2);
    return e;
}

/* Prints one line and returns 1 when within tolerance (rel = normwise max error). */
static inline int test_check(const char *what, const float *got, const float *ref, size_t n, double rtol)
{
    test_err e = test_compare(got, ref, n);
    int ok = e.nonfinite == 0 && e.rel <= rtol;
    printf("%-4s %-48s n=%-9zu max_abs=%.3e max_ref=%.3e rel=%.3e l2_rel=%.3e tol=%.1e%s\n",
           ok ? "ok" : "FAIL", what, n, e.max_abs, e.max_ref, e.rel, e.l2_rel, rtol,
           e.nonfinite ? " NONFINITE" : "");
    if (!ok && n)
        printf("     worst at %zu: got %.8g ref %.8g\n", e.worst, (double)got[e.worst],
               (double)ref[e.worst]);
    fflush(stdout);
    return ok;
}

/* Non-fatal check for tests with many cases: prints the failed condition and a message, counts
 * it in `failures`; main returns failures != 0. */
__attribute__((unused)) static int failures;
#define CHECK(cond, ...)                        \
    do {                                        \
        if (!(cond)) {                          \
            printf("FAIL %s: ", #cond);         \
            printf(__VA_ARGS__);                \
            printf("\n");                       \
            failures++;                         \
        }                                       \
    } while (0)

/* Runs fn(ctx) in a child process with its stderr captured into msg (cap bytes): for checking
 * that a misuse is refused with one clear line and a non-zero exit. Returns 1 when the child
 * exited non-zero. */
static inline int test_run_fatal(void (*fn)(void *), void *ctx, char *msg, size_t cap)
{
    fflush(stdout);
    fflush(stderr);
    int fds[2];
    if (pipe(fds) != 0) {
        perror("pipe");
        exit(1);
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(1);
    }
    if (pid == 0) {
        dup2(fds[1], 2);
        fn(ctx);
        _exit(0);
    }
    close(fds[1]);
    memset(msg, 0, cap);
    size_t got = 0;
    ssize_t r;
    while (got + 1 < cap && (r = read(fds[0], msg + got, cap - 1 - got)) > 0)
        got += (size_t)r;
    close(fds[0]);
    int st = 0;
    if (waitpid(pid, &st, 0) != pid) {
        perror("waitpid");
        exit(1);
    }
    return WIFEXITED(st) && WEXITSTATUS(st) != 0;
}

/* Central finite difference of a scalar loss f(x) w.r.t. x[i]. */
typedef double (*test_loss_fn)(void *ctx);
static inline double test_fd(float *x, size_t i, double h, test_loss_fn f, void *ctx)
{
    float save = x[i];
    x[i] = (float)(save + h);
    double lp = f(ctx);
    x[i] = (float)(save - h);
    double lm = f(ctx);
    x[i] = save;
    return (lp - lm) / (2 * h);
}

#endif
