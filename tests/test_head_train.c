/* Whole head on synthetic separable features: 200 Adam steps on the shaders must lower the loss
 * and raise the accuracy (train and held-out); the same 10 first steps through the plain-C
 * reference backend must agree; named tensors round-trip into a fresh head with equal checksum. */
#include <stdlib.h>

#include "harness.h"
#include "vkdp/model/head.h"

enum { F = 1280, C = 5, NTRAIN = 320, NVAL = 100, BATCH = 32 };

static void make_data(float *x, int *y, int n, uint64_t seed, const float *centers)
{
    test_rng r = {seed};
    for (int i = 0; i < n; i++) {
        y[i] = (int)(test_rng_u64(&r) % C);
        for (int j = 0; j < F; j++)
            x[(size_t)i * F + j] = 2.0f + 0.5f * (float)(j % 7) + 0.3f * centers[y[i] * F + j] +
                                   test_rng_uniform(&r, -1.0f, 1.0f);
    }
}

static void run_epoch(vkdp_head *h, const float *x, const int *y, int epoch, uint64_t seed,
                      int max_steps, vkdp_head_result *tot)
{
    int perm[NTRAIN];
    for (int i = 0; i < NTRAIN; i++)
        perm[i] = i;
    test_rng r = {seed + (uint64_t)epoch};
    for (int i = NTRAIN - 1; i > 0; i--) {
        int k = (int)(test_rng_u64(&r) % (uint64_t)(i + 1)), t = perm[i];
        perm[i] = perm[k];
        perm[k] = t;
    }
    float *xb = vkdp_xmalloc((size_t)BATCH * F * 4);
    int yb[BATCH];
    int64_t pos[BATCH];
    tot->loss_sum = 0;
    tot->correct = tot->count = 0;
    for (int s = 0; s * BATCH < NTRAIN && s < max_steps; s++) {
        int n = NTRAIN - s * BATCH < BATCH ? NTRAIN - s * BATCH : BATCH;
        for (int i = 0; i < n; i++) {
            int g = perm[s * BATCH + i];
            memcpy(xb + (size_t)i * F, x + (size_t)g * F, F * 4);
            yb[i] = y[g];
            pos[i] = s * BATCH + i;
        }
        vkdp_head_result res;
        vkdp_head_train_step(h, xb, yb, pos, n, n, epoch, &res);
        tot->loss_sum += res.loss_sum;
        tot->correct += res.correct;
        tot->count += res.count;
    }
    free(xb);
}

static int compare_heads(vkdp_head *a, vkdp_head *b, double tol, const char *what)
{
    int ok = 1;
    for (int i = 0; i < vkdp_head_tensor_count(a); i++) {
        vkdp_head_tensor d;
        vkdp_head_tensor_desc(a, i, &d);
        float *ta = vkdp_xmalloc((size_t)d.size * 4), *tb = vkdp_xmalloc((size_t)d.size * 4);
        vkdp_head_tensor_get(a, i, ta);
        vkdp_head_tensor_get(b, i, tb);
        char w[128];
        snprintf(w, sizeof w, "%s: %s", what, d.name);
        ok &= test_check(w, ta, tb, (size_t)d.size, tol);
        free(ta);
        free(tb);
    }
    return ok;
}

int main(void)
{
    int ok = 1;
    vkdp_device *dev = vkdp_device_create(NULL);
    vkdp_head_cfg cfg;
    vkdp_head_cfg_default(&cfg);
    cfg.seed = 7;
    float *centers = vkdp_xmalloc((size_t)C * F * 4);
    test_fill_uniform(centers, (size_t)C * F, 99, -1.0f, 1.0f);
    float *x = vkdp_xmalloc((size_t)NTRAIN * F * 4), *xv = vkdp_xmalloc((size_t)NVAL * F * 4);
    int *y = vkdp_xmalloc(NTRAIN * sizeof(int)), *yv = vkdp_xmalloc(NVAL * sizeof(int));
    make_data(x, y, NTRAIN, 1, centers);
    make_data(xv, yv, NVAL, 2, centers);

    /* shaders vs reference backend, 10 steps */
    vkdp_head *hg = vkdp_head_create(dev, &cfg), *hr = vkdp_head_create(NULL, &cfg);
    ok &= compare_heads(hg, hr, 0, "init, shaders vs reference");
    vkdp_head_result rg, rr;
    run_epoch(hg, x, y, 0, 5, 10, &rg);
    run_epoch(hr, x, y, 0, 5, 10, &rr);
    ok &= compare_heads(hg, hr, 1e-4, "10 steps, shaders vs reference");
    float lg = (float)rg.loss_sum, lr = (float)rr.loss_sum;
    ok &= test_check("10 steps loss sum, shaders vs reference", &lg, &lr, 1, 1e-5);
    vkdp_head_destroy(hr);
    vkdp_head_destroy(hg);

    /* 200 steps on the shaders */
    vkdp_head *h = vkdp_head_create(dev, &cfg);
    vkdp_head_result v0, v1, first = {0, 0, 0}, last = {0, 0, 0};
    vkdp_head_evaluate(h, xv, yv, NVAL, &v0, NULL);
    double t0 = vkdp_now();
    for (int e = 0; e < 20; e++) {
        vkdp_head_result r;
        run_epoch(h, x, y, e, 5, 1000, &r);
        if (e == 0)
            first = r;
        last = r;
        if (e == 0 || e == 19)
            printf("epoch %2d: loss %.5f accuracy %.4f\n", e + 1, r.loss_sum / r.count,
                   (double)r.correct / r.count);
    }
    double ms_per_step = (vkdp_now() - t0) * 1e3 / 200.0;
    float *probs = vkdp_xmalloc((size_t)NVAL * C * 4);
    vkdp_head_evaluate(h, xv, yv, NVAL, &v1, probs);
    printf("held-out: before loss %.5f acc %.4f, after loss %.5f acc %.4f; %.2f ms/step\n",
           v0.loss_sum / v0.count, (double)v0.correct / v0.count, v1.loss_sum / v1.count,
           (double)v1.correct / v1.count, ms_per_step);
    int learned = last.loss_sum / last.count < 0.5 * first.loss_sum / first.count &&
                  last.correct > first.correct && last.correct >= 0.95 * last.count &&
                  v1.correct >= 0.9 * v1.count && v1.loss_sum < v0.loss_sum &&
                  vkdp_head_iterations(h) == 200;
    printf("%-4s loss falls by > 2x, accuracy rises to >= 95%% train / 90%% held-out\n",
           learned ? "ok" : "FAIL");
    ok &= learned;
    /* probabilities are a distribution and agree with the reported accuracy */
    int64_t agree = 0;
    double worst_sum = 0;
    for (int i = 0; i < NVAL; i++) {
        double s = 0;
        int best = 0;
        for (int c = 0; c < C; c++) {
            s += probs[i * C + c];
            if (probs[i * C + c] > probs[i * C + best])
                best = c;
        }
        worst_sum = fmax(worst_sum, fabs(s - 1));
        agree += best == yv[i];
    }
    int pok = agree == v1.correct && worst_sum < 1e-5;
    printf("%-4s probs sum to 1 (worst %.1e), argmax agrees with correct count (%lld)\n",
           pok ? "ok" : "FAIL", worst_sum, (long long)agree);
    ok &= pok;

    /* checkpoint round trip: named tensors + iterations into a fresh head */
    vkdp_head *h2 = vkdp_head_create(dev, &cfg);
    for (int i = 0; i < vkdp_head_tensor_count(h); i++) {
        vkdp_head_tensor d;
        vkdp_head_tensor_desc(h, i, &d);
        float *t = vkdp_xmalloc((size_t)d.size * 4);
        vkdp_head_tensor_get(h, i, t);
        vkdp_head_tensor_set(h2, vkdp_head_tensor_find(h2, d.name), t);
        free(t);
    }
    int cok = vkdp_head_checksum(h2) != vkdp_head_checksum(h);
    vkdp_head_set_iterations(h2, vkdp_head_iterations(h));
    cok &= vkdp_head_checksum(h2) == vkdp_head_checksum(h);
    vkdp_head_test_perturb(h2, 3, 1e-6f);
    cok &= vkdp_head_checksum(h2) != vkdp_head_checksum(h);
    cok &= vkdp_head_tensor_find(h, "pred/pred/kernel:0") == 4 &&
           vkdp_head_tensor_find(h, "Adam/v/pred/bias:0") == 13 &&
           vkdp_head_tensor_find(h, "nope") == -1;
    printf("%-4s tensors round-trip by name; checksum covers iterations and parameters\n",
           cok ? "ok" : "FAIL");
    ok &= cok;
    vkdp_head_destroy(h2);
    vkdp_head_destroy(h);
    vkdp_device_destroy(dev);
    free(centers); free(x); free(xv); free(y); free(yv); free(probs);
    printf("%s\n", ok ? "all passed" : "FAILED");
    return ok ? 0 : 1;
}
