/* SHA-256 (OpenSSL's EVP) of a file, for recording exactly which weights/checkpoint a run used,
 * and of bytes fed piece by piece (the data index every rank compares). */
#ifndef VKDP_SHA256_H
#define VKDP_SHA256_H

#include <stddef.h>

/* Digest of the whole file at path as 64 lowercase hex digits + NUL; returns 0, or -1 (errno set,
 * hex = "") when the file cannot be opened or read. A failure inside OpenSSL (no SHA-256
 * provider, no memory) is fatal, with OpenSSL's error queue in the message. */
int vkdp_sha256_file(const char *path, char hex[65]);

/* Incremental digest: init, any number of updates, final (which frees the context and writes 64
 * lowercase hex digits + NUL). OpenSSL failures are fatal. */
typedef struct vkdp_sha256_ctx vkdp_sha256_ctx;
vkdp_sha256_ctx *vkdp_sha256_init(void);
void vkdp_sha256_update(vkdp_sha256_ctx *c, const void *data, size_t n);
void vkdp_sha256_final(vkdp_sha256_ctx *c, char hex[65]);

/* "OpenSSL 3.0.19 27 Jan 2026": the library this process runs with (for --version). */
const char *vkdp_openssl_version(void);

#endif
