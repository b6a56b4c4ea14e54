/* MPI helpers under mpirun -np 3: sums, broadcast, node-local rank/size, checksums, and that
 * vkdp_check_replicas passes when replicas agree (its abort path: head_check_replicas). */
#include <mpi.h>
#include <stdlib.h>

#include "harness.h"
#include "vkdp/core/rng.h"
#include "vkdp/dist/dist.h"

int main(int argc, char **argv)
{
    if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
        fprintf(stderr, "test_dist: MPI_Init failed\n");
        return 1;
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    vkdp_dist_info d;
    vkdp_dist_info_get(&d);
    int ok = d.size >= 2 && d.rank >= 0 && d.rank < d.size && d.local_size == d.size &&
             d.local_rank == d.rank;
    int64_t iv[3] = {d.rank + 1, -(int64_t)d.rank * (INT64_C(1) << 40), INT64_C(1) << 50};
    vkdp_allreduce_i64_sum(iv, 3);
    int64_t n = d.size;
    ok &= iv[0] == n * (n + 1) / 2 && iv[1] == -((n * (n - 1) / 2) << 40) && iv[2] == n << 50;
    double fv[2] = {0.5 * d.rank, 1.0};
    vkdp_allreduce_f64_sum(fv, 2);
    ok &= fv[0] == 0.25 * (double)(n * (n - 1)) && fv[1] == (double)n;
    char msg[16] = "";
    if (d.rank == d.size - 1)
        snprintf(msg, sizeof msg, "from last");
    vkdp_bcast(msg, sizeof msg, d.size - 1);
    ok &= !strcmp(msg, "from last");
    vkdp_barrier();
    uint64_t a = vkdp_fnv1a64("abc", 3, 0), b = vkdp_fnv1a64("abd", 3, 0);
    ok &= a != b && a == vkdp_fnv1a64("abc", 3, 0) && a != vkdp_fnv1a64("abc", 3, 1);
    vkdp_check_replicas(a, 1, "identical replicas");
    int all_ok = 0;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
    if (d.rank == 0)
        printf("%s dist helpers on %d ranks (local %d)\n", all_ok ? "ok  " : "FAIL", d.size,
               d.local_size);
    vkdp_dist_shutdown();
    MPI_Finalize();
    return all_ok ? 0 : 1;
}
