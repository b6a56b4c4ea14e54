/* JPEG header probe and decode with the TurboJPEG API, matching what Keras' loader gets from
 * tf.io.decode_image(channels=3): TF's DecodeImage op uses JDCT_IFAST (TJFLAG_FASTDCT) with fancy
 * upsampling (TurboJPEG's default); grayscale is replicated to RGB by libjpeg; CMYK/YCCK is
 * decoded to CMYK and converted with TF's integer formula (inverted when an Adobe APP14 marker is
 * present, as libjpeg's saw_Adobe_marker). */
#include "vkdp/core/common.h"
#include "vkdp/core/errmsg.h"
#include "vkdp/data/data.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <turbojpeg.h>
#include <unistd.h>

#define PROBE_BYTES (64 * 1024)
/* Larger files are not images this trainer could use; refuse them instead of exhausting memory. */
#define MAX_FILE_BYTES ((size_t)1 << 30)

/* Written once at start (before any decode thread exists), then only read. */
static int64_t max_pixels = VKDP_DEFAULT_MAX_PIXELS;

void vkdp_jpeg_set_max_pixels(int64_t n)
{
    max_pixels = n > 0 ? n : VKDP_DEFAULT_MAX_PIXELS;
}

int64_t vkdp_jpeg_max_pixels(void)
{
    return max_pixels;
}

/* Reads up to `limit` bytes (0 = all) into *buf, grown (realloc) to *cap when needed.
 * Non-regular files (FIFOs, devices) are refused before any blocking read. Returns 0 with *got
 * and the file size. */
static int read_file(const char *path, size_t limit, uint8_t **buf, size_t *cap, size_t *got,
                     size_t *fsize, char *r, size_t rlen)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        vkdp_seterr(r, rlen, "cannot open: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        vkdp_seterr(r, rlen, "cannot stat: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        vkdp_seterr(r, rlen, "not a regular file");
        close(fd);
        return -1;
    }
    size_t size = (size_t)st.st_size;
    *fsize = size;
    if (size == 0) {
        vkdp_seterr(r, rlen, "empty file (0 bytes)");
        close(fd);
        return -1;
    }
    if (size > MAX_FILE_BYTES) {
        vkdp_seterr(r, rlen, "file too large (%zu bytes)", size);
        close(fd);
        return -1;
    }
    size_t want = limit && limit < size ? limit : size;
    if (*cap < want) {
        *buf = vkdp_xrealloc(*buf, want);
        *cap = want;
    }
    uint8_t *b = *buf;
    size_t n = 0;
    while (n < want) {
        ssize_t k = read(fd, b + n, want - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            vkdp_seterr(r, rlen, "read error: %s", strerror(errno));
            close(fd);
            return -1;
        }
        if (k == 0)
            break;
        n += (size_t)k;
    }
    close(fd);
    if (n == 0) {
        vkdp_seterr(r, rlen, "empty file (0 bytes read)");
        return -1;
    }
    *got = n;
    return 0;
}

static const char *sniff_format(const uint8_t *d, size_t n)
{
    if (n >= 8 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8))
        return "PNG";
    if (n >= 4 && !memcmp(d, "GIF8", 4))
        return "GIF";
    if (n >= 2 && !memcmp(d, "BM", 2))
        return "BMP";
    if (n >= 12 && !memcmp(d, "RIFF", 4) && !memcmp(d + 8, "WEBP", 4))
        return "WebP";
    return NULL;
}

/* Header check on `n` bytes. Returns 0, -1 (invalid: reason set), or 1 (header incomplete). */
static int header_of(tjhandle tj, const uint8_t *d, size_t n, int complete, int *w, int *h,
                     int *cs, char *r, size_t rlen)
{
    if (n < 3 || d[0] != 0xFF || d[1] != 0xD8 || d[2] != 0xFF) {
        const char *fmt = sniff_format(d, n);
        if (fmt)
            vkdp_seterr(r, rlen, "not JPEG data (%s image with a JPEG name)", fmt);
        else
            vkdp_seterr(r, rlen, "not JPEG data (no JPEG start-of-image marker)");
        return -1;
    }
    int sub = 0;
    if (tjDecompressHeader3(tj, d, (unsigned long)n, w, h, &sub, cs) != 0) {
        if (!complete)
            return 1;
        vkdp_seterr(r, rlen, "invalid JPEG header: %s", tjGetErrorStr2(tj));
        return -1;
    }
    /* TurboJPEG 2.1 reports success with 0x0 when the data ends before the frame header. */
    if ((*w <= 0 || *h <= 0) && !complete)
        return 1;
    if (*w <= 0 || *h <= 0 || *w > VKDP_MAX_IMAGE_SIDE || *h > VKDP_MAX_IMAGE_SIDE) {
        vkdp_seterr(r, rlen, "absurd dimensions %dx%d (limit %d per side)", *w, *h, VKDP_MAX_IMAGE_SIDE);
        return -1;
    }
    if ((int64_t)*w * *h > max_pixels) {
        vkdp_seterr(r, rlen, "%dx%d = %lld pixels, over the per-image budget of %lld (--max-pixels)", *w, *h,
                    (long long)*w * *h, (long long)max_pixels);
        return -1;
    }
    return 0;
}

int vkdp_jpeg_probe(const char *path, int *width, int *height, char *reason, size_t len)
{
    uint8_t *buf = NULL;
    size_t cap = 0, got, fsize;
    if (read_file(path, PROBE_BYTES, &buf, &cap, &got, &fsize, reason, len) != 0) {
        free(buf);
        return -1;
    }
    tjhandle tj = tjInitDecompress();
    if (!tj)
        VKDP_FATAL("tjInitDecompress failed: %s", tjGetErrorStr2(NULL));
    int cs = 0;
    int rc = header_of(tj, buf, got, got == fsize, width, height, &cs, reason, len);
    if (rc == 1) { /* header beyond the first bytes (large EXIF/ICC): read the whole file */
        if (read_file(path, 0, &buf, &cap, &got, &fsize, reason, len) != 0)
            rc = -1;
        else
            rc = header_of(tj, buf, got, 1, width, height, &cs, reason, len);
    }
    tjDestroy(tj);
    free(buf);
    return rc == 0 ? 0 : -1;
}

/* libjpeg sets saw_Adobe_marker for an APP14 segment of >= 12 data bytes starting "Adobe". */
static int has_adobe_marker(const uint8_t *d, size_t n)
{
    size_t i = 2;
    while (i + 4 <= n) {
        if (d[i] != 0xFF)
            return 0;
        uint8_t m = d[i + 1];
        if (m == 0xFF) {
            i++;
            continue;
        }
        if (m == 0xDA || m == 0xD9)
            return 0;
        size_t seg = ((size_t)d[i + 2] << 8) | d[i + 3];
        if (seg < 2)
            return 0;
        if (m == 0xEE && seg - 2 >= 12 && i + 4 + 5 <= n && !memcmp(d + i + 4, "Adobe", 5))
            return 1;
        i += 2 + seg;
    }
    return 0;
}

static int decode_failed(tjhandle tj, char *r, size_t rlen)
{
    /* Any libjpeg warning counts: "Corrupt JPEG data: premature end of data segment", a bad
     * Huffman code or a premature end all mean libjpeg invented part of the picture (grey or
     * smeared blocks), and training or predicting on it would be silently wrong. The flower set
     * decodes without a single warning, so this drops no real image. */
    vkdp_seterr(r, rlen, "JPEG decode failed%s: %s",
                tjGetErrorCode(tj) == TJERR_WARNING ? " (corrupt data)" : "", tjGetErrorStr2(tj));
    return 1;
}

struct vkdp_jpeg_decoder {
    tjhandle tj;
    uint8_t *file, *rgb, *cmyk;
    size_t file_cap, rgb_cap, cmyk_cap;
};

vkdp_jpeg_decoder *vkdp_jpeg_decoder_create(void)
{
    vkdp_jpeg_decoder *d = vkdp_xcalloc(1, sizeof *d);
    d->tj = tjInitDecompress();
    if (!d->tj)
        VKDP_FATAL("tjInitDecompress failed: %s", tjGetErrorStr2(NULL));
    return d;
}

void vkdp_jpeg_decoder_destroy(vkdp_jpeg_decoder *d)
{
    if (!d)
        return;
    tjDestroy(d->tj);
    free(d->file);
    free(d->rgb);
    free(d->cmyk);
    free(d);
}

static uint8_t *grow(uint8_t **p, size_t *cap, size_t n)
{
    if (*cap < n) {
        *p = vkdp_xrealloc(*p, n);
        *cap = n;
    }
    return *p;
}

int vkdp_jpeg_decoder_mem(vkdp_jpeg_decoder *d, const uint8_t *data, size_t size,
                          int accurate_dct, const uint8_t **rgb, int *width, int *height,
                          char *reason, size_t len)
{
    const int flags = accurate_dct ? TJFLAG_ACCURATEDCT : TJFLAG_FASTDCT;
    *rgb = NULL;
    int w = 0, h = 0, cs = 0;
    if (header_of(d->tj, data, size, 1, &w, &h, &cs, reason, len) != 0)
        return -1;
    size_t npix = (size_t)w * (size_t)h;
    uint8_t *out = grow(&d->rgb, &d->rgb_cap, npix * 3);
    if (cs == TJCS_CMYK || cs == TJCS_YCCK) {
        uint8_t *cmyk = grow(&d->cmyk, &d->cmyk_cap, npix * 4);
        if (tjDecompress2(d->tj, data, (unsigned long)size, cmyk, w, 0, h, TJPF_CMYK, flags) != 0 &&
            decode_failed(d->tj, reason, len))
            return -1;
        int adobe = has_adobe_marker(data, size);
        for (size_t i = 0; i < npix; i++) {
            int c = cmyk[4 * i], m = cmyk[4 * i + 1], y = cmyk[4 * i + 2], k = cmyk[4 * i + 3];
            if (adobe) {
                out[3 * i] = (uint8_t)(k * c / 255);
                out[3 * i + 1] = (uint8_t)(k * m / 255);
                out[3 * i + 2] = (uint8_t)(k * y / 255);
            } else {
                out[3 * i] = (uint8_t)((255 - k) * (255 - c) / 255);
                out[3 * i + 1] = (uint8_t)((255 - k) * (255 - m) / 255);
                out[3 * i + 2] = (uint8_t)((255 - k) * (255 - y) / 255);
            }
        }
    } else if (tjDecompress2(d->tj, data, (unsigned long)size, out, w, 0, h, TJPF_RGB, flags) != 0 &&
               decode_failed(d->tj, reason, len)) {
        return -1;
    }
    *rgb = out;
    *width = w;
    *height = h;
    return 0;
}

int vkdp_jpeg_decoder_file(vkdp_jpeg_decoder *d, const char *path, int accurate_dct,
                           const uint8_t **rgb, int *width, int *height, char *reason, size_t len)
{
    size_t got, fsize;
    *rgb = NULL;
    if (read_file(path, 0, &d->file, &d->file_cap, &got, &fsize, reason, len) != 0)
        return -1;
    return vkdp_jpeg_decoder_mem(d, d->file, got, accurate_dct, rgb, width, height, reason, len);
}

/* One-shot wrappers: the result is copied out of a temporary decoder. */
static int take(vkdp_jpeg_decoder *d, int rc, const uint8_t *img, int w, int h, uint8_t **rgb)
{
    *rgb = NULL;
    if (rc == 0) {
        size_t n = (size_t)w * (size_t)h * 3;
        if (img == d->rgb && d->rgb_cap == n) { /* hand over the buffer instead of copying */
            *rgb = d->rgb;
            d->rgb = NULL;
            d->rgb_cap = 0;
        } else {
            *rgb = vkdp_xmalloc(n);
            memcpy(*rgb, img, n);
        }
    }
    vkdp_jpeg_decoder_destroy(d);
    return rc;
}

int vkdp_jpeg_decode_mem_dct(const uint8_t *data, size_t size, int accurate_dct, uint8_t **rgb,
                             int *width, int *height, char *reason, size_t len)
{
    vkdp_jpeg_decoder *d = vkdp_jpeg_decoder_create();
    const uint8_t *img;
    int rc = vkdp_jpeg_decoder_mem(d, data, size, accurate_dct, &img, width, height, reason, len);
    return take(d, rc, img, *width, *height, rgb);
}

int vkdp_jpeg_decode_mem(const uint8_t *data, size_t size, uint8_t **rgb, int *width, int *height,
                         char *reason, size_t len)
{
    return vkdp_jpeg_decode_mem_dct(data, size, 0, rgb, width, height, reason, len);
}

int vkdp_jpeg_decode_file_dct(const char *path, int accurate_dct, uint8_t **rgb, int *width,
                              int *height, char *reason, size_t len)
{
    vkdp_jpeg_decoder *d = vkdp_jpeg_decoder_create();
    const uint8_t *img;
    int rc = vkdp_jpeg_decoder_file(d, path, accurate_dct, &img, width, height, reason, len);
    return take(d, rc, img, *width, *height, rgb);
}

int vkdp_jpeg_decode_file(const char *path, uint8_t **rgb, int *width, int *height, char *reason,
                          size_t len)
{
    return vkdp_jpeg_decode_file_dct(path, 0, rgb, width, height, reason, len);
}
