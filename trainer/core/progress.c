/* Keras-style progress bar (TTY) or periodic lines (logs); see include/vkdp/core/progress.h. */
#include "vkdp/core/progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vkdp/core/common.h"

struct vkdp_progress {
    int64_t steps;
    double start, last_print, interval;
    int tty, active;
};

vkdp_progress *vkdp_progress_start(const char *title, int64_t steps, double interval_s)
{
    vkdp_progress *p = vkdp_xcalloc(1, sizeof *p);
    p->steps = steps;
    p->start = p->last_print = vkdp_now();
    p->interval = interval_s > 0 ? interval_s : 10;
    p->active = vkdp_rank() == 0;
    /* mpirun hands its ranks a pseudo-terminal whatever its own stdout is, so under MPI the
     * bar is drawn only when asked for (launch/run.sh asks when its stdout is a terminal). */
    const char *force = getenv("VKDP_PROGRESS");
    int under_mpi = getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
    if (force && *force)
        p->tty = !strcmp(force, "bar");
    else
        p->tty = !under_mpi && isatty(STDOUT_FILENO);
    if (p->active && title && *title) {
        printf("%s\n", title);
        fflush(stdout);
    }
    return p;
}

static void bar(char *out, size_t n, int64_t done, int64_t steps)
{
    const int width = 30;
    int fill = steps > 0 ? (int)(width * done / steps) : width;
    size_t k = 0;
    out[k++] = '[';
    for (int i = 0; i < width && k + 2 < n; i++)
        out[k++] = i < fill ? '=' : (i == fill ? '>' : '.');
    if (done >= steps && fill > 0)
        out[k - 1] = '=';
    out[k++] = ']';
    out[k] = 0;
}

static void fmt_secs(char *out, size_t n, double s)
{
    if (s >= 3600)
        snprintf(out, n, "%d:%02d:%02d", (int)(s / 3600), (int)(s / 60) % 60, (int)s % 60);
    else if (s >= 60)
        snprintf(out, n, "%d:%02d", (int)(s / 60), (int)s % 60);
    else
        snprintf(out, n, "%ds", (int)(s + 0.5));
}

void vkdp_progress_update(vkdp_progress *p, int64_t done, const char *metrics)
{
    if (!p->active)
        return;
    double now = vkdp_now(), el = now - p->start;
    double eta = done > 0 ? el / (double)done * (double)(p->steps - done) : 0;
    char e[32];
    fmt_secs(e, sizeof e, eta);
    int w = snprintf(NULL, 0, "%lld", (long long)p->steps);
    if (p->tty) {
        char b[64];
        bar(b, sizeof b, done, p->steps);
        printf("\r%*lld/%lld %s - ETA: %s%s\033[K", w, (long long)done, (long long)p->steps, b, e,
               metrics ? metrics : "");
        fflush(stdout);
    } else if (now - p->last_print >= p->interval) {
        char t[32];
        fmt_secs(t, sizeof t, el);
        printf("%*lld/%lld - %s elapsed - ETA: %s%s\n", w, (long long)done, (long long)p->steps, t, e,
               metrics ? metrics : "");
        fflush(stdout);
        p->last_print = now;
    }
}

void vkdp_progress_finish(vkdp_progress *p, const char *metrics)
{
    if (p->active) {
        double el = vkdp_now() - p->start;
        char b[64], t[32];
        bar(b, sizeof b, p->steps, p->steps);
        fmt_secs(t, sizeof t, el);
        double per = p->steps > 0 ? el / (double)p->steps : 0;
        printf("%s%lld/%lld %s - %s %.0fms/step%s\n", p->tty ? "\r" : "", (long long)p->steps,
               (long long)p->steps, b, t, per * 1e3, metrics ? metrics : "");
        fflush(stdout);
    }
    free(p);
}
