/* SHA-256 of a file through OpenSSL's EVP interface (the field's audited implementation). */
#include "vkdp/core/sha256.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <stdio.h>

#include "vkdp/core/common.h"

/* OpenSSL failures are not the file's fault: report the library's own reason and stop. */
#define SSL_CHECK(expr)                                                                         \
    do {                                                                                        \
        if (!(expr)) {                                                                          \
            char why_[256];                                                                     \
            ERR_error_string_n(ERR_get_error(), why_, sizeof why_);                             \
            vkdp_fatal_at(__FILE__, __LINE__, "%s failed: %s", #expr, why_);                    \
        }                                                                                       \
    } while (0)

static void to_hex(EVP_MD_CTX *c, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    SSL_CHECK(EVP_DigestFinal_ex(c, md, &len) == 1);
    EVP_MD_CTX_free(c);
    if (len != 32)
        VKDP_FATAL("EVP_sha256 returned a %u-byte digest, expected 32", len);
    for (unsigned int i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* The opaque context is OpenSSL's own. */
vkdp_sha256_ctx *vkdp_sha256_init(void)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    SSL_CHECK(c != NULL);
    SSL_CHECK(EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1);
    return (vkdp_sha256_ctx *)c;
}

void vkdp_sha256_update(vkdp_sha256_ctx *c, const void *data, size_t n)
{
    SSL_CHECK(EVP_DigestUpdate((EVP_MD_CTX *)c, data, n) == 1);
}

void vkdp_sha256_final(vkdp_sha256_ctx *c, char hex[65]) { to_hex((EVP_MD_CTX *)c, hex); }

int vkdp_sha256_file(const char *path, char hex[65])
{
    hex[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    EVP_MD_CTX *c = (EVP_MD_CTX *)vkdp_sha256_init();
    static _Thread_local unsigned char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        SSL_CHECK(EVP_DigestUpdate(c, buf, n) == 1);
    int failed = ferror(f);
    int saved = errno;
    if (fclose(f) != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    if (failed) {
        EVP_MD_CTX_free(c);
        errno = saved ? saved : EIO;
        return -1;
    }
    to_hex(c, hex);
    return 0;
}

const char *vkdp_openssl_version(void) { return OpenSSL_version(OPENSSL_VERSION); }
