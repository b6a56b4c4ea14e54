/* The digest of an index and its split that every rank compares before training (dist). */
#include "vkdp/core/sha256.h"
#include "vkdp/data/data.h"

#include <string.h>

/* Fixed-width little-endian integers and length-prefixed strings: no two different indexes
 * serialise to the same bytes. */
static void put_i64(vkdp_sha256_ctx *c, int64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)v >> (8 * i));
    vkdp_sha256_update(c, b, sizeof b);
}

static void put_str(vkdp_sha256_ctx *c, const char *s)
{
    size_t n = strlen(s);
    put_i64(c, (int64_t)n);
    vkdp_sha256_update(c, s, n);
}

void vkdp_index_digest(const vkdp_index *idx, const vkdp_split *split, char hex[65])
{
    vkdp_sha256_ctx *c = vkdp_sha256_init();
    put_i64(c, idx->nclasses);
    for (int k = 0; k < idx->nclasses; k++)
        put_str(c, idx->class_names[k]);
    put_i64(c, idx->n);
    for (int i = 0; i < idx->n; i++) {
        put_str(c, idx->rel[i]);
        put_i64(c, idx->bytes[i]);
        put_i64(c, idx->label[i]);
    }
    put_i64(c, split->ntrain);
    for (int i = 0; i < split->ntrain; i++)
        put_i64(c, split->train[i]);
    put_i64(c, split->nval);
    for (int i = 0; i < split->nval; i++)
        put_i64(c, split->val[i]);
    vkdp_sha256_final(c, hex);
}
