/* EfficientNetB0 backbone forward throughput on the active Vulkan device: images/s at each
 * requested batch size, the per-op time table of one profiled batch, and peak device memory.
 * usage: bench_forward WEIGHTS.h5 [--no-profile] [SECONDS_PER_BATCH [BATCH...]]
 *        (default 5 s, batches 8 32; the profiled batch is the last one)
 * Prints "ours batch=N images_per_s=X" lines for tests/bench/forward.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkdp/model/backbone.h"
#include "vkdp/model/effnet.h"
#include "vkdp/vk/vk.h"

#define SIZE 224

static void fill_images(float *x, size_t n)
{
    uint64_t s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)(s >> 40) * (255.0f / 16777216.0f);
    }
}

static void bench_batch(const vkdp_effnet *net, int batch, double seconds)
{
    vkdp_device_opts opts;
    vkdp_device_opts_default(&opts);
    vkdp_device *dev = vkdp_device_create(&opts);
    size_t n = (size_t)batch * SIZE * SIZE * 3;
    float *images = vkdp_xmalloc(n * sizeof(float));
    float *pooled = vkdp_xmalloc((size_t)batch * VKDP_EFFNET_FEATURES * sizeof(float));
    fill_images(images, n);
    vkdp_backbone *bb = vkdp_backbone_create(dev, net, SIZE, SIZE, batch);
    vkdp_backbone_forward(bb, images, batch, pooled); /* warm-up: recording, pipeline compiles */
    int iters = 0;
    double t0 = vkdp_now(), t;
    do {
        vkdp_backbone_forward(bb, images, batch, pooled);
        iters++;
        t = vkdp_now() - t0;
    } while (t < seconds || iters < 2);
    printf("ours batch=%d images_per_s=%.2f iters=%d micro_batch=%llu peak_device_mem_mib=%.1f\n",
           batch, (double)batch * iters / t, iters,
           (unsigned long long)vkdp_backbone_micro_batch(bb), vkdp_mem_peak(dev) / 1048576.0);
    fflush(stdout);
    vkdp_backbone_destroy(bb);
    vkdp_device_destroy(dev);
    free(images);
    free(pooled);
}

/* One profiled batch: per-op timestamps, grouped by op kind. */
static void profile_batch(const vkdp_effnet *net, int batch)
{
    vkdp_device_opts opts;
    vkdp_device_opts_default(&opts);
    opts.profile = 1;
    vkdp_device *dev = vkdp_device_create(&opts);
    size_t n = (size_t)batch * SIZE * SIZE * 3;
    float *images = vkdp_xmalloc(n * sizeof(float));
    float *pooled = vkdp_xmalloc((size_t)batch * VKDP_EFFNET_FEATURES * sizeof(float));
    fill_images(images, n);
    vkdp_backbone *bb = vkdp_backbone_create(dev, net, SIZE, SIZE, batch);
    vkdp_backbone_forward(bb, images, batch, pooled);
    vkdp_profile *prof = vkdp_profile_create();
    vkdp_backbone_set_profile(bb, prof);
    vkdp_backbone_forward(bb, images, batch, pooled);
    printf("per-op device time, one forward of %d images (%.1f ms total):\n", batch,
           vkdp_profile_total_ms(prof));
    vkdp_profile_print(prof, stdout);
    fflush(stdout);
    vkdp_profile_destroy(prof);
    vkdp_backbone_destroy(bb);
    vkdp_device_destroy(dev);
    free(images);
    free(pooled);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s WEIGHTS.h5 [--no-profile] [SECONDS_PER_BATCH [BATCH...]]\n",
                argv[0]);
        return 2;
    }
    int profile = 1;
    if (argc > 2 && !strcmp(argv[2], "--no-profile")) {
        profile = 0;
        argv[2] = argv[1];
        argv++;
        argc--;
    }
    double seconds = argc > 2 ? atof(argv[2]) : 5.0;
    int batches[16] = {8, 32}, nbatch = 2;
    if (argc > 3) {
        nbatch = 0;
        for (int i = 3; i < argc && nbatch < 16; i++)
            batches[nbatch++] = atoi(argv[i]);
    }
    for (int i = 0; i < nbatch; i++)
        if (batches[i] < 1) {
            fprintf(stderr, "bench_forward: bad batch size '%s'\n", argv[3 + i]);
            return 2;
        }
    if (seconds <= 0) {
        fprintf(stderr, "bench_forward: bad seconds '%s'\n", argv[2]);
        return 2;
    }
    vkdp_effnet net;
    char err[1024];
    if (vkdp_effnet_load(&net, argv[1], 0, 0, err, sizeof(err)) != 0) {
        fprintf(stderr, "bench_forward: %s\n", err);
        return 1;
    }
    vkdp_devices_print(stdout);
    for (int i = 0; i < nbatch; i++)
        bench_batch(&net, batches[i], seconds);
    if (profile)
        profile_batch(&net, batches[nbatch - 1]);
    vkdp_effnet_free(&net);
    return 0;
}
