/* The generic op test (ggml's test-backend-ops, for vkdp's op records, vkdp/ops/op.h): each case
 * runs one op on seeded random inputs through the record's generic form, and compares every
 * output with the op's C reference -- integers exactly, floats within the op's tolerance (0:
 * bit-exact) -- and, for an op whose output is a gradient, with central finite differences of
 * its loss. A new op's test is one line in the table below.
 * Usage: test_ops [OP...]   the cases of these ops (record names, "map" for every map op, or
 *                           OP:PARAM=VALUE for some of an op's cases); none: every case. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vkdp/ops/augment.h"
#include "vkdp/ops/backbone_ops.h"
#include "vkdp/ops/grad_ops.h"
#include "vkdp/ops/head_ops.h"
#include "vkdp/ops/map.h"
#include "vkdp/ops/ops.h"

typedef struct {
    const vkdp_op *op;
    int64_t p[VKDP_OP_MAX_PARAMS]; /* in the order of op->params */
    double tol;                    /* 0: the op's */
    const char *inplace;           /* "y=a": output y is written over input a's buffer */
    int specials;                  /* NaN, infinities and out-of-range values among the inputs */
} op_case;

enum { NONE = VKDP_ACT_NONE, SWISH = VKDP_ACT_SWISH, SIGMOID = VKDP_ACT_SIGMOID };
enum { ADD = VKDP_ELT_ADD, MUL = VKDP_ELT_MUL };

/* One case: the op's record vkdp_rec_<rec> and its parameters. */
#define CASE(rec, ...) {.op = &vkdp_rec_##rec, .p = {__VA_ARGS__}}
/* eltwise: n, op, act -- every op and activation, in place */
#define ELT1(n, o, a) {.op = &vkdp_rec_eltwise, .p = {n, o, a}, .inplace = "y=a"}
#define ELT(n)                                                                                  \
    ELT1(n, ADD, NONE), ELT1(n, ADD, SWISH), ELT1(n, ADD, SIGMOID), ELT1(n, MUL, NONE),         \
    ELT1(n, MUL, SWISH), ELT1(n, MUL, SIGMOID)
/* conv1x1: the device's shader, the storage-buffer one, the texel-buffer one and the
 * shared-memory one */
#define GEMM(...)                                                                               \
    CASE(conv1x1, __VA_ARGS__, 0, 0, 0), CASE(conv1x1, __VA_ARGS__, 1, 0, 0),                   \
    CASE(conv1x1, __VA_ARGS__, 2, 0, 0), CASE(conv1x1, __VA_ARGS__, 3, 0, 0)
/* dwconv: B, H, W, C, k, stride, path (0 the device's, 1 storage, 2 texel buffers) -- both
 * kernels, both strides; the device's path on every shape, the other paths on some (the sanitizer
 * build's time) */
#define DW1(B, H, W, C, path)                                                                   \
    CASE(dwconv, B, H, W, C, 3, 1, path), CASE(dwconv, B, H, W, C, 3, 2, path),                 \
    CASE(dwconv, B, H, W, C, 5, 1, path), CASE(dwconv, B, H, W, C, 5, 2, path)
#define DW(B, H, W, C) DW1(B, H, W, C, 0)
/* dwconv_grad: B, H, W, C, k, stride, db -- both kernels, both strides */
#define DWG(B, H, W, C, db)                                                                     \
    CASE(dwconv_grad, B, H, W, C, 3, 1, db), CASE(dwconv_grad, B, H, W, C, 3, 2, db),           \
    CASE(dwconv_grad, B, H, W, C, 5, 1, db), CASE(dwconv_grad, B, H, W, C, 5, 2, db)
/* the head's ops on one batch (n samples, F features, C classes); adam over its parameters */
#define HEAD(n, F, C, seed)                                                                     \
    CASE(head_bn_stats, n, F, 0), CASE(head_bn_stats, n, F, 1),                                 \
    CASE(head_bn_dropout, n, F, 0, seed), CASE(head_bn_dropout, n, F, 1, seed),                 \
    CASE(head_logits_loss, n, F, C),                                                            \
    CASE(head_grad_sums, n, F, C, 0, 1, seed), CASE(head_grad_sums, n, F, C, 1, 1, seed),       \
    CASE(head_grad_sums, n, F, C, 0, 0, seed),                                                  \
    CASE(adam, 2 * (F) + (F) * (C) + (C), 1), CASE(adam, 2 * (F) + (F) * (C) + (C), 5)

static const op_case cases[] = {
    /* conv2d_1x1: M, K, N, act, residual, row_scale, rows_per_group, path (0 the device's, 1
     * storage buffers, 2 texel buffers, 3 shared memory), rows, vec4 columns (0: the device's) --
     * every path */
    GEMM(100352, 32, 16, NONE, 0, 0, 0),
    GEMM(25088, 24, 144, SWISH, 0, 0, 0),
    GEMM(1568, 112, 672, SWISH, 0, 0, 0),
    GEMM(392, 320, 1280, SWISH, 0, 0, 0),
    GEMM(1001, 37, 23, NONE, 0, 0, 0),     /* scalar path (the texel path falls back), partial tiles */
    GEMM(1001, 37, 23, SIGMOID, 1, 1, 49),
    GEMM(98, 672, 112, NONE, 1, 1, 49),    /* project: SE gate + residual, 2 images */
    GEMM(3, 5, 1, SWISH, 0, 0, 0),
    GEMM(17, 12, 20, NONE, 1, 1, 7),       /* vec4 path, N % 8 == 4 */
    /* texel blocks other than the device's: partial row and column blocks, every fusion */
    CASE(conv1x1, 17, 12, 20, SWISH, 1, 1, 7, 2, 3, 3),
    CASE(conv1x1, 1001, 36, 24, SIGMOID, 1, 1, 49, 2, 5, 4),
    CASE(conv1x1, 98, 672, 112, NONE, 1, 1, 49, 2, 16, 1),
    CASE(conv1x1, 25088, 24, 144, SWISH, 0, 0, 0, 2, 4, 4),
    CASE(conv1x1, 7, 4, 4, NONE, 1, 0, 0, 2, 1, 1),
    /* shared-memory tiles (32x32 at wg 64): K over several 16-deep chunks, the last partial; N
     * over three tiles (70) or two (33), the last partial; M not a multiple of 32 */
    CASE(conv1x1, 333, 45, 70, SWISH, 1, 1, 37, 3, 0, 0),
    CASE(conv1x1, 65, 17, 33, NONE, 0, 1, 13, 3, 0, 0),
    ELT(1), ELT(7), ELT(256), ELT(1001), ELT(100003),
    /* map ops: n (4.3M: more workgroups than one grid row holds) */
    CASE(swish_grad, 1), CASE(swish_grad, 1001), CASE(swish_grad, 100003), CASE(swish_grad, 4300000),
    /* stem_conv3x3_s2: B, H, W, path (0 the device's, 1 storage, 2 texel buffers) */
    CASE(stem, 2, 15, 15, 1), CASE(stem, 3, 13, 16, 1), CASE(stem, 1, 32, 29, 1),
    CASE(stem, 2, 15, 15, 2), CASE(stem, 3, 13, 16, 2), CASE(stem, 1, 32, 29, 2),
    CASE(stem, 2, 24, 24, 0),
    DW(2, 7, 9, 24), DW(3, 15, 15, 40), DW(2, 13, 16, 12), DW(3, 8, 8, 7), DW(2, 5, 6, 10),
    DW1(2, 13, 16, 12, 1), DW1(2, 7, 9, 24, 2),
    CASE(dwconv, 1, 1, 1, 8, 3, 1, 0), CASE(dwconv, 1, 2, 3, 5, 5, 2, 0),
    CASE(dwconv, 2, 28, 28, 24, 5, 2, 0), CASE(dwconv, 2, 29, 30, 16, 3, 1, 0),
    CASE(dwconv, 2, 28, 28, 24, 5, 2, 1), CASE(dwconv, 2, 29, 30, 16, 3, 1, 1),
    /* gap: B, R, C, count -- the global pool (R = count = H*W), the SE squeeze (R = tiles) */
    CASE(gap, 3, 63, 37, 63), CASE(gap, 2, 225, 96, 225), CASE(gap, 2, 12544, 32, 12544),
    CASE(gap, 1, 1, 1280, 1), CASE(gap, 2, 12, 24, 81), CASE(gap, 3, 2, 37, 9),
    /* se_gate: B, P, C, path (0 the device's, 1 storage, 2 texel buffers) */
    CASE(se_gate, 3, 63, 24, 1), CASE(se_gate, 2, 225, 37, 1), CASE(se_gate, 2, 208, 1152, 1),
    CASE(se_gate, 3, 63, 24, 2), CASE(se_gate, 2, 225, 37, 2), CASE(se_gate, 2, 208, 1152, 2),
    CASE(se_gate, 2, 49, 672, 0),
    /* se_excite: B, C, se (float sums of 1152 products against a double reference: 1e-4) */
    CASE(se_excite, 3, 96, 4), CASE(se_excite, 2, 37, 6),
    {.op = &vkdp_rec_se_excite, .p = {2, 1152, 48}, .tol = 1e-4},
    /* backward ops of the trainable part (vkdp/ops/grad_ops.h), each with finite differences of
     * every gradient output; conv1x1_grad: M, K, N, db, S, path (6272 rows: dw sums as long as a
     * batch's; without db, a partial last workgroup must not write dw through the db binding; S > 0
     * also checks S samples' partials dws, dbs in one call; path 0 the device's, 1 storage, 2
     * texel buffers where K, N are multiples of 4; 20 x 12: partial texel blocks in K and N; the
     * storage path's per-sample slices must meet the storage-buffer offset alignment) */
    CASE(conv1x1_grad, 392, 40, 24, 1), CASE(conv1x1_grad, 1001, 13, 7, 1),
    CASE(conv1x1_grad, 3, 5, 1, 1), CASE(conv1x1_grad, 6272, 16, 24, 1),
    CASE(conv1x1_grad, 49, 96, 20, 1), CASE(conv1x1_grad, 1001, 13, 7, 0),
    CASE(conv1x1_grad, 49, 96, 20, 0), CASE(conv1x1_grad, 392, 40, 24, 1, 0, 1),
    CASE(conv1x1_grad, 49, 96, 20, 0, 0, 2), CASE(conv1x1_grad, 1001, 20, 12, 1, 7, 0),
    CASE(conv1x1_grad, 1001, 20, 12, 1, 7, 1), CASE(conv1x1_grad, 1001, 20, 12, 0, 7, 2),
    CASE(conv1x1_grad, 98, 112, 672, 0, 2, 0),
    CASE(conv1x1_grad, 3, 4, 4, 1, 3, 0),
    DWG(2, 7, 9, 24, 1), DWG(2, 13, 16, 12, 1), DWG(1, 14, 14, 32, 1), DWG(3, 8, 8, 7, 1),
    DWG(2, 12, 15, 32, 0), DWG(1, 5, 6, 10, 0),
    CASE(dwconv_grad, 1, 1, 1, 8, 3, 1, 1), CASE(dwconv_grad, 1, 2, 3, 5, 5, 2, 1),
    /* dwconv_grad with ps: each sample's dw (+ db) partials in one call (packed: C % 4 == 0), path
     * 0 the device's, 1 storage (one dispatch per sample), 2 texel */
    CASE(dwconv_grad, 3, 7, 9, 24, 3, 1, 1, 1, 0), CASE(dwconv_grad, 3, 7, 9, 24, 5, 2, 1, 1, 0),
    CASE(dwconv_grad, 2, 13, 16, 12, 5, 1, 0, 1, 2), CASE(dwconv_grad, 2, 13, 15, 8, 3, 2, 1, 1, 2),
    CASE(dwconv_grad, 3, 8, 8, 28, 3, 2, 1, 1, 0), CASE(dwconv_grad, 2, 5, 6, 12, 5, 1, 1, 1, 1),
    CASE(dwconv_lin, 2, 7, 9, 24, 3, 1), CASE(dwconv_lin, 2, 7, 9, 24, 3, 2),
    CASE(dwconv_lin, 2, 13, 16, 12, 5, 1), CASE(dwconv_lin, 2, 13, 16, 12, 5, 2),
    CASE(dwconv_lin, 1, 2, 3, 5, 5, 2),
    /* se_gate_grad: B, P, C; se_excite_grad: B, C, se */
    CASE(se_gate_grad, 3, 63, 24), CASE(se_gate_grad, 2, 49, 37), CASE(se_gate_grad, 1, 1, 5),
    CASE(se_excite_grad, 3, 96, 4), CASE(se_excite_grad, 2, 37, 6), CASE(se_excite_grad, 1, 1, 1),
    CASE(se_excite_grad, 2, 1152, 48),
    /* bn_frozen: M, C, act; bn_frozen_grad: M, C */
    CASE(bn_frozen, 1001, 37, NONE), CASE(bn_frozen, 196, 672, SWISH), CASE(bn_frozen, 50, 24, SIGMOID),
    CASE(bn_frozen_grad, 1001, 37), CASE(bn_frozen_grad, 196, 672), CASE(bn_frozen_grad, 1, 1),
    /* residual, residual_grad: B, N */
    CASE(residual, 3, 1001), CASE(residual, 4, 21952), CASE(residual_grad, 3, 1001),
    CASE(residual_grad, 4, 21952), CASE(residual_grad, 1, 1),
    /* gap_grad: B, HW, C, accumulate */
    CASE(gap_grad, 3, 63, 37, 0), CASE(gap_grad, 3, 63, 37, 1), CASE(gap_grad, 2, 49, 1280, 0),
    CASE(gap_grad, 2, 196, 24, 1), CASE(gap_grad, 1, 1, 1, 1),
    /* grad_fx_add: S, n, shift (bit-exact; specials: NaN, Inf and terms beyond 2^50 units) */
    CASE(grad_fx_add, 4, 1001, 40), CASE(grad_fx_add, 1, 409600, 40), CASE(grad_fx_add, 3, 1, 0),
    {.op = &vkdp_rec_grad_fx_add, .p = {8, 37, 40}, .specials = 1},
    /* augment: B, H, W, C, seed, epoch, gpos, flip (1 horizontal, 2 vertical, 3 both) */
    CASE(augment, 3, 32, 29, 3, 42, 0, 0, 1), CASE(augment, 4, 17, 24, 3, 7, 3, 1000, 3),
    CASE(augment, 2, 224, 224, 3, 1, 1, 5, 1), CASE(augment, 2, 1, 1, 3, 9, 0, 0, 2),
    CASE(augment, 1, 2, 40, 1, 5, 2, 77, 3),
    /* head ops: bit-exact but for head_logits_loss's exp and log */
    HEAD(37, 1280, 5, 11), HEAD(5, 67, 3, 12), HEAD(0, 64, 2, 13), HEAD(200, 96, 7, 14),
    {.op = &vkdp_rec_head_bn_stats, .p = {6, 3, 0}, .specials = 1},
    {.op = &vkdp_rec_head_bn_stats, .p = {6, 3, 1}, .specials = 1},
};

static size_t dtype_size(vkdp_dtype t) { return t == VKDP_I64 || t == VKDP_U64 ? 8 : 4; }

/* Inputs uniform in [lo, hi); integers rounded down. */
static void fill(void *dst, vkdp_dtype t, uint64_t n, double lo, double hi, uint64_t seed)
{
    test_rng r = {seed};
    for (uint64_t i = 0; i < n; i++) {
        double v = lo + (hi - lo) * ((double)(test_rng_u64(&r) >> 11) * 0x1p-53);
        switch (t) {
        case VKDP_F32: ((float *)dst)[i] = (float)v; break;
        case VKDP_I32: ((int32_t *)dst)[i] = (int32_t)floor(v); break;
        case VKDP_U32: ((uint32_t *)dst)[i] = (uint32_t)floor(v); break;
        case VKDP_I64: ((int64_t *)dst)[i] = (int64_t)floor(v); break;
        case VKDP_U64: ((uint64_t *)dst)[i] = (uint64_t)floor(v); break;
        }
    }
}

/* Every 5th float: NaN, +-Inf, -1e30, the largest BN statistic term 2^18, just beyond it. */
static void sprinkle_specials(float *x, uint64_t n)
{
    static const float v[] = {NAN, INFINITY, -INFINITY, -1e30f, 262144.0f, 262176.0f};
    for (uint64_t i = 1; i < n; i += 5)
        x[i] = v[(i / 5) % VKDP_ARRAY_LEN(v)];
}

/* Exact comparison (bits), one line. */
static int check_exact(const char *what, const void *got, const void *ref, uint64_t n, size_t es)
{
    uint64_t bad = 0, first = 0;
    for (uint64_t i = 0; i < n; i++)
        if (memcmp((const char *)got + i * es, (const char *)ref + i * es, es) && bad++ == 0)
            first = i;
    printf("%-4s %-64s n=%-9llu bit-exact mismatches=%llu\n", bad ? "FAIL" : "ok", what,
           (unsigned long long)n, (unsigned long long)bad);
    if (bad && es == 8)
        printf("     first at %llu: got %lld ref %lld\n", (unsigned long long)first,
               ((const long long *)got)[first], ((const long long *)ref)[first]);
    else if (bad)
        printf("     first at %llu: got 0x%08x ref 0x%08x\n", (unsigned long long)first,
               ((const uint32_t *)got)[first], ((const uint32_t *)ref)[first]);
    fflush(stdout);
    return bad == 0;
}

static int tensor_index(const vkdp_op *op, const char *name, size_t len)
{
    for (int t = 0; t < vkdp_op_ntensors(op); t++)
        if (strlen(op->tensors[t].name) == len && !strncmp(op->tensors[t].name, name, len))
            return t;
    VKDP_FATAL("op %s has no tensor '%.*s'", op->name, (int)len, name);
}

/* The gradient's elements against central differences of the loss (inputs as the op saw them). */
static int check_grad(const op_case *k, const char *desc, void **in, int wrt, int out,
                      const float *got, uint64_t count)
{
    const vkdp_op *op = k->op;
    float *x = in[wrt];
    /* the loss is a sum over every element: fewer samples on large tensors */
    uint64_t samples = count < 32 ? count : 32;
    if (count > 1000000)
        samples = 4;
    double worst = 0;
    uint64_t worst_at = 0;
    for (uint64_t j = 0; j < samples; j++) {
        uint64_t e = j * count / samples;
        float save = x[e];
        double h = 1e-3 * fmax(1.0, fabs(save));
        float xp = (float)(save + h), xm = (float)(save - h);
        x[e] = xp;
        double lp = op->grad.loss(op, k->p, in);
        x[e] = xm;
        double lm = op->grad.loss(op, k->p, in);
        x[e] = save;
        double fd = (lp - lm) / ((double)xp - (double)xm);
        double err = fabs(got[e] - fd) / fmax(1.0, fabs(fd));
        if (err > worst)
            worst = err, worst_at = e;
    }
    int ok = worst <= 1e-4;
    char what[256];
    snprintf(what, sizeof what, "%s: %s = d loss / d %s", desc, op->tensors[out].name,
             op->tensors[wrt].name);
    printf("%-4s %-64s %llu finite differences, worst rel err %.2e at %llu (tol 1e-4)\n",
           ok ? "ok" : "FAIL", what, (unsigned long long)samples, worst,
           (unsigned long long)worst_at);
    return ok;
}

static int run_case(vkdp_device *dev, vkdp_cmd *cmd, const op_case *k, uint64_t seed)
{
    const vkdp_op *op = k->op;
    int nt = vkdp_op_ntensors(op), np = vkdp_op_nparams(op);
    char desc[160];
    int len = snprintf(desc, sizeof desc, "%s", op->name);
    for (int i = 0; i < np && len < (int)sizeof desc; i++)
        len += snprintf(desc + len, sizeof desc - (size_t)len, " %s=%lld", op->params[i],
                        (long long)k->p[i]);
    int alias_out = -1, alias_in = -1;
    if (k->inplace) {
        const char *eq = strchr(k->inplace, '=');
        alias_out = tensor_index(op, k->inplace, (size_t)(eq - k->inplace));
        alias_in = tensor_index(op, eq + 1, strlen(eq + 1));
    }

    vkdp_tensor_shape sh[VKDP_OP_MAX_TENSORS];
    memset(sh, 0, sizeof sh);
    op->shape(op, dev, k->p, sh);
    void *in[VKDP_OP_MAX_TENSORS] = {0}, *ref[VKDP_OP_MAX_TENSORS] = {0};
    vkdp_buf *buf[VKDP_OP_MAX_TENSORS] = {0};
    vkdp_view view[VKDP_OP_MAX_TENSORS];
    memset(view, 0, sizeof view);
    for (int t = 0; t < nt; t++) {
        const vkdp_tensor_rec *tr = &op->tensors[t];
        size_t bytes = (size_t)sh[t].count * dtype_size(tr->type);
        if (sh[t].absent)
            continue;
        in[t] = vkdp_xmalloc(bytes + 8);
        ref[t] = vkdp_xmalloc(bytes + 8);
        if (tr->dir == VKDP_IN || tr->dir == VKDP_INOUT) {
            fill(in[t], tr->type, sh[t].count, sh[t].lo, sh[t].hi, seed * 64 + (uint64_t)t);
            if (k->specials && tr->type == VKDP_F32)
                sprinkle_specials(in[t], sh[t].count);
        } else {
            memset(in[t], 0xff, bytes); /* NaN / all ones: what nobody writes stays visible */
        }
        memcpy(ref[t], in[t], bytes);
        if (t == alias_out)
            continue;
        buf[t] = vkdp_buf_create(dev, bytes, tr->name);
        vkdp_buf_upload(buf[t], 0, in[t], bytes);
        view[t] = vkdp_whole(buf[t]);
    }
    if (alias_out >= 0) { /* the reference works in place too */
        free(ref[alias_out]);
        ref[alias_out] = ref[alias_in];
        view[alias_out] = view[alias_in];
    }

    vkdp_cmd_begin(cmd);
    op->record(op, cmd, dev, k->p, view);
    vkdp_cmd_end(cmd);
    vkdp_cmd_submit(cmd);
    op->ref(op, dev, k->p, ref);

    int ok = 1;
    double tol = k->tol ? k->tol : op->tol;
    for (int t = 0; t < nt; t++) {
        const vkdp_tensor_rec *tr = &op->tensors[t];
        if (tr->dir == VKDP_IN || tr->dir == VKDP_SCRATCH || sh[t].absent)
            continue;
        size_t bytes = (size_t)sh[t].count * dtype_size(tr->type);
        void *got = vkdp_xmalloc(bytes + 8);
        vkdp_buf_download(t == alias_out ? buf[alias_in] : buf[t], 0, got, bytes);
        char what[200];
        snprintf(what, sizeof what, "%s: %s", desc, tr->name);
        if (tr->type == VKDP_F32 && tol > 0)
            ok &= test_check(what, got, ref[t], sh[t].count, tol);
        else
            ok &= check_exact(what, got, ref[t], sh[t].count, dtype_size(tr->type));
        if (op->grad.loss && t == op->grad.out)
            ok &= check_grad(k, desc, in, op->grad.wrt, t, got, sh[t].count);
        for (int g = 0; op->grad.loss && g < op->grad.nmore; g++)
            if (t == op->grad.more[g][1])
                ok &= check_grad(k, desc, in, op->grad.more[g][0], t, got, sh[t].count);
        free(got);
    }
    for (int t = 0; t < nt; t++) {
        vkdp_buf_destroy(buf[t]);
        free(in[t]);
        if (t != alias_out)
            free(ref[t]);
    }
    return ok;
}

/* Batch independence of conv2d_1x1 (each image's rows the same bits alone and in any batch): a
 * case's rows [first, first + count) run alone against those rows of the whole case's result.
 * first is a multiple of rows_per_group where the case has a row scale. */
typedef struct {
    op_case k;
    uint32_t first, count;
} rows_case;

static const rows_case gemm_rows[] = {
    /* M, K, N, act, residual, row_scale, rows_per_group, path: shared memory, then storage */
    {CASE(conv1x1, 1001, 37, 23, SIGMOID, 1, 1, 49, 3, 0, 0), 0, 49},
    {CASE(conv1x1, 1001, 37, 23, SIGMOID, 1, 1, 49, 3, 0, 0), 490, 98},
    {CASE(conv1x1, 1001, 37, 23, SIGMOID, 1, 1, 49, 3, 0, 0), 980, 21},
    {CASE(conv1x1, 333, 45, 70, SWISH, 1, 0, 0, 3, 0, 0), 17, 1},
    {CASE(conv1x1, 333, 45, 70, SWISH, 1, 0, 0, 3, 0, 0), 101, 200},
    {CASE(conv1x1, 333, 45, 70, SWISH, 1, 0, 0, 1, 0, 0), 101, 200},
    {CASE(conv1x1, 98, 672, 112, NONE, 1, 1, 49, 3, 0, 0), 49, 49},
};
enum { GR_M, GR_K, GR_N, GR_SCALE = 5, GR_RPG = 6, GR_PATH = 7 };

/* The generic form of k's op on host inputs in[] (absent tensors NULL); outputs into out[]. */
static void run_on(vkdp_device *dev, vkdp_cmd *cmd, const op_case *k, void *const *in, void **out)
{
    const vkdp_op *op = k->op;
    vkdp_tensor_shape sh[VKDP_OP_MAX_TENSORS] = {0};
    vkdp_buf *buf[VKDP_OP_MAX_TENSORS] = {0};
    vkdp_view view[VKDP_OP_MAX_TENSORS] = {0};
    op->shape(op, dev, k->p, sh);
    for (int t = 0; t < vkdp_op_ntensors(op); t++) {
        if (sh[t].absent)
            continue;
        size_t bytes = (size_t)sh[t].count * dtype_size(op->tensors[t].type);
        buf[t] = vkdp_buf_create(dev, bytes, op->tensors[t].name);
        if (in[t])
            vkdp_buf_upload(buf[t], 0, in[t], bytes);
        view[t] = vkdp_whole(buf[t]);
    }
    vkdp_cmd_begin(cmd);
    op->record(op, cmd, dev, k->p, view);
    vkdp_cmd_end(cmd);
    vkdp_cmd_submit(cmd);
    for (int t = 0; t < vkdp_op_ntensors(op); t++) {
        if (out[t])
            vkdp_buf_download(buf[t], 0, out[t], (size_t)sh[t].count * dtype_size(op->tensors[t].type));
        vkdp_buf_destroy(buf[t]);
    }
}

/* For a check of part of a case against the whole: random inputs in[] (seeded per tensor), sub[t]
 * = in[t] + skip[t] elements (the part's inputs), and two buffers per output (whole, part);
 * returns the last output's index. */
static int alloc_parts(const vkdp_op *op, const vkdp_tensor_shape *sh, uint64_t seed, const uint64_t *skip,
                       void **in, void **sub, void **out, void **out_sub)
{
    int y = -1;
    for (int t = 0; t < vkdp_op_ntensors(op); t++) {
        if (sh[t].absent)
            continue;
        size_t bytes = (size_t)sh[t].count * sizeof(float);
        if (op->tensors[t].dir == VKDP_OUT) {
            out[t] = vkdp_xmalloc(bytes);
            out_sub[t] = vkdp_xmalloc(bytes);
            y = t;
            continue;
        }
        in[t] = vkdp_xmalloc(bytes);
        fill(in[t], VKDP_F32, sh[t].count, sh[t].lo, sh[t].hi, seed * 64 + (uint64_t)t);
        sub[t] = (float *)in[t] + skip[t];
    }
    return y;
}

static void free_parts(const vkdp_op *op, void **in, void **out, void **out_sub)
{
    for (int t = 0; t < vkdp_op_ntensors(op); t++) {
        free(in[t]);
        free(out[t]);
        free(out_sub[t]);
    }
}

static int rows_alone(vkdp_device *dev, vkdp_cmd *cmd, const rows_case *r, uint64_t seed)
{
    const vkdp_op *op = r->k.op;
    const int64_t *p = r->k.p;
    uint64_t K = (uint64_t)p[GR_K], N = (uint64_t)p[GR_N], rpg = (uint64_t)p[GR_RPG];
    if (p[GR_SCALE] && r->first % rpg)
        VKDP_FATAL("rows_alone: first row %u is not an image's (%llu rows each)", r->first,
                   (unsigned long long)rpg);
    op_case part = r->k;
    part.p[GR_M] = r->count;
    vkdp_tensor_shape sh[VKDP_OP_MAX_TENSORS];
    memset(sh, 0, sizeof sh);
    op->shape(op, dev, p, sh);
    void *in[VKDP_OP_MAX_TENSORS] = {0}, *sub[VKDP_OP_MAX_TENSORS] = {0};
    void *out[VKDP_OP_MAX_TENSORS] = {0}, *out_sub[VKDP_OP_MAX_TENSORS] = {0};
    /* where the part's rows start in each tensor: rows of x and residual, images of row_scale */
    uint64_t skip[VKDP_OP_MAX_TENSORS] = {0};
    skip[tensor_index(op, "x", 1)] = r->first * K;
    skip[tensor_index(op, "y", 1)] = skip[tensor_index(op, "residual", 8)] = r->first * N;
    skip[tensor_index(op, "row_scale", 9)] = p[GR_SCALE] ? r->first / rpg * K : 0;
    int y = alloc_parts(op, sh, seed, skip, in, sub, out, out_sub);
    run_on(dev, cmd, &r->k, in, out);
    run_on(dev, cmd, &part, sub, out_sub);
    char what[200];
    snprintf(what, sizeof what, "%s M=%lld K=%llu N=%llu path=%lld: rows %u..%u alone = in the batch",
             op->name, (long long)p[GR_M], (unsigned long long)K, (unsigned long long)N,
             (long long)p[GR_PATH], r->first, r->first + r->count - 1);
    int ok = check_exact(what, out_sub[y], (float *)out[y] + skip[y], r->count * N, sizeof(float));
    free_parts(op, in, out, out_sub);
    return ok;
}

/* A case's parameters as text, for messages. */
static void params_text(const op_case *k, char *buf, size_t n)
{
    size_t at = (size_t)snprintf(buf, n, "%s", k->op->name);
    for (int i = 0; i < vkdp_op_nparams(k->op) && at < n; i++)
        at += (size_t)snprintf(buf + at, n - at, " %s=%lld", k->op->params[i], (long long)k->p[i]);
}

/* The index of op's parameter name (fatal if none). */
static int param_index(const vkdp_op *op, const char *name)
{
    for (int i = 0; i < vkdp_op_nparams(op); i++)
        if (!strcmp(op->params[i], name))
            return i;
    VKDP_FATAL("test_ops: op %s has no parameter '%s'", op->name, name);
}

/* Sample independence of the per-sample partials dws, dbs of conv1x1_grad (S > 0) and
 * dwconv_grad (ps): sample s's partials the same bits computed alone (one sample: conv1x1_grad
 * S = 1 on its rows, dwconv_grad B = 1) and among the case's samples. */
typedef struct {
    op_case k;
    uint32_t sample;
} sample_case;

static const sample_case grad_samples[] = {
    /* conv1x1_grad M, K, N, db, S, path: texel (table), storage, texel forced */
    {CASE(conv1x1_grad, 1001, 20, 12, 1, 7, 0), 0}, {CASE(conv1x1_grad, 1001, 20, 12, 1, 7, 0), 5},
    {CASE(conv1x1_grad, 1001, 20, 12, 1, 7, 1), 6}, {CASE(conv1x1_grad, 392, 112, 24, 0, 8, 2), 3},
    /* dwconv_grad B, H, W, C, k, stride, db, ps, path: the same three paths, k 3 and 5 */
    {CASE(dwconv_grad, 5, 7, 9, 24, 3, 1, 1, 1, 0), 0}, {CASE(dwconv_grad, 5, 7, 9, 24, 5, 2, 1, 1, 0), 4},
    {CASE(dwconv_grad, 3, 13, 16, 12, 5, 1, 1, 1, 1), 2}, {CASE(dwconv_grad, 4, 9, 11, 8, 3, 2, 0, 1, 2), 1},
};

static int sample_alone(vkdp_device *dev, vkdp_cmd *cmd, const sample_case *r, uint64_t seed)
{
    const vkdp_op *op = r->k.op;
    const int64_t *p = r->k.p;
    op_case part = r->k;
    if (op == &vkdp_rec_dwconv_grad) {
        part.p[param_index(op, "B")] = 1;
    } else {
        part.p[param_index(op, "M")] = p[param_index(op, "M")] / p[param_index(op, "S")];
        part.p[param_index(op, "S")] = 1;
    }
    vkdp_tensor_shape sh[VKDP_OP_MAX_TENSORS], one[VKDP_OP_MAX_TENSORS];
    memset(sh, 0, sizeof sh);
    memset(one, 0, sizeof one);
    op->shape(op, dev, p, sh);
    op->shape(op, dev, part.p, one);
    const int tx = tensor_index(op, "x", 1), tdy = tensor_index(op, "dy", 2);
    const int tws = tensor_index(op, "dws", 3), tbs = tensor_index(op, "dbs", 3);
    void *in[VKDP_OP_MAX_TENSORS] = {0}, *sub[VKDP_OP_MAX_TENSORS] = {0};
    void *out[VKDP_OP_MAX_TENSORS] = {0}, *out_sub[VKDP_OP_MAX_TENSORS] = {0};
    uint64_t skip[VKDP_OP_MAX_TENSORS] = {0};
    skip[tx] = r->sample * one[tx].count;
    skip[tdy] = r->sample * one[tdy].count;
    alloc_parts(op, sh, seed, skip, in, sub, out, out_sub);
    run_on(dev, cmd, &r->k, in, out);
    run_on(dev, cmd, &part, sub, out_sub);
    char what[300], desc[200];
    params_text(&r->k, desc, sizeof desc);
    snprintf(what, sizeof what, "%s: sample %u's dw alone = among all", desc, r->sample);
    int ok = check_exact(what, out_sub[tws], (float *)out[tws] + r->sample * one[tws].count, one[tws].count,
                         sizeof(float));
    if (!sh[tbs].absent) {
        snprintf(what, sizeof what, "%s: sample %u's db alone = among all", desc, r->sample);
        ok &= check_exact(what, out_sub[tbs], (float *)out[tbs] + r->sample * one[tbs].count, one[tbs].count,
                          sizeof(float));
    }
    free_parts(op, in, out, out_sub);
    return ok;
}

/* The texel shaders of conv1x1_grad and dwconv_grad against their storage-buffer ones (path 2 vs
 * 1): every output the same bits (the same float operations in the same order), so that a
 * device's row does not change results. */
static const op_case grad_paths[] = {
    /* conv1x1_grad M, K, N, db, S */
    CASE(conv1x1_grad, 1001, 20, 12, 1, 7), CASE(conv1x1_grad, 392, 112, 24, 0, 8),
    CASE(conv1x1_grad, 98, 112, 672, 1, 2),
    /* dwconv_grad B, H, W, C, k, stride, db, ps: odd shapes, k 3 and 5, stride 1 and 2 */
    CASE(dwconv_grad, 3, 7, 9, 24, 3, 1, 1, 1), CASE(dwconv_grad, 3, 7, 9, 24, 5, 2, 1, 1),
    CASE(dwconv_grad, 2, 13, 16, 12, 5, 1, 0, 1), CASE(dwconv_grad, 2, 13, 15, 8, 3, 2, 1, 1),
    CASE(dwconv_grad, 4, 14, 14, 32, 3, 1, 1, 1),
};

static int paths_agree(vkdp_device *dev, vkdp_cmd *cmd, const op_case *k, uint64_t seed)
{
    const vkdp_op *op = k->op;
    op_case ssbo = *k, texel = *k;
    ssbo.p[param_index(op, "path")] = 1;
    texel.p[param_index(op, "path")] = 2;
    vkdp_tensor_shape sh[VKDP_OP_MAX_TENSORS];
    memset(sh, 0, sizeof sh);
    op->shape(op, dev, k->p, sh);
    void *in[VKDP_OP_MAX_TENSORS] = {0}, *same[VKDP_OP_MAX_TENSORS] = {0};
    void *out[VKDP_OP_MAX_TENSORS] = {0}, *out_tx[VKDP_OP_MAX_TENSORS] = {0};
    uint64_t skip[VKDP_OP_MAX_TENSORS] = {0};
    alloc_parts(op, sh, seed, skip, in, same, out, out_tx);
    run_on(dev, cmd, &ssbo, in, out);
    run_on(dev, cmd, &texel, in, out_tx);
    int ok = 1;
    char desc[200];
    params_text(k, desc, sizeof desc);
    for (int t = 0; t < vkdp_op_ntensors(op); t++) {
        if (!out[t])
            continue;
        char what[300];
        snprintf(what, sizeof what, "%s: %s texel = storage", desc, op->tensors[t].name);
        ok &= check_exact(what, out_tx[t], out[t], sh[t].count, sizeof(float));
    }
    free_parts(op, in, out, out_tx);
    return ok;
}

/* An argument names an op, or "map": every map op (vkdp/ops/map.h); "OP:PARAM=V" only OP's cases
 * whose parameter PARAM is V (e.g. conv2d_1x1:path=3: what a slow validation layer can afford). */
static int matches(const op_case *k, const char *arg)
{
    const vkdp_op *op = k->op;
    size_t len = strcspn(arg, ":");
    if (!arg[len])
        return !strcmp(arg, op->name) || (!strcmp(arg, "map") && op->shape == vkdp_map_shape);
    if (strlen(op->name) != len || strncmp(arg, op->name, len))
        return 0;
    const char *param = arg + len + 1, *eq = strchr(param, '=');
    if (!eq)
        VKDP_FATAL("test_ops: '%s' is not OP:PARAM=VALUE", arg);
    for (int i = 0; i < vkdp_op_nparams(op); i++)
        if (strlen(op->params[i]) == (size_t)(eq - param) && !strncmp(param, op->params[i], (size_t)(eq - param)))
            return k->p[i] == strtoll(eq + 1, NULL, 10);
    VKDP_FATAL("test_ops: op %s has no parameter '%.*s'", op->name, (int)(eq - param), param);
}

static int selected(const op_case *k, int argc, char **argv)
{
    if (argc < 2)
        return 1;
    for (int i = 1; i < argc; i++)
        if (matches(k, argv[i]))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        int known = 0;
        for (size_t c = 0; c < VKDP_ARRAY_LEN(cases); c++)
            known |= matches(&cases[c], argv[i]);
        if (!known) {
            fprintf(stderr, "test_ops: no cases for op '%s'\n", argv[i]);
            return 2;
        }
    }
    vkdp_device *dev = vkdp_device_create(NULL);
    vkdp_cmd *cmd = vkdp_cmd_create(dev);
    int n[2] = {0, 0}; /* failed, passed */
    /* every selected case of each table, then the cross-checks, each seeded apart */
    for (size_t c = 0; c < VKDP_ARRAY_LEN(cases); c++)
        if (selected(&cases[c], argc, argv))
            n[run_case(dev, cmd, &cases[c], 1000 + c) != 0]++;
    for (size_t c = 0; c < VKDP_ARRAY_LEN(gemm_rows); c++)
        if (selected(&gemm_rows[c].k, argc, argv))
            n[rows_alone(dev, cmd, &gemm_rows[c], 5000 + c) != 0]++;
    for (size_t c = 0; c < VKDP_ARRAY_LEN(grad_samples); c++)
        if (selected(&grad_samples[c].k, argc, argv))
            n[sample_alone(dev, cmd, &grad_samples[c], 7000 + c) != 0]++;
    for (size_t c = 0; c < VKDP_ARRAY_LEN(grad_paths); c++)
        if (selected(&grad_paths[c], argc, argv))
            n[paths_agree(dev, cmd, &grad_paths[c], 9000 + c) != 0]++;
    int pass = n[1], fail = n[0];
    vkdp_cmd_destroy(cmd);
    vkdp_device_destroy(dev);
    printf("%d cases passed, %d failed\n", pass, fail);
    return fail ? 1 : 0;
}
