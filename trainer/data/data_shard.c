/* Data-parallel sharding: every rank runs ceil(n / B) steps; step s covers the epoch positions
 * [s*B, min(n, (s+1)*B)) and rank r takes the contiguous slice [floor(r*m/P), floor((r+1)*m/P))
 * of its m samples, so slices differ by at most one sample and may be empty. */
#include "vkdp/core/common.h"
#include "vkdp/data/data.h"

int vkdp_num_steps(int n, int global_batch)
{
    if (global_batch <= 0)
        VKDP_FATAL("global batch %d must be positive", global_batch);
    return n <= 0 ? 0 : (int)(((long long)n + global_batch - 1) / global_batch);
}

void vkdp_shard_range(int n, int global_batch, int step, int rank, int nranks, int *lo, int *hi)
{
    if (nranks <= 0 || rank < 0 || rank >= nranks)
        VKDP_FATAL("rank %d of %d ranks is invalid", rank, nranks);
    long long start = (long long)step * global_batch;
    long long end = start + global_batch < n ? start + global_batch : n;
    long long m = end > start ? end - start : 0;
    *lo = (int)(start + (long long)rank * m / nranks);
    *hi = (int)(start + (long long)(rank + 1) * m / nranks);
}
