/* Decodes one JPEG and resizes it to each requested size; writes PREFIX.rgb (uint8 [h,w,3]),
 * PREFIX.islow (the accurate-DCT decode, uint8 [h,w,3]) and PREFIX_<H>x<W>.f32 (float32
 * [H,W,3]) and prints "WIDTH HEIGHT" for tests/ref/data_resize_ref.py.
 * usage: test_data_resize_dump IMAGE PREFIX H W [H W ...] */
#include "vkdp/data/data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int dump(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc % 2 != 1) {
        fprintf(stderr, "usage: %s IMAGE PREFIX H W [H W ...]\n", argv[0]);
        return 2;
    }
    uint8_t *rgb, *islow;
    int w, h, w2, h2;
    char reason[512], path[4096];
    if (vkdp_jpeg_decode_file(argv[1], &rgb, &w, &h, reason, sizeof reason) != 0) {
        fprintf(stderr, "%s: %s\n", argv[1], reason);
        return 1;
    }
    if (vkdp_jpeg_decode_file_dct(argv[1], 1, &islow, &w2, &h2, reason, sizeof reason) != 0 ||
        w2 != w || h2 != h) {
        fprintf(stderr, "%s: accurate-DCT decode failed: %s\n", argv[1], reason);
        free(rgb);
        return 1;
    }
    snprintf(path, sizeof path, "%s.rgb", argv[2]);
    int rc = dump(path, rgb, (size_t)w * h * 3);
    snprintf(path, sizeof path, "%s.islow", argv[2]);
    rc |= dump(path, islow, (size_t)w * h * 3);
    for (int a = 3; a + 1 < argc; a += 2) {
        int oh = atoi(argv[a]), ow = atoi(argv[a + 1]);
        float *out = malloc((size_t)oh * ow * 3 * sizeof(float));
        vkdp_resize_bilinear_rgb(rgb, h, w, out, oh, ow);
        snprintf(path, sizeof path, "%s_%dx%d.f32", argv[2], oh, ow);
        rc |= dump(path, out, (size_t)oh * ow * 3 * sizeof(float));
        free(out);
    }
    printf("%d %d\n", w, h);
    free(rgb);
    free(islow);
    return rc ? 1 : 0;
}
