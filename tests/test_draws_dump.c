/* Prints vkdp's random draws for tests/ref/vkdp_draws_check.py, which compares them bit for bit
 * with tests/bench/vkdp_draws.py (the peer's replay of them: torch_finetune.py --vkdp-draws):
 *   order SEED EPOCH N                    vkdp_epoch_order of 0..N-1, one index per line
 *   kernel SEED F C                       the head's initial Dense kernel [F, C], %a per line
 *   dropout SEED EPOCH POS0 COUNT F       the head's dropout keep bits of samples POS0.., a line of
 *                                         F digits per sample
 *   dropconnect SEED RATE EPOCH POS0 COUNT BLOCK   the drop-connect scale of samples POS0.., %a */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkdp/core/common.h"
#include "vkdp/data/data.h"
#include "vkdp/model/ft_part.h"
#include "vkdp/model/head.h"
#include "vkdp/ops/head_ref.h"

static unsigned long long num(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end)
        VKDP_FATAL("test_draws_dump: '%s' is not a number", s);
    return v;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "order")) {
        int n = (int)num(argv[4]);
        int *x = vkdp_xcalloc((size_t)n + 1, sizeof *x);
        for (int i = 0; i < n; i++)
            x[i] = i;
        vkdp_epoch_order(x, n, (uint32_t)num(argv[2]), (int)num(argv[3]), x);
        for (int i = 0; i < n; i++)
            printf("%d\n", x[i]);
        free(x);
        return 0;
    }
    if (argc == 5 && !strcmp(argv[1], "kernel")) {
        vkdp_head_cfg cfg;
        vkdp_head_cfg_default(&cfg);
        cfg.seed = num(argv[2]);
        cfg.feat_dim = (int)num(argv[3]);
        cfg.nclasses = (int)num(argv[4]);
        vkdp_head *h = vkdp_head_create(NULL, &cfg); /* no device: the C reference head */
        float *k = vkdp_xcalloc((size_t)cfg.feat_dim * cfg.nclasses, sizeof *k);
        vkdp_head_tensor_get(h, vkdp_head_tensor_find(h, "pred/pred/kernel:0"), k);
        for (size_t i = 0; i < (size_t)cfg.feat_dim * cfg.nclasses; i++)
            printf("%a\n", k[i]);
        free(k);
        vkdp_head_destroy(h);
        return 0;
    }
    if (argc == 7 && !strcmp(argv[1], "dropout")) {
        vkdp_head_cfg cfg;
        vkdp_head_cfg_default(&cfg);
        /* the key vkdp_head_train_step uses: seed (--draw-seed), epoch, the configured rate */
        vkdp_dropout_key k = {num(argv[2]), (uint32_t)num(argv[3]), 1, (float)cfg.dropout,
                              (float)(1.0 / (1.0 - cfg.dropout))};
        uint64_t pos0 = num(argv[4]), count = num(argv[5]);
        uint32_t f = (uint32_t)num(argv[6]);
        for (uint64_t i = 0; i < count; i++) {
            for (uint32_t j = 0; j < f; j++)
                putchar('0' + vkdp_dropout_keep(&k, pos0 + i, j));
            putchar('\n');
        }
        return 0;
    }
    if (argc == 8 && !strcmp(argv[1], "dropconnect")) {
        uint64_t seed = num(argv[2]), pos0 = num(argv[5]), count = num(argv[6]);
        double rate = strtod(argv[3], NULL);
        for (uint64_t i = 0; i < count; i++)
            printf("%a\n", vkdp_ftpart_drop_scale(seed, rate, (uint32_t)num(argv[4]), (int64_t)(pos0 + i),
                                                   (int)num(argv[7])));
        return 0;
    }
    fprintf(stderr, "usage: %s order SEED EPOCH N | kernel SEED F C | dropout SEED EPOCH POS0 COUNT F | "
                    "dropconnect SEED RATE EPOCH POS0 COUNT BLOCK\n", argv[0]);
    return 2;
}
