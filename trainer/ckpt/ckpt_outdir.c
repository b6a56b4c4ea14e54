/* The checkpoint folder before any compute: created, locked for one job (a lock file naming host
 * and pid, held with flock), probed (a file written, fsynced, removed; free space checked). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "vkdp/ckpt/ckpt.h"
#include "vkdp/core/common.h"
#include "vkdp/core/errmsg.h"

struct vkdp_ckpt_lock {
    int fd;
    char path[4200];
};

/* The lock held by this process, cleared at exit (also after a fatal error's exit); the kernel
 * drops the flock itself however the process ends. */
static vkdp_ckpt_lock *held;

static void release_at_exit(void)
{
    vkdp_ckpt_lock_release(held);
}

/* mkdir -p: each missing component is created. */
static int make_dirs(const char *dir, char *err, size_t errlen)
{
    char p[4096];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) {
        vkdp_seterr(err, errlen, "--out %s: path too long", dir);
        return -1;
    }
    for (char *c = p + 1;; c++) {
        if (*c != '/' && *c)
            continue;
        char save = *c;
        *c = 0;
        if (mkdir(p, 0755) < 0 && errno != EEXIST) {
            vkdp_seterr(err, errlen, "--out %s: cannot create %s: %s", dir, p, strerror(errno));
            return -1;
        }
        *c = save;
        if (!save)
            break;
    }
    struct stat st;
    if (stat(dir, &st) < 0) {
        vkdp_seterr(err, errlen, "--out %s: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        vkdp_seterr(err, errlen, "--out %s: not a directory", dir);
        return -1;
    }
    return 0;
}

/* The lock file's text, "host H pid P since T", or "" (released, or never written). */
static void read_holder(int fd, char *buf, size_t len)
{
    ssize_t n = pread(fd, buf, len - 1, 0);
    buf[n > 0 ? n : 0] = 0;
    buf[strcspn(buf, "\n")] = 0;
}

/* 1 when the holder names a process of this host that no longer exists. */
static int holder_dead_here(const char *holder, const char *host)
{
    char h[256];
    long pid;
    if (sscanf(holder, "host %255s pid %ld", h, &pid) != 2 || strcmp(h, host) || pid <= 0)
        return 0;
    return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

vkdp_ckpt_lock *vkdp_ckpt_lock_take(const char *dir, char *err, size_t errlen)
{
    if (make_dirs(dir, err, errlen) < 0)
        return NULL;
    vkdp_ckpt_lock *l = vkdp_xcalloc(1, sizeof *l);
    snprintf(l->path, sizeof l->path, "%s/%s", dir, VKDP_CKPT_LOCK);
    l->fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (l->fd < 0) {
        vkdp_seterr(err, errlen, "--out %s is not writable: cannot create its lock file %s: %s", dir, l->path,
                    strerror(errno));
        free(l);
        return NULL;
    }
    char host[256] = "?", holder[512];
    if (gethostname(host, sizeof host) < 0)
        snprintf(host, sizeof host, "?");
    host[sizeof host - 1] = 0;
    read_holder(l->fd, holder, sizeof holder);
    int locked = flock(l->fd, LOCK_EX | LOCK_NB) == 0, why = errno;
    if (!locked && why == EWOULDBLOCK) {
        read_holder(l->fd, holder, sizeof holder); /* the holder may have written it just now */
        vkdp_seterr(err, errlen, "--out %s is in use by another job (%s; lock file %s): give each job its own --out",
                    dir, holder[0] ? holder : "holder not yet written", l->path);
        close(l->fd);
        free(l);
        return NULL;
    }
    if (!locked && holder[0] && !holder_dead_here(holder, host)) {
        /* no flock on this filesystem: only a holder on this host can be seen to be gone */
        vkdp_seterr(err, errlen, "--out %s is in use by another job (%s; lock file %s, and this filesystem has no "
                    "flock: %s): remove the lock file if that job is gone", dir, holder, l->path, strerror(why));
        close(l->fd);
        free(l);
        return NULL;
    }
    if (holder[0])
        vkdp_warn("--out %s: taking over the stale lock of a job that ended without releasing it (%s)", dir, holder);
    char line[512], when[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    int n = snprintf(line, sizeof line, "host %s pid %ld since %s\n", host, (long)getpid(), when);
    if (ftruncate(l->fd, 0) < 0 || pwrite(l->fd, line, (size_t)n, 0) != n || fsync(l->fd) < 0) {
        vkdp_seterr(err, errlen, "--out %s is not writable: cannot write its lock file %s: %s", dir, l->path,
                    strerror(errno));
        close(l->fd);
        free(l);
        return NULL;
    }
    if (!held) {
        held = l;
        atexit(release_at_exit);
    }
    return l;
}

void vkdp_ckpt_lock_release(vkdp_ckpt_lock *l)
{
    if (!l)
        return;
    if (held == l)
        held = NULL;
    /* An empty lock file marks a clean release; the file stays, so that no second job can lock
     * an unlinked inode while a third creates a new one. */
    if (ftruncate(l->fd, 0) < 0)
        vkdp_warn("%s: cannot clear the lock file at release: %s", l->path, strerror(errno));
    close(l->fd);
    free(l);
}

int vkdp_ckpt_dir_probe(const char *dir, uint64_t ckpt_bytes, char *err, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/.vkdp-probe-%ld", dir, (long)getpid());
    static const char block[4096];
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const char *what = "create";
    int ok = fd >= 0;
    if (ok) {
        what = "write";
        ok = write(fd, block, sizeof block) == (ssize_t)sizeof block;
        if (ok) {
            what = "fsync";
            ok = fsync(fd) == 0;
        }
    }
    int why = errno;
    if (fd >= 0)
        close(fd);
    if (fd >= 0 && unlink(path) < 0 && ok) {
        ok = 0;
        what = "remove";
        why = errno;
    }
    if (!ok) {
        vkdp_seterr(err, errlen, "--out %s is not writable: cannot %s a test file %s: %s", dir, what, path,
                    strerror(why));
        return -1;
    }
    struct statvfs vs;
    if (statvfs(dir, &vs) < 0) {
        vkdp_seterr(err, errlen, "--out %s: statvfs: %s", dir, strerror(errno));
        return -1;
    }
    uint64_t avail = (uint64_t)vs.f_bavail * (uint64_t)vs.f_frsize;
    if (avail / 2 < ckpt_bytes) {
        vkdp_seterr(err, errlen, "--out %s has %.2f MB free, less than two checkpoints of this run (about %.2f MB "
                    "each, written next to the previous one): free space or choose another --out", dir, avail / 1e6,
                    ckpt_bytes / 1e6);
        return -1;
    }
    return 0;
}

static uint64_t tensor_bytes(const vkdp_named_tensor *t, int n)
{
    uint64_t b = 0;
    for (int i = 0; i < n; i++) {
        uint64_t e = 1;
        for (int d = 0; d < t[i].rank; d++)
            e *= (uint64_t)t[i].shape[d];
        b += e * sizeof(float) + sizeof t[i].name;
    }
    return b;
}

uint64_t vkdp_ckpt_estimate_bytes(const vkdp_ckpt_state *s, int64_t total_steps, int total_epochs)
{
    /* uncompressed tensors and metrics rows, plus HDF5's headers and attributes */
    return tensor_bytes(s->weights, s->nweights) + tensor_bytes(s->backbone, s->nbackbone) +
           tensor_bytes(s->adam_m, s->nslots) + tensor_bytes(s->adam_v, s->nslots) +
           (uint64_t)(total_steps > 0 ? total_steps : 0) * sizeof(vkdp_step_metrics) +
           (uint64_t)(total_epochs > 0 ? total_epochs : 0) * sizeof(vkdp_epoch_metrics) + 64 * 1024;
}
