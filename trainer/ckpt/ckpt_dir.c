/* The checkpoint directory: the latest.h5 switch, pruning beyond --keep, and the test hook that
 * holds a writer between its complete temporary file and the rename. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ckpt_io.h"
#include "vkdp/h5/atomic_file.h"

void ckpt_test_sleep_hook(void)
{
    const char *v = getenv("VKDP_CKPT_TEST_SLEEP");
    if (!v || !v[0])
        return;
    double sec = atof(v);
    if (sec <= 0)
        return;
    fprintf(stderr, "vkdp: VKDP_CKPT_TEST_SLEEP: sleeping %.3f s before the rename\n", sec);
    fflush(stderr);
    struct timespec ts = {(time_t)sec, (long)((sec - (double)(time_t)sec) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* "ckpt-e<epoch>-s<step>.h5" exactly -> 1 and the numbers. */
static int parse_ckpt_name(const char *name, int *epoch, int64_t *step)
{
    int n = -1;
    if (sscanf(name, "ckpt-e%d-s%" SCNd64 ".h5%n", epoch, step, &n) != 2 || n < 0)
        return 0;
    return (size_t)n == strlen(name);
}

typedef struct {
    int epoch;
    int64_t step;
    char name[256];
} ckpt_entry;

static int entry_cmp(const void *a, const void *b)
{
    const ckpt_entry *x = a, *y = b;
    if (x->step != y->step)
        return x->step < y->step ? -1 : 1;
    return (x->epoch > y->epoch) - (x->epoch < y->epoch);
}

/* Deletes the oldest checkpoints so that `keep` remain, never `current`. */
int ckpt_prune(vkdp_h5_io *io, const char *dir, const char *current, int keep)
{
    DIR *d = opendir(dir);
    if (!d)
        return vkdp_h5_fail(io, "cannot list %s to prune old checkpoints: %s", dir, strerror(errno));
    ckpt_entry *v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        int ep;
        int64_t st;
        if (!parse_ckpt_name(e->d_name, &ep, &st) || !strcmp(e->d_name, current) ||
            strlen(e->d_name) >= sizeof v->name)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            v = vkdp_xrealloc(v, cap * sizeof *v);
        }
        v[n].epoch = ep;
        v[n].step = st;
        snprintf(v[n].name, sizeof v[n].name, "%s", e->d_name);
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(v, n, sizeof *v, entry_cmp);
    size_t others = (size_t)keep - 1;
    int rc = 0;
    char path[4400];
    for (size_t i = 0; n > others && i < n - others; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, v[i].name);
        if (unlink(path) < 0 && errno != ENOENT) {
            rc = vkdp_h5_fail(io, "cannot delete old checkpoint %s: %s", path, strerror(errno));
            break;
        }
    }
    free(v);
    if (rc == 0 && n > others)
        rc = vkdp_fsync_dir(io, dir);
    return rc;
}

/* Points dir/latest.h5 at fname: a temporary symlink renamed over it (atomic). */
int ckpt_update_latest(vkdp_h5_io *io, const char *dir, const char *fname)
{
    char tmp[4400], latest[4400];
    if (vkdp_atomic_temp_name(tmp, sizeof tmp, dir, "latest") < 0)
        return vkdp_h5_fail(io, "checkpoint directory name too long");
    snprintf(latest, sizeof latest, "%s/%s", dir, VKDP_CKPT_LATEST);
    unlink(tmp);
    if (symlink(fname, tmp) < 0)
        return vkdp_h5_fail(io, "cannot create symlink %s: %s", tmp, strerror(errno));
    if (rename(tmp, latest) < 0) {
        int e = errno;
        unlink(tmp);
        return vkdp_h5_fail(io, "cannot replace %s: %s", latest, strerror(e));
    }
    return vkdp_fsync_dir(io, dir);
}

