/* Whole-block backward in C (vkdp/model/effnet_grad.h) through two consecutive real
 * EfficientNetB0 blocks, against the independent float64 PyTorch autograd reference
 * tests/ref/effnet_grad_torch.py on the same inputs, loss weights and drop-connect bits:
 * the output, the input gradient and every trainable tensor's gradient of both blocks.
 * A control run ignores the drop-connect bits and must disagree with the reference.
 * With "device", the same through the device's ops (vkdp/model/block_dev.h): the shaders'
 * gradient check against the same reference. With "exact", through the device one sample at a
 * time with int64 fixed-point weight-gradient sums, and batched with per-sample partials (see
 * blocks_exact).
 * usage: test_effnet_block_grad WEIGHTS.h5 DIR [device|exact] (DIR: the reference script's output) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "f32_io.h"
#include "harness.h"
#include "vkdp/core/common.h"
#include "vkdp/model/effnet.h"
#include "vkdp/model/block_dev.h"
#include "vkdp/model/effnet_grad.h"
#include "vkdp/ops/grad_ops.h"
#include "vkdp/ops/head_fx.h"

/* float32 C against float64 torch, normwise: measured worst 1.2e-6 (block2a's SE gradients); a
 * wrong padding, a missing path or a misapplied drop connect is >= 1e-2 (the control below). */
#define TOL 2e-5

/* The reference script's CASES, in the same order. */
static const struct {
    const char *name, *blocks[2];
    int B, H, W;
} cases[] = {
    {"b6d_b7a", {"block6d", "block7a"}, 3, 7, 7},
    {"b6a_b6b", {"block6a", "block6b"}, 3, 14, 14},
    {"b6a_b6b_odd", {"block6a", "block6b"}, 2, 11, 9},
    {"b1a_b2a", {"block1a", "block2a"}, 2, 12, 15},
};

static int block_index(const vkdp_effnet *net, const char *name)
{
    for (int i = 0; i < net->nblocks; i++)
        if (!strcmp(net->blocks[i].name, name))
            return i;
    VKDP_FATAL("no block %s", name);
}

/* Set for the control run: its mismatches are expected and summarised in one line. */
static int quiet;
/* "device" mode: the blocks run on it (vkdp/model/block_dev.h) instead of in C */
static vkdp_device *dev;
static vkdp_cmd *cmd;

static int compare(const char *dir, const char *cname, const char *what, const float *got, size_t n)
{
    char path[4200], label[160];
    snprintf(path, sizeof path, "%s/%s.torch.%s.f32", dir, cname, what);
    float *ref = f32_read(path, n);
    snprintf(label, sizeof label, "%s %s", cname, what);
    test_err e = test_compare(got, ref, n);
    int ok = quiet ? e.nonfinite == 0 && e.rel <= TOL : test_check(label, got, ref, n, TOL);
    free(ref);
    return ok;
}

static int compare_grads(const char *dir, const char *cname, const vkdp_mbconv *a,
                         const vkdp_block_grads *g)
{
    size_t ex = (size_t)a->exp_ch;
    const struct {
        const char *layer_weight;
        const float *p;
        size_t n;
    } t[] = {
        {"expand_conv_kernel", g->expand_w, a->has_expand ? (size_t)a->in_ch * ex : 0},
        {"dwconv_depthwise_kernel", g->dw_w, (size_t)a->kernel * a->kernel * ex},
        {"se_reduce_kernel", g->se_reduce_w, ex * a->se_ch},
        {"se_reduce_bias", g->se_reduce_b, (size_t)a->se_ch},
        {"se_expand_kernel", g->se_expand_w, (size_t)a->se_ch * ex},
        {"se_expand_bias", g->se_expand_b, ex},
        {"project_conv_kernel", g->project_w, ex * a->out_ch},
    };
    int ok = 1;
    for (size_t i = 0; i < VKDP_ARRAY_LEN(t); i++) {
        if (!t[i].p)
            continue;
        char what[96];
        snprintf(what, sizeof what, "%s_%s", a->name, t[i].layer_weight);
        ok &= compare(dir, cname, what, t[i].p, t[i].n);
    }
    return ok;
}

/* The two blocks' forward (act[1], act[2] from act[0]) and backward from r (dx and g), in C. */
static void blocks_c(const vkdp_block_weights *w, int B, const int *H, const int *W,
                     const size_t *n, int drop_connect, float (*scale)[B], float **act,
                     const float *r, float *dx, vkdp_block_grads *g)
{
    vkdp_block_tape tape[2];
    for (int k = 0; k < 2; k++) {
        const float *ds = drop_connect && w[k].drop_rate > 0 ? scale[k] : NULL;
        vkdp_block_forward_train(&w[k], B, H[k], W[k], act[k], ds, &tape[k], act[k + 1]);
    }
    float *dmid = vkdp_xmalloc(n[1] * sizeof *dmid);
    for (int k = 1; k >= 0; k--)
        vkdp_block_backward(&w[k], &tape[k], k ? r : dmid, k ? dmid : dx, &g[k]);
    for (int k = 0; k < 2; k++)
        vkdp_block_tape_free(&tape[k]);
    free(dmid);
}

static vkdp_buf *up(const float *src, size_t n, const char *name)
{
    vkdp_buf *b = vkdp_buf_create(dev, n * sizeof(float), name);
    vkdp_buf_upload(b, 0, src, n * sizeof(float));
    return b;
}

static void down(vkdp_buf *b, float *dst, size_t n)
{
    if (b)
        vkdp_buf_download(b, 0, dst, n * sizeof(float));
}

/* The batched backward with per-sample partials (vkdp_block_dev_backward_partials): each
 * sample's partials rounded and added one sample per grad_fx_add. */
typedef struct {
    vkdp_buf *const *acc, *const *ovf;
    const uint64_t *cnt;
    int B;
} partials_ctx;

static void add_partials(void *ctx, vkdp_block_grad_id id, vkdp_view part, uint64_t numel, uint64_t stride)
{
    static const int test_index[VKDP_BG_COUNT] = {6, 2, 3, 4, 5, 1, 0}; /* this file's tensor order */
    const partials_ctx *x = ctx;
    const int t = test_index[id];
    if (numel != x->cnt[t])
        VKDP_FATAL("partials of tensor %d: %llu values, expected %llu", (int)id, (unsigned long long)numel,
                   (unsigned long long)x->cnt[t]);
    for (int s = 0; s < x->B; s++)
        vkdp_op_grad_fx_add(cmd, dev, 1, numel, VKDP_FX_GRAD_SHIFT,
                            vkdp_slice(part.buf, part.offset + (uint64_t)s * stride * 4, numel * 4),
                            vkdp_whole(x->acc[t]), vkdp_whole(x->ovf[t]), NULL);
}

/* The same on the device (vkdp/model/block_dev.h), one recording, one submission; with px, the
 * backward with per-sample partials added in int64 into px's accumulators instead of g. */
static void blocks_device_run(const vkdp_block_weights *w, int B, const int *H, const int *W,
                              const size_t *n, int drop_connect, float (*scale)[B], float **act,
                              const float *r, float *dx, vkdp_block_grads *g, const partials_ctx *px)
{
    vkdp_block_dev d[2];
    vkdp_block_dev_tape tape[2];
    vkdp_block_dev_grads dg[2];
    vkdp_buf *a[3] = {up(act[0], n[0], "x"), vkdp_buf_create(dev, n[1] * 4, "mid"),
                      vkdp_buf_create(dev, n[2] * 4, "out")};
    vkdp_buf *dr = up(r, n[2], "r"), *dmid = vkdp_buf_create(dev, n[1] * 4, "dmid");
    vkdp_buf *ddx = vkdp_buf_create(dev, n[0] * 4, "dx"), *sc[2], *part[2];
    vkdp_cmd_begin(cmd);
    for (int k = 0; k < 2; k++) {
        vkdp_block_dev_create(dev, &w[k], &d[k]);
        vkdp_block_dev_grads_create(dev, w[k].arch, &dg[k]);
        part[k] = vkdp_buf_create(dev, vkdp_block_dev_partials_bytes(dev, w[k].arch, B), "partials");
        sc[k] = up(scale[k], (size_t)B, "drop_scale");
        vkdp_view ds = {0};
        if (drop_connect && w[k].drop_rate > 0)
            ds = vkdp_whole(sc[k]);
        vkdp_block_dev_forward(cmd, dev, &d[k], B, H[k], W[k], vkdp_whole(a[k]), ds, &tape[k],
                               vkdp_whole(a[k + 1]));
    }
    for (int k = 1; k >= 0; k--) {
        if (px)
            vkdp_block_dev_backward_partials(cmd, dev, &d[k], &tape[k], vkdp_whole(k ? dr : dmid),
                                             vkdp_whole(k ? dmid : ddx), vkdp_whole(part[k]), add_partials,
                                             (void *)&px[k]);
        else
            vkdp_block_dev_backward(cmd, dev, &d[k], &tape[k], vkdp_whole(k ? dr : dmid),
                                    vkdp_whole(k ? dmid : ddx), &dg[k]);
    }
    vkdp_cmd_end(cmd);
    vkdp_cmd_submit(cmd);
    for (int k = 1; k < 3; k++)
        down(a[k], act[k], n[k]);
    down(ddx, dx, n[0]);
    for (int k = 0; k < 2 && !px; k++) {
        const vkdp_mbconv *m = w[k].arch;
        size_t ex = (size_t)m->exp_ch, se = (size_t)m->se_ch;
        down(dg[k].expand_w, g[k].expand_w, (size_t)m->in_ch * ex);
        down(dg[k].dw_w, g[k].dw_w, (size_t)m->kernel * m->kernel * ex);
        down(dg[k].se_reduce_w, g[k].se_reduce_w, ex * se);
        down(dg[k].se_reduce_b, g[k].se_reduce_b, se);
        down(dg[k].se_expand_w, g[k].se_expand_w, se * ex);
        down(dg[k].se_expand_b, g[k].se_expand_b, ex);
        down(dg[k].project_w, g[k].project_w, ex * m->out_ch);
    }
    for (int k = 0; k < 2; k++) {
        vkdp_buf_destroy(part[k]);
        vkdp_block_dev_tape_free(&tape[k]);
        vkdp_block_dev_grads_free(&dg[k]);
        vkdp_block_dev_free(&d[k]);
        vkdp_buf_destroy(sc[k]);
    }
    for (int k = 0; k < 3; k++)
        vkdp_buf_destroy(a[k]);
    vkdp_buf_destroy(dr), vkdp_buf_destroy(dmid), vkdp_buf_destroy(ddx);
}

/* "exact" mode: the exact path of docs/fine-tuning.md section 5 with micro-batches of one sample:
 * each sample's two-block forward and backward alone, its weight gradients rounded to int64 fixed
 * point and added (grad_fx_add). Run in sample order and in reverse order, the int64 sums must be
 * the same bits (and so would any split over ranks); their value must match the reference. */
static int exact;

static void blocks_device(const vkdp_block_weights *w, int B, const int *H, const int *W,
                          const size_t *n, int drop_connect, float (*scale)[B], float **act,
                          const float *r, float *dx, vkdp_block_grads *g)
{
    blocks_device_run(w, B, H, W, n, drop_connect, scale, act, r, dx, g, NULL);
}

static void blocks_one_order(const vkdp_block_weights *w, int B, const int *H, const int *W, const size_t *n,
                             int drop_connect, float (*scale)[B], float **act, const float *r, float *dx,
                             int reverse, vkdp_buf *const acc[2][7], vkdp_buf *const ovf[2][7], const uint64_t cnt[2][7])
{
    size_t per[3] = {n[0] / B, n[1] / B, n[2] / B};
    vkdp_block_dev d[2];
    vkdp_block_dev_grads dg[2];
    for (int k = 0; k < 2; k++) {
        vkdp_block_dev_create(dev, &w[k], &d[k]);
        vkdp_block_dev_grads_create(dev, w[k].arch, &dg[k]);
    }
    for (int i = 0; i < B; i++) {
        int s = reverse ? B - 1 - i : i;
        vkdp_buf *a[3] = {up(act[0] + s * per[0], per[0], "x"), vkdp_buf_create(dev, per[1] * 4, "mid"),
                          vkdp_buf_create(dev, per[2] * 4, "out")};
        vkdp_buf *dr = up(r + s * per[2], per[2], "r"), *dmid = vkdp_buf_create(dev, per[1] * 4, "dmid");
        vkdp_buf *ddx = vkdp_buf_create(dev, per[0] * 4, "dx"), *sc[2];
        vkdp_block_dev_tape tape[2];
        vkdp_cmd_begin(cmd);
        for (int k = 0; k < 2; k++) {
            sc[k] = up(&scale[k][s], 1, "drop_scale");
            vkdp_view ds = {0};
            if (drop_connect && w[k].drop_rate > 0)
                ds = vkdp_whole(sc[k]);
            vkdp_block_dev_forward(cmd, dev, &d[k], 1, H[k], W[k], vkdp_whole(a[k]), ds, &tape[k],
                                   vkdp_whole(a[k + 1]));
        }
        for (int k = 1; k >= 0; k--)
            vkdp_block_dev_backward(cmd, dev, &d[k], &tape[k], vkdp_whole(k ? dr : dmid),
                                    vkdp_whole(k ? dmid : ddx), &dg[k]);
        for (int k = 0; k < 2; k++) {
            vkdp_buf *gb[7] = {dg[k].expand_w, dg[k].dw_w, dg[k].se_reduce_w, dg[k].se_reduce_b,
                               dg[k].se_expand_w, dg[k].se_expand_b, dg[k].project_w};
            for (int t = 0; t < 7; t++)
                if (gb[t])
                    vkdp_op_grad_fx_add(cmd, dev, 1, cnt[k][t], VKDP_FX_GRAD_SHIFT, vkdp_whole(gb[t]),
                                        vkdp_whole(acc[k][t]), vkdp_whole(ovf[k][t]), NULL);
        }
        vkdp_cmd_end(cmd);
        vkdp_cmd_submit(cmd);
        down(a[2], act[2] + s * per[2], per[2]);
        down(ddx, dx + s * per[0], per[0]);
        for (int k = 0; k < 2; k++) {
            vkdp_block_dev_tape_free(&tape[k]);
            vkdp_buf_destroy(sc[k]);
        }
        for (int k = 0; k < 3; k++)
            vkdp_buf_destroy(a[k]);
        vkdp_buf_destroy(dr), vkdp_buf_destroy(dmid), vkdp_buf_destroy(ddx);
    }
    for (int k = 0; k < 2; k++) {
        vkdp_block_dev_grads_free(&dg[k]);
        vkdp_block_dev_free(&d[k]);
    }
}

static void blocks_exact(const vkdp_block_weights *w, int B, const int *H, const int *W, const size_t *n,
                         int drop_connect, float (*scale)[B], float **act, const float *r, float *dx,
                         vkdp_block_grads *g)
{
    vkdp_buf *acc[3][2][7] = {{{0}}}, *ovf[3][2][7] = {{{0}}}; /* in order, reversed, batched */
    uint64_t cnt[2][7];
    float *dst[2][7];
    for (int k = 0; k < 2; k++) {
        const vkdp_mbconv *m = w[k].arch;
        uint64_t ex = (uint64_t)m->exp_ch, se = (uint64_t)m->se_ch;
        const uint64_t c[7] = {m->has_expand ? (uint64_t)m->in_ch * ex : 0, (uint64_t)m->kernel * m->kernel * ex,
                               ex * se, se, se * ex, ex, ex * (uint64_t)m->out_ch};
        float *gd[7] = {g[k].expand_w, g[k].dw_w, g[k].se_reduce_w, g[k].se_reduce_b,
                        g[k].se_expand_w, g[k].se_expand_b, g[k].project_w};
        for (int t = 0; t < 7; t++) {
            cnt[k][t] = c[t];
            dst[k][t] = gd[t];
            for (int o = 0; o < 3 && c[t]; o++) {
                acc[o][k][t] = vkdp_buf_create(dev, c[t] * 8, "acc");
                ovf[o][k][t] = vkdp_buf_create(dev, c[t] * 4, "ovf");
                void *z = vkdp_xcalloc(c[t], 8);
                vkdp_buf_upload(acc[o][k][t], 0, z, c[t] * 8);
                vkdp_buf_upload(ovf[o][k][t], 0, z, c[t] * 4);
                free(z);
            }
        }
    }
    float *out2 = vkdp_xmalloc(n[2] * 4), *dx2 = vkdp_xmalloc(n[0] * 4), *keep_out = act[2];
    float *out3 = vkdp_xmalloc(n[2] * 4), *dx3 = vkdp_xmalloc(n[0] * 4);
    blocks_one_order(w, B, H, W, n, drop_connect, scale, act, r, dx, 0, acc[0], ovf[0], cnt);
    act[2] = out2;
    blocks_one_order(w, B, H, W, n, drop_connect, scale, act, r, dx2, 1, acc[1], ovf[1], cnt);
    act[2] = out3;
    const partials_ctx px[2] = {{acc[2][0], ovf[2][0], cnt[0], B}, {acc[2][1], ovf[2][1], cnt[1], B}};
    blocks_device_run(w, B, H, W, n, drop_connect, scale, act, r, dx3, g, px);
    act[2] = keep_out;
    int same = !memcmp(out2, act[2], n[2] * 4) && !memcmp(dx2, dx, n[0] * 4);
    int batched = !memcmp(out3, act[2], n[2] * 4) && !memcmp(dx3, dx, n[0] * 4);
    uint64_t overflows = 0;
    for (int k = 0; k < 2; k++)
        for (int t = 0; t < 7; t++) {
            if (!cnt[k][t])
                continue;
            int64_t *v[3];
            uint32_t *o = vkdp_xmalloc(cnt[k][t] * 4);
            for (int q = 0; q < 3; q++) {
                v[q] = vkdp_xmalloc(cnt[k][t] * 8);
                vkdp_buf_download(acc[q][k][t], 0, v[q], cnt[k][t] * 8);
                vkdp_buf_download(ovf[q][k][t], 0, o, cnt[k][t] * 4);
                for (uint64_t e = 0; e < cnt[k][t]; e++)
                    overflows += o[e];
            }
            same &= !memcmp(v[0], v[1], cnt[k][t] * 8);
            batched &= !memcmp(v[0], v[2], cnt[k][t] * 8);
            for (uint64_t e = 0; e < cnt[k][t]; e++)
                dst[k][t][e] = (float)vkdp_fx_to_double(v[0][e], VKDP_FX_GRAD_SHIFT);
            free(v[0]), free(v[1]), free(v[2]), free(o);
            for (int q = 0; q < 3; q++) {
                vkdp_buf_destroy(acc[q][k][t]);
                vkdp_buf_destroy(ovf[q][k][t]);
            }
        }
    printf("%-4s exact path: int64 gradient sums, outputs and dx bit-identical in reverse sample order, "
           "%llu overflows\n", same && !overflows ? "ok" : "FAIL", (unsigned long long)overflows);
    printf("%-4s batched backward with per-sample partials: int64 gradient sums, outputs and dx "
           "bit-identical to one sample at a time\n", batched ? "ok" : "FAIL");
    if (!same || !batched || overflows)
        failures++;
    free(out2), free(dx2), free(out3), free(dx3);
}

static int run_case(const vkdp_effnet *net, const char *dir, size_t ci, int drop_connect)
{
    const char *cname = cases[ci].name;
    const int B = cases[ci].B;
    vkdp_block_weights w[2];
    vkdp_block_grads g[2];
    float *act[3];  /* input, between the blocks, output */
    int H[3] = {cases[ci].H}, W[3] = {cases[ci].W};
    char path[4200], err[512];

    snprintf(path, sizeof path, "%s/%s.keep.f32", dir, cname);
    float *keep = f32_read(path, 2 * (size_t)B);
    for (int k = 0; k < 2; k++) {
        if (vkdp_block_weights_get(net, block_index(net, cases[ci].blocks[k]), &w[k], err, sizeof err))
            VKDP_FATAL("%s", err);
        const vkdp_mbconv *a = w[k].arch;
        H[k + 1] = vkdp_conv_out_side(H[k], a->kernel, a->stride);
        W[k + 1] = vkdp_conv_out_side(W[k], a->kernel, a->stride);
    }
    const int cin = w[0].arch->in_ch, cmid = w[0].arch->out_ch, cout = w[1].arch->out_ch;
    const size_t n[3] = {(size_t)B * H[0] * W[0] * cin, (size_t)B * H[1] * W[1] * cmid,
                         (size_t)B * H[2] * W[2] * cout};
    snprintf(path, sizeof path, "%s/%s.x.f32", dir, cname);
    act[0] = f32_read(path, n[0]);
    snprintf(path, sizeof path, "%s/%s.r.f32", dir, cname);
    float *r = f32_read(path, n[2]);

    float scale[2][B];
    for (int k = 0; k < 2; k++)
        for (int b = 0; b < B; b++)
            scale[k][b] = vkdp_drop_connect_scale(w[k].drop_rate, keep[k * B + b] != 0.0f);
    for (int k = 0; k < 3; k++)
        act[k] = k ? vkdp_xmalloc(n[k] * sizeof(float)) : act[0];
    float *dx = vkdp_xmalloc(n[0] * sizeof *dx);
    for (int k = 0; k < 2; k++)
        vkdp_block_grads_alloc(w[k].arch, &g[k]);
    (exact ? blocks_exact : dev ? blocks_device : blocks_c)(w, B, H, W, n, drop_connect, scale, act, r, dx, g);
    int ok = compare(dir, cname, "out", act[2], n[2]);
    ok &= compare(dir, cname, "dx", dx, n[0]);
    for (int k = 0; k < 2; k++) {
        ok &= compare_grads(dir, cname, w[k].arch, &g[k]);
        vkdp_block_grads_free(&g[k]);
        vkdp_block_weights_free(&w[k]);
    }
    for (int k = 0; k < 3; k++)
        free(act[k]);
    free(dx), free(r), free(keep);
    return ok;
}

static vkdp_tensor *tensor(vkdp_effnet *net, const char *name)
{
    for (int i = 0; i < net->ntensors; i++)
        if (!strcmp(net->tensors[i].name, name))
            return &net->tensors[i];
    VKDP_FATAL("no tensor %s", name);
}

/* Bad block index, a negative BN variance, a missing tensor: -1 and a message naming it. */
static int check_errors(vkdp_effnet *net)
{
    vkdp_block_weights w;
    char err[512];
    int ok = 1;
    const int b6a = block_index(net, "block6a"), b7a = block_index(net, "block7a");
    ok &= vkdp_block_weights_get(net, net->nblocks, &w, err, sizeof err) == -1 && strstr(err, "out of range");
    vkdp_tensor *var = tensor(net, "block6a_bn/block6a_bn/moving_variance:0");
    float save = var->data[3];
    var->data[3] = -0.5f;
    ok &= vkdp_block_weights_get(net, b6a, &w, err, sizeof err) == -1 &&
          strstr(err, "block6a_bn/moving_variance:0[3]");
    var->data[3] = save;
    vkdp_tensor *k = tensor(net, "block7a_se_expand/block7a_se_expand/bias:0");
    k->name[0] = 'X';
    ok &= vkdp_block_weights_get(net, b7a, &w, err, sizeof err) == -1 &&
          strstr(err, "block7a_se_expand/bias:0");
    k->name[0] = 'b';
    ok &= vkdp_block_weights_get(net, b7a, &w, err, sizeof err) == 0;
    vkdp_block_weights_free(&w);
    printf("%-4s block weights: bad index, bad variance, missing tensor rejected with the name\n",
           ok ? "ok" : "FAIL");
    return ok;
}

int main(int argc, char **argv)
{
    if (argc != 3 && (argc != 4 || (strcmp(argv[3], "device") && strcmp(argv[3], "exact")))) {
        fprintf(stderr, "usage: %s WEIGHTS.h5 DIR [device|exact]\n", argv[0]);
        return 2;
    }
    if (argc == 4) {
        exact = !strcmp(argv[3], "exact");
        dev = vkdp_device_create(NULL);
        cmd = vkdp_cmd_create(dev);
    }
    vkdp_effnet net;
    char err[1024];
    if (vkdp_effnet_load(&net, argv[1], 0, 0, err, sizeof err)) {
        fprintf(stderr, "FAIL %s\n", err);
        return 1;
    }
    int ok = check_errors(&net);
    for (size_t i = 0; i < VKDP_ARRAY_LEN(cases); i++)
        ok &= run_case(&net, argv[2], i, 1);
    printf("control: %s without its drop connect, must disagree with the reference\n", cases[0].name);
    quiet = 1;
    int control_caught = !run_case(&net, argv[2], 0, 0);
    quiet = 0;
    printf("%-4s control caught\n", control_caught ? "ok" : "FAIL");
    ok &= control_caught;
    vkdp_effnet_free(&net);
    if (dev) {
        vkdp_cmd_destroy(cmd);
        vkdp_device_destroy(dev);
    }
    printf("%s\n", ok && !failures ? "block gradients match the PyTorch reference" : "FAILURES");
    return ok && !failures ? 0 : 1;
}
