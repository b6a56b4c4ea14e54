/* Gradient buckets with overlapped exact int64 allreduce; see include/vkdp/dist/bucket.h. */
#include "vkdp/dist/bucket.h"

#include <limits.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_check.h"
#include "vkdp/core/common.h"
#include "vkdp/core/watchdog.h"
#include "vkdp/dist/dist.h"


typedef struct {
    int first, n;          /* tensors */
    size_t off, elems;     /* in the block */
    int pending;           /* tensors not yet ready this step */
    int started;
    MPI_Request req;
} bucket;

struct vkdp_buckets {
    int ntensors, nbuckets, next_start, ranks;
    size_t *offset;        /* per tensor */
    int *bucket_of;        /* per tensor */
    unsigned char *ready;  /* per tensor, this step */
    bucket *bk;
    int64_t *data;
};

vkdp_buckets *vkdp_buckets_create(const size_t *elems, int ntensors, size_t first_bytes,
                                  size_t bucket_bytes)
{
    if (ntensors < 1 || first_bytes < 8 || bucket_bytes < 8)
        VKDP_FATAL("buckets: %d tensors, caps %zu and %zu bytes", ntensors, first_bytes,
                   bucket_bytes);
    vkdp_buckets *b = vkdp_xcalloc(1, sizeof *b);
    b->ntensors = ntensors;
    b->offset = vkdp_xcalloc((size_t)ntensors, sizeof *b->offset);
    b->bucket_of = vkdp_xcalloc((size_t)ntensors, sizeof *b->bucket_of);
    b->ready = vkdp_xcalloc((size_t)ntensors, 1);
    b->bk = vkdp_xcalloc((size_t)ntensors, sizeof *b->bk);
    size_t total = 0;
    for (int i = 0; i < ntensors; i++) {
        if (elems[i] == 0 || elems[i] > (SIZE_MAX / 8 - total))
            VKDP_FATAL("buckets: tensor %d has %zu elements", i, elems[i]);
        bucket *cur = b->nbuckets ? &b->bk[b->nbuckets - 1] : NULL;
        size_t cap = b->nbuckets <= 1 ? first_bytes : bucket_bytes;
        if (!cur || (cur->elems + elems[i]) * 8 > cap) {
            cur = &b->bk[b->nbuckets++];
            cur->first = i;
            cur->off = total;
        }
        cur->n++;
        cur->elems += elems[i];
        if (cur->elems > INT_MAX)
            VKDP_FATAL("buckets: bucket %d has %zu elements, beyond MPI's int count",
                       b->nbuckets - 1, cur->elems);
        b->offset[i] = total;
        b->bucket_of[i] = b->nbuckets - 1;
        total += elems[i];
    }
    b->data = vkdp_xcalloc(total, sizeof *b->data);
    vkdp_dist_info info;
    vkdp_dist_info_get(&info);
    b->ranks = info.size;
    for (int k = 0; k < b->nbuckets; k++)
        b->bk[k].pending = b->bk[k].n;
    return b;
}

void vkdp_buckets_destroy(vkdp_buckets *b)
{
    if (!b)
        return;
    for (int k = 0; k < b->nbuckets; k++)
        if (b->bk[k].started)
            VKDP_FATAL("buckets destroyed with bucket %d's allreduce in flight", k);
    free(b->offset), free(b->bucket_of), free(b->ready), free(b->bk), free(b->data), free(b);
}

int vkdp_buckets_count(const vkdp_buckets *b) { return b->nbuckets; }

void vkdp_buckets_range(const vkdp_buckets *b, int k, int *first, int *ntensors, size_t *offset,
                        size_t *elems)
{
    if (k < 0 || k >= b->nbuckets)
        VKDP_FATAL("buckets: no bucket %d of %d", k, b->nbuckets);
    *first = b->bk[k].first;
    *ntensors = b->bk[k].n;
    *offset = b->bk[k].off;
    *elems = b->bk[k].elems;
}

int64_t *vkdp_buckets_data(vkdp_buckets *b) { return b->data; }

size_t vkdp_buckets_offset(const vkdp_buckets *b, int tensor)
{
    if (tensor < 0 || tensor >= b->ntensors)
        VKDP_FATAL("buckets: no tensor %d of %d", tensor, b->ntensors);
    return b->offset[tensor];
}

/* Starts every complete bucket from next_start on, in order. */
static void start_ready(vkdp_buckets *b)
{
    while (b->next_start < b->nbuckets && b->bk[b->next_start].pending == 0) {
        bucket *k = &b->bk[b->next_start++];
        if (b->ranks > 1)
            MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, b->data + k->off, (int)k->elems, MPI_INT64_T,
                                     MPI_SUM, MPI_COMM_WORLD, &k->req));
        k->started = 1;
    }
}

void vkdp_buckets_ready(vkdp_buckets *b, int tensor)
{
    if (tensor < 0 || tensor >= b->ntensors || b->ready[tensor])
        VKDP_FATAL("buckets: tensor %d marked ready twice or out of range (%d tensors)", tensor,
                   b->ntensors);
    b->ready[tensor] = 1;
    b->bk[b->bucket_of[tensor]].pending--;
    start_ready(b);
}

void vkdp_buckets_progress(vkdp_buckets *b)
{
    for (int k = 0; k < b->next_start && b->ranks > 1; k++)
        if (b->bk[k].started && b->bk[k].req != MPI_REQUEST_NULL) {
            int done = 0;
            MPI_CHECK(MPI_Test(&b->bk[k].req, &done, MPI_STATUS_IGNORE));
        }
}

double vkdp_buckets_wait(vkdp_buckets *b)
{
    if (b->next_start != b->nbuckets)
        VKDP_FATAL("buckets: waiting with bucket %d incomplete (%d of its tensors not ready)",
                   b->next_start, b->bk[b->next_start].pending);
    double t0 = vkdp_now();
    for (int k = 0; k < b->nbuckets; k++) {
        if (b->ranks > 1 && b->bk[k].req != MPI_REQUEST_NULL)
            MPI_CHECK(MPI_Wait(&b->bk[k].req, MPI_STATUS_IGNORE));
        b->bk[k].started = 0;
        b->bk[k].pending = b->bk[k].n;
    }
    memset(b->ready, 0, (size_t)b->ntensors);
    b->next_start = 0;
    return vkdp_now() - t0;
}

size_t vkdp_buckets_bytes(const vkdp_buckets *b)
{
    const bucket *last = &b->bk[b->nbuckets - 1];
    return (last->off + last->elems) * sizeof *b->data;
}

double vkdp_buckets_probe(vkdp_buckets *b)
{
    for (int i = 0; i < b->ntensors; i++)
        if (b->ready[i])
            VKDP_FATAL("buckets: probed while a step's tensor %d is ready and its buckets in flight", i);
    if (b->ranks == 1)
        return 0;
    int64_t *scratch = vkdp_xcalloc(vkdp_buckets_bytes(b) / sizeof *scratch, sizeof *scratch);
    /* the barrier first: a rank that arrives late must not count as the reduction's time */
    vkdp_barrier();
    vkdp_watch_begin("MPI_Allreduce of the gradient buckets (%zu bytes, probe)", vkdp_buckets_bytes(b));
    double t0 = vkdp_now();
    for (int k = 0; k < b->nbuckets; k++)
        MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, scratch + b->bk[k].off, (int)b->bk[k].elems, MPI_INT64_T,
                                MPI_SUM, MPI_COMM_WORLD));
    double dt = vkdp_now() - t0;
    MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &dt, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD));
    vkdp_watch_end();
    free(scratch);
    return dt;
}
