/* The atomic file writer: temporary name, write, fsync, rename, fsync the directory; and the
 * clean-up of temporary files left by writers that died. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vkdp/h5/atomic_file.h"

const char *vkdp_host_name(void)
{
    static char host[256];
    if (!host[0] && (gethostname(host, sizeof host - 1) < 0 || !host[0]))
        snprintf(host, sizeof host, "localhost");
    return host;
}

int vkdp_atomic_temp_name(char *buf, size_t len, const char *dir, const char *name)
{
    size_t n = (size_t)snprintf(buf, len, "%s/" VKDP_ATOMIC_TMP_PREFIX "%s.%s.%ld", dir, name,
                                vkdp_host_name(), (long)getpid());
    return n < len ? 0 : -1;
}

int vkdp_fsync_dir(vkdp_h5_io *io, const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return vkdp_h5_fail(io, "cannot open directory %s to sync it: %s", dir, strerror(errno));
    if (fsync(fd) < 0) {
        int e = errno;
        close(fd);
        return vkdp_h5_fail(io, "cannot sync directory %s: %s", dir, strerror(e));
    }
    if (close(fd) < 0)
        return vkdp_h5_fail(io, "cannot close directory %s: %s", dir, strerror(errno));
    return 0;
}

static const char *enospc_hint(int e)
{
    return e == ENOSPC ? " (disk full)" : e == EDQUOT ? " (quota exceeded)" : "";
}

int vkdp_atomic_write_temp(vkdp_h5_io *io, vkdp_atomic_file *a, const char *final,
                           const void *data, size_t len)
{
    memset(a, 0, sizeof *a);
    const char *slash = strrchr(final, '/');
    const char *name = slash ? slash + 1 : final;
    if (!name[0])
        return vkdp_h5_fail(io, "no file name in %s", final);
    if ((size_t)snprintf(a->final, sizeof a->final, "%s", final) >= sizeof a->final ||
        (size_t)snprintf(a->dir, sizeof a->dir, "%.*s", slash ? (int)(slash - final) : 1,
                         slash ? final : ".") >= sizeof a->dir)
        return vkdp_h5_fail(io, "path too long");
    if (slash == final)
        snprintf(a->dir, sizeof a->dir, "/");
    if (vkdp_atomic_temp_name(a->tmp, sizeof a->tmp, a->dir, name) < 0)
        return vkdp_h5_fail(io, "path too long for a temporary name");
    int fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return vkdp_h5_fail(io, "cannot create temporary file %s: %s", a->tmp, strerror(errno));
    const char *p = data;
    size_t left = len;
    int e = 0;
    const char *what = "write";
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            e = w < 0 ? errno : EIO;
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    if (!e && fsync(fd) < 0) {
        e = errno;
        what = "fsync";
    }
    if (close(fd) < 0 && !e) {
        e = errno;
        what = "close";
    }
    if (e) {
        unlink(a->tmp);
        return vkdp_h5_fail(io, "cannot %s temporary file %s (%zu of %zu bytes written): %s%s",
                            what, a->tmp, len - left, len, strerror(e), enospc_hint(e));
    }
    return 0;
}

int vkdp_atomic_commit(vkdp_h5_io *io, vkdp_atomic_file *a)
{
    if (rename(a->tmp, a->final) < 0) {
        int e = errno;
        unlink(a->tmp);
        return vkdp_h5_fail(io, "cannot rename %s to %s: %s", a->tmp, a->final, strerror(e));
    }
    return vkdp_fsync_dir(io, a->dir);
}

void vkdp_atomic_abort(vkdp_atomic_file *a)
{
    if (a->tmp[0])
        unlink(a->tmp);
}

int vkdp_atomic_write(vkdp_h5_io *io, const char *final, const void *data, size_t len)
{
    vkdp_atomic_file a;
    if (vkdp_atomic_write_temp(io, &a, final, data, len) < 0)
        return -1;
    vkdp_atomic_remove_stale(a.dir);
    return vkdp_atomic_commit(io, &a);
}

/* ".tmp-<anything>.<this host>.<pid>" -> pid, else 0. */
static long own_host_pid(const char *name)
{
    if (strncmp(name, VKDP_ATOMIC_TMP_PREFIX, strlen(VKDP_ATOMIC_TMP_PREFIX)))
        return 0;
    const char *dot = strrchr(name, '.');
    char *end = NULL;
    long pid = dot ? strtol(dot + 1, &end, 10) : 0;
    if (!dot || !end || *end || pid <= 0)
        return 0;
    size_t hl = strlen(vkdp_host_name()), pre = (size_t)(dot - name);
    if (pre < hl + 1 || name[pre - hl - 1] != '.' || strncmp(name + pre - hl, vkdp_host_name(), hl))
        return 0; /* another host's writer: its pid means nothing here */
    return pid;
}

void vkdp_atomic_remove_stale(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[4400];
    while ((e = readdir(d))) {
        long pid = own_host_pid(e->d_name);
        if (pid <= 0 || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (unlink(path) == 0)
                vkdp_warn("removed %s, left by a writer that died", path);
        }
    }
    closedir(d);
}
