/* test_dump_inputs DIR N SIZE OUT.f32 [LABELS.txt]: the first N images of DIR in Keras' index
 * order, decoded and resized exactly as the trainer's loader does, as raw float32
 * [N, SIZE, SIZE, 3] (and their class indices, one per line); feeds the independent PyTorch
 * reference the same pixels `trainer features` saw. */
#include <stdio.h>
#include <stdlib.h>

#include "vkdp/core/common.h"
#include "vkdp/data/data.h"

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: test_dump_inputs DIR N SIZE OUT.f32 [LABELS.txt]\n");
        return 2;
    }
    int n = atoi(argv[2]), S = atoi(argv[3]);
    vkdp_index idx;
    char err[4096], path[4096], reason[512];
    if (vkdp_index_build(argv[1], NULL, 0, &idx, err, sizeof err) != 0)
        VKDP_FATAL("%s", err);
    if (n > idx.n)
        n = idx.n;
    FILE *f = fopen(argv[4], "wb");
    if (!f)
        VKDP_FATAL("%s: %s", argv[4], vkdp_errno_str());
    float *img = vkdp_xmalloc((size_t)S * S * 3 * sizeof *img);
    for (int i = 0; i < n; i++) {
        uint8_t *rgb;
        int w, h;
        if (vkdp_jpeg_decode_file(vkdp_index_path(&idx, i, path, sizeof path), &rgb, &w, &h, reason, sizeof reason))
            VKDP_FATAL("%s: %s", path, reason);
        vkdp_resize_bilinear_rgb(rgb, h, w, img, S, S);
        free(rgb);
        if (fwrite(img, sizeof *img, (size_t)S * S * 3, f) != (size_t)S * S * 3)
            VKDP_FATAL("%s: write failed", argv[4]);
    }
    if (fclose(f) != 0)
        VKDP_FATAL("%s: %s", argv[4], vkdp_errno_str());
    if (argc == 6) {
        FILE *l = fopen(argv[5], "w");
        if (!l)
            VKDP_FATAL("%s: %s", argv[5], vkdp_errno_str());
        for (int i = 0; i < n; i++)
            if (fprintf(l, "%d\n", idx.label[i]) < 0)
                VKDP_FATAL("%s: write failed", argv[5]);
        if (fclose(l) != 0)
            VKDP_FATAL("%s: %s", argv[5], vkdp_errno_str());
    }
    printf("dumped %d images of %s\n", n, argv[1]);
    free(img);
    vkdp_index_free(&idx);
    return 0;
}
