/* Raw float32 files exchanged with the tests/ref/ scripts: exact sizes checked, fatal on error. */
#ifndef VKDP_TEST_F32_IO_H
#define VKDP_TEST_F32_IO_H
#include <stdio.h>

#include "vkdp/core/common.h"

/* Reads exactly n floats (a shorter or longer file is an error naming it). */
static inline float *f32_read(const char *path, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        VKDP_FATAL("cannot open %s: %s", path, vkdp_errno_str());
    float *p = vkdp_xmalloc((n ? n : 1) * sizeof *p);
    size_t got = fread(p, sizeof *p, n, f);
    int trailing = fgetc(f) != EOF;
    fclose(f);
    if (got != n || trailing)
        VKDP_FATAL("%s: not exactly %zu float32 values", path, n);
    return p;
}

static inline void f32_write(const char *path, const float *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, sizeof *p, n, f) != n || fclose(f) != 0)
        VKDP_FATAL("cannot write %s: %s", path, vkdp_errno_str());
}

#endif
