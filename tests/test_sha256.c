/* vkdp_sha256_file (and the incremental interface) against FIPS 180-4 test vectors and against coreutils' sha256sum on files of
 * every length around the 64-byte block and the 64 KiB read-buffer boundaries.
 * usage: test_sha256 SCRATCH_DIR [EXTRA_FILE...] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "vkdp/core/common.h"
#include "vkdp/core/sha256.h"

static int failures;

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0)
        VKDP_FATAL("cannot write %s: %s", path, vkdp_errno_str());
}

/* coreutils' digests of files[0..n): one sha256sum run for all of them */
static void sha256sum(char **files, size_t n, char (*hex)[65])
{
    size_t len = 16;
    for (size_t i = 0; i < n; i++)
        len += strlen(files[i]) + 3;
    char *cmd = vkdp_xmalloc(len);
    size_t o = (size_t)sprintf(cmd, "sha256sum");
    for (size_t i = 0; i < n; i++)
        o += (size_t)sprintf(cmd + o, " '%s'", files[i]);
    FILE *p = popen(cmd, "r");
    if (!p)
        VKDP_FATAL("popen(sha256sum) failed: %s", vkdp_errno_str());
    char name[4200];
    for (size_t i = 0; i < n; i++)
        if (fscanf(p, "%64s %4199s", hex[i], name) != 2 || strcmp(name, files[i]) != 0)
            VKDP_FATAL("unexpected sha256sum output for %s", files[i]);
    if (pclose(p) != 0)
        VKDP_FATAL("sha256sum failed");
    free(cmd);
}

static void expect(const char *what, const char *path, const char *want)
{
    char got[65];
    if (vkdp_sha256_file(path, got) != 0) {
        printf("FAIL %s: vkdp_sha256_file(%s) failed: %s\n", what, path, vkdp_errno_str());
        failures++;
    } else if (strcmp(got, want) != 0) {
        printf("FAIL %s: got %s want %s\n", what, got, want);
        failures++;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s SCRATCH_DIR [EXTRA_FILE...]\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    /* the parent is the build tree's effnet_test/, made by CMake */
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        VKDP_FATAL("mkdir %s: %s", dir, vkdp_errno_str());
    char path[4200];
    snprintf(path, sizeof path, "%s/msg", dir);

    /* FIPS 180-4 / NIST examples */
    static const struct {
        const char *msg, *digest;
    } vectors[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    for (size_t i = 0; i < VKDP_ARRAY_LEN(vectors); i++) {
        write_file(path, vectors[i].msg, strlen(vectors[i].msg));
        expect(vectors[i].msg[0] ? vectors[i].msg : "(empty)", path, vectors[i].digest);
        /* the incremental interface, fed in pieces of 1, 2, 3... bytes */
        vkdp_sha256_ctx *c = vkdp_sha256_init();
        size_t len = strlen(vectors[i].msg);
        for (size_t o = 0, k = 1; o < len; o += k, k++)
            vkdp_sha256_update(c, vectors[i].msg + o, k < len - o ? k : len - o);
        char got[65];
        vkdp_sha256_final(c, got);
        if (strcmp(got, vectors[i].digest) != 0) {
            printf("FAIL incremental %s: got %s want %s\n", vectors[i].msg, got, vectors[i].digest);
            failures++;
        }
    }
    char *million = vkdp_xmalloc(1000000);
    memset(million, 'a', 1000000);
    write_file(path, million, 1000000);
    expect("10^6 x 'a'", path, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(million);

    /* every length 0..130 (padding into one or two extra blocks) and around the read buffer */
    size_t lens[140];
    size_t nlens = 0;
    for (size_t n = 0; n <= 130; n++)
        lens[nlens++] = n;
    size_t big[] = {65535, 65536, 65537, 3 * 65536 + 55, 3 * 65536 + 56};
    for (size_t i = 0; i < VKDP_ARRAY_LEN(big); i++)
        lens[nlens++] = big[i];
    unsigned char *buf = vkdp_xmalloc(4 * 65536);
    test_rng r = {42};
    for (size_t i = 0; i < 4 * 65536; i++)
        buf[i] = (unsigned char)test_rng_u64(&r);
    size_t nfiles = nlens + (size_t)(argc - 2);
    char **files = vkdp_xcalloc(nfiles, sizeof *files);
    char(*want)[65] = vkdp_xcalloc(nfiles, sizeof *want);
    for (size_t i = 0; i < nlens; i++) {
        snprintf(path, sizeof path, "%s/random_%zu", dir, lens[i]);
        write_file(path, buf, lens[i]);
        files[i] = vkdp_xstrdup(path);
    }
    for (int i = 2; i < argc; i++)
        files[nlens + (size_t)(i - 2)] = argv[i];
    sha256sum(files, nfiles, want);
    for (size_t i = 0; i < nfiles; i++)
        expect(files[i], files[i], want[i]);
    for (size_t i = 0; i < nlens; i++)
        free(files[i]);
    free(files);
    free(want);
    free(buf);

    snprintf(path, sizeof path, "%s/does-not-exist", dir);
    char hex[65] = "x";
    if (vkdp_sha256_file(path, hex) != -1 || hex[0] != '\0') {
        printf("FAIL missing file: expected -1 and an empty digest\n");
        failures++;
    }
    printf("%s sha256: %zu vectors + %zu lengths + %d files vs sha256sum\n", failures ? "FAIL" : "ok",
           VKDP_ARRAY_LEN(vectors) + 1, nlens, argc - 2);
    return failures ? 1 : 0;
}
