/* The augmentation reference's own checks (the NumPy comparison is tests/ref/augment_ref.py):
 * TF's reflect on hand-computed coordinates, an integer translation as an exact reflected shift,
 * flips, contrast's invariants, the configuration check, and the parameter distributions:
 * 200000 draws must lie in Keras' ranges and reach both ends, pass a Kolmogorov-Smirnov test
 * against the uniform law (flips: a binomial test), be uncorrelated with each other and across
 * neighbouring samples and epochs, and be a pure function of (seed, epoch, global index).
 * Every draw is deterministic, so the statistical bounds (4.5 sigma, KS at the 0.1% level) cannot
 * flake: they either always pass or always fail for this generator. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vkdp/core/common.h"
#include "vkdp/ops/augment_ref.h"

#define NDRAWS 200000
#define NPAR 6  /* angle, dy, dx, contrast, flip_h, flip_v */

static void check_reflect(void)
{
    static const struct {
        float in;
        int len;
        float want;
    } c[] = {{-1, 5, 0},  {-2, 5, 1},     {-0.5f, 5, 0},   {-1.5f, 5, 0.5f}, {5, 5, 4},    {5.5f, 5, 3.5f},
             {4.5f, 5, 4}, {-10, 5, 0},   {-12, 5, 1},     {13, 5, 3},       {-7, 5, 3},   {2.25f, 5, 2.25f},
             {-3, 1, 0},  {7.5f, 1, 0},   {-6.5f, 3, 0}, {9, 3, 2},       {0, 1, 0},
             {-INFINITY, 5, 0}, {NAN, 5, 0}};
    for (size_t i = 0; i < VKDP_ARRAY_LEN(c); i++) {
        float got = vkdp_augment_reflect(c[i].in, c[i].len);
        CHECK(got == c[i].want, "reflect(%g, %d) = %g, want %g", (double)c[i].in, c[i].len, (double)got,
              (double)c[i].want);
    }
}

static int mirror_index(int i, int n) { return i < 0 ? -i - 1 : i >= n ? 2 * n - i - 1 : i; }

/* Integer translation: bilinear weights are exactly 0/1, so the result is the reflected shift. */
static void check_integer_shift(const float *img, int H, int W)
{
    float *out = vkdp_xmalloc((size_t)H * W * 3 * sizeof *out), t[8];
    const int dy = -3, dx = 5;
    vkdp_augment_translation_matrix((float)dy, (float)dx, t);
    vkdp_augment_transform(t, H, W, 3, img, out);
    int bad = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++)
                bad += out[((size_t)y * W + x) * 3 + c] !=
                       img[((size_t)mirror_index(y - dy, H) * W + mirror_index(x - dx, W)) * 3 + c];
    CHECK(bad == 0, "integer translation (%d, %d) on %dx%d: %d values differ from the reflected shift", dy, dx, H, W,
          bad);
    /* rotation by 0: the identity, bit for bit */
    vkdp_augment_rotation_matrix(0.0f, H, W, t);
    vkdp_augment_transform(t, H, W, 3, img, out);
    CHECK(!memcmp(out, img, (size_t)H * W * 3 * sizeof *out), "rotation by 0 changed the image");
    free(out);
}

static void check_flip_contrast(const float *img, int H, int W)
{
    size_t n = (size_t)H * W * 3;
    float *a = vkdp_xmalloc(n * sizeof *a), *b = vkdp_xmalloc(n * sizeof *b);
    vkdp_augment_flip(1, 1, H, W, 3, img, a);
    CHECK(a[0] == img[n - 3] && a[n - 1] == img[2], "both flips do not reverse the pixel order");
    vkdp_augment_flip(1, 1, H, W, 3, a, b);
    CHECK(!memcmp(b, img, n * sizeof *b), "flipping twice is not the identity");
    vkdp_augment_flip(1, 0, H, W, 3, img, a);
    CHECK(a[0] == img[(size_t)(W - 1) * 3] && a[(size_t)W * 3] == img[(size_t)(2 * W - 1) * 3],
          "horizontal flip does not reverse rows");
    /* contrast on values far from the clip: the channel means stay, deviations scale by f */
    for (size_t i = 0; i < n; i++)
        a[i] = 100.0f + 0.3f * img[i];
    vkdp_augment_contrast(1.1f, H, W, 3, a, b);
    double ma[3] = {0}, mb[3] = {0}, worst = 0;
    for (size_t i = 0; i < n; i++) {
        ma[i % 3] += a[i];
        mb[i % 3] += b[i];
    }
    for (size_t i = 0; i < n; i++) {
        double m = ma[i % 3] / (n / 3);
        worst = fmax(worst, fabs((b[i] - m) - 1.1 * (a[i] - m)));
    }
    for (int c = 0; c < 3; c++)
        CHECK(fabs(ma[c] - mb[c]) / (n / 3) < 1e-3, "contrast moved channel %d's mean", c);
    CHECK(worst < 1e-4, "contrast: (out - mean) != f (in - mean), worst %g", worst);
    for (size_t i = 0; i < n; i++)
        a[i] = i % 2 ? 0.0f : 255.0f;
    vkdp_augment_contrast(1.1f, H, W, 3, a, b);
    int clipped = 1;
    for (size_t i = 0; i < n; i++)
        clipped &= b[i] >= 0.0f && b[i] <= 255.0f;
    CHECK(clipped, "contrast output not clipped to [0, 255]");
    free(a);
    free(b);
}

static void check_cfg(void)
{
    char err[256];
    vkdp_augment_cfg c = vkdp_augment_default_cfg();
    CHECK(vkdp_augment_cfg_check(&c, err, sizeof err) == 0, "default configuration rejected: %s", err);
    const double bad[] = {-0.1, 1.5, NAN, INFINITY};
    for (size_t i = 0; i < VKDP_ARRAY_LEN(bad); i++)
        for (int field = 0; field < 4; field++) {
            vkdp_augment_cfg b = vkdp_augment_default_cfg();
            double *f[4] = {&b.rotation, &b.height_factor, &b.width_factor, &b.contrast};
            *f[field] = bad[i];
            CHECK(vkdp_augment_cfg_check(&b, err, sizeof err) != 0, "factor %d = %g accepted", field, bad[i]);
        }
    vkdp_augment_cfg b = vkdp_augment_default_cfg();
    b.flip = (vkdp_flip_mode)7;
    CHECK(vkdp_augment_cfg_check(&b, err, sizeof err) != 0, "flip mode 7 accepted");
}

static void params_row(const vkdp_augment_params *p, double *row)
{
    double r[NPAR] = {p->angle, p->dy, p->dx, p->contrast, p->flip_h, p->flip_v};
    memcpy(row, r, sizeof r);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pearson(const double *a, const double *b, size_t n, size_t stride)
{
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++)
        ma += a[i * stride], mb += b[i * stride];
    ma /= n, mb /= n;
    for (size_t i = 0; i < n; i++) {
        double da = a[i * stride] - ma, db = b[i * stride] - mb;
        sab += da * db, saa += da * da, sbb += db * db;
    }
    return sab / sqrt(saa * sbb);
}

static void check_distributions(void)
{
    const int H = 224, W = 189;
    const vkdp_augment_cfg cfg = {0.15, 0.1, 0.1, VKDP_FLIP_BOTH, 0.1};
    const double lo[4] = {-0.3 * M_PI, -0.1 * H, -0.1 * W, 0.9}, hi[4] = {0.3 * M_PI, 0.1 * H, 0.1 * W, 1.1};
    static const char *const names[NPAR] = {"angle", "dy", "dx", "contrast", "flip_h", "flip_v"};
    double *d = vkdp_xmalloc((size_t)NDRAWS * NPAR * sizeof *d);     /* epoch 3 */
    double *e = vkdp_xmalloc((size_t)NDRAWS * NPAR * sizeof *e);     /* epoch 4, same samples */
    for (size_t i = 0; i < NDRAWS; i++) {
        vkdp_augment_params p, q;
        vkdp_augment_draw(&cfg, 123, 3, i, H, W, &p);
        params_row(&p, d + i * NPAR);
        vkdp_augment_draw(&cfg, 123, 4, i, H, W, &q);
        params_row(&q, e + i * NPAR);
        vkdp_augment_draw(&cfg, 123, 3, i, H, W, &q);
        if (i < 1000)
            CHECK(!memcmp(&p, &q, sizeof p), "draw %zu not a pure function of (seed, epoch, index)", i);
    }
    const double sigma = 1.0 / sqrt((double)NDRAWS), ks_crit = 1.95 * sigma;  /* KS 0.1% level */
    double *col = vkdp_xmalloc((size_t)NDRAWS * sizeof *col);
    for (int k = 0; k < 4; k++) {
        for (size_t i = 0; i < NDRAWS; i++)
            col[i] = d[i * NPAR + k];
        qsort(col, NDRAWS, sizeof *col, cmp_double);
        const double range = hi[k] - lo[k], eps = 1e-6 * range;
        double ks = 0;
        for (size_t i = 0; i < NDRAWS; i++) {
            double f = (col[i] - lo[k]) / range;
            ks = fmax(ks, fmax(fabs(f - (double)i / NDRAWS), fabs(f - (double)(i + 1) / NDRAWS)));
        }
        int ok = col[0] >= lo[k] - eps && col[NDRAWS - 1] <= hi[k] + eps &&
                 col[0] < lo[k] + 1e-3 * range && col[NDRAWS - 1] > hi[k] - 1e-3 * range && ks < ks_crit;
        printf("%-4s %-8s in [%.6g, %.6g]: min %.6g max %.6g, KS %.2e (crit %.2e)\n", ok ? "ok" : "FAIL", names[k],
               lo[k], hi[k], col[0], col[NDRAWS - 1], ks, ks_crit);
        if (!ok)
            failures++;
    }
    for (int k = 4; k < NPAR; k++) {
        double m = 0;
        for (size_t i = 0; i < NDRAWS; i++)
            m += d[i * NPAR + k];
        m /= NDRAWS;
        int ok = fabs(m - 0.5) < 4.5 * 0.5 * sigma;
        printf("%-4s %-8s frequency %.5f (0.5 +- %.5f)\n", ok ? "ok" : "FAIL", names[k], m, 4.5 * 0.5 * sigma);
        if (!ok)
            failures++;
    }
    /* independence: every pair of parameters, each with itself at the next sample and next epoch */
    double worst = 0;
    for (int a = 0; a < NPAR; a++) {
        for (int b = a + 1; b < NPAR; b++)
            worst = fmax(worst, fabs(pearson(d + a, d + b, NDRAWS, NPAR)));
        worst = fmax(worst, fabs(pearson(d + a, d + NPAR + a, NDRAWS - 1, NPAR)));
        worst = fmax(worst, fabs(pearson(d + a, e + a, NDRAWS, NPAR)));
    }
    int ok = worst < 4.5 * sigma;
    printf("%-4s correlations (pairs, neighbours, epochs): worst |r| %.2e (< %.2e)\n", ok ? "ok" : "FAIL", worst,
           4.5 * sigma);
    if (!ok)
        failures++;
    /* flip modes gate their bits; another seed gives other draws */
    int leaked = 0, same = 0;
    for (uint64_t i = 0; i < 1000; i++) {
        vkdp_augment_cfg c = cfg;
        vkdp_augment_params p, q;
        c.flip = VKDP_FLIP_HORIZONTAL;
        vkdp_augment_draw(&c, 5, 0, i, H, W, &p);
        c.flip = VKDP_FLIP_NONE;
        vkdp_augment_draw(&c, 5, 0, i, H, W, &q);
        leaked += p.flip_v + q.flip_h + q.flip_v;
        vkdp_augment_draw(&c, 6, 0, i, H, W, &q);
        same += p.angle == q.angle;
    }
    CHECK(leaked == 0, "%d flips drawn that the mode excludes", leaked);
    CHECK(same < 3, "%d of 1000 angles equal under another seed", same);
    free(col);
    free(d);
    free(e);
}

int main(void)
{
    const int H = 37, W = 24;  /* odd x even, small enough for exhaustive checks */
    float *img = vkdp_xmalloc((size_t)H * W * 3 * sizeof *img);
    test_fill_uniform(img, (size_t)H * W * 3, 77, 0.0f, 255.0f);
    check_reflect();
    check_integer_shift(img, H, W);
    check_flip_contrast(img, H, W);
    check_cfg();
    check_distributions();
    free(img);
    printf("%s\n", failures ? "FAILURES" : "augmentation reference checks pass");
    return failures != 0;
}
