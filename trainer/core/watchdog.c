/* The collective watchdog thread; see include/vkdp/core/watchdog.h. */
#include "vkdp/core/watchdog.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Seconds the abort may take before the process exits on its own: MPI_Abort reports to the
 * launcher, which may sit behind the very link that is gone. */
#define ABORT_GRACE_S 10
/* While an operation is marked the thread wakes every TICK_S; a wake later than that by more
 * than STOPPED_S means this process was not running (SIGSTOP: Slurm's scontrol suspend, gang
 * scheduling, Ctrl-Z; or the host itself paused), and that time is not counted: a job suspended
 * and resumed whole has lost no peer. A peer stopped alone still times out at its partners. */
#define TICK_S 1.0
#define STOPPED_S 2.0

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv;
static pthread_t thread;
static atomic_int started;
static int stopping, depth;
static double timeout_s, since, last_wake, stopped_s; /* since: start of the mark, moved on by stops */
static char what[256], where[256] = "start-up", flag_name[64];

static void check_pthread(int rc, const char *expr, int line)
{
    if (rc != 0)
        vkdp_fatal_at(__FILE__, line, "%s failed: %s", expr, strerror(rc));
}
#define PT_CHECK(expr) check_pthread((expr), #expr, __LINE__)

static struct timespec abs_time(double t)
{
    struct timespec ts;
    ts.tv_sec = (time_t)t;
    ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
    return ts;
}

static void *abort_guard(void *arg)
{
    (void)arg;
    struct timespec ts = abs_time(vkdp_now() + ABORT_GRACE_S);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
    static const char msg[] = "vkdp: collective watchdog: the job abort did not end this process; exiting\n";
    if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0) {
        /* nothing left to report to */
    }
    _exit(1);
}

/* Called with mu held; never returns. The job is ended from this thread although MPI was
 * initialised MPI_THREAD_FUNNELED: the main thread is the one stuck inside MPI, and Open MPI's
 * MPI_Abort (vkdp_fatal_at) works from any thread; the guard covers an abort that blocks. */
static void fire(double waited)
{
    char host[256] = "?", msg[2048], stopped[96] = "";
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "?");
    host[sizeof host - 1] = 0;
    if (stopped_s > 0)
        snprintf(stopped, sizeof stopped, " (not counting %.0f s while this process was stopped)", stopped_s);
    snprintf(msg, sizeof msg,
             "collective watchdog: %s in %s has not completed after %.0f s%s (%s %g) on host %s: a rank, "
             "host or network link is lost or stalled; aborting the job",
             what, where, waited, stopped, flag_name, timeout_s, host);
    pthread_t g;
    PT_CHECK(pthread_create(&g, NULL, abort_guard, NULL));
    vkdp_fatal_at(__FILE__, __LINE__, "%s", msg);
}

static void *watch_loop(void *arg)
{
    (void)arg;
    PT_CHECK(pthread_mutex_lock(&mu));
    while (!stopping) {
        int rc;
        if (depth > 0) {
            const double now = vkdp_now();
            if (now - last_wake > TICK_S + STOPPED_S) { /* this process was stopped: not counted */
                since += now - last_wake - TICK_S;
                stopped_s += now - last_wake - TICK_S;
            }
            last_wake = now;
            const double deadline = since + timeout_s;
            if (now >= deadline)
                fire(now - since);
            struct timespec ts = abs_time(deadline < now + TICK_S ? deadline : now + TICK_S);
            rc = pthread_cond_timedwait(&cv, &mu, &ts);
        } else {
            rc = pthread_cond_wait(&cv, &mu);
        }
        if (rc != 0 && rc != ETIMEDOUT)
            check_pthread(rc, "pthread_cond_(timed)wait", __LINE__);
    }
    PT_CHECK(pthread_mutex_unlock(&mu));
    return NULL;
}

void vkdp_watchdog_start(double t, const char *flag)
{
    if (!(t > 0))
        VKDP_FATAL("collective watchdog: timeout %g s is not positive", t);
    PT_CHECK(pthread_mutex_lock(&mu));
    timeout_s = t;
    snprintf(flag_name, sizeof flag_name, "%s", flag);
    PT_CHECK(pthread_mutex_unlock(&mu));
    if (atomic_load(&started))
        return;
    pthread_condattr_t ca;
    PT_CHECK(pthread_condattr_init(&ca));
    PT_CHECK(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC)); /* vkdp_now's clock */
    PT_CHECK(pthread_cond_init(&cv, &ca));
    PT_CHECK(pthread_condattr_destroy(&ca));
    stopping = 0;
    PT_CHECK(pthread_create(&thread, NULL, watch_loop, NULL));
    atomic_store(&started, 1);
}

void vkdp_watchdog_stop(void)
{
    if (!atomic_load(&started))
        return;
    PT_CHECK(pthread_mutex_lock(&mu));
    stopping = 1;
    PT_CHECK(pthread_cond_signal(&cv));
    PT_CHECK(pthread_mutex_unlock(&mu));
    PT_CHECK(pthread_join(thread, NULL));
    PT_CHECK(pthread_cond_destroy(&cv));
    atomic_store(&started, 0);
}

void vkdp_watch_begin(const char *fmt, ...)
{
    if (!atomic_load(&started))
        return;
    PT_CHECK(pthread_mutex_lock(&mu));
    if (depth++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        since = last_wake = vkdp_now();
        stopped_s = 0;
        PT_CHECK(pthread_cond_signal(&cv)); /* the thread now has a deadline */
    }
    PT_CHECK(pthread_mutex_unlock(&mu));
}

void vkdp_watch_end(void)
{
    if (!atomic_load(&started))
        return;
    PT_CHECK(pthread_mutex_lock(&mu));
    if (depth > 0)
        depth--;
    PT_CHECK(pthread_mutex_unlock(&mu));
}

void vkdp_watch_where(const char *fmt, ...)
{
    if (!atomic_load(&started))
        return;
    PT_CHECK(pthread_mutex_lock(&mu));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(where, sizeof where, fmt, ap);
    va_end(ap);
    PT_CHECK(pthread_mutex_unlock(&mu));
}
