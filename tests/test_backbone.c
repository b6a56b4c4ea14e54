/* Whole EfficientNetB0 backbone on the device vs the model's plain-C reference
 * (vkdp_effnet_forward_ref) with the official Keras weights:
 *   - 8 real flower images (decoded with libturbojpeg, bilinear-resized to 224x224; the same
 *     pixels go to both sides), run with a micro-batch of 3 so tiling and two recordings are
 *     exercised;
 *   - 2 random images at 161x189 (odd sizes: asymmetric correct_pad everywhere).
 * usage: test_backbone WEIGHTS.h5 FLOWER_PHOTOS_DIR */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "harness.h"
#include "vkdp/model/backbone.h"
#include "vkdp/model/effnet.h"
#include "vkdp/vk/vk.h"

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        VKDP_FATAL("%s: cannot open: %s", path, vkdp_errno_str());
    if (fseek(f, 0, SEEK_END) != 0)
        VKDP_FATAL("%s: seek failed", path);
    long n = ftell(f);
    if (n <= 0 || fseek(f, 0, SEEK_SET) != 0)
        VKDP_FATAL("%s: empty or unreadable", path);
    unsigned char *buf = vkdp_xmalloc((size_t)n);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n)
        VKDP_FATAL("%s: short read", path);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* JPEG -> RGB -> bilinear (half-pixel centres) resize to size x size, floats in [0,255]. */
static void load_image(const char *path, int size, float *out)
{
    size_t len;
    unsigned char *jpg = read_file(path, &len);
    tjhandle tj = tjInitDecompress();
    if (!tj)
        VKDP_FATAL("tjInitDecompress: %s", tjGetErrorStr());
    int w, h, subsamp, colorspace;
    if (tjDecompressHeader3(tj, jpg, (unsigned long)len, &w, &h, &subsamp, &colorspace) != 0)
        VKDP_FATAL("%s: %s", path, tjGetErrorStr2(tj));
    unsigned char *rgb = vkdp_xmalloc((size_t)w * h * 3);
    if (tjDecompress2(tj, jpg, (unsigned long)len, rgb, w, 0, h, TJPF_RGB, 0) != 0)
        VKDP_FATAL("%s: %s", path, tjGetErrorStr2(tj));
    tjDestroy(tj);
    for (int oy = 0; oy < size; oy++) {
        float fy = ((float)oy + 0.5f) * (float)h / (float)size - 0.5f;
        fy = fy < 0 ? 0 : fy;
        int y0 = (int)fy, y1 = y0 + 1 < h ? y0 + 1 : h - 1;
        float ay = fy - (float)y0;
        for (int ox = 0; ox < size; ox++) {
            float fx = ((float)ox + 0.5f) * (float)w / (float)size - 0.5f;
            fx = fx < 0 ? 0 : fx;
            int x0 = (int)fx, x1 = x0 + 1 < w ? x0 + 1 : w - 1;
            float ax = fx - (float)x0;
            for (int c = 0; c < 3; c++) {
                float p00 = rgb[((size_t)y0 * w + x0) * 3 + c], p01 = rgb[((size_t)y0 * w + x1) * 3 + c];
                float p10 = rgb[((size_t)y1 * w + x0) * 3 + c], p11 = rgb[((size_t)y1 * w + x1) * 3 + c];
                out[((size_t)oy * size + ox) * 3 + c] =
                    (1 - ay) * ((1 - ax) * p00 + ax * p01) + ay * ((1 - ax) * p10 + ax * p11);
            }
        }
    }
    free(rgb);
    free(jpg);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The first n JPEGs (by name) of dir/cls into paths. */
static void first_images(const char *dir, const char *cls, int n, char paths[][4096])
{
    char sub[4096];
    snprintf(sub, sizeof(sub), "%s/%s", dir, cls);
    DIR *d = opendir(sub);
    if (!d)
        VKDP_FATAL("%s: cannot open directory: %s", sub, vkdp_errno_str());
    char **names = NULL;
    size_t count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l > 4 && !strcmp(e->d_name + l - 4, ".jpg")) {
            names = vkdp_xrealloc(names, (count + 1) * sizeof(*names));
            names[count++] = vkdp_xstrdup(e->d_name);
        }
    }
    closedir(d);
    if (count < (size_t)n)
        VKDP_FATAL("%s: %zu JPEGs, need %d", sub, count, n);
    qsort(names, count, sizeof(*names), cmp_names);
    for (int i = 0; i < n; i++)
        if (snprintf(paths[i], 4096, "%s/%s", sub, names[i]) >= 4096)
            VKDP_FATAL("%s/%s: path too long", sub, names[i]);
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

static int compare(const char *what, const float *got, const float *ref, size_t n)
{
    test_err e = test_compare(got, ref, n);
    int ok = e.nonfinite == 0 && e.l2_rel <= 1e-4;
    printf("%-4s %-40s n=%-6zu l2_rel=%.3e (tol 1.0e-04) max_rel=%.3e max_abs=%.3e\n",
           ok ? "ok" : "FAIL", what, n, e.l2_rel, e.rel, e.max_abs);
    fflush(stdout);
    return ok;
}

static int run_case(vkdp_device *dev, const vkdp_effnet *net, const char *what,
                    const float *images, int B, int H, int W, int max_batch)
{
    size_t nf = (size_t)B * VKDP_EFFNET_FEATURES;
    float *got = vkdp_xmalloc(nf * sizeof(float)), *ref = vkdp_xmalloc(nf * sizeof(float));
    vkdp_backbone *bb = vkdp_backbone_create(dev, net, H, W, max_batch);
    vkdp_backbone_forward(bb, images, B, got);
    double t0 = vkdp_now();
    vkdp_effnet_forward_ref(net, images, B, H, W, ref);
    printf("     reference forward of %d images: %.1f s\n", B, vkdp_now() - t0);
    int ok = compare(what, got, ref, nf);
    /* a second submission of the same recordings must give the same features */
    float *again = vkdp_xmalloc(nf * sizeof(float));
    vkdp_backbone_forward(bb, images, B, again);
    ok &= test_check("resubmitted recording, same result", again, got, nf, 0.0);
    vkdp_backbone_destroy(bb);
    free(got), free(ref), free(again);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s WEIGHTS.h5 FLOWER_PHOTOS_DIR\n", argv[0]);
        return 2;
    }
    vkdp_effnet net;
    char err[1024];
    if (vkdp_effnet_load(&net, argv[1], 0, 0, err, sizeof(err)) != 0) {
        fprintf(stderr, "test_backbone: %s\n", err);
        return 1;
    }
    vkdp_device_opts opts;
    vkdp_device_opts_default(&opts);
    vkdp_device *dev = vkdp_device_create(&opts);
    int ok = 1;

    const int S = 224, B = 8;
    static const char *classes[] = {"daisy", "dandelion", "roses", "sunflowers"};
    static char paths[8][4096];
    float *images = vkdp_xmalloc((size_t)B * S * S * 3 * sizeof(float));
    for (int c = 0; c < 4; c++)
        first_images(argv[2], classes[c], 2, paths + 2 * c);
    for (int i = 0; i < B; i++)
        load_image(paths[i], S, images + (size_t)i * S * S * 3);
    ok &= run_case(dev, &net, "8 flowers 224x224, micro-batch 3", images, B, S, S, 3);
    free(images);

    const int h = 161, w = 189;
    float *rnd = vkdp_xmalloc((size_t)2 * h * w * 3 * sizeof(float));
    test_fill_uniform(rnd, (size_t)2 * h * w * 3, 77, 0.0f, 255.0f);
    ok &= run_case(dev, &net, "2 random 161x189", rnd, 2, h, w, 8);
    free(rnd);

    vkdp_device_destroy(dev);
    vkdp_effnet_free(&net);
    printf("%s\n", ok ? "backbone: all ok" : "backbone: FAILED");
    return ok ? 0 : 1;
}
