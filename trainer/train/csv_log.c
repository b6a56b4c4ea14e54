/* Keras CSVLogger rows for `trainer train --csv-log`, reconciled with the checkpoint on resume
 * (see include/vkdp/train/csv_log.h). */
#include "vkdp/train/csv_log.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vkdp/core/common.h"

/* A log of 100000 epochs is ~10 MB; anything far larger is not a CSV log of ours. */
#define MAX_LOG_BYTES ((size_t)64 << 20)

/* Scientific text "d.ddde+X" of m * 10^(x - p) where m has p + 1 digits. */
static void sci(uint64_t m, int p, int x, char *e, size_t len)
{
    char d[24];
    snprintf(d, sizeof d, "%llu", (unsigned long long)m);
    snprintf(e, len, "%c%s%.*se%+03d", d[0], p ? "." : "", p, d + 1, x);
}

/* Shortest significant digits (trailing zeros removed) of a finite a >= 0 that read back as a;
 * returns decpt with a = 0.digits * 10^decpt. At each length the correctly rounded candidate is
 * tried first, then its neighbour on the other side of a (needed next to powers of two, where
 * the rounding interval is lopsided). */
static int shortest_digits(double a, char digits[24])
{
    char e[40];
    int p;
    for (p = 0; p < 16; p++) {
        snprintf(e, sizeof e, "%.*e", p, a);
        double got = strtod(e, NULL);
        if (got == a)
            break;
        uint64_t m = 0, pow10 = 1;
        for (const char *c = e; *c && *c != 'e'; c++)
            if (*c != '.')
                m = m * 10 + (uint64_t)(*c - '0');
        for (int i = 0; i < p; i++)
            pow10 *= 10;
        int x = atoi(strchr(e, 'e') + 1);
        m = got < a ? m + 1 : m - 1;
        if (m == pow10 * 10) { /* 9.99 + 1 digit = 10.0 */
            m = pow10;
            x++;
        } else if (m < pow10) { /* 1.00 - 1 digit = 0.999 */
            m = m * 10 + 9;
            x--;
        }
        sci(m, p, x, e, sizeof e);
        if (strtod(e, NULL) == a)
            break;
    }
    if (p == 16)
        snprintf(e, sizeof e, "%.16e", a); /* 17 digits always read back */
    int nd = 0;
    for (const char *c = e; *c && *c != 'e'; c++)
        if (*c != '.')
            digits[nd++] = *c;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    return a == 0 ? 1 : atoi(strchr(e, 'e') + 1) + 1;
}

void vkdp_py_float_repr(double v, char *buf, size_t len)
{
    if (isnan(v)) {
        snprintf(buf, len, "nan");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, len, v < 0 ? "-inf" : "inf");
        return;
    }
    /* the shortest digits that read back as v (Python's float_repr_style 'short') */
    int neg = signbit(v) != 0;
    char digits[24];
    int decpt = shortest_digits(fabs(v), digits); /* |v| = 0.digits * 10^decpt */
    int nd = (int)strlen(digits);
    char out[64];
    int o = 0;
    if (neg)
        out[o++] = '-';
    if (decpt > -4 && decpt <= 16) { /* positional: "0.000123", "12.5", "1500.0" */
        if (decpt <= 0) {
            out[o++] = '0';
            out[o++] = '.';
            for (int i = 0; i < -decpt; i++)
                out[o++] = '0';
        }
        for (int i = 0; i < nd || i < decpt; i++) {
            if (i == decpt && decpt > 0)
                out[o++] = '.';
            out[o++] = i < nd ? digits[i] : '0';
        }
        if (decpt >= nd) {
            out[o++] = '.';
            out[o++] = '0';
        }
        out[o] = '\0';
    } else { /* scientific: "1e-05", "1.5e+16" */
        snprintf(out + o, sizeof out - (size_t)o, "%c%s%se%c%02d", digits[0], nd > 1 ? "." : "", digits + 1,
                 decpt - 1 < 0 ? '-' : '+', abs(decpt - 1));
    }
    snprintf(buf, len, "%s", out);
}

static const char *header(int has_val)
{
    return has_val ? "epoch,accuracy,loss,val_accuracy,val_loss" : "epoch,accuracy,loss";
}

static void format_row(const vkdp_epoch_metrics *m, int has_val, char *buf, size_t len)
{
    char a[32], l[32], va[32], vl[32];
    vkdp_py_float_repr(m->accuracy, a, sizeof a);
    vkdp_py_float_repr(m->loss, l, sizeof l);
    vkdp_py_float_repr(m->val_accuracy, va, sizeof va);
    vkdp_py_float_repr(m->val_loss, vl, sizeof vl);
    if (has_val)
        snprintf(buf, len, "%d,%s,%s,%s,%s\r\n", m->epoch - 1, a, l, va, vl);
    else
        snprintf(buf, len, "%d,%s,%s\r\n", m->epoch - 1, a, l);
}

/* The whole file, NUL-terminated; NULL when it does not exist. */
static char *read_log(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT)
            return NULL;
        VKDP_FATAL("--csv-log %s: cannot open: %s", path, vkdp_errno_str());
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0)
        VKDP_FATAL("--csv-log %s: cannot stat: %s", path, vkdp_errno_str());
    if (!S_ISREG(st.st_mode))
        VKDP_FATAL("--csv-log %s: not a regular file", path);
    if ((size_t)st.st_size > MAX_LOG_BYTES)
        VKDP_FATAL("--csv-log %s: %lld bytes, too large for a CSV log (over %zu)", path, (long long)st.st_size,
                   MAX_LOG_BYTES);
    char *buf = vkdp_xmalloc((size_t)st.st_size + 1);
    *size = fread(buf, 1, (size_t)st.st_size, f);
    if (ferror(f) || *size != (size_t)st.st_size)
        VKDP_FATAL("--csv-log %s: read error: %s", path, ferror(f) ? vkdp_errno_str() : "file changed size");
    if (fclose(f) != 0)
        VKDP_FATAL("--csv-log %s: close: %s", path, vkdp_errno_str());
    buf[*size] = '\0';
    return buf;
}

/* Writes all of buf to fd, fsyncs and closes it: the row is on disk before training goes on. */
static void write_sync_close(int fd, const char *buf, size_t n, const char *path, const char *name)
{
    for (size_t off = 0; off < n;) {
        ssize_t k = write(fd, buf + off, n - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            VKDP_FATAL("--csv-log %s: write %s: %s", path, name, vkdp_errno_str());
        off += (size_t)k;
    }
    if (fsync(fd) != 0)
        VKDP_FATAL("--csv-log %s: fsync %s: %s", path, name, vkdp_errno_str());
    if (close(fd) != 0)
        VKDP_FATAL("--csv-log %s: close %s: %s", path, name, vkdp_errno_str());
}

/* Writes text to path via a temporary file, fsync and rename, so a crash leaves the old or the new. */
static void replace_file(const char *path, const char *text, size_t n)
{
    size_t plen = strlen(path) + 32;
    char *tmp = vkdp_xmalloc(plen);
    snprintf(tmp, plen, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        VKDP_FATAL("--csv-log %s: cannot create %s: %s", path, tmp, vkdp_errno_str());
    write_sync_close(fd, text, n, path, tmp);
    if (rename(tmp, path) != 0) {
        int e = errno;
        if (unlink(tmp) != 0)
            vkdp_warn("cannot remove %s: %s", tmp, vkdp_errno_str());
        errno = e;
        VKDP_FATAL("--csv-log %s: rename from %s: %s", path, tmp, vkdp_errno_str());
    }
    free(tmp);
}

/* Appends a string to a growing buffer. */
static void put(char **buf, size_t *n, size_t *cap, const char *s, size_t len)
{
    if (*n + len + 1 > *cap) {
        *cap = (*n + len + 1) * 2;
        *buf = vkdp_xrealloc(*buf, *cap);
    }
    memcpy(*buf + *n, s, len);
    *n += len;
    (*buf)[*n] = '\0';
}

/* Keeps FILE's row of each finished epoch (its text as written), fills the missing ones from the
 * checkpoint, drops the rest. */
static void reconcile(const char *path, int has_val, const vkdp_epoch_metrics *hist, int nhist, char *old,
                      size_t oldn)
{
    const char *want_h = header(has_val);
    const char *eol = memchr(old, '\n', oldn);
    size_t hl = eol ? (size_t)(eol - old) : oldn;
    if (hl && old[hl - 1] == '\r')
        hl--;
    if (!eol || hl != strlen(want_h) || memcmp(old, want_h, hl) != 0)
        VKDP_FATAL("--csv-log %s: its first line '%.*s' is not this run's CSV log header '%s'; refusing to append "
                   "to another file (move it away or name another file)",
                   path, (int)(hl < 200 ? hl : 200), old, want_h);
    const char **row = vkdp_xcalloc((size_t)nhist + 1, sizeof *row);
    size_t *rowlen = vkdp_xcalloc((size_t)nhist + 1, sizeof *rowlen);
    int dropped = 0, lineno = 1;
    for (const char *p = eol + 1; p < old + oldn; lineno++) {
        const char *e = memchr(p, '\n', (size_t)(old + oldn - p));
        if (!e) { /* torn last line: a crash during an append */
            dropped++;
            break;
        }
        char *end;
        errno = 0;
        long ep = strtol(p, &end, 10);
        if (end == p || *end != ',' || ep < 0 || errno)
            VKDP_FATAL("--csv-log %s: line %d does not start with an epoch number: '%.*s'", path, lineno + 1,
                       (int)(e - p < 80 ? e - p : 80), p);
        if (ep < nhist && !row[ep]) {
            row[ep] = p;
            rowlen[ep] = (size_t)(e - p + 1);
        } else {
            dropped++;
        }
        p = e + 1;
    }
    char *out = NULL, line[256];
    size_t n = 0, cap = 0;
    int filled = 0;
    put(&out, &n, &cap, old, (size_t)(eol - old + 1));
    for (int i = 0; i < nhist; i++) {
        int e = hist[i].epoch - 1;
        if (e != i)
            VKDP_FATAL("--csv-log %s: the checkpoint's metrics row %d is epoch %d", path, i, hist[i].epoch);
        if (row[e]) {
            put(&out, &n, &cap, row[e], rowlen[e]);
        } else {
            format_row(&hist[i], has_val, line, sizeof line);
            put(&out, &n, &cap, line, strlen(line));
            filled++;
        }
    }
    if (n != oldn || memcmp(out, old, n) != 0) {
        replace_file(path, out, n);
        vkdp_log("CSV log %s: %d row(s) written from the checkpoint, %d row(s) of unfinished or repeated epochs "
                 "dropped.\n", path, filled, dropped);
    }
    free(out);
    free(row);
    free(rowlen);
}

void vkdp_csv_log_start(const char *path, int has_val, int resumed, const vkdp_epoch_metrics *hist, int nhist)
{
    size_t oldn = 0;
    char *old = resumed ? read_log(path, &oldn) : NULL;
    if (old && oldn > 0) {
        reconcile(path, has_val, hist, nhist, old, oldn);
    } else {
        /* fresh run, or a resume without a log yet: the header and the finished epochs */
        char *out = NULL, line[256];
        size_t n = 0, cap = 0;
        snprintf(line, sizeof line, "%s\r\n", header(has_val));
        put(&out, &n, &cap, line, strlen(line));
        for (int i = 0; i < nhist; i++) {
            format_row(&hist[i], has_val, line, sizeof line);
            put(&out, &n, &cap, line, strlen(line));
        }
        replace_file(path, out, n);
        free(out);
    }
    free(old);
}

void vkdp_csv_log_append(const char *path, int has_val, const vkdp_epoch_metrics *m)
{
    char line[256];
    format_row(m, has_val, line, sizeof line);
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0)
        VKDP_FATAL("--csv-log %s: cannot open for appending: %s", path, vkdp_errno_str());
    write_sync_close(fd, line, strlen(line), path, "(append)");
}
