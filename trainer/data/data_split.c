/* Keras' training/validation split, bit-exact: numpy's legacy RandomState(seed) is MT19937 seeded
 * with init_genrand, and RandomState.shuffle of a list is Fisher-Yates from the end drawing
 * j = random_interval(i) (smallest all-ones mask >= i, reject masked 32-bit draws above i). */
#include "vkdp/core/common.h"
#include "vkdp/core/rng.h"
#include "vkdp/data/data.h"

#include <stdlib.h>
#include <string.h>

#define MT_N 624
#define MT_M 397

void vkdp_mt_seed(vkdp_mt19937 *mt, uint32_t seed)
{
    for (int pos = 0; pos < MT_N; pos++) {
        mt->key[pos] = seed;
        seed = 1812433253u * (seed ^ (seed >> 30)) + (uint32_t)pos + 1u;
    }
    mt->pos = MT_N;
}

static void mt_generate(vkdp_mt19937 *mt)
{
    const uint32_t upper = 0x80000000u, lower = 0x7fffffffu, matrix = 0x9908b0dfu;
    uint32_t *k = mt->key;
    int i;
    for (i = 0; i < MT_N - MT_M; i++) {
        uint32_t y = (k[i] & upper) | (k[i + 1] & lower);
        k[i] = k[i + MT_M] ^ (y >> 1) ^ ((0u - (y & 1u)) & matrix);
    }
    for (; i < MT_N - 1; i++) {
        uint32_t y = (k[i] & upper) | (k[i + 1] & lower);
        k[i] = k[i + (MT_M - MT_N)] ^ (y >> 1) ^ ((0u - (y & 1u)) & matrix);
    }
    uint32_t y = (k[MT_N - 1] & upper) | (k[0] & lower);
    k[MT_N - 1] = k[MT_M - 1] ^ (y >> 1) ^ ((0u - (y & 1u)) & matrix);
    mt->pos = 0;
}

uint32_t vkdp_mt_next(vkdp_mt19937 *mt)
{
    if (mt->pos >= MT_N)
        mt_generate(mt);
    uint32_t y = mt->key[mt->pos++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

uint64_t vkdp_mt_interval(vkdp_mt19937 *mt, uint64_t max)
{
    if (max == 0)
        return 0;
    uint64_t mask = max, value;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    mask |= mask >> 32;
    if (max <= 0xffffffffu) {
        while ((value = (vkdp_mt_next(mt) & mask)) > max)
            ;
    } else { /* numpy's next_uint64 for MT19937: two 32-bit draws, high word first */
        do {
            uint64_t hi = vkdp_mt_next(mt);
            value = ((hi << 32) | vkdp_mt_next(mt)) & mask;
        } while (value > max);
    }
    return value;
}

void vkdp_mt_shuffle_int(vkdp_mt19937 *mt, int *x, size_t n)
{
    for (size_t i = n > 0 ? n - 1 : 0; i >= 1; i--) {
        size_t j = (size_t)vkdp_mt_interval(mt, i);
        int t = x[i];
        x[i] = x[j];
        x[j] = t;
    }
}

void vkdp_split_make(const vkdp_index *idx, uint32_t seed, double validation_split, vkdp_split *out)
{
    if (!(validation_split >= 0.0 && validation_split < 1.0))
        VKDP_FATAL("validation split %g is outside [0, 1)", validation_split);
    int n = idx->n;
    int *ids = vkdp_xmalloc((size_t)(n ? n : 1) * sizeof(int));
    for (int i = 0; i < n; i++)
        ids[i] = i;
    vkdp_mt19937 mt;
    vkdp_mt_seed(&mt, seed);
    vkdp_mt_shuffle_int(&mt, ids, (size_t)n);
    /* Python's int(validation_split * n): the same double product, truncated. */
    int nval = (int)(validation_split * (double)n);
    out->ntrain = n - nval;
    out->nval = nval;
    out->train = vkdp_xmalloc((size_t)(out->ntrain ? out->ntrain : 1) * sizeof(int));
    out->val = vkdp_xmalloc((size_t)(nval ? nval : 1) * sizeof(int));
    memcpy(out->train, ids, (size_t)out->ntrain * sizeof(int));
    memcpy(out->val, ids + out->ntrain, (size_t)nval * sizeof(int));
    free(ids);
}

void vkdp_split_free(vkdp_split *s)
{
    free(s->train);
    free(s->val);
    memset(s, 0, sizeof *s);
}

/* splitmix64 as a finaliser: spreads (seed, epoch) over the 32-bit MT seed space. */
static uint32_t epoch_seed(uint32_t seed, int epoch)
{
    uint64_t s = (uint64_t)seed << 32 | (uint32_t)epoch;
    uint64_t z = vkdp_splitmix64(&s);
    return (uint32_t)(z ^ (z >> 32));
}

void vkdp_epoch_order(const int *items, int n, uint32_t seed, int epoch, int *out)
{
    if (out != items && n > 0)
        memmove(out, items, (size_t)n * sizeof(int));
    vkdp_mt19937 mt;
    vkdp_mt_seed(&mt, epoch_seed(seed, epoch));
    vkdp_mt_shuffle_int(&mt, out, (size_t)n);
}
