/* The head's counter-based dropout in C: Philox-4x32-10 and the keep decision, twins of
 * shaders/head_common.glsl's (the head ops' C references and the head's MPI path use them). */
#include "vkdp/ops/head_ref.h"

void vkdp_philox4x32_10(const uint32_t ctr_in[4], const uint32_t key_in[2], uint32_t out[4])
{
    uint32_t c0 = ctr_in[0], c1 = ctr_in[1], c2 = ctr_in[2], c3 = ctr_in[3];
    uint32_t k0 = key_in[0], k1 = key_in[1];
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

int vkdp_dropout_keep(const vkdp_dropout_key *k, uint64_t gpos, uint32_t j)
{
    uint32_t ctr[4] = {j, (uint32_t)gpos, (uint32_t)(gpos >> 32), k->epoch};
    uint32_t key[2] = {(uint32_t)k->seed, (uint32_t)(k->seed >> 32)};
    uint32_t r[4];
    vkdp_philox4x32_10(ctr, key, r);
    float u = (float)(r[0] >> 8) * (1.0f / 16777216.0f);
    return u >= k->rate;
}

vkdp_dropout_key vkdp_dropout_test_key(int64_t seed, int64_t use_dropout)
{
    vkdp_dropout_key k = {(uint64_t)seed * 0x9E3779B97F4A7C15ull, 3, use_dropout != 0, 0.2f, 1.25f};
    return k;
}
