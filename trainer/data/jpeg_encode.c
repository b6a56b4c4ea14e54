/* JPEG encoding with TurboJPEG for the report's thumbnails and the dataset grid. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "vkdp/core/common.h"
#include "vkdp/core/errmsg.h"
#include "vkdp/data/image.h"

int vkdp_jpeg_encode(const uint8_t *rgb, int w, int h, int quality, int subsamp444, uint8_t **jpeg,
                     size_t *size, char *reason, size_t len)
{
    *jpeg = NULL;
    *size = 0;
    if (w <= 0 || h <= 0 || w > VKDP_MAX_IMAGE_SIDE || h > VKDP_MAX_IMAGE_SIDE || quality < 1 || quality > 100)
        return vkdp_seterr(reason, len, "cannot encode a %dx%d image at quality %d", w, h, quality);
    tjhandle tj = tjInitCompress();
    if (!tj)
        return vkdp_seterr(reason, len, "tjInitCompress: %s", tjGetErrorStr2(NULL));
    unsigned char *buf = NULL;
    unsigned long n = 0;
    int rc = 0;
    if (tjCompress2(tj, rgb, w, 0, h, TJPF_RGB, &buf, &n, subsamp444 ? TJSAMP_444 : TJSAMP_420, quality,
                    TJFLAG_ACCURATEDCT) != 0) {
        rc = vkdp_seterr(reason, len, "tjCompress2: %s", tjGetErrorStr2(tj));
    } else {
        *jpeg = vkdp_xmalloc(n);
        memcpy(*jpeg, buf, n);
        *size = n;
    }
    tjFree(buf);
    if (tjDestroy(tj) != 0 && rc == 0) {
        free(*jpeg);
        *jpeg = NULL;
        rc = vkdp_seterr(reason, len, "tjDestroy: %s", tjGetErrorStr2(NULL));
    }
    return rc;
}

int vkdp_jpeg_write(const char *path, const uint8_t *rgb, int w, int h, int quality, int subsamp444, char *reason,
                    size_t len)
{
    uint8_t *jpeg;
    size_t n;
    if (vkdp_jpeg_encode(rgb, w, h, quality, subsamp444, &jpeg, &n, reason, len) != 0)
        return -1;
    size_t tl = strlen(path) + 32;
    char *tmp = vkdp_xmalloc(tl);
    snprintf(tmp, tl, "%s.tmp.%ld", path, (long)getpid());
    int rc = 0, fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        rc = vkdp_seterr(reason, len, "cannot create %s: %s", tmp, strerror(errno));
    for (size_t off = 0; rc == 0 && off < n;) {
        ssize_t k = write(fd, jpeg + off, n - off);
        if (k < 0 && errno != EINTR)
            rc = vkdp_seterr(reason, len, "write %s: %s", tmp, strerror(errno));
        off += k > 0 ? (size_t)k : 0;
    }
    if (fd >= 0 && close(fd) != 0 && rc == 0)
        rc = vkdp_seterr(reason, len, "close %s: %s", tmp, strerror(errno));
    if (rc == 0 && rename(tmp, path) != 0)
        rc = vkdp_seterr(reason, len, "rename %s to %s: %s", tmp, path, strerror(errno));
    if (rc != 0 && fd >= 0 && unlink(tmp) != 0 && errno != ENOENT)
        vkdp_warn("cannot remove %s: %s", tmp, vkdp_errno_str());
    free(tmp);
    free(jpeg);
    return rc;
}
