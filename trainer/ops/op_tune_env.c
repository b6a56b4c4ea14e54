/* VKDP_TUNE="key=value,...": one process's override of its device's tune row (vkdp/ops/tune.h),
 * for measuring other tiles on a device without rebuilding (tests/bench/, tests/gpu/). */
#include "vkdp/ops/tune.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkdp/core/errmsg.h"

typedef struct {
    const char *key;
    size_t offset; /* of the first uint32_t in vkdp_tune */
    int pair;      /* 1: "XxY" into two uint32_t */
    uint32_t lo, hi;
    int pow2;      /* the value must be a power of 2 */
    uint32_t y_hi; /* pairs: Y's own upper limit, 0: none beyond hi */
    const char *rule; /* the limits beyond lo..hi, for the message */
} tune_key;

#define KEY(f, pair, lo, hi) {#f, offsetof(vkdp_tune, f), pair, lo, hi, 0, 0, pair ? ", X*Y at most 64" : ""}
/* The ranges are the shaders' limits: tiles live in registers (at most 64 outputs per invocation
 * where a shader tiles in two dimensions); conv1x1 takes at most 16 rows x 4 vec4 columns. */
static const tune_key keys[] = {
    {"wg", offsetof(vkdp_tune, wg), 0, 1, 1024, 1, 0, ", a power of 2"},
    KEY(stem_tile, 1, 1, 16),   KEY(stem_texel, 0, 0, 1),   KEY(dw_tile, 1, 1, 16),
    KEY(gate_pixels, 0, 1, 16), KEY(gate_fused, 0, 0, 1),   KEY(gate_texel, 0, 0, 1),
    KEY(dw_texel, 0, 0, 1),
    {"gemm_texel", offsetof(vkdp_tune, gemm_texel), 1, 0, 16, 0, 4, ", Y at most 4 vec4, both 0 or neither"},
    KEY(gemm_smem, 0, 0, 1),        KEY(feature_batch, 0, 0, 4096),
    KEY(async_depth, 0, 1, 2),
};

static int number(const char *s, char **end, uint32_t lo, uint32_t hi, uint32_t *out)
{
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long v = strtoul(s, end, 10);
    if (errno || v < lo || v > hi)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* one "key=value" of length n */
static int apply_one(vkdp_tune *row, const char *item, size_t n, char *err, size_t errlen)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return vkdp_seterr(err, errlen, "VKDP_TUNE: '%.*s' is not key=value", (int)(n < 60 ? n : 60), item);
    memcpy(buf, item, n);
    buf[n] = 0;
    char *eq = strchr(buf, '=');
    if (!eq)
        return vkdp_seterr(err, errlen, "VKDP_TUNE: '%s' is not key=value", buf);
    *eq = 0;
    const tune_key *k = NULL;
    for (size_t i = 0; i < VKDP_ARRAY_LEN(keys); i++)
        if (!strcmp(keys[i].key, buf))
            k = &keys[i];
    if (!k) {
        char known[256] = "";
        for (size_t i = 0; i < VKDP_ARRAY_LEN(keys); i++)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "", keys[i].key);
        return vkdp_seterr(err, errlen, "VKDP_TUNE: unknown key '%s' (%s)", buf, known);
    }
    uint32_t v[2];
    char *end;
    const char *s = eq + 1;
    int bad = number(s, &end, k->lo, k->hi, &v[0]);
    if (!bad && k->pair)
        bad = *end != 'x' || number(end + 1, &end, k->lo, k->hi, &v[1]);
    if (!bad && *end)
        bad = 1;
    if (!bad && k->pair && (uint64_t)v[0] * v[1] > 64)
        bad = 1;
    if (!bad && k->pair && k->lo == 0 && (v[0] == 0) != (v[1] == 0))
        bad = 1;
    if (!bad && k->pow2 && (v[0] & (v[0] - 1)))
        bad = 1;
    if (!bad && k->y_hi && v[1] > k->y_hi)
        bad = 1;
    if (bad)
        return vkdp_seterr(err, errlen, "VKDP_TUNE: %s=%s is out of range (%s in %u..%u%s)", k->key, s,
                           k->pair ? "XxY, each" : "an integer", k->lo, k->hi, k->rule);
    memcpy((char *)row + k->offset, v, (k->pair ? 2 : 1) * sizeof *v);
    return 0;
}

int vkdp_tune_apply(vkdp_tune *row, const char *spec, char *err, size_t errlen)
{
    vkdp_tune out = *row;
    for (const char *p = spec; *p;) {
        size_t n = strcspn(p, ",");
        if (apply_one(&out, p, n, err, errlen) < 0)
            return -1;
        p += n;
        if (*p == ',')
            p++;
    }
    out.source = "VKDP_TUNE override";
    *row = out;
    return 0;
}
