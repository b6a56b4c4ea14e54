/* Decode + resize throughput on the flower photos (not part of ctest): images/s for a plain
 * single-thread loop, and for the prefetching loader with 1 and N decode threads.
 * usage: bench_decode [DATA_DIR [NIMAGES [THREADS [IMAGE_SIZE]]]] */
#include "vkdp/core/common.h"
#include "vkdp/data/data.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int drain(vkdp_loader *l)
{
    vkdp_batch b;
    int got = 0;
    while (vkdp_loader_next(l, &b)) {
        got += b.count;
        vkdp_loader_release(l, &b);
    }
    return got;
}

/* First pass includes creating the ring (page faults); the second reuses it via restart. */
static void run_loader(const vkdp_index *idx, const int *items, int n, int threads, int size)
{
    double t0 = vkdp_now();
    vkdp_loader *l = vkdp_loader_create(idx, items, n, 32, 0, 1, size, threads, 3);
    int got = drain(l);
    double t1 = vkdp_now();
    vkdp_loader_restart(l, items, n);
    got += drain(l);
    double t2 = vkdp_now();
    vkdp_loader_destroy(l);
    if (got != 2 * n)
        fprintf(stderr, "warning: %d of %d images loaded\n", got, 2 * n);
    printf("loader, %d thread(s): %.0f img/s first pass, %.0f img/s after restart\n", threads,
           n / (t1 - t0), n / (t2 - t1));
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "../shared/data/flower_photos";
    int n = argc > 2 ? atoi(argv[2]) : 256;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = argc > 3 ? atoi(argv[3]) : (int)(cores > 0 ? cores : 1);
    int size = argc > 4 ? atoi(argv[4]) : 224;
    vkdp_index idx;
    char err[1024], path[4096], reason[512];
    double t0 = vkdp_now();
    if (vkdp_index_build(dir, NULL, 0, &idx, err, sizeof err) != 0)
        VKDP_FATAL("%s", err);
    double t_index = vkdp_now() - t0;
    vkdp_split sp;
    vkdp_split_make(&idx, 123, 0.2, &sp);
    if (n > sp.ntrain)
        n = sp.ntrain;
    printf("index: %d files in %.3f s (%.0f files/s, header probe included)\n", idx.n, t_index,
           idx.n / t_index);

    float *out = vkdp_xmalloc((size_t)size * size * 3 * sizeof(float));
    double t_dec = 0, t_res = 0;
    for (int i = 0; i < n; i++) {
        uint8_t *rgb;
        int w, h;
        double a = vkdp_now();
        if (vkdp_jpeg_decode_file(vkdp_index_path(&idx, sp.train[i], path, sizeof path), &rgb, &w,
                                  &h, reason, sizeof reason) != 0)
            VKDP_FATAL("%s: %s", path, reason);
        double b = vkdp_now();
        vkdp_resize_bilinear_rgb(rgb, h, w, out, size, size);
        t_res += vkdp_now() - b;
        t_dec += b - a;
        free(rgb);
    }
    free(out);
    printf("plain loop, 1 thread: decode %.0f img/s, resize %.0f img/s, both %.0f img/s (%d images, %dx%d)\n",
           n / t_dec, n / t_res, n / (t_dec + t_res), n, size, size);
    run_loader(&idx, sp.train, n, 1, size);
    run_loader(&idx, sp.train, n, threads, size);
    printf("(%ld cores online; numbers are only meaningful on an otherwise idle machine)\n", cores);
    vkdp_split_free(&sp);
    vkdp_index_free(&idx);
    return 0;
}
