/* Fine-tuning's trainable part on the device (vkdp/model/ft_part.h) against the plain-C references:
 * the pooled features of a training forward and every trainable tensor's exact (int64-summed)
 * gradient of L = sum(pooled * r), from block4a (whose SE bias partials, 10 floats, are padded
 * between samples on a 16-byte offset alignment), block6a (drop connect in 6b/6c/6d, some samples
 * dropped), block7a (the Keras example's last 20 layers) and top_conv alone, on real weights and
 * an odd spatial size; with blocks, the same bits when they run in chunks of 2 samples
 * (VKDP_TEST_FT_CHUNK). The block reference is checked against float64 PyTorch autograd in
 * effnet_block_grad_vs_torch; top_conv's chain (conv, frozen BN, swish, GAP) is composed here from
 * the grad_ref.h references. --drop-connect-rate: the scales at rates 0, 0.2 and 0.5.
 * usage: test_ftpart WEIGHTS.h5 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vkdp/core/common.h"
#include "vkdp/model/effnet.h"
#include "vkdp/model/effnet_grad.h"
#include "vkdp/model/ft_part.h"
#include "vkdp/ops/act.h"
#include "vkdp/ops/backbone_ops.h"
#include "vkdp/ops/grad_ref.h"
#include "vkdp/ops/ops.h"

#define B 3
#define TOL 2e-5 /* measured worst 2.0e-6 (block7a se_expand kernel) */

static const float *tensor(const vkdp_effnet *net, const char *name)
{
    const vkdp_tensor *t = vkdp_effnet_tensor(net, name);
    if (!t)
        VKDP_FATAL("no tensor %s", name);
    return t->data;
}

/* The reference gradient array of a plan tensor path (g: the trainable blocks' from block `first`). */
static const float *ref_grad(const vkdp_effnet *net, const char *path, const vkdp_block_grads *gs, int first,
                             const float *dtop)
{
    if (!strcmp(path, "top_conv/top_conv/kernel:0"))
        return dtop;
    const vkdp_block_grads *g = NULL;
    for (int b = first; b < VKDP_EFFNET_BLOCKS; b++)
        if (!strncmp(path, net->blocks[b].name, strlen(net->blocks[b].name)))
            g = &gs[b - first];
    if (!g)
        VKDP_FATAL("no block for %s", path);
    const int bias = strstr(path, "bias:0") != NULL;
    if (strstr(path, "_expand_conv/"))
        return g->expand_w;
    if (strstr(path, "_dwconv/"))
        return g->dw_w;
    if (strstr(path, "_se_reduce/"))
        return bias ? g->se_reduce_b : g->se_reduce_w;
    if (strstr(path, "_se_expand/"))
        return bias ? g->se_expand_b : g->se_expand_w;
    if (strstr(path, "_project_conv/"))
        return g->project_w;
    VKDP_FATAL("no reference for %s", path);
}

#define SEED 7
#define EPOCH 2

/* Global sample indices whose drop-connect draws in blocks first..15 drop some branch and keep
 * another, so that both paths are checked (none without residual blocks). */
static void pick_positions(const vkdp_effnet *net, int first, int64_t *gpos)
{
    for (int64_t base = 0;; base += B) {
        int dropped = 0, kept = 0;
        for (int s = 0; s < B; s++) {
            gpos[s] = base + s;
            for (int b = first; b < VKDP_EFFNET_BLOCKS; b++) {
                float sc = vkdp_ftpart_drop_scale(SEED, VKDP_EFFNET_DROP_CONNECT_RATE, EPOCH, gpos[s], b);
                dropped += net->blocks[b].has_residual && sc == 0, kept += net->blocks[b].has_residual && sc > 1;
            }
        }
        if (first >= VKDP_EFFNET_BLOCKS - 1 || (dropped && kept))
            return;
    }
}

/* The same forward and step with the blocks in chunks of 2 samples (2 + 1): pooled and every
 * gradient the same bits as p's. */
static int same_in_chunks(vkdp_device *dev, const vkdp_effnet *net, const vkdp_finetune_plan *plan, size_t bf,
                          const float *x, const int64_t *gpos, const float *r, vkdp_ftpart *p, const float *pooled)
{
    if (setenv("VKDP_TEST_FT_CHUNK", "2", 1) != 0)
        VKDP_FATAL("setenv failed");
    /* and cut into 4 KiB gradient buckets (a bucket per tensor) instead of the default 25 MiB */
    vkdp_ftpart *q = vkdp_ftpart_create(dev, net, plan, bf, B, SEED, VKDP_EFFNET_DROP_CONNECT_RATE, 4096);
    if (unsetenv("VKDP_TEST_FT_CHUNK") != 0)
        VKDP_FATAL("unsetenv failed");
    float *pq = vkdp_xmalloc((size_t)B * VKDP_EFFNET_FEATURES * sizeof *pq);
    vkdp_ftpart_forward(q, x, B, gpos, EPOCH, pq);
    vkdp_ftpart_step(q, r, B, 1e-3, 0);
    int same = !memcmp(pq, pooled, (size_t)B * VKDP_EFFNET_FEATURES * sizeof *pq);
    for (int i = 0; i < vkdp_ftpart_count(p); i++) {
        const size_t n = (size_t)vkdp_ftpart_tensor(p, i)->numel;
        float *a = vkdp_xmalloc(n * sizeof *a), *b = vkdp_xmalloc(n * sizeof *b);
        vkdp_ftpart_last_grad(p, i, a);
        vkdp_ftpart_last_grad(q, i, b);
        same &= !memcmp(a, b, n * sizeof *a);
        free(a), free(b);
    }
    same &= vkdp_ftpart_checksum(p) == vkdp_ftpart_checksum(q);
    same &= vkdp_buckets_count(vkdp_ftpart_buckets(q)) > vkdp_buckets_count(vkdp_ftpart_buckets(p));
    printf("%-4s %s: the blocks in chunks of 2 samples and smaller gradient buckets give the same pooled "
           "features, gradients and updated tensors bit for bit\n", same ? "ok" : "FAIL", plan->from);
    vkdp_ftpart_destroy(q);
    free(pq);
    return same;
}

static int run_case(vkdp_device *dev, const vkdp_effnet *net, const char *from, int image_size, int H)
{
    char err[1024];
    vkdp_finetune_plan plan;
    if (vkdp_finetune_plan_from(from, image_size, &plan, err, sizeof err))
        VKDP_FATAL("%s", err);
    const int first = plan.first_block, nb = VKDP_EFFNET_BLOCKS - first, P = H * H, F = VKDP_EFFNET_FEATURES;
    int H0 = H; /* each stride-2 block halves the side (96 px: 12 -> 6 -> 3 from block4a) */
    for (int b = first; b < VKDP_EFFNET_BLOCKS; b++)
        H0 *= net->blocks[b].stride;
    const int Cin = nb ? net->blocks[first].in_ch : 320;
    const size_t nx = (size_t)B * H0 * H0 * Cin;
    float *x = vkdp_xmalloc(nx * sizeof *x), *r = vkdp_xmalloc((size_t)B * F * sizeof *r);
    test_fill_uniform(x, nx, 11, -2.0f, 2.0f);
    test_fill_uniform(r, (size_t)B * F, 12, -1.0f, 1.0f);
    int64_t gpos[B];
    pick_positions(net, first, gpos);
    vkdp_ftpart *p =
        vkdp_ftpart_create(dev, net, &plan, (size_t)H0 * H0 * Cin, B, SEED, VKDP_EFFNET_DROP_CONNECT_RATE, 0);
    float *pooled = vkdp_xmalloc((size_t)B * F * sizeof *pooled);
    vkdp_ftpart_forward(p, x, B, gpos, EPOCH, pooled);
    vkdp_ftpart_step(p, r, B, 1e-3, 0);
    int ok = nb == 0 || same_in_chunks(dev, net, &plan, (size_t)H0 * H0 * Cin, x, gpos, r, p, pooled);

    /* the reference: the blocks (C, torch-checked) then top_conv -> top_bn -> swish -> GAP */
    vkdp_block_weights w[VKDP_EFFNET_BLOCKS];
    vkdp_block_tape tape[VKDP_EFFNET_BLOCKS];
    vkdp_block_grads g[VKDP_EFFNET_BLOCKS];
    float *act[VKDP_EFFNET_BLOCKS + 1] = {x}, scale_b[B];
    int h = H0, hin[VKDP_EFFNET_BLOCKS];
    for (int k = 0; k < nb; k++) {
        if (vkdp_block_weights_get(net, first + k, &w[k], err, sizeof err))
            VKDP_FATAL("%s", err);
        const vkdp_mbconv *a = w[k].arch;
        for (int s = 0; s < B; s++)
            scale_b[s] = vkdp_ftpart_drop_scale(SEED, VKDP_EFFNET_DROP_CONNECT_RATE, EPOCH, gpos[s], first + k);
        int ho = vkdp_dw_geom_keras(h, h, a->exp_ch, a->kernel, a->stride).Ho;
        hin[k] = h;
        act[k + 1] = vkdp_xmalloc((size_t)B * ho * ho * a->out_ch * sizeof(float));
        vkdp_block_forward_train(&w[k], B, h, h, act[k], a->has_residual ? scale_b : NULL, &tape[k], act[k + 1]);
        h = ho;
    }
    const float *y = act[nb];
    const size_t M = (size_t)B * P, MN = M * F;
    float scale[VKDP_EFFNET_FEATURES], shift[VKDP_EFFNET_FEATURES], zero[VKDP_EFFNET_FEATURES] = {0};
    vkdp_bn_frozen_affine(F, tensor(net, "top_bn/top_bn/gamma:0"), tensor(net, "top_bn/top_bn/beta:0"),
                          tensor(net, "top_bn/top_bn/moving_mean:0"), tensor(net, "top_bn/top_bn/moving_variance:0"),
                          VKDP_EFFNET_BN_EPS, scale, shift);
    const float *wt = tensor(net, "top_conv/top_conv/kernel:0");
    float *z = vkdp_xmalloc(MN * sizeof *z), *a = vkdp_xmalloc(MN * sizeof *a);
    float *pref = vkdp_xmalloc((size_t)B * F * sizeof *pref);
    vkdp_ref_conv1x1((uint32_t)M, 320, F, VKDP_ACT_NONE, y, wt, zero, NULL, NULL, 0, z);
    vkdp_ref_bn_frozen(M, F, scale, shift, z, z);
    for (size_t i = 0; i < MN; i++)
        a[i] = vkdp_swish(z[i]);
    vkdp_ref_gap(B, (uint32_t)P, F, a, pref);
    char what[160];
    snprintf(what, sizeof what, "%s %dx%d: pooled", from, H, H);
    ok &= test_check(what, pooled, pref, (size_t)B * F, 1e-5);
    /* backward of L = sum(pooled * r) */
    float *dtop = vkdp_xmalloc((size_t)320 * F * sizeof *dtop), *dy = vkdp_xmalloc(M * 320 * sizeof *dy);
    vkdp_grad_gap(B, (uint32_t)P, F, r, a, 0);
    vkdp_grad_swish(MN, z, a, a);
    vkdp_grad_bn_frozen(M, F, scale, a, a);
    vkdp_grad_conv1x1((uint32_t)M, 320, F, y, wt, a, dy, dtop, NULL);
    for (int k = nb - 1; k >= 0; k--) {
        float *dx = k ? vkdp_xmalloc((size_t)B * hin[k] * hin[k] * w[k].arch->in_ch * sizeof *dx) : NULL;
        vkdp_block_grads_alloc(w[k].arch, &g[k]);
        vkdp_block_backward(&w[k], &tape[k], dy, dx, &g[k]);
        free(dy);
        dy = dx;
    }
    for (int i = 0; i < vkdp_ftpart_count(p); i++) {
        const vkdp_finetune_tensor *t = vkdp_ftpart_tensor(p, i);
        float *got = vkdp_xmalloc((size_t)t->numel * sizeof *got);
        vkdp_ftpart_last_grad(p, i, got);
        snprintf(what, sizeof what, "%s %dx%d: d %s", from, H, H, t->path);
        ok &= test_check(what, got, ref_grad(net, t->path, g, first, dtop), (size_t)t->numel, TOL);
        free(got);
    }
    for (int k = 0; k < nb; k++) {
        vkdp_block_grads_free(&g[k]);
        vkdp_block_tape_free(&tape[k]);
        vkdp_block_weights_free(&w[k]);
        free(act[k + 1]);
    }
    /* the replica checksum sees one changed weight, and only that */
    const int64_t n0 = vkdp_ftpart_tensor(p, 0)->numel;
    float *w0 = vkdp_xmalloc((size_t)n0 * sizeof *w0);
    uint64_t c0 = vkdp_ftpart_checksum(p);
    vkdp_ftpart_get(p, VKDP_FT_WEIGHT, 0, w0);
    const float orig = w0[n0 - 1];
    w0[n0 - 1] = orig + 1e-3f;
    vkdp_ftpart_set(p, VKDP_FT_WEIGHT, 0, w0);
    uint64_t c1 = vkdp_ftpart_checksum(p);
    w0[n0 - 1] = orig;
    vkdp_ftpart_set(p, VKDP_FT_WEIGHT, 0, w0);
    int sums = c1 != c0 && vkdp_ftpart_checksum(p) == c0;
    printf("%-4s %s: checksum changes with one weight and returns with it\n", sums ? "ok" : "FAIL", from);
    ok &= sums;
    free(w0);
    vkdp_ftpart_destroy(p);
    free(x), free(r), free(pooled), free(z), free(a), free(pref), free(dtop), free(dy);
    return ok;
}

/* --drop-connect-rate's scales for the last block (b = 15) over 4000 samples: at rate 0 every
 * branch is kept at scale 1; a higher rate drops every branch a lower one drops (the same Philox
 * draw against a higher bar) and more besides; the dropped share is near rate * 15 / 16. */
static int drop_rates(void)
{
    enum { N = 4000 };
    const double rates[] = {0.0, 0.2, 0.5};
    int dropped[3] = {0, 0, 0}, ok = 1;
    for (int64_t g = 0; g < N; g++) {
        float sc[3];
        for (int i = 0; i < 3; i++) {
            sc[i] = vkdp_ftpart_drop_scale(SEED, rates[i], EPOCH, g, 15);
            dropped[i] += sc[i] == 0;
        }
        ok &= sc[0] == 1.0f && (sc[1] != 0 || sc[2] == 0) &&
              (sc[1] == 0 || sc[1] == vkdp_drop_connect_scale(0.2 * 15 / 16.0, 1));
    }
    for (int i = 1; i < 3; i++) {
        const double want = rates[i] * 15 / 16.0 * N, sd = sqrt(want * (1 - rates[i] * 15 / 16.0));
        ok &= fabs(dropped[i] - want) < 5 * sd;
    }
    ok &= dropped[0] == 0 && dropped[2] > dropped[1];
    printf("%s: drop connect in block 15 over %d samples: dropped %d / %d / %d at rate 0 / 0.2 / 0.5\n",
           ok ? "ok" : "FAIL", N, dropped[0], dropped[1], dropped[2]);
    return ok;
}

int main(int argc, char **argv)
{
    vkdp_effnet net;
    char err[1024] = "no weights file given";
    if (argc != 2 || vkdp_effnet_load(&net, argv[1], 0, 0, err, sizeof err) != 0) {
        fprintf(stderr, "usage: %s WEIGHTS.h5 (%s)\n", argv[0], err);
        return argc == 2 ? 1 : 2;
    }
    vkdp_device *dev = vkdp_device_create(NULL);
    /* 96 px: block7a and top_conv see 3x3 */
    int ok = run_case(dev, &net, "block4a", 96, 3) & run_case(dev, &net, "block6a", 96, 3) &
             run_case(dev, &net, "block7a", 96, 3) &
             run_case(dev, &net, "top_conv", 96, 3) & drop_rates();
    vkdp_device_destroy(dev);
    vkdp_effnet_free(&net);
    printf("%s\n", ok ? "ok: fine-tuning's trainable part matches the references" : "FAIL");
    return ok ? 0 : 1;
}
