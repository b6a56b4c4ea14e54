/* MPI helpers; see include/vkdp/dist/dist.h. Counts above INT_MAX are sent in INT_MAX chunks. */
#include "vkdp/dist/dist.h"

#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_check.h"
#include "vkdp/core/common.h"
#include "vkdp/core/watchdog.h"

static MPI_Comm node_comm = MPI_COMM_NULL;
static int initialised;          /* vkdp_dist_init ran, vkdp_dist_finalize not yet */
static int world_rank, world_size = 1;
static size_t max_count = INT_MAX;


/* core's fatal-error hook. MPI_Abort returns only when it failed, and then core exits. */
static void abort_job(int status) { (void)MPI_Abort(MPI_COMM_WORLD, status); }

/* Ranks in the job: 1 without MPI. MPI started behind vkdp_dist_init's back would make every
 * collective a silent identity, so it is an error. */
static int job_size(void)
{
    if (initialised)
        return world_size;
    int init = 0, fin = 0;
    MPI_CHECK(MPI_Initialized(&init));
    MPI_CHECK(MPI_Finalized(&fin));
    if (init && !fin)
        VKDP_FATAL("MPI is running but vkdp_dist_init was not called");
    return 1;
}

int vkdp_dist_init(int *argc, char ***argv)
{
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "vkdp: error: MPI_Init_thread failed\n");
        return -1;
    }
    /* Errors in MPI calls must abort the whole job, never leave peers waiting. */
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL));
    MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &world_rank));
    MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &world_size));
    initialised = 1;
    vkdp_set_world(world_rank, world_size, abort_job);
    return 0;
}

void vkdp_dist_finalize(void)
{
    if (!initialised)
        return;
    if (node_comm != MPI_COMM_NULL)
        MPI_CHECK(MPI_Comm_free(&node_comm));
    node_comm = MPI_COMM_NULL;
    /* MPI_Abort is no longer allowed once MPI_Finalize has begun */
    vkdp_set_world(world_rank, world_size, NULL);
    MPI_CHECK(MPI_Finalize());
    initialised = 0;
    world_rank = 0;
    world_size = 1;
    vkdp_set_world(0, 1, NULL);
}

void vkdp_dist_info_get(vkdp_dist_info *info)
{
    info->rank = 0;
    info->size = 1;
    info->local_rank = 0;
    info->local_size = 1;
    if (!initialised) {
        (void)job_size(); /* fatal when MPI was started behind our back */
        return;
    }
    info->rank = world_rank;
    info->size = world_size;
    if (node_comm == MPI_COMM_NULL) {
        vkdp_watch_begin("MPI_Comm_split_type (node communicator)");
        MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, info->rank,
                                      MPI_INFO_NULL, &node_comm));
        vkdp_watch_end();
        MPI_CHECK(MPI_Comm_set_errhandler(node_comm, MPI_ERRORS_ARE_FATAL));
    }
    MPI_CHECK(MPI_Comm_rank(node_comm, &info->local_rank));
    MPI_CHECK(MPI_Comm_size(node_comm, &info->local_size));
}

void vkdp_dist_set_max_count(size_t n)
{
    if (n < 1 || n > INT_MAX)
        VKDP_FATAL("vkdp_dist_set_max_count(%zu): not in 1..%d", n, INT_MAX);
    max_count = n;
}

static int chunk_of(size_t n) { return (int)(n > max_count ? max_count : n); }

static void allreduce_sum(void *buf, size_t n, size_t elem, MPI_Datatype type, const char *tname)
{
    if (job_size() == 1)
        return;
    vkdp_watch_begin("MPI_Allreduce (%zu x %s)", n, tname);
    char *p = buf;
    while (n > 0) {
        int chunk = chunk_of(n);
        MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, p, chunk, type, MPI_SUM, MPI_COMM_WORLD));
        p += (size_t)chunk * elem;
        n -= (size_t)chunk;
    }
    vkdp_watch_end();
}

void vkdp_allreduce_i64_sum(int64_t *buf, size_t n) { allreduce_sum(buf, n, sizeof *buf, MPI_INT64_T, "int64"); }

void vkdp_allreduce_f64_sum(double *buf, size_t n) { allreduce_sum(buf, n, sizeof *buf, MPI_DOUBLE, "double"); }

void vkdp_barrier(void)
{
    if (job_size() == 1)
        return;
    vkdp_watch_begin("MPI_Barrier");
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    vkdp_watch_end();
}

void vkdp_bcast(void *buf, size_t bytes, int root)
{
    if (job_size() == 1)
        return;
    vkdp_watch_begin("MPI_Bcast (%zu bytes from rank %d)", bytes, root);
    char *p = buf;
    while (bytes > 0) {
        int chunk = chunk_of(bytes);
        MPI_CHECK(MPI_Bcast(p, chunk, MPI_BYTE, root, MPI_COMM_WORLD));
        p += chunk;
        bytes -= (size_t)chunk;
    }
    vkdp_watch_end();
}

void vkdp_allgather_size(size_t mine, size_t *counts)
{
    int P = job_size();
    if (P == 1) {
        counts[0] = mine;
        return;
    }
    uint64_t m = mine, *all = vkdp_xcalloc((size_t)P, sizeof *all);
    vkdp_watch_begin("MPI_Allgather (sizes: %zu on this rank)", mine);
    MPI_CHECK(MPI_Allgather(&m, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, MPI_COMM_WORLD));
    vkdp_watch_end();
    for (int r = 0; r < P; r++) {
        if (all[r] > SIZE_MAX)
            VKDP_FATAL("rank %d reported a count of %llu", r, (unsigned long long)all[r]);
        counts[r] = (size_t)all[r];
    }
    free(all);
}

void vkdp_allgatherv_bytes(const void *mine, void *all, const size_t *counts)
{
    int P = job_size();
    if (P == 1) {
        if (counts[0] > 0 && all != mine)
            memmove(all, mine, counts[0]);
        return;
    }
    size_t total = 0, *displs = vkdp_xcalloc((size_t)P, sizeof *displs);
    for (int r = 0; r < P; r++) {
        if (counts[r] > SIZE_MAX - total)
            VKDP_FATAL("allgather of more than SIZE_MAX bytes (rank %d adds %zu)", r, counts[r]);
        displs[r] = total;
        total += counts[r];
    }
    char *dst = all;
    /* the chunked path's broadcasts nest inside this mark, which keeps the outer name */
    vkdp_watch_begin("MPI_Allgatherv (%zu bytes in all, %zu from this rank)", total, counts[world_rank]);
    if (total <= max_count) {
        /* one call: every count and displacement fits MPI's int */
        int *ic = vkdp_xcalloc((size_t)P, sizeof *ic), *id = vkdp_xcalloc((size_t)P, sizeof *id);
        for (int r = 0; r < P; r++) {
            ic[r] = (int)counts[r];
            id[r] = (int)displs[r];
        }
        MPI_CHECK(MPI_Allgatherv(mine, ic[world_rank], MPI_BYTE, dst, ic, id, MPI_BYTE, MPI_COMM_WORLD));
        free(ic);
        free(id);
    } else {
        /* displacements beyond int: each rank's part is broadcast from it, in chunks */
        if (counts[world_rank] > 0)
            memmove(dst + displs[world_rank], mine, counts[world_rank]);
        for (int r = 0; r < P; r++)
            vkdp_bcast(dst + displs[r], counts[r], r);
    }
    vkdp_watch_end();
    free(displs);
}

void vkdp_check_replicas(uint64_t local_checksum, int64_t step, const char *what)
{
    int size = job_size(), rank = world_rank;
    if (size == 1)
        return;
    uint64_t *all = vkdp_xmalloc((size_t)size * sizeof *all);
    vkdp_watch_begin("MPI_Allgather (replica checksums)");
    MPI_CHECK(MPI_Allgather(&local_checksum, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T,
                            MPI_COMM_WORLD));
    vkdp_watch_end();
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
     * message is never lost to a faster abort (the watchdog covers a rank 0 that is gone). */
    vkdp_watch_begin("MPI_Barrier (waiting for rank 0 to abort on diverged replicas)");
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    vkdp_watch_end();
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

enum { DIGEST_LEN = 80, NAMED_RANKS = 4 };
typedef struct {
    char digest[DIGEST_LEN];
    char host[MPI_MAX_PROCESSOR_NAME];
} rank_digest;

void vkdp_check_same(const char *digest, const char *what, const char *advice)
{
    int size = job_size(), rank = world_rank;
    if (size == 1)
        return;
    rank_digest mine;
    memset(&mine, 0, sizeof mine);
    if (strlen(digest) >= DIGEST_LEN)
        VKDP_FATAL("vkdp_check_same: a digest of %zu characters (at most %d)", strlen(digest), DIGEST_LEN - 1);
    snprintf(mine.digest, sizeof mine.digest, "%s", digest);
    int len = 0;
    MPI_CHECK(MPI_Get_processor_name(mine.host, &len));
    rank_digest *all = vkdp_xcalloc((size_t)size, sizeof *all);
    vkdp_watch_begin("MPI_Allgather (%s digests)", what);
    MPI_CHECK(MPI_Allgather(&mine, (int)sizeof mine, MPI_BYTE, all, (int)sizeof mine, MPI_BYTE, MPI_COMM_WORLD));
    vkdp_watch_end();
    int nbad = 0;
    char list[1024] = "";
    size_t used = 0;
    for (int r = 1; r < size; r++) {
        all[r].digest[DIGEST_LEN - 1] = all[r].host[MPI_MAX_PROCESSOR_NAME - 1] = 0; /* peers' bytes */
        if (!strcmp(all[r].digest, all[0].digest))
            continue;
        if (nbad++ < NAMED_RANKS && used < sizeof list) {
            int k = snprintf(list + used, sizeof list - used, "%srank %d (host %s) has %.16s...", used ? ", " : "", r,
                             all[r].host, all[r].digest);
            used += k > 0 ? (size_t)k : 0;
        }
    }
    if (nbad == 0) {
        free(all);
        return;
    }
    if (rank == 0) {
        char msg[2048];
        snprintf(msg, sizeof msg, "ranks disagree on %s: %s%s, unlike rank 0 (host %s) with %.16s... (%d of %d ranks "
                 "differ); %s", what, list, nbad > NAMED_RANKS ? " and more" : "", all[0].host, all[0].digest, nbad,
                 size, advice);
        free(all);
        VKDP_FATAL("%s", msg);
    }
    free(all);
    /* As in vkdp_check_replicas: rank 0 reports and aborts, the others wait to be taken down. */
    vkdp_watch_begin("MPI_Barrier (waiting for rank 0 to abort on differing %s)", what);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    vkdp_watch_end();
    VKDP_FATAL("ranks disagree on %s; rank 0 did not abort the job", what);
}
