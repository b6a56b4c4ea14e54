/* Decodes one JPEG and resizes it; writes PREFIX.rgb (uint8 [h,w,3]) and PREFIX.f32 (float32
 * [out_h,out_w,3]) and prints "WIDTH HEIGHT" for tests/ref/data_resize_ref.py.
 * With a 5th argument "accurate", also writes PREFIX.islow: the accurate-DCT decode.
 * usage: test_data_resize_dump IMAGE OUT_H OUT_W PREFIX [accurate] */
#include "vkdp/data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int dump(const char *prefix, const char *ext, const void *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s.%s", prefix, ext);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: %s IMAGE OUT_H OUT_W PREFIX\n", argv[0]);
        return 2;
    }
    uint8_t *rgb;
    int w, h, oh = atoi(argv[2]), ow = atoi(argv[3]);
    char reason[512];
    if (vkdp_jpeg_decode_file(argv[1], &rgb, &w, &h, reason, sizeof reason) != 0) {
        fprintf(stderr, "%s: %s\n", argv[1], reason);
        return 1;
    }
    float *out = malloc((size_t)oh * ow * 3 * sizeof(float));
    vkdp_resize_bilinear_rgb(rgb, h, w, out, oh, ow);
    int rc = dump(argv[4], "rgb", rgb, (size_t)w * h * 3) ||
             dump(argv[4], "f32", out, (size_t)oh * ow * 3 * sizeof(float));
    if (argc == 6) {
        uint8_t *islow;
        int w2, h2;
        if (vkdp_jpeg_decode_file_dct(argv[1], 1, &islow, &w2, &h2, reason, sizeof reason) != 0 ||
            w2 != w || h2 != h) {
            fprintf(stderr, "%s: accurate-DCT decode failed: %s\n", argv[1], reason);
            rc = 1;
        } else {
            rc |= dump(argv[4], "islow", islow, (size_t)w * h * 3);
            free(islow);
        }
    }
    printf("%d %d\n", w, h);
    free(rgb);
    free(out);
    return rc ? 1 : 0;
}
