/* Finite-difference check of every backward reference in vkdp/ops/grad_ref.h against the forward
 * C reference it is the adjoint of, on small odd shapes.
 *
 * Loss L = sum_i r_i y_i (double) with fixed random r, so dL/dy = r feeds the backward. Each
 * input element is perturbed by +-h and the central difference uses the perturbation actually
 * stored in float (not the nominal h), with one Richardson step ((4 D(h/2) - D(h)) / 3): exact for
 * the linear ops, O(h^4) for swish/sigmoid. The criterion is normwise, max|an - fd| / max|fd|.
 * Negative controls run deliberately wrong backwards (depthwise padding off by one, as
 * torchvision's symmetric padding would be against Keras' correct_pad; SE without its pooled-mean
 * path) and must be rejected, so the tolerances are shown to catch the errors they are there for. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vkdp/core/common.h"
#include "vkdp/ops/backbone_ops.h"
#include "vkdp/ops/grad_ref.h"
#include "vkdp/ops/ops.h"

/* Linear ops: the difference is exact up to the forward's float rounding (measured <= 3e-6).
 * Through swish/sigmoid the forward's intermediate float roundings (pool, gate) put noise of
 * ~1e-6/h into the difference: h = 0.1 with one Richardson step measures <= 1e-4. An off-by-one
 * in padding or stride, a missing path or factor gives errors of order 1e-2 to 1. */
#define TOL_LINEAR 2e-5
#define TOL_NONLINEAR 5e-4
#define H_LINEAR 0.0625
#define H_NONLINEAR 0.1
#define MAX_PARAMS 5

typedef struct {
    const char *name;
    float *x, *grad;
    size_t n;
} fd_param;

typedef struct fd_case fd_case;
struct fd_case {
    char name[96];
    void (*fwd)(fd_case *c);                  /* c->y from the params */
    void (*bwd)(fd_case *c, const float *dy); /* every p[i].grad */
    uint32_t B, M, K, N, P, C, se;
    vkdp_act act;
    vkdp_dw_geom g, g_bwd;  /* the forward's geometry, the backward's (differs in controls) */
    float *aux[2];          /* frozen inputs: BN scale/shift, residual scales */
    float *y, *r;
    size_t ny;
    fd_param p[MAX_PARAMS];
    int np;
    double h, tol;
};

static uint64_t next_seed = 1000;

static float *rand_buf(size_t n, float lo, float hi)
{
    float *p = vkdp_xmalloc((n ? n : 1) * sizeof *p);
    test_fill_uniform(p, n, next_seed++, lo, hi);
    return p;
}

static void add_param(fd_case *c, const char *name, size_t n, float lo, float hi)
{
    fd_param *p = &c->p[c->np++];
    p->name = name;
    p->n = n;
    p->x = rand_buf(n, lo, hi);
    p->grad = vkdp_xcalloc(n ? n : 1, sizeof *p->grad);
}

static void set_output(fd_case *c, size_t ny)
{
    c->ny = ny;
    c->y = vkdp_xcalloc(ny, sizeof *c->y);
    c->r = rand_buf(ny, -1, 1);
}

static void set_step(fd_case *c, int nonlinear)
{
    c->h = nonlinear ? H_NONLINEAR : H_LINEAR;
    c->tol = nonlinear ? TOL_NONLINEAR : TOL_LINEAR;
}

static double loss(fd_case *c)
{
    c->fwd(c);
    double l = 0;
    for (size_t i = 0; i < c->ny; i++)
        l += (double)c->r[i] * c->y[i];
    return l;
}

static double central(fd_case *c, float *x, size_t i, double h)
{
    float save = x[i];
    x[i] = (float)(save + h);
    double hp = (double)x[i] - save, lp = loss(c);
    x[i] = (float)(save - h);
    double hm = (double)save - x[i], lm = loss(c);
    x[i] = save;
    return (lp - lm) / (hp + hm);
}

/* Returns the worst normwise error over the params; prints a line per param when verbose. */
static double fd_check(fd_case *c, int verbose, int *ok)
{
    c->bwd(c, c->r);
    double worst = 0;
    for (int k = 0; k < c->np; k++) {
        fd_param *p = &c->p[k];
        float *fd = vkdp_xmalloc(p->n * sizeof *fd);
        for (size_t i = 0; i < p->n; i++)
            fd[i] = (float)((4 * central(c, p->x, i, c->h / 2) - central(c, p->x, i, c->h)) / 3);
        char what[160];
        snprintf(what, sizeof what, "%s d%s", c->name, p->name);
        if (verbose)
            *ok &= test_check(what, p->grad, fd, p->n, c->tol);
        test_err e = test_compare(p->grad, fd, p->n);
        if (e.nonfinite || e.rel > worst)
            worst = e.nonfinite ? INFINITY : e.rel;
        free(fd);
    }
    return worst;
}

static void free_case(fd_case *c)
{
    for (int k = 0; k < c->np; k++) {
        free(c->p[k].x);
        free(c->p[k].grad);
    }
    free(c->y);
    free(c->r);
    free(c->aux[0]);
    free(c->aux[1]);
}

/* ---------------------------------------------------------------- 1x1 convolution (+ swish) */

static void conv1x1_fwd(fd_case *c)
{
    vkdp_ref_conv1x1(c->M, c->K, c->N, c->act, c->p[0].x, c->p[1].x, c->p[2].x, NULL, NULL, 0,
                     c->y);
}

static void conv1x1_bwd(fd_case *c, const float *dy)
{
    float *dz = NULL;
    if (c->act == VKDP_ACT_SWISH) {  /* through the activation: pre-activation z, then swish' */
        float *z = vkdp_xmalloc(c->ny * sizeof *z);
        vkdp_ref_conv1x1(c->M, c->K, c->N, VKDP_ACT_NONE, c->p[0].x, c->p[1].x, c->p[2].x, NULL,
                         NULL, 0, z);
        dz = vkdp_xmalloc(c->ny * sizeof *dz);
        vkdp_grad_swish(c->ny, z, dy, dz);
        free(z);
        dy = dz;
    }
    vkdp_grad_conv1x1(c->M, c->K, c->N, c->p[0].x, c->p[1].x, dy, c->p[0].grad, c->p[1].grad,
                      c->p[2].grad);
    free(dz);
}

static fd_case make_conv1x1(uint32_t M, uint32_t K, uint32_t N, vkdp_act act)
{
    fd_case c = {.fwd = conv1x1_fwd, .bwd = conv1x1_bwd, .M = M, .K = K, .N = N, .act = act};
    set_step(&c, act != VKDP_ACT_NONE);
    snprintf(c.name, sizeof c.name, "conv1x1%s M%u K%u N%u", act ? "+swish" : "", M, K, N);
    add_param(&c, "x", (size_t)M * K, -1, 1);
    add_param(&c, "w", (size_t)K * N, -1, 1);
    add_param(&c, "b", N, -1, 1);
    set_output(&c, (size_t)M * N);
    return c;
}

/* ---------------------------------------------------------------- depthwise (+ bias + swish) */

static void dw_fwd(fd_case *c)
{
    if (c->act == VKDP_ACT_SWISH)  /* the frozen backbone's fused op: its own reference */
        vkdp_ref_dwconv(c->B, c->g.H, c->g.W, c->g.C, c->g.k, c->g.stride, c->p[0].x, c->p[1].x,
                        c->p[2].x, c->y);
    else
        vkdp_ref_dwconv_lin(&c->g, c->B, c->p[0].x, c->p[1].x, c->p[2].x, c->y);
}

static void dw_bwd(fd_case *c, const float *dy)
{
    float *dz = NULL;
    if (c->act == VKDP_ACT_SWISH) {
        float *z = vkdp_xmalloc(c->ny * sizeof *z);
        vkdp_ref_dwconv_lin(&c->g, c->B, c->p[0].x, c->p[1].x, c->p[2].x, z);
        dz = vkdp_xmalloc(c->ny * sizeof *dz);
        vkdp_grad_swish(c->ny, z, dy, dz);
        free(z);
        dy = dz;
    }
    vkdp_grad_dwconv(&c->g_bwd, c->B, c->p[0].x, c->p[1].x, dy, c->p[0].grad, c->p[1].grad,
                     c->p[2].grad);
    free(dz);
}

static fd_case make_dw(uint32_t B, int H, int W, int C, int k, int stride, vkdp_act act)
{
    fd_case c = {.fwd = dw_fwd, .bwd = dw_bwd, .B = B, .act = act};
    set_step(&c, act != VKDP_ACT_NONE);
    c.g = c.g_bwd = vkdp_dw_geom_keras(H, W, C, k, stride);
    snprintf(c.name, sizeof c.name, "dwconv%s k%d s%d B%u %dx%dx%d", act ? "+bias+swish" : "", k,
             stride, B, H, W, C);
    add_param(&c, "x", (size_t)B * H * W * C, -1, 1);
    add_param(&c, "w", (size_t)k * k * C, -1, 1);
    add_param(&c, "b", (size_t)C, -1, 1);
    set_output(&c, (size_t)B * c.g.Ho * c.g.Wo * C);
    return c;
}

/* ---------------------------------------------------------------- swish, frozen BN, GAP */

static void swish_fwd(fd_case *c)
{
    for (size_t i = 0; i < c->ny; i++)
        c->y[i] = vkdp_ref_act(VKDP_ACT_SWISH, c->p[0].x[i]);
}

static void swish_bwd(fd_case *c, const float *dy) { vkdp_grad_swish(c->ny, c->p[0].x, dy, c->p[0].grad); }

static fd_case make_swish(size_t n)
{
    fd_case c = {.fwd = swish_fwd, .bwd = swish_bwd};
    set_step(&c, 1);
    snprintf(c.name, sizeof c.name, "swish n%zu", n);
    add_param(&c, "x", n, -8, 8);
    set_output(&c, n);
    return c;
}

static void bn_fwd(fd_case *c) { vkdp_ref_bn_frozen(c->M, (int)c->C, c->aux[0], c->aux[1], c->p[0].x, c->y); }

static void bn_bwd(fd_case *c, const float *dy)
{
    vkdp_grad_bn_frozen(c->M, (int)c->C, c->aux[0], dy, c->p[0].grad);
}

static fd_case make_bn(uint32_t M, uint32_t C)
{
    fd_case c = {.fwd = bn_fwd, .bwd = bn_bwd, .M = M, .C = C};
    set_step(&c, 0);
    snprintf(c.name, sizeof c.name, "bn_frozen M%u C%u", M, C);
    float *gamma = rand_buf(C, -2, 2), *beta = rand_buf(C, -1, 1), *mean = rand_buf(C, -1, 1);
    float *var = rand_buf(C, 0.01f, 2);
    c.aux[0] = vkdp_xmalloc(C * sizeof(float));
    c.aux[1] = vkdp_xmalloc(C * sizeof(float));
    vkdp_bn_frozen_affine((int)C, gamma, beta, mean, var, 1e-3f, c.aux[0], c.aux[1]);
    free(gamma), free(beta), free(mean), free(var);
    add_param(&c, "x", (size_t)M * C, -3, 3);
    set_output(&c, (size_t)M * C);
    return c;
}

static void gap_fwd(fd_case *c) { vkdp_ref_gap(c->B, c->P, c->C, c->p[0].x, c->y); }

static void gap_bwd(fd_case *c, const float *dy) { vkdp_grad_gap(c->B, c->P, c->C, dy, c->p[0].grad, 0); }

static fd_case make_gap(uint32_t B, uint32_t HW, uint32_t C)
{
    fd_case c = {.fwd = gap_fwd, .bwd = gap_bwd, .B = B, .P = HW, .C = C};
    set_step(&c, 0);
    snprintf(c.name, sizeof c.name, "gap B%u HW%u C%u", B, HW, C);
    add_param(&c, "x", (size_t)B * HW * C, -2, 2);
    set_output(&c, (size_t)B * C);
    return c;
}

/* ---------------------------------------------------------------- squeeze-excite, residual */

static void se_fwd(fd_case *c)
{
    vkdp_ref_se(c->B, c->P, c->C, c->se, c->p[0].x, c->p[1].x, c->p[2].x, c->p[3].x, c->p[4].x, c->y, NULL);
}

static void se_bwd(fd_case *c, const float *dy)
{
    vkdp_grad_se(c->B, c->P, c->C, c->se, c->p[0].x, c->p[1].x, c->p[2].x, c->p[3].x, c->p[4].x, dy,
                 c->p[0].grad, c->p[1].grad, c->p[2].grad, c->p[3].grad, c->p[4].grad);
}

static fd_case make_se(uint32_t B, uint32_t P, uint32_t C, uint32_t se)
{
    fd_case c = {.fwd = se_fwd, .bwd = se_bwd, .B = B, .P = P, .C = C, .se = se};
    set_step(&c, 1);
    snprintf(c.name, sizeof c.name, "se B%u P%u C%u se%u", B, P, C, se);
    add_param(&c, "x", (size_t)B * P * C, -2, 2);
    add_param(&c, "wr", (size_t)C * se, -1, 1);
    add_param(&c, "br", se, -1, 1);
    add_param(&c, "we", (size_t)se * C, -1, 1);
    add_param(&c, "be", C, -1, 1);
    set_output(&c, (size_t)B * P * C);
    return c;
}

static void res_fwd(fd_case *c) { vkdp_ref_residual(c->B, c->N, c->p[0].x, c->p[1].x, c->aux[0], c->y); }

static void res_bwd(fd_case *c, const float *dy)
{
    vkdp_grad_residual(c->B, c->N, dy, c->aux[0], c->p[0].grad, c->p[1].grad);
}

static fd_case make_residual(uint32_t N)
{
    fd_case c = {.fwd = res_fwd, .bwd = res_bwd, .B = 3, .N = N};
    set_step(&c, 0);
    snprintf(c.name, sizeof c.name, "residual+drop_connect B3 N%u", N);
    c.aux[0] = vkdp_xmalloc(3 * sizeof(float));
    c.aux[0][0] = vkdp_drop_connect_scale(0.175, 1);
    c.aux[0][1] = vkdp_drop_connect_scale(0.175, 0);
    c.aux[0][2] = 1.0f;
    add_param(&c, "branch", 3 * (size_t)N, -1, 1);
    add_param(&c, "input", 3 * (size_t)N, -1, 1);
    set_output(&c, 3 * (size_t)N);
    return c;
}

/* ---------------------------------------------------------------- */

static int run(fd_case c)
{
    int ok = 1;
    fd_check(&c, 1, &ok);
    free_case(&c);
    return ok;
}

/* A case whose backward was made wrong on purpose: must be rejected. */
static int expect_rejected(fd_case c, const char *what)
{
    int dummy = 1;
    double worst = fd_check(&c, 0, &dummy);
    int caught = worst > 10 * c.tol;
    printf("%-4s control %s, %s: rel=%.3e (must be > %.1e)\n", caught ? "ok" : "FAIL", c.name, what,
           worst, 10 * c.tol);
    free_case(&c);
    return caught;
}

static fd_case with_pads(fd_case c, int dpad_top, int dpad_left)
{
    c.g_bwd.pad_top += dpad_top;
    c.g_bwd.pad_left += dpad_left;
    return c;
}

/* SE backward without the path through the pooled mean (dx = dy * gate only). */
static void se_bwd_no_pool(fd_case *c, const float *dy)
{
    se_bwd(c, dy);
    float *gate = vkdp_xmalloc((size_t)c->B * c->C * sizeof *gate), *y = vkdp_xmalloc(c->ny * sizeof *y);
    vkdp_ref_se(c->B, c->P, c->C, c->se, c->p[0].x, c->p[1].x, c->p[2].x, c->p[3].x, c->p[4].x, y, gate);
    vkdp_grad_se_gate(c->B, c->P, c->C, c->p[0].x, gate, dy, c->p[0].grad, NULL);
    free(gate);
    free(y);
}

int main(void)
{
    int ok = 1;
    ok &= run(make_conv1x1(21, 5, 3, VKDP_ACT_NONE));
    ok &= run(make_conv1x1(15, 13, 7, VKDP_ACT_NONE));
    ok &= run(make_conv1x1(9, 7, 5, VKDP_ACT_SWISH));

    /* k, stride and each axis' parity (correct_pad depends on it), plus sides shorter than k */
    static const int sizes[][2] = {{7, 6}, {6, 9}};
    for (int k = 3; k <= 5; k += 2)
        for (int s = 1; s <= 2; s++)
            for (size_t i = 0; i < VKDP_ARRAY_LEN(sizes); i++)
                ok &= run(make_dw(2, sizes[i][0], sizes[i][1], 3, k, s, VKDP_ACT_NONE));
    ok &= run(make_dw(1, 1, 2, 2, 5, 2, VKDP_ACT_NONE));
    ok &= run(make_dw(2, 3, 2, 3, 5, 1, VKDP_ACT_NONE));
    /* the chain dwconv_lin -> swish against the frozen backbone's fused vkdp_ref_dwconv */
    ok &= run(make_dw(2, 8, 7, 3, 5, 2, VKDP_ACT_SWISH));
    ok &= run(make_dw(1, 5, 6, 4, 3, 1, VKDP_ACT_SWISH));

    ok &= run(make_swish(97));
    ok &= run(make_bn(21, 5));
    ok &= run(make_gap(2, 15, 3));
    ok &= run(make_se(2, 35, 6, 2));
    ok &= run(make_se(3, 9, 5, 1));
    ok &= run(make_residual(11));

    /* negative controls: an even side at stride 2 is where torchvision's symmetric k/2 differs
     * from Keras' correct_pad by one; shifts by one at stride 2 and 1; a missing SE path */
    ok &= expect_rejected(with_pads(make_dw(2, 8, 8, 3, 5, 2, VKDP_ACT_NONE), 1, 1),
                          "backward with symmetric k/2 padding (pads +1,+1)");
    ok &= expect_rejected(with_pads(make_dw(2, 7, 9, 3, 3, 2, VKDP_ACT_NONE), -1, 0),
                          "backward with the top padding one short");
    ok &= expect_rejected(with_pads(make_dw(2, 7, 6, 3, 3, 1, VKDP_ACT_NONE), 0, 1),
                          "backward with the left padding one long");
    fd_case se_mutant = make_se(2, 35, 6, 2);
    se_mutant.bwd = se_bwd_no_pool;
    ok &= expect_rejected(se_mutant, "dx without the pooled-mean path");
    printf("%s\n", ok ? "all gradient references match finite differences" : "FAILURES");
    return ok ? 0 : 1;
}
