/* Gradient buckets (vkdp/dist/bucket.h) under mpirun -np P: the layout (whole tensors, a small
 * first bucket, a tensor above the cap alone), and two steps of exact fixed-point sums over a
 * sample set split across the ranks, each rank marking its tensors ready in a different order:
 * every rank must end with the bits of the one-process sum over all samples, so -np 1, 2 and 4
 * agree bit for bit; and vkdp_buckets_probe between steps. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vkdp/dist/bucket.h"
#include "vkdp/dist/dist.h"
#include "vkdp/ops/head_fx.h"

#define NT 7
#define SAMPLES 37

static const size_t elems[NT] = {100, 128, 5, 4000, 20, 3000, 10};

/* sample s's contribution to element e of the block, in float as a gradient term would be */
static float term(int step, int s, size_t e)
{
    return (float)sin(0.001 * (double)e * (s + 1) + step) * (float)(1.0 / (1 + s % 5));
}

static int check_layout(const vkdp_buckets *b)
{
    static const int first[] = {0, 1, 3, 4}, count[] = {1, 2, 1, 3};
    int ok = vkdp_buckets_count(b) == 4;
    for (int k = 0; ok && k < 4; k++) {
        int f, n;
        size_t off, ne;
        vkdp_buckets_range(b, k, &f, &n, &off, &ne);
        ok &= f == first[k] && n == count[k] && off == vkdp_buckets_offset(b, f);
    }
    return ok;
}

static int run_step(vkdp_buckets *b, const vkdp_dist_info *d, int step, double *wait_s)
{
    size_t total = vkdp_buckets_offset(b, NT - 1) + elems[NT - 1];
    int lo = d->rank * SAMPLES / d->size, hi = (d->rank + 1) * SAMPLES / d->size;
    int64_t *data = vkdp_buckets_data(b);
    uint32_t ovf = 0;
    for (int i = 0; i < NT; i++) {
        int t = d->rank % 2 ? NT - 1 - i : i; /* odd ranks produce their tensors in reverse */
        size_t off = vkdp_buckets_offset(b, t);
        for (size_t e = off; e < off + elems[t]; e++) {
            int64_t s = 0;
            for (int smp = lo; smp < hi; smp++)
                s += vkdp_fx(term(step, smp, e), VKDP_FX_GRAD_SHIFT, &ovf);
            data[e] = s;
        }
        vkdp_buckets_ready(b, t);
        vkdp_buckets_progress(b);
    }
    *wait_s += vkdp_buckets_wait(b);
    size_t bad = 0;
    for (size_t e = 0; e < total; e++) {
        int64_t s = 0;
        for (int smp = 0; smp < SAMPLES; smp++)
            s += vkdp_fx(term(step, smp, e), VKDP_FX_GRAD_SHIFT, &ovf);
        bad += data[e] != s;
    }
    return bad == 0 && ovf == 0;
}

int main(int argc, char **argv)
{
    if (vkdp_dist_init(&argc, &argv) != 0)
        return 1;
    vkdp_dist_info d;
    vkdp_dist_info_get(&d);
    vkdp_buckets *b = vkdp_buckets_create(elems, NT, 1024, 25600);
    int ok = check_layout(b);
    double wait_s = 0;
    for (int step = 0; step < 2; step++)
        ok &= run_step(b, &d, step, &wait_s);
    /* the probe: a cost on every rank alike (0 for one process), the gradients untouched, and the
     * buckets usable for another step afterwards */
    size_t total = vkdp_buckets_offset(b, NT - 1) + elems[NT - 1];
    int64_t *before = malloc(total * sizeof *before);
    memcpy(before, vkdp_buckets_data(b), total * sizeof *before);
    double probe = vkdp_buckets_probe(b), probe0 = probe;
    vkdp_bcast(&probe0, sizeof probe0, 0);
    int probe_ok = memcmp(&probe, &probe0, sizeof probe) == 0 && probe >= 0 && (d.size > 1 || probe == 0) &&
                   memcmp(before, vkdp_buckets_data(b), total * sizeof *before) == 0 &&
                   vkdp_buckets_bytes(b) == total * sizeof *before;
    free(before);
    ok &= probe_ok && run_step(b, &d, 2, &wait_s);
    vkdp_buckets_destroy(b);
    int64_t all_ok = ok;
    vkdp_allreduce_i64_sum(&all_ok, 1);
    if (d.rank == 0)
        printf("%s buckets on %d rank(s): layout {0} {1,2} {3} {4,5,6}; 3 steps of int64 sums "
               "bit-identical to the one-process sum, a probe between them (%.3f ms on every rank, "
               "gradients untouched; rank 0 waited %.3f ms)\n",
               all_ok == d.size ? "ok  " : "FAIL", d.size, probe * 1e3, wait_s * 1e3);
    vkdp_dist_finalize();
    return all_ok == d.size ? 0 : 1;
}
