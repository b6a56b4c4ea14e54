/* Dumps what tests/ref/data_split_ref.py compares with numpy:
 *   shuffle SEED N            the numpy RandomState(SEED).shuffle permutation of range(N)
 *   mt SEED K                 the first K raw MT19937 outputs of RandomState(SEED)
 *   split DIR SEED FRAC [a,b] "train PATH LABEL" / "val PATH LABEL" lines in order */
#include "vkdp/core/strlist.h"
#include "vkdp/data/data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[1], "shuffle")) {
        uint32_t seed = (uint32_t)strtoul(argv[2], NULL, 10);
        int n = atoi(argv[3]);
        int *x = malloc((size_t)(n ? n : 1) * sizeof(int));
        for (int i = 0; i < n; i++)
            x[i] = i;
        vkdp_mt19937 mt;
        vkdp_mt_seed(&mt, seed);
        vkdp_mt_shuffle_int(&mt, x, (size_t)n);
        for (int i = 0; i < n; i++)
            printf("%d\n", x[i]);
        free(x);
        return 0;
    }
    if (argc >= 4 && !strcmp(argv[1], "mt")) {
        vkdp_mt19937 mt;
        vkdp_mt_seed(&mt, (uint32_t)strtoul(argv[2], NULL, 10));
        for (int i = 0, k = atoi(argv[3]); i < k; i++)
            printf("%u\n", vkdp_mt_next(&mt));
        return 0;
    }
    if (argc >= 5 && !strcmp(argv[1], "split")) {
        char **names = NULL;
        int nn = argc >= 6 ? vkdp_split_csv(argv[5], &names) : 0;
        vkdp_index idx;
        char err[1024], path[4096];
        if (vkdp_index_build(argv[2], (const char *const *)names, nn, &idx, err, sizeof err) != 0) {
            fprintf(stderr, "index failed: %s\n", err);
            vkdp_free_strings(names, nn);
            return 1;
        }
        vkdp_split sp;
        vkdp_split_make(&idx, (uint32_t)strtoul(argv[3], NULL, 10), atof(argv[4]), &sp);
        for (int i = 0; i < sp.ntrain; i++)
            printf("train %s %d\n", vkdp_index_path(&idx, sp.train[i], path, sizeof path),
                   idx.label[sp.train[i]]);
        for (int i = 0; i < sp.nval; i++)
            printf("val %s %d\n", vkdp_index_path(&idx, sp.val[i], path, sizeof path),
                   idx.label[sp.val[i]]);
        vkdp_split_free(&sp);
        vkdp_index_free(&idx);
        vkdp_free_strings(names, nn);
        return 0;
    }
    fprintf(stderr, "usage: %s shuffle SEED N | mt SEED K | split DIR SEED FRAC [classes]\n", argv[0]);
    return 2;
}
