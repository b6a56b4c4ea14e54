/* The two small hashes every module uses for reproducible streams: splitmix64 (seeded random
 * numbers, seed mixing) and 64-bit FNV-1a (a name or a buffer to a 64-bit key or checksum).
 * Header-only so tests use the very same streams. */
#ifndef VKDP_RNG_H
#define VKDP_RNG_H
#include <stddef.h>
#include <stdint.h>

/* Advances *state by the golden-ratio increment and returns its mix (Steele et al.'s splitmix64,
 * the same stream on every platform). Called once on a copy of a value, it is a seed finaliser. */
static inline uint64_t vkdp_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* 64-bit FNV-1a of the bytes, starting from the offset basis xor seed (seed 0: plain FNV-1a).
 * Chaining (the result as the next call's seed) checksums several buffers. */
static inline uint64_t vkdp_fnv1a64(const void *data, size_t bytes, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ull ^ seed;
    for (size_t i = 0; i < bytes; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

#endif
