/* Helpers for the data tests: temporary folders under /tmp (removed at the end), file copies and
 * small planted files. */
#ifndef VKDP_DATA_TEST_UTIL_H
#define VKDP_DATA_TEST_UTIL_H
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static inline void tu_die(const char *what, const char *path)
{
    fprintf(stderr, "FAIL %s %s: %s\n", what, path, strerror(errno));
    exit(1);
}

static inline char *tu_mkdtemp(void)
{
    static char buf[64];
    strcpy(buf, "/tmp/vkdp-data-test-XXXXXX");
    if (!mkdtemp(buf))
        tu_die("mkdtemp", buf);
    return buf;
}

static int tu_rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    if (remove(p) != 0)
        fprintf(stderr, "warning: cannot remove %s: %s\n", p, strerror(errno));
    return 0;
}

static inline void tu_rmtree(const char *dir)
{
    nftw(dir, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void tu_mkdir(const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        tu_die("mkdir", path);
}

static inline unsigned char *tu_read(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        tu_die("open", path);
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)sz + 1);
    if (!b || fread(b, 1, (size_t)sz, f) != (size_t)sz)
        tu_die("read", path);
    fclose(f);
    *n = (size_t)sz;
    return b;
}

static inline void tu_write(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        tu_die("create", path);
    if (n && fwrite(data, 1, n, f) != n)
        tu_die("write", path);
    if (fclose(f) != 0)
        tu_die("close", path);
}

static inline void tu_copy(const char *src, const char *dst)
{
    size_t n;
    unsigned char *b = tu_read(src, &n);
    tu_write(dst, b, n);
    free(b);
}

#endif
