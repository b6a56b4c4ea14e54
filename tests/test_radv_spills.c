/* Register pressure on AMD GPUs without one: every pipeline the code creates, compiled by Mesa's
 * RADV on its no-hardware device (RADV_FORCE_FAMILY), with VGPR/SGPR/spill counts per pipeline.
 *
 *   test_radv_spills keys OUT WEIGHTS
 *     on lavapipe: one image through the backbone, a head training step and evaluation, every
 *     eltwise variant, and the ops only the backward runs (generic form); writes the key of every pipeline created to OUT, and fails when a shader
 *     built into the binary was not among them (all shaders x the specialisations in use).
 *   test_radv_spills compile KEYS KNOWN FAMILY
 *     on RADV: compiles every key, prints its statistics, and fails on a spill unless KNOWN lists
 *     it ("FAMILY shader spec..." lines: spills issue 10 has yet to fix), and on a KNOWN line that
 *     no longer spills (the list must shrink as kernels are fixed). */
#include <stdlib.h>
#include <string.h>

#include "vkdp/model/backbone.h"
#include "vkdp/model/head.h"
#include "vkdp/ops/augment.h"
#include "vkdp/ops/backbone_ops.h"
#include "vkdp/ops/grad_ops.h"
#include "vkdp/ops/op.h"
#include "vkdp/ops/ops.h"
#include "vkdp/ops/tune.h"
#include "vkdp/vk/shaders.h"

#define MAX_KEYS 256
#define LINE 512

static void key_str(const vkdp_pipeline_key *k, char *out, size_t len)
{
    size_t w = (size_t)snprintf(out, len, "%s wg%u", k->shader, k->wg_x);
    for (uint32_t i = 0; i < k->nspec && w < len; i++)
        w += (size_t)snprintf(out + w, len - w, " %u", k->spec[i]);
}

/* One recording of op's generic form (vkdp/ops/op.h) at parameters p: for the ops the backbone
 * and head do not run yet (backward ops). */
static void record_generic(vkdp_device *dev, vkdp_cmd *cmd, const vkdp_op *op, const int64_t *p)
{
    vkdp_tensor_shape sh[VKDP_OP_MAX_TENSORS];
    vkdp_buf *bufs[VKDP_OP_MAX_TENSORS] = {0};
    vkdp_view views[VKDP_OP_MAX_TENSORS];
    int nt = vkdp_op_ntensors(op);
    memset(sh, 0, sizeof sh);
    op->shape(op, dev, p, sh);
    for (int i = 0; i < nt; i++) {
        if (!sh[i].absent) {
            /* zeros: finite inputs (augment's parameters become coordinates) */
            uint64_t bytes = sh[i].count * 8;
            void *zero = vkdp_xcalloc(bytes, 1);
            bufs[i] = vkdp_buf_create(dev, bytes, op->tensors[i].name);
            vkdp_buf_upload(bufs[i], 0, zero, bytes);
            free(zero);
        }
        views[i] = sh[i].absent ? (vkdp_view){0} : vkdp_whole(bufs[i]);
    }
    vkdp_cmd_begin(cmd);
    op->record(op, cmd, dev, p, views);
    vkdp_cmd_end(cmd);
    vkdp_cmd_submit(cmd);
    for (int i = 0; i < nt; i++)
        vkdp_buf_destroy(bufs[i]);
}

/* One case of every op the backbone and head do not run yet (fine-tuning's backward ops, the
 * unfused forward pieces, augmentation): one per specialisation they use. */
static void record_unused_ops(vkdp_device *dev, vkdp_cmd *cmd)
{
    static const struct {
        const vkdp_op *op;
        int64_t p[VKDP_OP_MAX_PARAMS];
    } cases[] = {
        {&vkdp_rec_swish_grad, {16}},
        {&vkdp_rec_conv1x1_grad, {392, 40, 24, 1}},
        {&vkdp_rec_conv1x1_grad, {392, 40, 24, 0}},
        /* its texel-buffer shaders (lavapipe's row; path 2 forces them here), per-sample partials */
        {&vkdp_rec_conv1x1_grad, {392, 40, 24, 1, 8, 2}},
        {&vkdp_rec_conv1x1_grad, {392, 40, 24, 0, 8, 2}},
        {&vkdp_rec_dwconv_lin, {2, 7, 9, 24, 3, 1}},
        {&vkdp_rec_dwconv_lin, {2, 13, 16, 12, 5, 2}},
        {&vkdp_rec_dwconv_grad, {2, 7, 9, 24, 3, 1, 1}},
        {&vkdp_rec_dwconv_grad, {2, 13, 16, 12, 5, 2, 0}},
        /* its texel-buffer dx and per-sample partials (lavapipe's row; path 2 forces them here) */
        {&vkdp_rec_dwconv_grad, {2, 7, 9, 24, 3, 1, 1, 1, 2}},
        {&vkdp_rec_dwconv_grad, {2, 13, 16, 12, 5, 2, 0, 1, 2}},
        {&vkdp_rec_se_gate_grad, {3, 63, 24}},
        {&vkdp_rec_se_excite_grad, {3, 96, 4}},
        {&vkdp_rec_bn_frozen, {196, 672, VKDP_ACT_SWISH}},
        {&vkdp_rec_bn_frozen, {50, 24, VKDP_ACT_NONE}},
        {&vkdp_rec_bn_frozen_grad, {196, 672}},
        {&vkdp_rec_residual, {3, 1001}},
        {&vkdp_rec_residual_grad, {3, 1001}},
        {&vkdp_rec_gap_grad, {3, 63, 37, 0}},
        {&vkdp_rec_gap_grad, {3, 63, 37, 1}},
        {&vkdp_rec_grad_fx_add, {4, 1001, 40}},
        {&vkdp_rec_augment, {3, 32, 29, 3, 42, 0, 0, 1}},
        /* the texel-buffer gate: on lavapipe the backbone fuses the gate into the GEMM instead */
        {&vkdp_rec_se_gate, {2, 49, 672, 2}},
        /* the shared-memory GEMM with the SE gate fused (gate_fused=1 on a GPU, through VKDP_TUNE) */
        {&vkdp_rec_conv1x1, {98, 672, 112, VKDP_ACT_NONE, 1, 1, 49, 3, 0, 0}},
        {&vkdp_rec_conv1x1, {98, 672, 112, VKDP_ACT_NONE, 0, 1, 49, 3, 0, 0}},
    };
    for (size_t i = 0; i < VKDP_ARRAY_LEN(cases); i++)
        record_generic(dev, cmd, cases[i].op, cases[i].p);
}

static int collect_keys(const char *out_path, const char *weights)
{
    vkdp_device *dev = vkdp_device_create(NULL);
    vkdp_effnet net;
    char err[1024];
    if (vkdp_effnet_load(&net, weights, 0, 123, err, sizeof err))
        VKDP_FATAL("%s", err);
    /* The backbone three times: with lavapipe's row (the texel-buffer shaders) and with the row
     * every other device gets (the storage-buffer shaders): an AMD GPU would run the latter. */
    vkdp_backbone *bb = vkdp_backbone_create(dev, &net, 224, 224, 1);
    float *img = vkdp_xcalloc(224 * 224 * 3, sizeof *img), pooled[1280];
    vkdp_backbone_forward(bb, img, 1, pooled);
    vkdp_backbone_destroy(bb);
    size_t nrows;
    const vkdp_tune *rows = vkdp_tune_table(&nrows);
    /* and that row with the register-blocked GEMM (VKDP_TUNE=gemm_smem=0, what check.sh compares) */
    vkdp_tune regs = rows[nrows - 1];
    regs.gemm_smem = 0;
    vkdp_device_set_ops_data(dev, &regs);
    bb = vkdp_backbone_create(dev, &net, 224, 224, 1);
    vkdp_backbone_forward(bb, img, 1, pooled);
    vkdp_backbone_destroy(bb);
    vkdp_device_set_ops_data(dev, &rows[nrows - 1]);
    bb = vkdp_backbone_create(dev, &net, 224, 224, 1);
    vkdp_backbone_forward(bb, img, 1, pooled);

    vkdp_head_cfg cfg;
    vkdp_head_cfg_default(&cfg);
    vkdp_head *h = vkdp_head_create(dev, &cfg);
    float x[2 * 1280];
    for (int i = 0; i < 2 * 1280; i++)
        x[i] = (float)(i % 13) * 0.1f;
    int labels[2] = {0, 3};
    int64_t pos[2] = {0, 1};
    vkdp_head_result res;
    vkdp_head_train_step(h, x, labels, pos, 2, 2, 0, &res);
    float probs[2 * 5];
    vkdp_head_evaluate(h, x, labels, 2, &res, probs);

    vkdp_cmd *cmd = vkdp_cmd_create(dev);
    vkdp_buf *b = vkdp_buf_create(dev, 64, "eltwise");
    vkdp_cmd_begin(cmd);
    for (int op = 0; op < 2; op++)
        for (int act = 0; act < 3; act++)
            vkdp_op_eltwise(cmd, dev, (vkdp_elt_op)op, (vkdp_act)act, 16, vkdp_whole(b), vkdp_whole(b), vkdp_whole(b),
                            "eltwise");
    vkdp_cmd_end(cmd);
    vkdp_cmd_submit(cmd);
    record_unused_ops(dev, cmd);

    FILE *f = fopen(out_path, "w");
    if (!f)
        VKDP_FATAL("cannot write %s: %s", out_path, vkdp_errno_str());
    int n = vkdp_pipeline_count(dev), missing = 0;
    for (int i = 0; i < n; i++) {
        vkdp_pipeline_key k;
        vkdp_pipeline_key_at(dev, i, &k);
        fprintf(f, "%s %u %u", k.shader, k.wg_x, k.nspec);
        for (uint32_t j = 0; j < k.nspec; j++)
            fprintf(f, " %u", k.spec[j]);
        fprintf(f, "\n");
    }
    for (const vkdp_spirv *s = vkdp_shader_list(); s->name; s++) {
        int seen = 0;
        for (int i = 0; i < n && !seen; i++) {
            vkdp_pipeline_key k;
            vkdp_pipeline_key_at(dev, i, &k);
            seen = !strcmp(k.shader, s->name);
        }
        if (!seen) {
            printf("FAIL shader %s is built in but no pipeline of it was created: add its op to collect_keys\n",
                   s->name);
            missing++;
        }
    }
    if (fclose(f) != 0)
        VKDP_FATAL("writing %s: %s", out_path, vkdp_errno_str());
    printf("%d pipelines written to %s\n", n, out_path);
    vkdp_buf_destroy(b);
    vkdp_cmd_destroy(cmd);
    vkdp_head_destroy(h);
    vkdp_backbone_destroy(bb);
    vkdp_effnet_free(&net);
    free(img);
    vkdp_device_destroy(dev);
    return missing ? 1 : 0;
}

static uint64_t stat_of(const vkdp_pipeline_stat *st, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(st[i].name, name))
            return st[i].value;
    VKDP_FATAL("the driver reports no '%s' statistic", name);
}

static int compile_keys(const char *keys_path, const char *known_path, const char *family)
{
    char known[MAX_KEYS][LINE];
    int nknown = 0, known_hit[MAX_KEYS] = {0};
    char line[LINE];
    FILE *f = fopen(known_path, "r");
    if (!f)
        VKDP_FATAL("cannot read %s: %s", known_path, vkdp_errno_str());
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        size_t fl = strlen(family);
        if (line[0] == '#' || strncmp(line, family, fl) || line[fl] != ' ')
            continue;
        if (nknown == MAX_KEYS)
            VKDP_FATAL("%s: more than %d lines", known_path, MAX_KEYS);
        snprintf(known[nknown++], LINE, "%s", line + fl + 1);
    }
    fclose(f);

    vkdp_device_opts o;
    vkdp_device_opts_default(&o);
    o.compile_only = 1;
    vkdp_device *dev = vkdp_device_create(&o);
    const vkdp_device_info *in = vkdp_device_get_info(dev);
    if (in->vendor_id != 0x1002)
        VKDP_FATAL("expected RADV's no-hardware AMD device (RADV_FORCE_FAMILY=%s), got %s", family, in->name);
    printf("%s (%s)\n", in->name, in->driver);

    f = fopen(keys_path, "r");
    if (!f)
        VKDP_FATAL("cannot read %s: %s", keys_path, vkdp_errno_str());
    int fails = 0, n = 0;
    printf("%-44s %6s %6s %8s %8s %8s %6s  %s\n", "pipeline (shader wgN spec...)", "VGPRs", "SGPRs", "spill-V",
           "spill-S", "scratch", "waves", "verdict");
    while (fgets(line, sizeof line, f)) {
        char shader[64];
        unsigned wg, nspec, spec[16];
        int off = 0;
        if (sscanf(line, "%63s %u %u%n", shader, &wg, &nspec, &off) != 3 || nspec > 16)
            VKDP_FATAL("%s: bad line '%s'", keys_path, line);
        for (unsigned i = 0; i < nspec; i++) {
            int used = 0;
            if (sscanf(line + off, "%u%n", &spec[i], &used) != 1)
                VKDP_FATAL("%s: bad line '%s'", keys_path, line);
            off += used;
        }
        vkdp_pipeline *p = vkdp_pipeline_get(dev, shader, spec, nspec, wg);
        vkdp_pipeline_stat st[64];
        int ns = vkdp_pipeline_stats(dev, p, st, 64);
        if (ns < 0)
            VKDP_FATAL("%s reports no pipeline statistics (VK_KHR_pipeline_executable_properties)", in->name);
        vkdp_pipeline_key k = {shader, spec, nspec, wg};
        char ks[LINE];
        key_str(&k, ks, sizeof ks);
        uint64_t sv = stat_of(st, ns, "Spilled VGPRs"), ss = stat_of(st, ns, "Spilled SGPRs");
        int is_known = -1;
        for (int i = 0; i < nknown; i++)
            if (!strcmp(known[i], ks))
                is_known = i;
        const char *verdict = "ok";
        if (sv || ss) {
            if (is_known >= 0) {
                verdict = "SPILLS (known, issue 10)";
                known_hit[is_known] = 1;
            } else {
                verdict = "FAIL: spills";
                fails++;
            }
        } else if (is_known >= 0) {
            verdict = "FAIL: listed as spilling but does not: remove it from the known list";
            known_hit[is_known] = 1;
            fails++;
        }
        printf("%-44s %6llu %6llu %8llu %8llu %8llu %6llu  %s\n", ks,
               (unsigned long long)stat_of(st, ns, "VGPRs"), (unsigned long long)stat_of(st, ns, "SGPRs"),
               (unsigned long long)sv, (unsigned long long)ss, (unsigned long long)stat_of(st, ns, "Scratch size"),
               (unsigned long long)stat_of(st, ns, "Subgroups per SIMD"), verdict);
        n++;
    }
    fclose(f);
    for (int i = 0; i < nknown; i++)
        if (!known_hit[i]) {
            printf("FAIL known spill '%s %s' names no pipeline the code creates: remove it\n", family, known[i]);
            fails++;
        }
    printf("%s: %d pipelines, %d failure(s)\n", family, n, fails);
    vkdp_device_destroy(dev);
    return fails ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "keys"))
        return collect_keys(argv[2], argv[3]);
    if (argc == 5 && !strcmp(argv[1], "compile"))
        return compile_keys(argv[2], argv[3], argv[4]);
    fprintf(stderr, "usage: %s keys OUT WEIGHTS | compile KEYS KNOWN FAMILY\n", argv[0]);
    return 2;
}
