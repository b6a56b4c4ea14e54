#include "vkdp/train/featcache.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkdp/core/common.h"
#include "vkdp/core/watchdog.h"
#include "vkdp/dist/dist.h"
#include "vkdp/core/progress.h"

#define MPI_OK(expr)                                                                            \
    do {                                                                                        \
        int mpi_rc_ = (expr);                                                                   \
        if (mpi_rc_ != MPI_SUCCESS)                                                             \
            VKDP_FATAL("%s failed (MPI error %d)", #expr, mpi_rc_);                             \
    } while (0)

void vkdp_featcache_init(vkdp_featcache *fc, int n, int dim)
{
    memset(fc, 0, sizeof *fc);
    fc->n = n;
    fc->dim = dim;
    fc->feat = vkdp_xcalloc((size_t)n * dim, sizeof *fc->feat);
    fc->state = vkdp_xcalloc((size_t)n, 1);
}

void vkdp_featcache_free(vkdp_featcache *fc)
{
    free(fc->feat);
    free(fc->state);
    free(fc->fresh);
    memset(fc, 0, sizeof *fc);
}

static void add_fresh(vkdp_featcache *fc, int id)
{
    if (fc->nfresh == fc->capfresh) {
        fc->capfresh = fc->capfresh ? 2 * fc->capfresh : 256;
        fc->fresh = vkdp_xrealloc(fc->fresh, (size_t)fc->capfresh * sizeof *fc->fresh);
    }
    fc->fresh[fc->nfresh++] = id;
}

void vkdp_featcache_put(vkdp_featcache *fc, int id, const float *f)
{
    memcpy(fc->feat + (size_t)id * fc->dim, f, (size_t)fc->dim * sizeof *f);
    if (fc->state[id] == VKDP_FEAT_UNKNOWN)
        add_fresh(fc, id);
    fc->state[id] = VKDP_FEAT_HAVE;
}

void vkdp_featcache_mark_bad(vkdp_featcache *fc, int id)
{
    if (fc->state[id] == VKDP_FEAT_UNKNOWN)
        add_fresh(fc, id);
    fc->state[id] = VKDP_FEAT_BAD;
}

int vkdp_featcache_complete(const vkdp_featcache *fc, const int *items, int n)
{
    for (int i = 0; i < n; i++)
        if (fc->state[items[i]] == VKDP_FEAT_UNKNOWN)
            return 0;
    return 1;
}

double vkdp_featcache_bytes(const vkdp_featcache *fc) { return (double)fc->n * fc->dim * sizeof(float); }

void vkdp_featcache_sync(vkdp_featcache *fc)
{
    if (!vkdp_dist_running() || vkdp_world_size() == 1) {
        fc->nfresh = 0;
        return;
    }
    int P = vkdp_world_size();
    int *counts = vkdp_xcalloc((size_t)P, sizeof *counts), *displs = vkdp_xcalloc((size_t)P, sizeof *displs);
    vkdp_watch_begin("MPI_Allgather(v) of the feature cache (%d new on this rank)", fc->nfresh);
    MPI_OK(MPI_Allgather(&fc->nfresh, 1, MPI_INT, counts, 1, MPI_INT, MPI_COMM_WORLD));
    int total = 0;
    for (int r = 0; r < P; r++) {
        displs[r] = total;
        total += counts[r];
    }
    if (total > 0) {
        /* ids with the state in the sign: -(id+1) marks a bad image */
        int *mine = vkdp_xcalloc((size_t)fc->nfresh + 1, sizeof *mine);
        for (int i = 0; i < fc->nfresh; i++)
            mine[i] = fc->state[fc->fresh[i]] == VKDP_FEAT_BAD ? -(fc->fresh[i] + 1) : fc->fresh[i];
        int *all = vkdp_xcalloc((size_t)total, sizeof *all);
        MPI_OK(MPI_Allgatherv(mine, fc->nfresh, MPI_INT, all, counts, displs, MPI_INT, MPI_COMM_WORLD));
        float *fmine = vkdp_xcalloc((size_t)fc->nfresh * fc->dim + 1, sizeof *fmine);
        for (int i = 0; i < fc->nfresh; i++)
            memcpy(fmine + (size_t)i * fc->dim, fc->feat + (size_t)fc->fresh[i] * fc->dim, (size_t)fc->dim * 4);
        float *fall = vkdp_xcalloc((size_t)total * fc->dim, sizeof *fall);
        int *fcounts = vkdp_xcalloc((size_t)P, sizeof *fcounts), *fdispls = vkdp_xcalloc((size_t)P, sizeof *fdispls);
        for (int r = 0; r < P; r++) {
            if ((int64_t)counts[r] * fc->dim > INT32_MAX || (int64_t)displs[r] * fc->dim > INT32_MAX)
                VKDP_FATAL("feature sync of %d images exceeds MPI's int counts", total);
            fcounts[r] = counts[r] * fc->dim;
            fdispls[r] = displs[r] * fc->dim;
        }
        MPI_OK(MPI_Allgatherv(fmine, fcounts[vkdp_rank()], MPI_FLOAT, fall, fcounts, fdispls, MPI_FLOAT,
                              MPI_COMM_WORLD));
        for (int i = 0; i < total; i++) {
            if (all[i] < 0) {
                fc->state[-all[i] - 1] = VKDP_FEAT_BAD;
            } else {
                memcpy(fc->feat + (size_t)all[i] * fc->dim, fall + (size_t)i * fc->dim, (size_t)fc->dim * 4);
                fc->state[all[i]] = VKDP_FEAT_HAVE;
            }
        }
        free(mine); free(all); free(fmine); free(fall); free(fcounts); free(fdispls);
    }
    vkdp_watch_end();
    free(counts);
    free(displs);
    fc->nfresh = 0;
}

int vkdp_featcache_fill_batch(vkdp_featcache *fc, vkdp_backbone *bb, const vkdp_batch *b, float *scratch)
{
    /* Pack the uncached images contiguously so one backbone call covers them. */
    size_t img = (size_t)b->image_size * b->image_size * 3;
    int m = 0;
    int *which = vkdp_xcalloc((size_t)b->count + 1, sizeof *which);
    for (int i = 0; i < b->count; i++)
        if (fc->state[b->ids[i]] != VKDP_FEAT_HAVE)
            which[m++] = i;
    if (m > 0) {
        const float *src = b->images;
        float *packed = NULL;
        if (m != b->count) {
            packed = vkdp_xmalloc((size_t)m * img * sizeof *packed);
            for (int j = 0; j < m; j++)
                memcpy(packed + (size_t)j * img, b->images + (size_t)which[j] * img, img * sizeof *packed);
            src = packed;
        }
        vkdp_backbone_forward(bb, src, m, scratch);
        for (int j = 0; j < m; j++)
            vkdp_featcache_put(fc, b->ids[which[j]], scratch + (size_t)j * fc->dim);
        free(packed);
    }
    free(which);
    return m;
}

void vkdp_featurize(vkdp_featcache *fc, vkdp_backbone *bb, const vkdp_index *idx, const int *items, int n,
                    int batch, int image_size, int threads, const char *title)
{
    int *todo = vkdp_xcalloc((size_t)n + 1, sizeof *todo);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (fc->state[items[i]] == VKDP_FEAT_UNKNOWN)
            todo[m++] = items[i];
    if (m > 0) {
        vkdp_loader *l = vkdp_loader_create(idx, todo, m, batch, vkdp_rank(), vkdp_world_size(), image_size,
                                            threads, 0);
        float *scratch = vkdp_xmalloc((size_t)batch * fc->dim * sizeof *scratch);
        vkdp_progress *p = vkdp_progress_start(title, vkdp_loader_steps(l), 10);
        vkdp_batch b;
        while (vkdp_loader_next(l, &b)) {
            vkdp_featcache_fill_batch(fc, bb, &b, scratch);
            /* positions of this rank's slice whose decode failed */
            for (int pos = b.global_lo, i = 0; pos < b.global_hi; pos++) {
                if (i < b.count && b.pos[i] == pos) {
                    i++;
                    continue;
                }
                vkdp_featcache_mark_bad(fc, todo[pos]);
            }
            int step = b.step;
            vkdp_loader_release(l, &b);
            vkdp_progress_update(p, step + 1, "");
        }
        vkdp_progress_finish(p, "");
        free(scratch);
        vkdp_loader_destroy(l);
    }
    free(todo);
    vkdp_featcache_sync(fc);
}
