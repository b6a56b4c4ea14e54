/* The head's C references on their own (the generic op test compares the shaders with them):
 * Adam against Keras' formula written out in double, the fixed-point overflow rule on NaN,
 * infinities and the range limit, and the dropout generator's keep rate. No device. */
#include <math.h>

#include "harness.h"
#include "vkdp/ops/head_fx.h"
#include "vkdp/ops/head_ref.h"

/* Keras' Adam formula in double for one parameter, against head_ref_adam over 20 steps. */
static void adam_formula(void)
{
    double p = 0.3, m = 0, v = 0;
    float fp = 0.3f, fm = 0, fv = 0;
    double worst = 0;
    for (int t = 1; t <= 20; t++) {
        double g = 0.05 * sin(t * 1.3) + 0.01;
        double alpha = 1e-2 * sqrt(1 - pow(0.999, t)) / (1 - pow(0.9, t));
        m += (g - m) * (1 - 0.9);
        v += (g * g - v) * (1 - 0.999);
        p -= m * alpha / (sqrt(v) + 1e-7);
        int64_t gi = (int64_t)llrint(ldexp(g, VKDP_FX_GRAD_SHIFT));
        float fa = 1e-2f * sqrtf(1.0f - powf(0.999f, (float)t)) / (1.0f - powf(0.9f, (float)t));
        head_ref_adam(&gi, &fp, &fm, &fv, 1, fa, 0.1f, 0.001f, 1e-7f);
        double e = fabs(fp - p) / fabs(0.3 - p);
        if (e > worst)
            worst = e;
    }
    CHECK(worst < 1e-4, "adam reference vs Keras formula: rel err of the change %.2e", worst);
    printf("adam reference vs Keras formula in double, 20 steps: rel err of the change %.2e\n",
           worst);
}

/* NaN, +-Inf, -1e30 and 2^18 + 32 overflow a BN statistic term; 2^18 exactly does not. */
static void overflow_rule(void)
{
    enum { n = 6, F = 3 };
    float x[n * F];
    for (int i = 0; i < n * F; i++)
        x[i] = 0.25f * (float)i;
    x[1] = NAN;
    x[5] = INFINITY;
    x[8] = -1e30f;
    x[9] = 262144.0f;  /* exactly 2^18: the largest stat term, allowed */
    x[12] = 262176.0f; /* just beyond */
    float mean[F] = {0, 0, 0};
    int64_t sums[F];
    uint32_t ovf[F];
    head_ref_bn_stats(x, n, F, 0, mean, sums, ovf);
    /* columns: 2^18+32 | NaN | Inf, -1e30 */
    CHECK(ovf[0] == 1 && ovf[1] == 1 && ovf[2] == 2, "overflow counts %u %u %u, expected 1 1 2",
          ovf[0], ovf[1], ovf[2]);
    printf("fixed point: NaN, Inf, -1e30 and 2^18+32 overflow, 2^18 does not\n");
}

/* The keep decision is a function of (seed, epoch, position, feature) at the given rate. */
static void dropout_rate(void)
{
    vkdp_dropout_key k = {0x1234567890abcdefull, 3, 1, 0.2f, 1.25f};
    uint64_t kept = 0, total = 0;
    for (uint64_t pos = 0; pos < 200; pos++)
        for (uint32_t j = 0; j < 1280; j++, total++)
            kept += (uint64_t)vkdp_dropout_keep(&k, pos * 1000003ull, j);
    double frac = 1.0 - (double)kept / (double)total;
    CHECK(frac > 0.195 && frac < 0.205, "dropped fraction %.4f at rate 0.2", frac);
    vkdp_dropout_key k2 = k;
    k2.epoch = 4;
    int differ = 0;
    for (uint32_t j = 0; j < 1280; j++)
        differ += vkdp_dropout_keep(&k, 7, j) != vkdp_dropout_keep(&k2, 7, j);
    CHECK(differ > 100, "another epoch draws other masks (%d of 1280 differ)", differ);
    printf("dropout: dropped fraction %.4f over %llu draws (rate 0.2)\n", frac,
           (unsigned long long)total);
}

int main(void)
{
    adam_formula();
    overflow_rule();
    dropout_rate();
    printf("%s\n", failures ? "FAILED" : "all passed");
    return failures ? 1 : 0;
}
