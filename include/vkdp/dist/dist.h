/* MPI for data parallelism: every MPI call of the program is made here. Every function also works
 * without MPI (a single process, as in `trainer dataset` and the single-process tests: collectives
 * are identities), and every MPI call's return code is checked (MPI_ERRORS_ARE_FATAL as well). */
#ifndef VKDP_DIST_H
#define VKDP_DIST_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int rank, size;              /* in MPI_COMM_WORLD */
    int local_rank, local_size;  /* among the ranks sharing this node (MPI_COMM_TYPE_SHARED) */
} vkdp_dist_info;

/* MPI_Init_thread (MPI_THREAD_FUNNELED: only the main thread calls MPI), errors fatal, and the
 * rank attached to core's messages with MPI_Abort as the fatal-error hook. Returns 0, or -1 after
 * printing why. A program that uses the collectives under mpirun calls it first. */
int vkdp_dist_init(int *argc, char ***argv);
/* Frees the node communicator, detaches the world from core and calls MPI_Finalize; nothing
 * without vkdp_dist_init. */
void vkdp_dist_finalize(void);

/* Fills info (0/1/0/1 without MPI). The node communicator is created once and cached. */
void vkdp_dist_info_get(vkdp_dist_info *info);
/* First line of MPI_Get_library_version ("Open MPI v4.1.4, package: ..."); callable before
 * MPI_Init, as the standard allows. */
void vkdp_mpi_library_version(char *buf, size_t len);

/* In-place sums over all ranks. */
void vkdp_allreduce_i64_sum(int64_t *buf, size_t n);
void vkdp_allreduce_f64_sum(double *buf, size_t n);
void vkdp_barrier(void);
/* Broadcasts bytes from root to every rank. */
void vkdp_bcast(void *buf, size_t bytes, int root);
/* counts[r] = rank r's `mine` for every rank r (counts holds one entry per rank). */
void vkdp_allgather_size(size_t mine, size_t *counts);
/* Concatenates every rank's bytes in rank order into all: rank r contributes counts[r] bytes
 * (from vkdp_allgather_size; this rank's are `mine`), all holds their sum. Exact copies. */
void vkdp_allgatherv_bytes(const void *mine, void *all, const size_t *counts);

/* Compares every rank's checksum of its replica (e.g. vkdp_head_checksum) after `step` steps;
 * on any mismatch, rank 0 reports "replicas diverged after step N (what): rank r has X, rank 0
 * has Y" and the whole job aborts (non-zero exit, no rank left waiting). A collective. */
void vkdp_check_replicas(uint64_t local_checksum, int64_t step, const char *what);

/* Compares every rank's digest (a NUL-terminated string, e.g. a SHA-256 in hex, under 80 chars)
 * before any work depends on it; on any mismatch rank 0 reports "ranks disagree on WHAT: rank r
 * (host H) has D..., unlike rank 0 (host H0) with D0...; ADVICE", naming every rank that differs
 * (the first few), and the whole job aborts. A collective; nothing without MPI. */
void vkdp_check_same(const char *digest, const char *what, const char *advice);

/* For tests: the largest count one MPI call carries (default and ceiling INT_MAX, MPI's int
 * counts). Larger transfers are split into calls of at most this many elements (bytes for
 * vkdp_bcast and vkdp_allgatherv_bytes); lowering it runs those paths on small buffers. */
void vkdp_dist_set_max_count(size_t n);

#endif
