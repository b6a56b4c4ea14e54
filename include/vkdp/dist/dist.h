/* MPI helpers for data parallelism. Every function also works without MPI running (a single
 * process: collectives are identities), so single-process tools and tests need no mpirun.
 * Every MPI call's return code is checked (main sets MPI_ERRORS_ARE_FATAL as well). */
#ifndef VKDP_DIST_H
#define VKDP_DIST_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int rank, size;              /* in MPI_COMM_WORLD */
    int local_rank, local_size;  /* among the ranks sharing this node (MPI_COMM_TYPE_SHARED) */
} vkdp_dist_info;

/* Fills info (0/1/0/1 without MPI). The node communicator is created once and cached. */
void vkdp_dist_info_get(vkdp_dist_info *info);
/* Frees the cached node communicator; call before MPI_Finalize (no-op otherwise). */
void vkdp_dist_shutdown(void);
int vkdp_dist_running(void);
/* First line of MPI_Get_library_version ("Open MPI v4.1.4, package: ..."); callable before
 * MPI_Init, as the standard allows. */
void vkdp_mpi_library_version(char *buf, size_t len);

/* In-place sums over all ranks. */
void vkdp_allreduce_i64_sum(int64_t *buf, size_t n);
void vkdp_allreduce_f64_sum(double *buf, size_t n);
void vkdp_barrier(void);
/* Broadcasts bytes from root to every rank. */
void vkdp_bcast(void *buf, size_t bytes, int root);

/* 64-bit FNV-1a of the bytes, for comparing replicas. */
uint64_t vkdp_checksum64(const void *data, size_t bytes, uint64_t seed);
/* Compares every rank's checksum of its replica (e.g. vkdp_head_checksum) after `step` steps;
 * on any mismatch, rank 0 reports "replicas diverged after step N (what): rank r has X, rank 0
 * has Y" and the whole job aborts (non-zero exit, no rank left waiting). A collective. */
void vkdp_check_replicas(uint64_t local_checksum, int64_t step, const char *what);

#endif
