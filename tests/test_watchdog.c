/* The collective watchdog (core/watchdog.c) in a child process, timed by the parent:
 *   quiet: short marked operations (nested too), start/stop/restart: no message, exit 0;
 *   fire:  a marked operation that never ends: one message naming the operation, the place and
 *          the limit, exit 1, after at least the limit and well before the limit + 10 s;
 *   hang:  the same with an exit path that never returns (a blocked atexit handler, as an
 *          MPI_Abort whose launcher is unreachable): the process still ends, by the guard;
 *   suspended: a 3 s limit, the child stopped (SIGSTOP, as a suspended job) for 7 s inside a
 *          marked operation and continued: the stop is not counted, so an operation that ends
 *          1 s later passes (exit 0, quiet), and one that never ends fires 3 counted seconds
 *          after its start, saying how long the process was stopped. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vkdp/core/watchdog.h"

static int failures;
#define CHECK(cond, ...)                                                                        \
    do {                                                                                        \
        if (!(cond)) {                                                                          \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                \
            fprintf(stderr, __VA_ARGS__);                                                       \
            fprintf(stderr, "\n");                                                              \
            failures++;                                                                         \
        }                                                                                       \
    } while (0)

static void block_forever(void)
{
    for (;;)
        pause();
}

static void child(const char *mode)
{
    vkdp_watchdog_start(30, "--collective-timeout");
    for (int i = 0; i < 2000; i++) {
        vkdp_watch_begin("MPI_Allreduce (%d x int64)", i);
        if (i % 2)
            vkdp_watch_begin("device wait (nested)");
        vkdp_watch_where("quiet step %d", i);
        if (i % 2)
            vkdp_watch_end();
        vkdp_watch_end();
    }
    vkdp_watch_end(); /* unbalanced: ignored */
    if (!strcmp(mode, "quiet")) {
        vkdp_watchdog_stop();
        vkdp_watchdog_start(30, "--collective-timeout");
        vkdp_watch_begin("MPI_Barrier");
        vkdp_watch_end();
        vkdp_watchdog_stop();
        vkdp_watchdog_stop();
        exit(0);
    }
    if (!strncmp(mode, "suspended", 9)) { /* the parent stops and continues us, then writes a byte to
                                              end the operation ("suspended-end") or closes the pipe */
        vkdp_watchdog_start(3, "--collective-timeout");
        vkdp_watch_where("test step 8 (epoch 2)");
        vkdp_watch_begin("MPI_Allreduce (test)");
        char b;
        ssize_t r;
        while ((r = read(STDIN_FILENO, &b, 1)) < 0 && errno == EINTR)
            ;
        if (r == 1 && !strcmp(mode, "suspended-end")) {
            vkdp_watch_end();
            vkdp_watchdog_stop();
            exit(0);
        }
        block_forever();
    }
    if (!strcmp(mode, "hang"))
        atexit(block_forever);
    vkdp_watchdog_start(1, "--collective-timeout"); /* a second start sets the limit */
    vkdp_watch_where("test step 7 (epoch 2)");
    vkdp_watch_begin("device wait (test %d)", 42);
    block_forever();
}

/* Sleeps s seconds, resuming after a signal. */
static void nap(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Runs `mode` in a child; returns its exit status (-1 if signalled), its stderr in err, and
 * the seconds it took. */
static int run_child(const char *mode, char *err, size_t errlen, double *secs)
{
    int fd[2], in[2];
    if (pipe(fd) != 0 || pipe(in) != 0) {
        perror("pipe");
        exit(1);
    }
    fflush(stdout); /* or the child's exit prints our buffered lines again */
    double t0 = vkdp_now();
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(1);
    }
    if (pid == 0) {
        close(fd[0]);
        close(in[1]);
        if (dup2(fd[1], STDERR_FILENO) < 0 || dup2(in[0], STDIN_FILENO) < 0)
            _exit(99);
        child(mode);
        _exit(98);
    }
    close(fd[1]);
    close(in[0]);
    if (!strncmp(mode, "suspended", 9)) {
        nap(0.5);
        if (kill(pid, SIGSTOP) != 0) {
            perror("kill SIGSTOP");
            exit(1);
        }
        nap(7.0);
        if (kill(pid, SIGCONT) != 0) {
            perror("kill SIGCONT");
            exit(1);
        }
        nap(1.0);
        /* EPIPE (SIGPIPE ignored): the child is gone, fired; its status says so below */
        if (!strcmp(mode, "suspended-end") && write(in[1], "x", 1) != 1 && errno != EPIPE) {
            perror("write");
            exit(1);
        }
    }
    close(in[1]);
    size_t n = 0;
    ssize_t r;
    while ((r = read(fd[0], err + n, errlen - 1 - n)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            perror("read");
            exit(1);
        }
        n += (size_t)r;
        if (n == errlen - 1)
            break;
    }
    err[n] = 0;
    close(fd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) {
            perror("waitpid");
            exit(1);
        }
    *secs = vkdp_now() - t0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *expect = "vkdp: rank 0: error: collective watchdog: device wait (test 42) in test step 7 "
                            "(epoch 2) has not completed after 1 s (--collective-timeout 1) on host ";

/* A child that must have fired: exit 1, the message (and `also` when given), within [lo, hi) s. */
static void check_fired(const char *mode, const char *also, double lo, double hi)
{
    char err[8192];
    double s;
    int rc = run_child(mode, err, sizeof err, &s);
    CHECK(rc == 1, "%s: exit status %d, expected 1", mode, rc);
    CHECK(strstr(err, expect) != NULL, "%s: no '%s' in stderr:\n%s", mode, expect, err);
    CHECK(strstr(err, "a rank, host or network link is lost or stalled; aborting the job") != NULL,
          "%s: no reason in stderr:\n%s", mode, err);
    CHECK(!also || strstr(err, also) != NULL, "%s: no '%s' in stderr:\n%s", mode, also, err);
    CHECK(s >= lo && s < hi, "%s: took %.1f s, expected %.0f to %.0f s", mode, s, lo, hi);
    printf("%s: exit %d in %.2f s: %s", mode, rc, s, err);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    char err[8192];
    double s;
    int rc = run_child("quiet", err, sizeof err, &s);
    CHECK(rc == 0 && err[0] == 0, "quiet: exit %d after %.1f s, stderr '%s'", rc, s, err);
    printf("quiet: exit %d in %.2f s\n", rc, s);
    /* a 1 s limit */
    check_fired("fire", NULL, 1.0, 11.0);
    /* a 1 s limit, then the 10 s guard */
    check_fired("hang", "the job abort did not end this process; exiting", 11.0, 21.0);
    /* 8.5 s inside the operation, 7 of them stopped: 1.5 s counted of 3 */
    rc = run_child("suspended-end", err, sizeof err, &s);
    CHECK(rc == 0 && err[0] == 0, "suspended-end: exit %d after %.1f s, stderr '%s'", rc, s, err);
    CHECK(s >= 8.5, "suspended-end: took %.1f s, expected the 7 s stop and 1.5 s more", s);
    printf("suspended-end: exit %d in %.2f s\n", rc, s);
    /* stopped 7 s, then a hang: fires at 3 counted seconds. Uncounted is the gap between the
       thread's last wake before the stop (0 to 1 s before it) and its first after, less one tick:
       so it fires 9 to 10 s after the start (unfixed, it would fire on the continue, at 7.5 s) */
    rc = run_child("suspended-hang", err, sizeof err, &s);
    CHECK(rc == 1, "suspended-hang: exit status %d, expected 1", rc);
    CHECK(strstr(err, "collective watchdog: MPI_Allreduce (test) in test step 8 (epoch 2) has not completed "
                      "after 3 s (not counting ") != NULL &&
              strstr(err, " s while this process was stopped) (--collective-timeout 3) on host ") != NULL,
          "suspended-hang: stderr:\n%s", err);
    CHECK(s >= 8.9 && s < 20.0, "suspended-hang: took %.1f s, expected 9 to 10 s", s);
    printf("suspended-hang: exit %d in %.2f s: %s", rc, s, err);

    if (failures)
        fprintf(stderr, "test_watchdog: %d failure(s)\n", failures);
    else
        printf("test_watchdog: ok\n");
    return failures ? 1 : 0;
}
