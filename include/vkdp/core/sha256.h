/* SHA-256 (FIPS 180-4) of a file, for recording exactly which weights/checkpoint a run used. */
#ifndef VKDP_SHA256_H
#define VKDP_SHA256_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t nbytes;
    uint8_t block[64];
    size_t fill;
} vkdp_sha256_ctx;

void vkdp_sha256_init(vkdp_sha256_ctx *c);
void vkdp_sha256_update(vkdp_sha256_ctx *c, const void *data, size_t n);
/* Writes the digest as 64 lowercase hex digits + NUL. */
void vkdp_sha256_final(vkdp_sha256_ctx *c, char hex[65]);

/* Digest of the whole file at path into hex; returns 0, or -1 (errno set, hex = "") when the file
 * cannot be opened or read. */
int vkdp_sha256_file(const char *path, char hex[65]);

#endif
