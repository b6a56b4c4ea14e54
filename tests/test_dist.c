/* MPI helpers under mpirun -np 3: sums, broadcast, gathers (also through their chunked paths,
 * with the per-call limit lowered), node-local rank/size, the rank attached to core, and that
 * vkdp_check_replicas passes when replicas agree (its abort path: head_check_replicas).
 * --raw-mpi-init: MPI_Init without vkdp_dist_init, then a collective, which must be fatal. */
#include <mpi.h>
#include <stdlib.h>

#include "harness.h"
#include "vkdp/core/common.h"
#include "vkdp/core/rng.h"
#include "vkdp/dist/dist.h"

/* Rank r contributes r + 1 + extra bytes, byte k of rank r's part being (r * 37 + k) & 0xff. */
static int check_allgatherv(const vkdp_dist_info *d, size_t extra)
{
    size_t mine_n = (size_t)d->rank + 1 + extra, total = 0;
    unsigned char *mine = vkdp_xmalloc(mine_n);
    for (size_t k = 0; k < mine_n; k++)
        mine[k] = (unsigned char)((d->rank * 37 + (int)k) & 0xff);
    size_t *counts = vkdp_xcalloc((size_t)d->size, sizeof *counts);
    vkdp_allgather_size(mine_n, counts);
    int ok = 1;
    for (int r = 0; r < d->size; r++) {
        ok &= counts[r] == (size_t)r + 1 + extra;
        total += counts[r];
    }
    unsigned char *all = vkdp_xcalloc(total, 1);
    vkdp_allgatherv_bytes(mine, all, counts);
    size_t o = 0;
    for (int r = 0; r < d->size; r++)
        for (size_t k = 0; k < counts[r]; k++, o++)
            ok &= all[o] == (unsigned char)((r * 37 + (int)k) & 0xff);
    free(mine);
    free(counts);
    free(all);
    return ok;
}

/* Sums, broadcast and gathers; with a lowered per-call limit they split into several calls. */
static int check_collectives(const vkdp_dist_info *d)
{
    int64_t iv[5] = {d->rank + 1, -(int64_t)d->rank * (INT64_C(1) << 40), INT64_C(1) << 50, 7, d->rank};
    vkdp_allreduce_i64_sum(iv, 5);
    int64_t n = d->size;
    int ok = iv[0] == n * (n + 1) / 2 && iv[1] == -((n * (n - 1) / 2) << 40) && iv[2] == n << 50 &&
             iv[3] == 7 * n && iv[4] == n * (n - 1) / 2;
    double fv[3] = {0.5 * d->rank, 1.0, 2.0};
    vkdp_allreduce_f64_sum(fv, 3);
    ok &= fv[0] == 0.25 * (double)(n * (n - 1)) && fv[1] == (double)n && fv[2] == 2.0 * (double)n;
    char msg[16] = "";
    if (d->rank == d->size - 1)
        snprintf(msg, sizeof msg, "from last");
    vkdp_bcast(msg, sizeof msg, d->size - 1);
    ok &= !strcmp(msg, "from last");
    ok &= check_allgatherv(d, 0) && check_allgatherv(d, 10);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--raw-mpi-init")) {
        if (MPI_Init(&argc, &argv) != MPI_SUCCESS)
            return 2;
        vkdp_barrier(); /* must not pass silently as a one-rank identity */
        MPI_Finalize();
        return 0;
    }
    if (vkdp_dist_init(&argc, &argv) != 0)
        return 1;
    vkdp_dist_info d;
    vkdp_dist_info_get(&d);
    int ok = d.size >= 2 && d.rank >= 0 && d.rank < d.size && d.local_size == d.size &&
             d.local_rank == d.rank;
    ok &= vkdp_rank() == d.rank && vkdp_world_size() == d.size;
    ok &= check_collectives(&d);
    vkdp_dist_set_max_count(4); /* every transfer above now takes several calls */
    ok &= check_collectives(&d);
    vkdp_dist_set_max_count(INT32_MAX);
    vkdp_barrier();
    vkdp_check_replicas(vkdp_fnv1a64("abc", 3, 0), 1, "identical replicas");
    int64_t all_ok = ok;
    vkdp_allreduce_i64_sum(&all_ok, 1);
    if (d.rank == 0)
        printf("%s dist helpers on %d ranks (local %d), plain and chunked\n",
               all_ok == d.size ? "ok  " : "FAIL", d.size, d.local_size);
    vkdp_dist_finalize();
    return all_ok == d.size ? 0 : 1;
}
