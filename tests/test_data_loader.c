/* Prefetching loader vs direct decoding: for P = 1..4 ranks, several thread counts and ring
 * depths, every rank's batches must hold exactly its shard slice of the epoch order (ids, global
 * positions, labels) with images bitwise equal to vkdp_jpeg_decode_file + vkdp_resize_bilinear_rgb,
 * the same number of steps on every rank, every sample once; holding ring_depth-1 batches while
 * prefetching, an empty epoch, destroying mid-epoch and restarting with a new order must work.
 * usage: test_data_loader FLOWER_DIR */
#include "vkdp/data/data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NITEMS 23 /* not divisible by the batch (5) nor by 2, 3, 4 ranks */
#define BATCH 5
#define SIZE 40

static int fails;

static void expect(int cond, const char *what, int p, int r, int step)
{
    if (!cond) {
        if (fails < 20)
            printf("FAIL %s (ranks %d rank %d step %d)\n", what, p, r, step);
        fails++;
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FLOWER_DIR\n", argv[0]);
        return 2;
    }
    vkdp_index idx;
    char err[1024], path[4096], reason[512];
    if (vkdp_index_build(argv[1], NULL, 0, &idx, err, sizeof err) != 0) {
        printf("FAIL index: %s\n", err);
        return 1;
    }
    vkdp_split sp;
    vkdp_split_make(&idx, 123, 0.2, &sp);
    int *order = malloc((size_t)sp.ntrain * sizeof(int));
    vkdp_epoch_order(sp.train, sp.ntrain, 123, 0, order);
    const int *items = order;

    /* Reference: direct decode + resize of each item. */
    const size_t px = (size_t)SIZE * SIZE * 3;
    float *ref = malloc(NITEMS * px * sizeof(float));
    for (int i = 0; i < NITEMS; i++) {
        uint8_t *rgb;
        int w, h;
        if (vkdp_jpeg_decode_file(vkdp_index_path(&idx, items[i], path, sizeof path), &rgb, &w, &h,
                                  reason, sizeof reason) != 0) {
            printf("FAIL decode %s: %s\n", path, reason);
            return 1;
        }
        vkdp_resize_bilinear_rgb(rgb, h, w, ref + i * px, SIZE, SIZE);
        free(rgb);
    }

    const int configs[][2] = {{1, 1}, {2, 2}, {3, 3}, {2, 4}}; /* threads, ring depth */
    int runs = 0;
    for (int p = 1; p <= 4; p++) {
        for (size_t c = 0; c < sizeof configs / sizeof *configs; c++) {
            int seen[NITEMS] = {0};
            int steps_expected = vkdp_num_steps(NITEMS, BATCH);
            for (int r = 0; r < p; r++) {
                int threads = configs[c][0], depth = configs[c][1];
                vkdp_loader *l = vkdp_loader_create(&idx, items, NITEMS, BATCH, r, p, SIZE, threads, depth);
                expect(vkdp_loader_steps(l) == steps_expected, "steps = ceil(N/B)", p, r, -1);
                vkdp_batch held[4];
                int nheld = 0, steps = 0;
                vkdp_batch b;
                while (vkdp_loader_next(l, &b)) {
                    int lo, hi;
                    vkdp_shard_range(NITEMS, BATCH, steps, r, p, &lo, &hi);
                    expect(b.step == steps, "steps in order", p, r, b.step);
                    expect(b.global_lo == lo && b.global_hi == hi, "slice = shard range", p, r, b.step);
                    expect(b.count == hi - lo && b.skipped == 0, "all samples decoded", p, r, b.step);
                    for (int k = 0; k < b.count; k++) {
                        int pos = lo + k;
                        expect(b.pos[k] == pos && b.ids[k] == items[pos], "ids and positions", p, r, b.step);
                        expect(b.labels[k] == idx.label[items[pos]], "labels", p, r, b.step);
                        expect(!memcmp(b.images + k * px, ref + pos * px, px * sizeof(float)),
                               "image equals direct decode + resize", p, r, b.step);
                        seen[pos]++;
                    }
                    steps++;
                    /* Hold up to depth-1 batches while the ring prefetches the next ones. */
                    held[nheld++] = b;
                    if (nheld >= depth) {
                        vkdp_loader_release(l, &held[0]);
                        memmove(held, held + 1, (size_t)(--nheld) * sizeof *held);
                    }
                }
                while (nheld)
                    vkdp_loader_release(l, &held[--nheld]);
                expect(steps == steps_expected, "same step count on every rank", p, r, steps);
                vkdp_loader_destroy(l);
                runs++;
            }
            for (int i = 0; i < NITEMS; i++)
                expect(seen[i] == 1, "every sample exactly once across ranks", p, -1, i);
        }
    }
    printf("%s loader: %d rank runs (P=1..4, threads 1-3, ring 1-4) match direct decoding\n",
           fails ? "FAIL" : "ok", runs);

    int f0 = fails;
    vkdp_loader *l = vkdp_loader_create(&idx, items, 0, BATCH, 0, 1, SIZE, 2, 2);
    vkdp_batch b;
    expect(vkdp_loader_next(l, &b) == 0, "empty epoch has no step", 1, 0, 0);
    vkdp_loader_destroy(l);
    l = vkdp_loader_create(&idx, items, NITEMS, BATCH, 0, 1, SIZE, 2, 3);
    expect(vkdp_loader_next(l, &b) == 1, "first batch", 1, 0, 0);
    vkdp_loader_release(l, &b);
    vkdp_loader_destroy(l); /* mid-epoch, workers busy: must not hang or leak */
    printf("%s loader: empty epoch, destroy mid-epoch\n", fails > f0 ? "FAIL" : "ok");

    /* Restart mid-epoch with another order (reversed, shorter): same checks on the new order. */
    f0 = fails;
    enum { N2 = 20 };
    int items2[N2];
    for (int i = 0; i < N2; i++)
        items2[i] = items[NITEMS - 1 - i];
    l = vkdp_loader_create(&idx, items, NITEMS, BATCH, 1, 2, SIZE, 2, 3);
    expect(vkdp_loader_next(l, &b) == 1, "first batch before restart", 2, 1, 0);
    vkdp_loader_release(l, &b);
    for (int round = 0; round < 2; round++) {
        vkdp_loader_restart(l, items2, N2);
        int steps = 0;
        while (vkdp_loader_next(l, &b)) {
            int lo, hi;
            vkdp_shard_range(N2, BATCH, steps, 1, 2, &lo, &hi);
            expect(b.step == steps && b.global_lo == lo && b.count == hi - lo, "restarted slices", 2, 1, steps);
            for (int k = 0; k < b.count; k++)
                expect(b.ids[k] == items2[lo + k] &&
                           !memcmp(b.images + k * px, ref + (NITEMS - 1 - (lo + k)) * px, px * sizeof(float)),
                       "restarted images", 2, 1, steps);
            vkdp_loader_release(l, &b);
            steps++;
        }
        expect(steps == vkdp_num_steps(N2, BATCH), "restarted step count", 2, 1, steps);
    }
    vkdp_loader_destroy(l);
    printf("%s loader: restart mid-epoch and after an epoch with a new order\n", fails > f0 ? "FAIL" : "ok");

    free(ref);
    free(order);
    vkdp_split_free(&sp);
    vkdp_index_free(&idx);
    return fails ? 1 : 0;
}
