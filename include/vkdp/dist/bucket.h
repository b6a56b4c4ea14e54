/* Gradient buckets reduced as PyTorch's DDP does, and exactly: the trainable tensors' per-rank
 * gradient sums live in one flat int64 block (fixed-point, vkdp/ops/head_fx.h) in the order the
 * backward produces them, cut into buckets of whole tensors; when the last tensor of a bucket is
 * written its non-blocking allreduce (MPI_Iallreduce, int64 sum) starts and overlaps the rest of
 * the backward. Integer sums are associative, so the result is the same bits for any rank count.
 * Buckets start in index order on every rank, as MPI requires of collectives. Without MPI (one
 * process) every call is an identity. */
#ifndef VKDP_DIST_BUCKET_H
#define VKDP_DIST_BUCKET_H
#include <stddef.h>
#include <stdint.h>

typedef struct vkdp_buckets vkdp_buckets;

/* elems[i]: int64 elements of tensor i, in backward order. A bucket holds whole tensors and is
 * cut before it would exceed bucket_bytes (the first bucket: first_bytes, DDP's small first
 * bucket); a tensor larger than the cap is a bucket of its own. Fatal on an empty list, a zero
 * size, or a bucket beyond MPI's int count. */
vkdp_buckets *vkdp_buckets_create(const size_t *elems, int ntensors, size_t first_bytes,
                                  size_t bucket_bytes);
void vkdp_buckets_destroy(vkdp_buckets *b);

int vkdp_buckets_count(const vkdp_buckets *b);
/* Bucket k: its first tensor, tensor count, and element offset and count in the block. */
void vkdp_buckets_range(const vkdp_buckets *b, int k, int *first, int *ntensors, size_t *offset,
                        size_t *elems);
/* The flat block (tensor i at its offset); valid for the buckets' life. */
int64_t *vkdp_buckets_data(vkdp_buckets *b);
size_t vkdp_buckets_offset(const vkdp_buckets *b, int tensor);

/* Tensor i's rank-local sums are written: when that completes its bucket, the bucket's allreduce
 * starts (after every earlier bucket's). Each tensor once per step; fatal otherwise. */
void vkdp_buckets_ready(vkdp_buckets *b, int tensor);
/* Lets started reductions progress (MPI_Testall) without waiting: call between backward pieces. */
void vkdp_buckets_progress(vkdp_buckets *b);
/* Waits for every bucket (all tensors must be ready): the block then holds the global sums, and
 * the next step may begin. Returns the seconds spent waiting here (the reduction not hidden). */
double vkdp_buckets_wait(vkdp_buckets *b);

/* The reduction's cost with nothing to hide it: every rank enters a barrier, then the same
 * buckets are allreduced one after another, blocking, on a scratch block (the gradients are not
 * touched). Returns the slowest rank's seconds, the same on every rank (0 for one process).
 * Collective; call between steps only (fatal while a step's buckets are in flight). */
double vkdp_buckets_probe(vkdp_buckets *b);
/* Bytes in the block (every bucket). */
size_t vkdp_buckets_bytes(const vkdp_buckets *b);

#endif
