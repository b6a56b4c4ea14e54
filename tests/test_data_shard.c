/* Sharding of an epoch across P ranks: every position exactly once per epoch, nothing twice, the
 * same step count on every rank, contiguous slices in rank order that differ by at most one
 * sample; and the epoch order: a permutation fixed by (seed, epoch), different across epochs. */
#include "vkdp/data/data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fails;

static void expect(int cond, const char *what, int n, int b, int p)
{
    if (!cond) {
        printf("FAIL %s (n=%d batch=%d ranks=%d)\n", what, n, b, p);
        fails++;
    }
}

static void check_shard(int n, int b, int p)
{
    int *seen = calloc((size_t)(n ? n : 1), sizeof(int));
    int steps = vkdp_num_steps(n, b);
    expect(steps == (n + b - 1) / b, "steps = ceil(n/B)", n, b, p);
    for (int s = 0; s < steps; s++) {
        int m = (s + 1) * b < n ? b : n - s * b;
        int prev_hi = s * b, minc = m, maxc = 0;
        for (int r = 0; r < p; r++) {
            int lo, hi;
            vkdp_shard_range(n, b, s, r, p, &lo, &hi);
            expect(lo == prev_hi && hi >= lo, "slices contiguous in rank order", n, b, p);
            prev_hi = hi;
            minc = hi - lo < minc ? hi - lo : minc;
            maxc = hi - lo > maxc ? hi - lo : maxc;
            for (int i = lo; i < hi; i++)
                if (i >= 0 && i < n)
                    seen[i]++;
        }
        expect(prev_hi == s * b + m, "slices cover the step's batch", n, b, p);
        expect(maxc - minc <= 1, "slices balanced within one sample", n, b, p);
    }
    /* A step past the end is empty on every rank. */
    int lo, hi;
    vkdp_shard_range(n, b, steps, p - 1, p, &lo, &hi);
    expect(hi == lo, "no samples after the last step", n, b, p);
    for (int i = 0; i < n; i++)
        expect(seen[i] == 1, "every sample exactly once", n, b, p);
    free(seen);
}

int main(void)
{
    const int ns[] = {0, 1, 2, 3, 5, 31, 32, 33, 37, 100, 734, 2936};
    const int bs[] = {1, 2, 4, 7, 32};
    int cases = 0;
    for (size_t i = 0; i < sizeof ns / sizeof *ns; i++)
        for (size_t j = 0; j < sizeof bs / sizeof *bs; j++)
            for (int p = 1; p <= 4; p++, cases++)
                check_shard(ns[i], bs[j], p);
    printf("%s sharding: %d cases (P = 1..4, N not divisible by B nor P included)\n",
           fails ? "FAIL" : "ok", cases);

    int n = 2936, f0 = fails;
    int *items = malloc(n * sizeof(int)), *a = malloc(n * sizeof(int)), *b = malloc(n * sizeof(int));
    int *cnt = calloc(10000, sizeof(int));
    for (int i = 0; i < n; i++)
        items[i] = 3 * i + 1; /* arbitrary ids: the order permutes the given list */
    vkdp_epoch_order(items, n, 123, 0, a);
    vkdp_epoch_order(items, n, 123, 0, b);
    expect(!memcmp(a, b, n * sizeof(int)), "epoch order reproducible", n, 0, 0);
    for (int i = 0; i < n; i++)
        cnt[a[i]]++;
    for (int i = 0; i < n; i++)
        expect(cnt[items[i]] == 1, "epoch order is a permutation of the items", n, 0, 0);
    vkdp_epoch_order(items, n, 123, 1, b);
    expect(memcmp(a, b, n * sizeof(int)) != 0, "epochs 0 and 1 differ", n, 0, 0);
    vkdp_epoch_order(items, n, 124, 0, b);
    expect(memcmp(a, b, n * sizeof(int)) != 0, "seeds 123 and 124 differ", n, 0, 0);
    memcpy(b, items, n * sizeof(int));
    vkdp_epoch_order(b, n, 123, 0, b);
    expect(!memcmp(a, b, n * sizeof(int)), "in-place epoch order equals out-of-place", n, 0, 0);
    int fixed = 0;
    for (int i = 0; i < n; i++)
        fixed += a[i] == items[i];
    expect(fixed < 20, "epoch order actually shuffles", n, 0, 0);
    printf("%s epoch order: permutation of (seed, epoch) only, %d fixed points of %d\n",
           fails > f0 ? "FAIL" : "ok", fixed, n);
    free(items);
    free(a);
    free(b);
    free(cnt);
    return fails ? 1 : 0;
}
