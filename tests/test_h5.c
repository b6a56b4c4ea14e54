/* The h5 module on its own:
 *   quiet    vkdp_h5_quietly turns HDF5's error printing off inside and restores the caller's
 *            handler afterwards, whatever the callback returns;
 *   strings  the one string-array reader reads every flavour h5py, Keras and we write (fixed
 *            length null-terminated / null-padded / space-padded, full-width names, variable
 *            length, scalar, an empty float array) and refuses a 2-D array;
 *   atomic   vkdp_atomic_write leaves the complete file and no temporary one, fails naming the
 *            target when the directory is missing, and clears a dead writer's temporary file of
 *            this host but not another host's;
 *   errmsg   vkdp_seterr formats, truncates and tolerates a NULL buffer.
 * usage: test_h5 DIR */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "vkdp/core/errmsg.h"
#include "vkdp/h5/atomic_file.h"
#include "vkdp/h5/h5.h"

static int custom_calls;
static herr_t custom_handler(hid_t stack, void *data)
{
    (void)stack;
    (void)data;
    custom_calls++;
    return 0;
}

static int inside_quiet(void *arg)
{
    H5E_auto2_t f = (H5E_auto2_t)1;
    void *d = NULL;
    H5Eget_auto2(H5E_DEFAULT, &f, &d);
    *(int *)arg = f == NULL;
    H5Fopen("/nonexistent/vkdp-test.h5", H5F_ACC_RDONLY, H5P_DEFAULT); /* would print */
    H5Eclear2(H5E_DEFAULT);
    return 7;
}

static void test_quiet(void)
{
    int marker = 42, silent = 0;
    H5Eset_auto2(H5E_DEFAULT, custom_handler, &marker);
    int rc = vkdp_h5_quietly(inside_quiet, &silent);
    H5E_auto2_t f = NULL;
    void *d = NULL;
    H5Eget_auto2(H5E_DEFAULT, &f, &d);
    CHECK(rc == 7, "quietly returns the callback's result (%d)", rc);
    CHECK(silent, "printing is off inside");
    CHECK(custom_calls == 0, "the caller's handler was not called inside");
    CHECK(f == custom_handler && d == &marker, "the caller's handler is back afterwards");
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

/* A 1-D (or scalar, n = 0) fixed-length attribute of width w, padding pad, raw bytes. */
static void fixed_attr(hid_t f, const char *name, size_t w, H5T_str_t pad, const char *bytes, int n)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, w);
    H5Tset_strpad(t, pad);
    hsize_t dims[1] = {(hsize_t)n};
    hid_t sp = n ? H5Screate_simple(1, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(f, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, t, bytes) < 0)
        VKDP_FATAL("write attribute %s", name);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
}

static void expect_strs(vkdp_h5_io *io, hid_t f, const char *name, const char *const *want, size_t n)
{
    char **v = NULL;
    size_t got = 0;
    int rc = vkdp_h5_attr_read_strs(io, f, "/", name, &v, &got);
    int ok = rc == 0 && got == n;
    for (size_t i = 0; ok && i < n; i++)
        ok = !strcmp(v[i], want[i]);
    CHECK(ok, "%s: rc %d, %zu strings%s%s", name, rc, got, got ? ", first '" : "", got ? v[0] : "");
    vkdp_h5_strs_free(v, got);
}

static void test_strings(const char *dir)
{
    char path[4200], err[1024] = "";
    snprintf(path, sizeof path, "%s/strings.h5", dir);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    vkdp_h5_io io = {path, NULL, NULL, err, sizeof err};
    fixed_attr(f, "nullpad_full", 5, H5T_STR_NULLPAD, "daisyroses", 2);
    fixed_attr(f, "nullpad_short", 5, H5T_STR_NULLPAD, "ab\0\0\0c\0\0\0\0", 2);
    fixed_attr(f, "nullterm", 4, H5T_STR_NULLTERM, "abc\0de\0\0", 2);
    fixed_attr(f, "spacepad", 5, H5T_STR_SPACEPAD, "ab   cde  ", 2);
    fixed_attr(f, "scalar", 3, H5T_STR_NULLPAD, "xyz", 0);
    const char *vl[3] = {"daisy", "a,b", ""};
    if (vkdp_h5_attr_write_strs(&io, f, "vlen", vl, 3, 1) < 0 ||
        vkdp_h5_attr_write_str(&io, f, "vlen_scalar", "one") < 0)
        VKDP_FATAL("%s", err);
    hsize_t zero[1] = {0}, two[2] = {2, 2};
    hid_t sp = H5Screate_simple(1, zero, NULL);
    hid_t a = H5Acreate2(f, "empty_float", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Aclose(a);
    H5Sclose(sp);
    sp = H5Screate_simple(2, two, NULL);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, 2);
    a = H5Acreate2(f, "two_d", t, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, "abcdefgh");
    H5Aclose(a);
    H5Tclose(t);
    H5Sclose(sp);

    expect_strs(&io, f, "nullpad_full", (const char *[]){"daisy", "roses"}, 2);
    expect_strs(&io, f, "nullpad_short", (const char *[]){"ab", "c"}, 2);
    expect_strs(&io, f, "nullterm", (const char *[]){"abc", "de"}, 2);
    expect_strs(&io, f, "spacepad", (const char *[]){"ab", "cde"}, 2);
    expect_strs(&io, f, "scalar", (const char *[]){"xyz"}, 1);
    expect_strs(&io, f, "vlen", vl, 3);
    expect_strs(&io, f, "vlen_scalar", (const char *[]){"one"}, 1);
    expect_strs(&io, f, "empty_float", NULL, 0);
    char **v = NULL;
    size_t n = 0;
    int rc = vkdp_h5_attr_read_strs(&io, f, "/", "two_d", &v, &n);
    CHECK(rc < 0 && strstr(err, path) && strstr(err, "attribute 'two_d' of / is not a 1-D array"),
          "2-D string array refused: %s", err);
    rc = vkdp_h5_attr_read_strs(&io, f, "/", "absent", &v, &n);
    CHECK(rc < 0 && strstr(err, "missing attribute 'absent' of /"), "missing: %s", err);
    H5Fclose(f);
}

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static void test_atomic(const char *dir)
{
    char final[4200], err[1024] = "", buf[64] = "";
    snprintf(final, sizeof final, "%s/out.bin", dir);
    vkdp_h5_io io = {final, NULL, NULL, err, sizeof err};
    /* a temporary file of a writer on this host that died (no such pid), and another host's */
    char dead[4400], other[4400];
    snprintf(dead, sizeof dead, "%s/.tmp-x.h5.%s.%d", dir, vkdp_host_name(), 0x7ffffff0);
    snprintf(other, sizeof other, "%s/.tmp-x.h5.other-host.example.%d", dir, 0x7ffffff0);
    FILE *f1 = fopen(dead, "w"), *f2 = fopen(other, "w");
    if (!f1 || !f2 || fclose(f1) || fclose(f2))
        VKDP_FATAL("cannot create the temporary files");
    int rc = vkdp_atomic_write(&io, final, "hello", 5);
    FILE *f = fopen(final, "rb");
    size_t got = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    CHECK(rc == 0 && got == 5 && !memcmp(buf, "hello", 5), "written: %s", rc ? err : buf);
    char tmp[4400];
    vkdp_atomic_temp_name(tmp, sizeof tmp, dir, "out.bin");
    CHECK(!exists(tmp), "no temporary file left (%s)", tmp);
    CHECK(!exists(dead), "a dead writer's temporary file is removed");
    CHECK(exists(other), "another host's temporary file is left alone");
    rc = vkdp_atomic_write(&io, final, "again", 5);
    CHECK(rc == 0, "overwrite: %s", rc ? err : "ok");

    char missing[4200];
    snprintf(missing, sizeof missing, "%s/no-such-dir/out.bin", dir);
    vkdp_h5_io io2 = {missing, NULL, NULL, err, sizeof err};
    rc = vkdp_atomic_write(&io2, missing, "x", 1);
    CHECK(rc < 0 && strstr(err, missing) && strstr(err, "No such file or directory"),
          "missing directory: %s", err);
}

static void test_errmsg(void)
{
    char b[8];
    CHECK(vkdp_seterr(b, sizeof b, "%s-%d", "abc", 12345) == -1 && !strcmp(b, "abc-123"),
          "vkdp_seterr truncates: '%s'", b);
    CHECK(vkdp_seterr(NULL, 0, "x") == -1, "vkdp_seterr with no buffer");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_h5 DIR\n");
        return 2;
    }
    mkdir(argv[1], 0755);
    test_quiet();
    test_strings(argv[1]);
    test_atomic(argv[1]);
    test_errmsg();
    printf("%s h5\n", failures ? "FAIL" : "ok");
    return failures ? 1 : 0;
}
