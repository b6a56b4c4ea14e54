/* Bad input, planted in a temporary copy of a few flower images (mkdtemp under /tmp, removed at
 * the end): missing/empty/file-instead-of-folder data paths, no class folders, nothing usable;
 * and in one folder: empty file, PNG data and text with a .jpg name, absurd dimensions, a dangling
 * symlink (unreadable), a FIFO (must not hang), a corrupt header, a truncated body, a .png, a
 * header behind 120 KB of APP segments, an empty class, a hidden folder, a file deleted after
 * indexing; bodies libjpeg decodes only with a warning (cut short + EOI, zeroed entropy data).
 * A tiny JPEG declaring 16384x16384 is refused from its header (the pixel budget).
 * A symlink loop and links to files already indexed: each file indexed once.
 * Header failures are excluded at indexing with their reason; body failures drop the
 * sample from its batch and count as skipped. Also CMYK and grayscale JPEGs decode to RGB.
 * usage: test_data_bad FLOWER_DIR */
#include "data_test_util.h"
#include "vkdp/core/common.h"
#include "vkdp/data/data.h"

#include <stdint.h>
#include <sys/resource.h>
#include <turbojpeg.h>

static int fails;
static char root[4096];

static void expect(int cond, const char *what)
{
    printf("%s %s\n", cond ? "ok  " : "FAIL", what);
    fails += !cond;
}

static char *P(const char *rel)
{
    static char bufs[4][8192];
    static int k;
    char *b = bufs[k++ & 3];
    snprintf(b, sizeof bufs[0], "%s/%s", root, rel);
    return b;
}

static void expect_build_error(const char *rel, const char *needle, const char *what)
{
    vkdp_index idx;
    char err[2048] = "";
    int rc = vkdp_index_build(P(rel), NULL, 0, &idx, err, sizeof err);
    int ok = rc == -1 && strstr(err, needle) && strstr(err, rel);
    printf("%s %s: \"%s\"\n", ok ? "ok  " : "FAIL", what, err);
    fails += !ok;
    if (rc == 0)
        vkdp_index_free(&idx);
}

static const char *reason_of(const vkdp_index *idx, const char *rel)
{
    for (int i = 0; i < idx->nexcluded; i++)
        if (!strcmp(idx->excluded[i].path, P(rel)))
            return idx->excluded[i].reason;
    return "(not excluded)";
}

static void expect_excluded(const vkdp_index *idx, const char *rel, const char *needle)
{
    const char *r = reason_of(idx, rel);
    int ok = strstr(r, needle) != NULL;
    printf("%s excluded %s: %s\n", ok ? "ok  " : "FAIL", rel, r);
    fails += !ok;
}

/* Offset of the SOF marker's height field, by walking the segments. */
static size_t sof_dims_offset(const unsigned char *d, size_t n)
{
    size_t i = 2;
    while (i + 9 < n && d[i] == 0xFF) {
        unsigned m = d[i + 1];
        if (m >= 0xC0 && m <= 0xC2)
            return i + 5;
        i += 2 + ((size_t)d[i + 2] << 8 | d[i + 3]);
    }
    return 0;
}

static void plant_folder(const char *flowers)
{
    const char *src[6] = {"daisy/100080576_f52e8ee070_n.jpg", "daisy/10140303196_b88d3d6cec.jpg",
                          "dandelion/10043234166_e6dd915111_n.jpg", "roses/10090824183_d02c613f10_m.jpg",
                          "tulips/10094729603_eeca3f2cb6.jpg", "sunflowers/1008566138_6927679c8a.jpg"};
    char s[8192];
    tu_mkdir(P("mixed"));
    tu_mkdir(P("mixed/a"));
    tu_mkdir(P("mixed/a/sub"));
    tu_mkdir(P("mixed/b"));
    tu_mkdir(P("mixed/c"));
    tu_mkdir(P("mixed/.hidden"));
    const char *dst[6] = {"mixed/a/good1.jpg", "mixed/a/good2.jpg", "mixed/a/good3.jpg",
                          "mixed/b/good4.jpg", "mixed/b/GOOD5.JPEG", "mixed/a/sub/deep.jpg"};
    for (int i = 0; i < 6; i++) {
        snprintf(s, sizeof s, "%s/%s", flowers, src[i]);
        tu_copy(s, P(dst[i]));
    }
    tu_copy(P("mixed/a/good1.jpg"), P("mixed/.hidden/ignored.jpg"));
    tu_write(P("mixed/c/readme.txt"), "no images here\n", 15);
    tu_write(P("mixed/a/zero.jpg"), "", 0);
    tu_write(P("mixed/a/png_named.jpg"), "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
    tu_write(P("mixed/a/text.jpg"), "hello, not an image\n", 20);
    tu_write(P("mixed/a/corrupt.jpg"), "\xFF\xD8\xFF\xC0\x00\x03junkjunkjunk", 17);
    tu_write(P("mixed/a/pic.png"), "\x89PNG\r\n\x1a\n", 8);
    if (symlink("/nonexistent/vkdp/gone.jpg", P("mixed/a/dangling.jpg")) != 0)
        tu_die("symlink", P("mixed/a/dangling.jpg"));
    if (mkfifo(P("mixed/a/fifo.jpg"), 0644) != 0)
        tu_die("mkfifo", P("mixed/a/fifo.jpg"));

    size_t n;
    unsigned char *d = tu_read(P("mixed/a/good2.jpg"), &n);
    tu_write(P("mixed/a/trunc.jpg"), d, n * 2 / 5); /* header intact, body cut */
    size_t off = sof_dims_offset(d, n);
    if (!off)
        tu_die("no SOF marker in", P("mixed/a/good2.jpg"));
    unsigned char *huge = malloc(n);
    memcpy(huge, d, n);
    huge[off] = huge[off + 2] = 20000 >> 8;
    huge[off + 1] = huge[off + 3] = 20000 & 0xFF;
    tu_write(P("mixed/a/huge.jpg"), huge, n);
    free(huge);
    /* Two 60 KB APP9 segments push the frame header past the 64 KiB probe. */
    size_t big = n + 2 * 60002;
    unsigned char *e = malloc(big);
    memcpy(e, d, 2);
    size_t k = 2;
    for (int seg = 0; seg < 2; seg++) {
        e[k] = 0xFF;
        e[k + 1] = 0xE9;
        e[k + 2] = 60000 >> 8;
        e[k + 3] = 60000 & 0xFF;
        memset(e + k + 4, 0x5A, 59998);
        k += 60002;
    }
    memcpy(e + k, d + 2, n - 2);
    tu_write(P("mixed/a/bigexif.jpg"), e, k + n - 2);
    free(e);
    free(d);
}

static void check_mixed(void)
{
    vkdp_index idx;
    char err[2048] = "";
    if (vkdp_index_build(P("mixed/"), NULL, 0, &idx, err, sizeof err) != 0) {
        printf("FAIL index of the mixed folder: %s\n", err);
        fails++;
        return;
    }
    const char *want[] = {"a/bigexif.jpg", "a/good1.jpg", "a/good2.jpg", "a/good3.jpg",
                          "a/trunc.jpg", "a/sub/deep.jpg", "b/GOOD5.JPEG", "b/good4.jpg"};
    int order_ok = idx.n == 8 && idx.nclasses == 3;
    for (int i = 0; order_ok && i < 8; i++)
        order_ok = !strcmp(idx.rel[i], want[i]) && idx.label[i] == (i < 6 ? 0 : 1);
    expect(order_ok, "mixed: 8 usable files in Keras order (sorted walk, subfolder after files, "
                     "case-insensitive extension, hidden folder ignored)");
    expect(idx.class_counts[0] == 6 && idx.class_counts[1] == 2 && idx.class_counts[2] == 0 &&
               idx.nempty_classes == 1,
           "mixed: per-class counts 6, 2, 0 and one empty class reported");
    expect(idx.nexcluded == 7, "mixed: 7 files excluded at indexing");
    expect_excluded(&idx, "mixed/a/zero.jpg", "empty file");
    expect_excluded(&idx, "mixed/a/png_named.jpg", "PNG image with a JPEG name");
    expect_excluded(&idx, "mixed/a/text.jpg", "not JPEG data");
    expect_excluded(&idx, "mixed/a/corrupt.jpg", "invalid JPEG header");
    expect_excluded(&idx, "mixed/a/huge.jpg", "absurd dimensions 20000x20000");
    expect_excluded(&idx, "mixed/a/dangling.jpg", "cannot open");
    expect_excluded(&idx, "mixed/a/fifo.jpg", "not a regular file");
    expect(idx.nskipped_types == 1 && strstr(idx.skipped_types[0].reason, "PNG"),
           "mixed: pic.png reported as a skipped non-JPEG image");

    /* Large-APP file: its decode must equal the original's. */
    uint8_t *a, *b;
    int wa, ha, wb, hb;
    char reason[512];
    int ra = vkdp_jpeg_decode_file(P("mixed/a/bigexif.jpg"), &a, &wa, &ha, reason, sizeof reason);
    int rb = vkdp_jpeg_decode_file(P("mixed/a/good2.jpg"), &b, &wb, &hb, reason, sizeof reason);
    expect(ra == 0 && rb == 0 && wa == wb && ha == hb && !memcmp(a, b, (size_t)wa * ha * 3),
           "header behind 120 KB of APP segments: probed and decoded like the original");
    if (ra == 0)
        free(a);
    if (rb == 0)
        free(b);
    int rt = vkdp_jpeg_decode_file(P("mixed/a/trunc.jpg"), &a, &wa, &ha, reason, sizeof reason);
    printf("%s truncated body fails to decode: %s\n", rt != 0 ? "ok  " : "FAIL", rt ? reason : "");
    fails += rt == 0;
    if (rt == 0)
        free(a);

    /* Loading: trunc.jpg and the deleted good3.jpg are dropped from their batches. */
    if (unlink(P("mixed/a/good3.jpg")) != 0)
        tu_die("unlink", P("mixed/a/good3.jpg"));
    int items[8];
    for (int i = 0; i < 8; i++)
        items[i] = i;
    int total = 0, skipped = 0, steps[2] = {0, 0}, ok = 1;
    for (int r = 0; r < 2; r++) {
        vkdp_loader *l = vkdp_loader_create(&idx, items, 8, 3, r, 2, 16, 2, 2);
        vkdp_batch bt;
        while (vkdp_loader_next(l, &bt)) {
            total += bt.count;
            skipped += bt.skipped;
            ok &= bt.count + bt.skipped == bt.global_hi - bt.global_lo;
            for (int k = 0; k < bt.count; k++)
                ok &= bt.ids[k] != 3 && bt.ids[k] != 4; /* good3, trunc */
            steps[r]++;
            vkdp_loader_release(l, &bt);
        }
        vkdp_loader_destroy(l);
    }
    expect(ok && total == 6 && skipped == 2 && steps[0] == 3 && steps[1] == 3,
           "loader drops the truncated and the deleted file (6 loaded, 2 skipped, 3 steps per rank)");
    vkdp_index_free(&idx);
}

/* Offset of the first entropy-coded byte (after the SOS segment), by walking the segments. */
static size_t sos_data_offset(const unsigned char *d, size_t n)
{
    size_t i = 2;
    while (i + 4 < n && d[i] == 0xFF) {
        size_t seg = (size_t)d[i + 2] << 8 | d[i + 3];
        if (d[i + 1] == 0xDA)
            return i + 2 + seg;
        i += 2 + seg;
    }
    return 0;
}

/* Bodies that libjpeg decodes with only a warning ("Corrupt JPEG data: ..."): a file cut short
 * with an EOI marker appended, and one whose entropy-coded data is zeroed. Both pass the header
 * probe; the decode must fail, naming libjpeg's warning, and the loader must skip them. */
static void check_corrupt_bodies(const char *flowers)
{
    char s[8192];
    tu_mkdir(P("warn"));
    tu_mkdir(P("warn/a"));
    snprintf(s, sizeof s, "%s/%s", flowers, "daisy/10140303196_b88d3d6cec.jpg");
    tu_copy(s, P("warn/a/good.jpg"));
    size_t n;
    unsigned char *d = tu_read(P("warn/a/good.jpg"), &n);
    size_t cut = n * 2 / 5, sos = sos_data_offset(d, n);
    if (!sos || sos + 16 >= n)
        tu_die("no SOS marker in", P("warn/a/good.jpg"));
    unsigned char *e = malloc(n);
    memcpy(e, d, cut);
    e[cut] = 0xFF;
    e[cut + 1] = 0xD9;
    tu_write(P("warn/a/eoi_cut.jpg"), e, cut + 2);
    memcpy(e, d, n);
    memset(e + sos, 0, n - 2 - sos);
    tu_write(P("warn/a/zeroed.jpg"), e, n);
    free(e);
    free(d);

    const char *bad[2] = {"warn/a/eoi_cut.jpg", "warn/a/zeroed.jpg"};
    for (int i = 0; i < 2; i++) {
        uint8_t *rgb;
        int w, h;
        char reason[512] = "";
        int rc = vkdp_jpeg_decode_file(P(bad[i]), &rgb, &w, &h, reason, sizeof reason);
        int ok = rc != 0 && strstr(reason, "Corrupt JPEG data");
        printf("%s %s: decode fails on libjpeg's warning: %s\n", ok ? "ok  " : "FAIL", bad[i], reason);
        fails += !ok;
        if (rc == 0)
            free(rgb);
    }
    vkdp_index idx;
    char err[2048] = "";
    if (vkdp_index_build(P("warn"), NULL, 0, &idx, err, sizeof err) != 0) {
        printf("FAIL index of the warn folder: %s\n", err);
        fails++;
        return;
    }
    int items[3] = {0, 1, 2}, total = 0, skipped = 0, good = 0;
    vkdp_loader *l = vkdp_loader_create(&idx, items, 3, 3, 0, 1, 16, 1, 2);
    vkdp_batch bt;
    while (vkdp_loader_next(l, &bt)) {
        total += bt.count;
        skipped += bt.skipped;
        good += bt.count == 1 && !strcmp(idx.rel[bt.ids[0]], "a/good.jpg");
        vkdp_loader_release(l, &bt);
    }
    vkdp_loader_destroy(l);
    expect(idx.n == 3 && total == 1 && skipped == 2 && good == 1,
           "loader skips the two corrupt bodies (1 loaded: good.jpg, 2 skipped)");
    vkdp_index_free(&idx);
}

/* A class folder with a symlink loop (loop -> .), a symlink to an image and a hard link to
 * another: each image is indexed once, the two extra names are excluded as duplicates. */
static void check_links(const char *flowers)
{
    char s[8192];
    tu_mkdir(P("links"));
    tu_mkdir(P("links/a"));
    tu_mkdir(P("links/a/sub"));
    snprintf(s, sizeof s, "%s/%s", flowers, "daisy/100080576_f52e8ee070_n.jpg");
    tu_copy(s, P("links/a/img1.jpg"));
    snprintf(s, sizeof s, "%s/%s", flowers, "roses/10090824183_d02c613f10_m.jpg");
    tu_copy(s, P("links/a/img2.jpg"));
    if (symlink(".", P("links/a/loop")) != 0)
        tu_die("symlink", P("links/a/loop"));
    if (symlink("img1.jpg", P("links/a/dup.jpg")) != 0)
        tu_die("symlink", P("links/a/dup.jpg"));
    if (link(P("links/a/img2.jpg"), P("links/a/sub/hard.jpg")) != 0)
        tu_die("link", P("links/a/sub/hard.jpg"));
    vkdp_index idx;
    char err[2048] = "";
    if (vkdp_index_build(P("links"), NULL, 0, &idx, err, sizeof err) != 0) {
        printf("FAIL index of the links folder: %s\n", err);
        fails++;
        return;
    }
    int ok = idx.n == 2 && !strcmp(idx.rel[0], "a/dup.jpg") && !strcmp(idx.rel[1], "a/img2.jpg");
    printf("%s links: %d file(s) indexed (want a/dup.jpg, a/img2.jpg):", ok ? "ok  " : "FAIL", idx.n);
    for (int i = 0; i < idx.n && i < 6; i++)
        printf(" %s", idx.rel[i]);
    printf("\n");
    fails += !ok;
    expect(idx.nduplicates == 2 && idx.nexcluded == 2 &&
               strstr(reason_of(&idx, "links/a/img1.jpg"), "the same file") &&
               strstr(reason_of(&idx, "links/a/sub/hard.jpg"), "the same file"),
           "links: img1.jpg (reached through dup.jpg first) and the hard link excluded as duplicates");
    vkdp_index_free(&idx);
}

/* A 16x16 JPEG whose frame header declares 16384x16384 (about 805 MB decoded): excluded at
 * indexing and refused by the decoder from its header, fast and without allocating the pixels;
 * a lowered budget (--max-pixels) refuses an ordinary photo the same way. */
static void check_pixel_budget(void)
{
    enum { W = 16 };
    unsigned char px[W * W * 3];
    for (int i = 0; i < W * W * 3; i++)
        px[i] = (unsigned char)(i * 7);
    tjhandle tj = tjInitCompress();
    unsigned char *jpg = NULL;
    unsigned long size = 0;
    if (!tj || tjCompress2(tj, px, W, 0, W, TJPF_RGB, &jpg, &size, TJSAMP_444, 90, 0) != 0)
        tu_die("tjCompress2", "(memory)");
    size_t off = sof_dims_offset(jpg, size);
    if (!off)
        tu_die("no SOF marker in", "the crafted JPEG");
    jpg[off] = jpg[off + 2] = 16384 >> 8;
    jpg[off + 1] = jpg[off + 3] = 16384 & 0xFF;
    tu_mkdir(P("bomb"));
    tu_mkdir(P("bomb/a"));
    tu_write(P("bomb/a/bomb.jpg"), jpg, size);
    tu_copy(P("links/a/img2.jpg"), P("bomb/a/ok.jpg"));
    tjFree(jpg);
    tjDestroy(tj);

    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    double t0 = vkdp_now();
    vkdp_index idx;
    char err[2048] = "";
    if (vkdp_index_build(P("bomb"), NULL, 0, &idx, err, sizeof err) != 0) {
        printf("FAIL index of the bomb folder: %s\n", err);
        fails++;
        return;
    }
    expect(idx.n == 1 && idx.nexcluded == 1 && strstr(reason_of(&idx, "bomb/a/bomb.jpg"), "16384x16384") &&
               strstr(reason_of(&idx, "bomb/a/bomb.jpg"), "--max-pixels"),
           "a 16x16 JPEG declaring 16384x16384 is excluded at indexing, over the pixel budget");
    vkdp_index_free(&idx);
    uint8_t *rgb;
    int w, h;
    char reason[512] = "";
    int rc = vkdp_jpeg_decode_file(P("bomb/a/bomb.jpg"), &rgb, &w, &h, reason, sizeof reason);
    getrusage(RUSAGE_SELF, &ru1);
    double dt = vkdp_now() - t0;
    long grew_kb = ru1.ru_maxrss - ru0.ru_maxrss;
    printf("%s the decoder refuses it from its header in %.3f s, peak memory +%ld KiB: %s\n",
           rc != 0 && strstr(reason, "--max-pixels") && dt < 1.0 && grew_kb < 64 * 1024 ? "ok  " : "FAIL", dt,
           grew_kb, reason);
    fails += !(rc != 0 && strstr(reason, "--max-pixels") && dt < 1.0 && grew_kb < 64 * 1024);
    if (rc == 0)
        free(rgb);

    vkdp_jpeg_set_max_pixels(1000);
    rc = vkdp_jpeg_decode_file(P("bomb/a/ok.jpg"), &rgb, &w, &h, reason, sizeof reason);
    expect(rc != 0 && strstr(reason, "over the per-image budget of 1000"), "--max-pixels 1000 refuses a photo");
    if (rc == 0)
        free(rgb);
    vkdp_jpeg_set_max_pixels(VKDP_DEFAULT_MAX_PIXELS);
}

static void check_colour_spaces(void)
{
    enum { W = 24, H = 16 };
    tjhandle tj = tjInitCompress();
    unsigned char cmyk[W * H * 4], gray[W * H];
    for (int i = 0; i < W * H; i++) {
        cmyk[4 * i] = 30;
        cmyk[4 * i + 1] = 120;
        cmyk[4 * i + 2] = 200;
        cmyk[4 * i + 3] = 220;
        gray[i] = (unsigned char)(40 + 4 * (i % W));
    }
    unsigned char *jpg = NULL;
    unsigned long size = 0;
    uint8_t *rgb;
    int w, h;
    char reason[512];
    int ok = tjCompress2(tj, cmyk, W, 0, H, TJPF_CMYK, &jpg, &size, TJSAMP_444, 100, 0) == 0 &&
             vkdp_jpeg_decode_mem(jpg, size, &rgb, &w, &h, reason, sizeof reason) == 0;
    if (ok) {
        /* libjpeg writes an Adobe marker with CMYK: TF's formula is then r = k*c/255. */
        const int want[3] = {220 * 30 / 255, 220 * 120 / 255, 220 * 200 / 255};
        for (int i = 0; i < W * H * 3; i++)
            ok &= abs(rgb[i] - want[i % 3]) <= 2;
        ok &= w == W && h == H;
        free(rgb);
    }
    expect(ok, "CMYK JPEG decodes to RGB with TF's Adobe-CMYK formula");
    tjFree(jpg);
    jpg = NULL;
    ok = tjCompress2(tj, gray, W, 0, H, TJPF_GRAY, &jpg, &size, TJSAMP_GRAY, 100, 0) == 0 &&
         vkdp_jpeg_decode_mem(jpg, size, &rgb, &w, &h, reason, sizeof reason) == 0;
    if (ok) {
        for (int i = 0; i < W * H; i++)
            ok &= rgb[3 * i] == rgb[3 * i + 1] && rgb[3 * i] == rgb[3 * i + 2] &&
                  abs(rgb[3 * i] - gray[i]) <= 2;
        free(rgb);
    }
    expect(ok, "grayscale JPEG decodes to RGB with R = G = B");
    tjFree(jpg);
    tjDestroy(tj);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FLOWER_DIR\n", argv[0]);
        return 2;
    }
    snprintf(root, sizeof root, "%s", tu_mkdtemp());

    expect_build_error("missing", "No such file", "missing data folder");
    tu_mkdir(P("empty"));
    expect_build_error("empty", "no class subfolders", "empty data folder");
    tu_mkdir(P("flat"));
    tu_write(P("flat/x.jpg"), "x", 1);
    expect_build_error("flat", "no class subfolders", "folder of files without class folders");
    expect_build_error("flat/x.jpg", "not a directory", "a file given as the data folder");
    tu_mkdir(P("allbad"));
    tu_mkdir(P("allbad/cls"));
    tu_write(P("allbad/cls/zero.jpg"), "", 0);
    expect_build_error("allbad", "no usable JPEG image", "folder without any usable image");
    tu_mkdir(P("noimg"));
    tu_mkdir(P("noimg/cls"));
    expect_build_error("noimg", "no usable JPEG image", "class folders without images");

    vkdp_index idx;
    char err[2048];
    const char *bad_class[] = {"cls", "nope"};
    int rc = vkdp_index_build(P("allbad"), bad_class, 2, &idx, err, sizeof err);
    expect(rc == -1 && strstr(err, "'nope' is not a subfolder"), "unknown --class-names entry");
    if (rc == 0)
        vkdp_index_free(&idx);

    plant_folder(argv[1]);
    check_mixed();
    check_corrupt_bodies(argv[1]);
    check_links(argv[1]);
    check_pixel_budget();
    check_colour_spaces();

    tu_rmtree(root);
    printf("%s bad input: %d failure(s)\n", fails ? "FAIL" : "ok", fails);
    return fails ? 1 : 0;
}
