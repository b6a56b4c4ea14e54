/* MPI helpers; see include/vkdp/dist/dist.h. Counts above INT_MAX are sent in INT_MAX chunks. */
#include "vkdp/dist/dist.h"

#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkdp/core/common.h"

static MPI_Comm node_comm = MPI_COMM_NULL;

#define MPI_CHECK(expr)                                                                         \
    do {                                                                                        \
        int vkdp_mpi_rc_ = (expr);                                                              \
        if (vkdp_mpi_rc_ != MPI_SUCCESS) {                                                      \
            char vkdp_mpi_msg_[MPI_MAX_ERROR_STRING];                                           \
            int vkdp_mpi_len_ = 0;                                                              \
            if (MPI_Error_string(vkdp_mpi_rc_, vkdp_mpi_msg_, &vkdp_mpi_len_) != MPI_SUCCESS)   \
                snprintf(vkdp_mpi_msg_, sizeof vkdp_mpi_msg_, "MPI error %d", vkdp_mpi_rc_);    \
            vkdp_fatal_at(__FILE__, __LINE__, "%s failed: %s", #expr, vkdp_mpi_msg_);           \
        }                                                                                       \
    } while (0)

int vkdp_dist_running(void)
{
    int init = 0, fin = 0;
    MPI_CHECK(MPI_Initialized(&init));
    MPI_CHECK(MPI_Finalized(&fin));
    return init && !fin;
}

void vkdp_dist_info_get(vkdp_dist_info *info)
{
    info->rank = 0;
    info->size = 1;
    info->local_rank = 0;
    info->local_size = 1;
    if (!vkdp_dist_running())
        return;
    MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &info->rank));
    MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &info->size));
    if (node_comm == MPI_COMM_NULL) {
        MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, info->rank,
                                      MPI_INFO_NULL, &node_comm));
        MPI_CHECK(MPI_Comm_set_errhandler(node_comm, MPI_ERRORS_ARE_FATAL));
    }
    MPI_CHECK(MPI_Comm_rank(node_comm, &info->local_rank));
    MPI_CHECK(MPI_Comm_size(node_comm, &info->local_size));
}

void vkdp_dist_shutdown(void)
{
    if (node_comm != MPI_COMM_NULL && vkdp_dist_running())
        MPI_CHECK(MPI_Comm_free(&node_comm));
    node_comm = MPI_COMM_NULL;
}

static void allreduce_sum(void *buf, size_t n, size_t elem, MPI_Datatype type)
{
    if (!vkdp_dist_running() || vkdp_world_size() == 1)
        return;
    char *p = buf;
    while (n > 0) {
        int chunk = n > (size_t)INT_MAX ? INT_MAX : (int)n;
        MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, p, chunk, type, MPI_SUM, MPI_COMM_WORLD));
        p += (size_t)chunk * elem;
        n -= (size_t)chunk;
    }
}

void vkdp_allreduce_i64_sum(int64_t *buf, size_t n) { allreduce_sum(buf, n, sizeof *buf, MPI_INT64_T); }

void vkdp_allreduce_f64_sum(double *buf, size_t n) { allreduce_sum(buf, n, sizeof *buf, MPI_DOUBLE); }

void vkdp_barrier(void)
{
    if (vkdp_dist_running())
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
}

void vkdp_bcast(void *buf, size_t bytes, int root)
{
    if (!vkdp_dist_running() || vkdp_world_size() == 1)
        return;
    char *p = buf;
    while (bytes > 0) {
        int chunk = bytes > (size_t)INT_MAX ? INT_MAX : (int)bytes;
        MPI_CHECK(MPI_Bcast(p, chunk, MPI_BYTE, root, MPI_COMM_WORLD));
        p += chunk;
        bytes -= (size_t)chunk;
    }
}

uint64_t vkdp_checksum64(const void *data, size_t bytes, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ull ^ seed;
    for (size_t i = 0; i < bytes; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

void vkdp_check_replicas(uint64_t local_checksum, int64_t step, const char *what)
{
    if (!vkdp_dist_running() || vkdp_world_size() == 1)
        return;
    int size = vkdp_world_size(), rank = vkdp_rank();
    uint64_t *all = vkdp_xmalloc((size_t)size * sizeof *all);
    MPI_CHECK(MPI_Allgather(&local_checksum, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T,
                            MPI_COMM_WORLD));
    int bad = -1;
    for (int r = 1; r < size && bad < 0; r++)
        if (all[r] != all[0])
            bad = r;
    if (bad < 0) {
        free(all);
        return;
    }
    if (rank == 0) {
        int nbad = 0;
        for (int r = 1; r < size; r++)
            nbad += all[r] != all[0];
        uint64_t b = all[bad], a0 = all[0];
        free(all);
        VKDP_FATAL("replicas diverged after step %lld (%s): rank %d has checksum %016llx, rank 0 "
                   "has %016llx (%d of %d ranks differ from rank 0)",
                   (long long)step, what, bad, (unsigned long long)b, (unsigned long long)a0, nbad,
                   size);
    }
    free(all);
    /* Rank 0 reports and aborts the job; the others wait here to be taken down with it, so the
     * message is never lost to a faster abort. */
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    VKDP_FATAL("replicas diverged after step %lld (%s); rank 0 did not abort the job",
               (long long)step, what);
}

void vkdp_mpi_library_version(char *buf, size_t len)
{
    char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int n = 0;
    MPI_CHECK(MPI_Get_library_version(v, &n));
    v[n > 0 && n < MPI_MAX_LIBRARY_VERSION_STRING ? n : 0] = '\0';
    snprintf(buf, len, "%.*s", (int)strcspn(v, "\n"), v);
}
