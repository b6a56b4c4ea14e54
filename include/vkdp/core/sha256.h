/* SHA-256 of a file (OpenSSL's EVP), for recording exactly which weights/checkpoint a run used. */
#ifndef VKDP_SHA256_H
#define VKDP_SHA256_H

/* Digest of the whole file at path as 64 lowercase hex digits + NUL; returns 0, or -1 (errno set,
 * hex = "") when the file cannot be opened or read. A failure inside OpenSSL (no SHA-256
 * provider, no memory) is fatal, with OpenSSL's error queue in the message. */
int vkdp_sha256_file(const char *path, char hex[65]);

/* "OpenSSL 3.0.19 27 Jan 2026": the library this process runs with (for --version). */
const char *vkdp_openssl_version(void);

#endif
