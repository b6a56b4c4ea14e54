/* Loading EfficientNetB0 weights: the real file (names, BN folding, input normalisation, sha256),
 * the with-top variant, every kind of bad file (each a clear error naming the file and the tensor),
 * and --allow-missing-weights' Keras-style initialisation with its single warning.
 * usage: test_effnet_load WEIGHTS.h5 BAD_DIR   (BAD_DIR from tests/ref/make_bad_weights.py) */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "vkdp/core/common.h"
#include "vkdp/model/effnet.h"
#include "vkdp/core/sha256.h"


static const char *bad_dir;

static const char *bad(const char *name)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", bad_dir, name);
    return path;
}

static const float *T(const vkdp_effnet *net, const char *name)
{
    const vkdp_tensor *t = vkdp_effnet_tensor(net, name);
    if (!t)
        VKDP_FATAL("tensor %s not found", name);
    return t->data;
}

/* The load must fail with an error that names the file and contains every given fragment. */
static void expect_error(const char *file, const char *frag1, const char *frag2)
{
    vkdp_effnet net;
    char err[1024];
    int rc = vkdp_effnet_load(&net, file, 0, 0, err, sizeof err);
    int ok = rc == -1 && strstr(err, file) && strstr(err, frag1) && (!frag2 || strstr(err, frag2));
    printf("%-4s load %s -> \"%s\"\n", ok ? "ok" : "FAIL", strrchr(file, '/') + 1, err);
    if (!ok)
        failures++;
    if (rc == 0)
        vkdp_effnet_free(&net);
    /* a failed load leaves nothing allocated */
    CHECK(net.tensors == NULL && net.stem_w == NULL && net.ntensors == 0, "%s", file);
}

static void check_real(const vkdp_effnet *net, const char *path)
{
    CHECK(net->ntensors == 312, "%d tensors", net->ntensors);
    CHECK(!strcmp(net->path, path), "path %s", net->path);
    char hex[65];
    CHECK(vkdp_sha256_file(path, hex) == 0 && !strcmp(hex, net->sha256), "sha256 %s", net->sha256);
    for (int i = 0; i < net->ntensors; i++)
        CHECK(!net->tensors[i].was_missing, "%s marked missing", net->tensors[i].name);
    CHECK(!strcmp(net->tensors[0].name, "normalization/normalization/mean:0"), "%s", net->tensors[0].name);
    CHECK(vkdp_effnet_tensor(net, "/stem_bn/stem_bn/gamma:0") == vkdp_effnet_tensor(net, "stem_bn/stem_bn/gamma:0"),
          "leading slash");
    CHECK(vkdp_effnet_tensor(net, "predictions/predictions/kernel:0") == NULL, "no classifier");
    const vkdp_tensor *dw = vkdp_effnet_tensor(net, "block6a_dwconv/block6a_dwconv/depthwise_kernel:0");
    CHECK(dw && dw->rank == 4 && dw->shape[0] == 5 && dw->shape[2] == 672 && dw->shape[3] == 1, "dw shape");

    /* (x/255 - mean) / sigma with the file's mean = ImageNet mean and 'variance' = ImageNet sigma */
    static const double mean[3] = {0.485, 0.456, 0.406}, sigma[3] = {0.229, 0.224, 0.225};
    for (int c = 0; c < 3; c++) {
        double x = 200.0, want = (x / 255.0 - mean[c]) / sigma[c];
        double got = x * net->in_scale[c] + net->in_shift[c];
        CHECK(fabs(got - want) < 1e-5 * fabs(want), "normalised channel %d: %g vs %g", c, got, want);
    }

    /* BN folding spot checks, from the unfolded tensors */
    float wf[8], wr[8], bf[8], br[8];
    const float *k = T(net, "block4b_expand_conv/block4b_expand_conv/kernel:0"); /* [1,1,80,480] */
    const float *g = T(net, "block4b_expand_bn/block4b_expand_bn/gamma:0");
    const float *be = T(net, "block4b_expand_bn/block4b_expand_bn/beta:0");
    const float *mu = T(net, "block4b_expand_bn/block4b_expand_bn/moving_mean:0");
    const float *v = T(net, "block4b_expand_bn/block4b_expand_bn/moving_variance:0");
    const vkdp_mbconv *b = &net->blocks[6];
    CHECK(!strcmp(b->name, "block4b"), "%s", b->name);
    for (int i = 0; i < 8; i++) {
        int ci = 7 * i + 3, co = 59 * i + 11;
        double s = g[co] / sqrt((double)v[co] + 1e-3);
        wr[i] = (float)(k[ci * 480 + co] * s);
        wf[i] = b->expand_w[ci * 480 + co];
        br[i] = (float)(be[co] - mu[co] * s);
        bf[i] = b->expand_b[co];
    }
    failures += !test_check("folded block4b_expand_conv weights", wf, wr, 8, 1e-6);
    failures += !test_check("folded block4b_expand_bn bias", bf, br, 8, 1e-6);
    const float *se = T(net, "block7a_se_reduce/block7a_se_reduce/kernel:0");
    failures += !test_check("block7a se_reduce copied unfolded", net->blocks[15].se_reduce_w, se, 1152 * 48, 0);
}

static void check_allow_missing(const char *path, const vkdp_effnet *real)
{
    int failures_before = failures;
    /* capture stderr to see the single warning */
    char log[4096];
    snprintf(log, sizeof log, "%s/allow_missing.log", bad_dir);
    fflush(stderr);
    int saved = dup(2);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (saved < 0 || fd < 0 || dup2(fd, 2) < 0)
        VKDP_FATAL("cannot redirect stderr to %s: %s", log, vkdp_errno_str());
    close(fd);
    vkdp_effnet a, b, c;
    char err[1024];
    int rc_a = vkdp_effnet_load(&a, path, 1, 7, err, sizeof err);
    int rc_b = vkdp_effnet_load(&b, path, 1, 7, err, sizeof err);
    int rc_c = vkdp_effnet_load(&c, path, 1, 8, err, sizeof err);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    CHECK(rc_a == 0 && rc_b == 0 && rc_c == 0, "allow_missing load: %s", err);
    if (rc_a || rc_b || rc_c)
        return;

    static const char *missing[] = {
        "block3b_dwconv/block3b_dwconv/depthwise_kernel:0", "block5c_se_expand/block5c_se_expand/kernel:0",
        "block5c_se_expand/block5c_se_expand/bias:0",       "top_bn/top_bn/gamma:0",
        "top_bn/top_bn/beta:0",                              "top_bn/top_bn/moving_mean:0",
        "top_bn/top_bn/moving_variance:0"};
    int nmissing = 0;
    for (int i = 0; i < a.ntensors; i++) {
        int expect = 0;
        for (size_t j = 0; j < VKDP_ARRAY_LEN(missing); j++)
            expect |= !strcmp(a.tensors[i].name, missing[j]);
        CHECK(a.tensors[i].was_missing == expect, "%s was_missing=%d", a.tensors[i].name, a.tensors[i].was_missing);
        nmissing += a.tensors[i].was_missing;
        if (!expect) /* present tensors are the file's */
            CHECK(!memcmp(a.tensors[i].data, vkdp_effnet_tensor(real, a.tensors[i].name)->data, sizeof(float)),
                  "%s", a.tensors[i].name);
    }
    CHECK(nmissing == 7, "%d missing", nmissing);

    /* depthwise kernel [5,5,240,1]: truncated normal, stddev sqrt(2/fan_out)/0.8796, fan_out = 25 */
    const vkdp_tensor *dw = vkdp_effnet_tensor(&a, missing[0]);
    double stddev = sqrt(2.0 / 25.0) / 0.87962566103423978, s1 = 0, s2 = 0, amax = 0;
    size_t n = 5 * 5 * 240;
    for (size_t i = 0; i < n; i++) {
        s1 += dw->data[i];
        s2 += (double)dw->data[i] * dw->data[i];
        amax = fmax(amax, fabs(dw->data[i]));
    }
    double m = s1 / n, sd = sqrt(s2 / n - m * m);
    /* a unit normal truncated at +-2 has stddev 0.8796 */
    int ok = fabs(m) < 0.02 && fabs(sd / (stddev * 0.87962566103423978) - 1) < 0.05 && amax <= 2 * stddev;
    printf("%-4s missing depthwise kernel: mean %.4f std %.4f (want %.4f) max|x| %.4f <= %.4f\n", ok ? "ok" : "FAIL",
           m, sd, stddev * 0.87962566103423978, amax, 2 * stddev);
    failures += !ok;
    /* block5c se_expand [1,1,28,672]: fan_out 672 */
    const vkdp_tensor *sek = vkdp_effnet_tensor(&a, missing[1]);
    CHECK(sek->shape[2] == 28 && sek->shape[3] == 672, "se_expand shape");
    s2 = 0;
    for (size_t i = 0; i < 28 * 672; i++)
        s2 += (double)sek->data[i] * sek->data[i];
    sd = sqrt(s2 / (28 * 672));
    CHECK(fabs(sd / sqrt(2.0 / 672.0) - 1) < 0.05, "se_expand kernel std %.5f", sd);
    for (int i = 0; i < 672; i++)
        CHECK(a.blocks[10].se_expand_b[i] == 0.0f, "bias zero");
    /* top_bn gamma 1, beta 0, mean 0, var 1: folded top = conv kernel / sqrt(1 + eps), bias 0 */
    const float *top_k = T(&a, "top_conv/top_conv/kernel:0");
    float *want = vkdp_xmalloc(320 * 1280 * sizeof *want);
    for (int i = 0; i < 320 * 1280; i++)
        want[i] = (float)(top_k[i] / sqrt(1.0 + 1e-3));
    failures += !test_check("top_conv folded with a fresh top_bn", a.top_w, want, 320 * 1280, 1e-6);
    free(want);
    for (int i = 0; i < 1280; i++)
        CHECK(a.top_b[i] == 0.0f, "top bias zero");

    CHECK(!memcmp(a.blocks[4].dw_w, b.blocks[4].dw_w, 5 * 5 * 240 * sizeof(float)), "same seed, same values");
    CHECK(memcmp(a.blocks[4].dw_w, c.blocks[4].dw_w, 5 * 5 * 240 * sizeof(float)), "other seed, other values");

    /* exactly one warning line per load, listing every missing tensor */
    FILE *f = fopen(log, "r");
    char *line = NULL;
    size_t cap = 0;
    int lines = 0, listed = 1;
    while (f && getline(&line, &cap, f) > 0) {
        lines++;
        CHECK(strstr(line, "warning") && strstr(line, "7 of 312") && strstr(line, path), "%s", line);
        for (size_t j = 0; j < VKDP_ARRAY_LEN(missing); j++)
            listed &= strstr(line, missing[j]) != NULL;
    }
    if (f)
        fclose(f);
    free(line);
    CHECK(lines == 3 && listed, "%d warning lines (one per load), all listed: %d", lines, listed);
    printf("%s allow_missing: 7 tensors initialised, one warning per load\n",
           failures > failures_before ? "FAIL" : "ok");
    vkdp_effnet_free(&a);
    vkdp_effnet_free(&b);
    vkdp_effnet_free(&c);
}

/* Fine-tuned tensors from a checkpoint (vkdp_effnet_set_tensor + refold): the same values fold to
 * the same bits, a changed kernel changes exactly its folded conv, and bad tensors are refused
 * naming the source and the tensor. */
static void check_set_tensor(vkdp_effnet *net)
{
    const char *k = "top_conv/top_conv/kernel:0";
    const vkdp_tensor *t = vkdp_effnet_tensor(net, k);
    size_t n = 320 * 1280;
    float *top0 = vkdp_xmalloc(n * 4), *dw0 = vkdp_xmalloc(25 * 1152 * 4), *w = vkdp_xmalloc(n * 4);
    memcpy(top0, net->top_w, n * 4);
    memcpy(dw0, net->blocks[14].dw_w, 25 * 1152 * 4);
    memcpy(w, t->data, n * 4);
    char err[1024];
    CHECK(vkdp_effnet_set_tensor(net, k, t->rank, t->shape, w, "ck.h5", err, sizeof err) == 0, "%s", err);
    vkdp_effnet_refold(net);
    failures += !test_check("set_tensor + refold, same values: folded top_conv", net->top_w, top0, n, 0);
    for (size_t i = 0; i < n; i++)
        w[i] *= 2.0f;
    CHECK(vkdp_effnet_set_tensor(net, "/top_conv/top_conv/kernel:0", t->rank, t->shape, w, "ck.h5", err,
                                 sizeof err) == 0, "%s", err);
    vkdp_effnet_refold(net);
    for (size_t i = 0; i < n; i++)
        top0[i] *= 2.0f; /* the BN scale multiplies, in double, then rounds: exact for a power of 2 */
    failures += !test_check("set_tensor + refold, doubled kernel: folded top_conv doubled", net->top_w, top0, n, 0);
    failures += !test_check("set_tensor + refold: other blocks unchanged", net->blocks[14].dw_w, dw0, 25 * 1152, 0);
    int64_t bad_shape[4] = {1, 1, 320, 1279};
    int rc = vkdp_effnet_set_tensor(net, k, 4, bad_shape, w, "ck.h5", err, sizeof err);
    CHECK(rc == -1 && strstr(err, "ck.h5") && strstr(err, k) &&
              strstr(err, "shape [1,1,320,1279], EfficientNetB0 expects [1,1,320,1280]"), "shape: %s", err);
    rc = vkdp_effnet_set_tensor(net, "top_conv/top_conv/bias:0", 1, bad_shape + 3, w, "ck.h5", err, sizeof err);
    CHECK(rc == -1 && strstr(err, "ck.h5: tensor top_conv/top_conv/bias:0 is not an EfficientNetB0 weight"),
          "name: %s", err);
    w[5] = NAN;
    rc = vkdp_effnet_set_tensor(net, k, t->rank, t->shape, w, "ck.h5", err, sizeof err);
    CHECK(rc == -1 && strstr(err, "ck.h5: tensor top_conv/top_conv/kernel:0 has a non-finite value at element 5"),
          "nan: %s", err);
    failures += !test_check("refused tensors left the weights as they were", net->top_w, top0, n, 0);
    free(top0);
    free(dw0);
    free(w);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s WEIGHTS.h5 BAD_DIR\n", argv[0]);
        return 2;
    }
    bad_dir = argv[2];
    vkdp_effnet net;
    char err[1024];
    if (vkdp_effnet_load(&net, argv[1], 0, 0, err, sizeof err)) {
        printf("FAIL %s\n", err);
        return 1;
    }
    check_real(&net, argv[1]);

    /* the with-top file: classifier ignored, everything else identical */
    vkdp_effnet top;
    if (vkdp_effnet_load(&top, bad("with_top.h5"), 0, 0, err, sizeof err)) {
        printf("FAIL with_top: %s\n", err);
        failures++;
    } else {
        failures += !test_check("with-top file: folded top_conv", top.top_w, net.top_w, 320 * 1280, 0);
        failures += !test_check("with-top file: folded block6d dw", top.blocks[14].dw_w, net.blocks[14].dw_w, 25 * 1152, 0);
        CHECK(top.ntensors == 312, "%d", top.ntensors);
        vkdp_effnet_free(&top);
    }

    vkdp_effnet full;
    if (vkdp_effnet_load(&full, bad("full_model.h5"), 0, 0, err, sizeof err)) {
        printf("FAIL full_model: %s\n", err);
        failures++;
    } else {
        failures += !test_check("model.save() file: folded stem", full.stem_w, net.stem_w, 3 * 3 * 3 * 32, 0);
        vkdp_effnet_free(&full);
    }

    vkdp_effnet vlen;
    if (vkdp_effnet_load(&vlen, bad("vlen_names.h5"), 0, 0, err, sizeof err)) {
        printf("FAIL vlen_names: %s\n", err);
        failures++;
    } else {
        failures += !test_check("variable-length names: folded top_conv", vlen.top_w, net.top_w, 320 * 1280, 0);
        vkdp_effnet_free(&vlen);
    }

    expect_error(bad("no_layer_names.h5"), "missing attribute 'layer_names' of /", "not a Keras weights file");
    expect_error(bad("missing_tensor.h5"), "missing tensor block3b_dwconv/block3b_dwconv/depthwise_kernel:0", NULL);
    expect_error(bad("missing_layer.h5"), "missing tensor block5c_se_expand/block5c_se_expand/kernel:0",
                 "no such layer");
    expect_error(bad("listed_absent.h5"), "missing tensor top_bn/top_bn/beta:0", NULL);
    expect_error(bad("wrong_shape.h5"), "block2a_project_conv/block2a_project_conv/kernel:0",
                 "shape [1,1,96,25], EfficientNetB0 expects [1,1,96,24]");
    expect_error(bad("nan.h5"), "stem_bn/stem_bn/gamma:0", "non-finite");
    expect_error(bad("extra_weight.h5"), "layer 'stem_conv' holds unexpected weight 'stem_conv/bias:0'", NULL);
    expect_error(bad("foreign_layer.h5"), "block1b_dwconv", "not part of EfficientNetB0");
    expect_error(bad("external_link.h5"), "stem_conv/stem_conv/kernel:0 is an external link", "refused");
    expect_error(bad("not_hdf5.h5"), "not an HDF5 file", NULL);
    expect_error(bad("truncated.h5"), "truncated", NULL);
    expect_error(bad("does_not_exist.h5"), "No such file", NULL);
    /* allow_missing never excuses a wrong shape */
    vkdp_effnet tmp;
    CHECK(vkdp_effnet_load(&tmp, bad("wrong_shape.h5"), 1, 0, err, sizeof err) == -1, "wrong shape allowed");

    check_allow_missing(bad("many_missing.h5"), &net);
    check_set_tensor(&net);
    vkdp_effnet_free(&net);
    printf("%s effnet_load\n", failures ? "FAIL" : "ok");
    return failures ? 1 : 0;
}
