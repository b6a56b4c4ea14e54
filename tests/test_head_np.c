/* np-equivalence driver: trains the head on synthetic features (230 samples, 5 classes, batch 32
 * so the last batch is partial, 2 epochs, dropout on) split over however many MPI ranks run it,
 * and rank 0 writes the per-epoch metrics (train and held-out, as hex floats) and every final
 * tensor to OUT. ctest runs it with -np 1..4 and checks the outputs are byte-identical.
 *
 * Each global batch is cut into ceil(B / np) consecutive samples per rank, so with np = 4 the
 * last batch (6 samples) leaves rank 3 without samples: it must still join every collective.
 *
 * --feature-scale S multiplies every feature by S (beyond the fixed-point range: must abort).
 *
 * usage: test_head_np OUT [--ref] [--check-replicas N] [--perturb-rank R --perturb-step S]
 *                         [--feature-scale S] */
#include <getopt.h>
#include <stdlib.h>

#include "harness.h"
#include "vkdp/dist/dist.h"
#include "vkdp/model/head.h"

enum { F = 1280, C = 5, NTRAIN = 230, NVAL = 47, BATCH = 32, EPOCHS = 2 };

static void make_data(float *x, int *y, int n, uint64_t seed, const float *centers)
{
    test_rng r = {seed};
    for (int i = 0; i < n; i++) {
        y[i] = (int)(test_rng_u64(&r) % C);
        for (int j = 0; j < F; j++)
            x[(size_t)i * F + j] = 1.0f + 0.25f * (float)(j % 5) + 0.1f * centers[y[i] * F + j] +
                                   test_rng_uniform(&r, -1.0f, 1.0f);
    }
}

/* This rank's share [lo, hi) of n samples. */
static void my_share(int n, const vkdp_dist_info *d, int *lo, int *hi)
{
    int chunk = (n + d->size - 1) / d->size;
    *lo = d->rank * chunk < n ? d->rank * chunk : n;
    *hi = *lo + chunk < n ? *lo + chunk : n;
}

/* FNV-1a of a sample's key and its F floats' bits, 40 bits so that a sum over an epoch's samples
 * cannot overflow int64: summed over ranks it does not depend on the split. */
static int64_t sample_digest(int64_t key, const float *v)
{
    uint64_t hsh = 1469598103934665603ull;
    const unsigned char *b = (const unsigned char *)v;
    for (int i = 0; i < 8; i++)
        hsh = (hsh ^ (uint64_t)((key >> (8 * i)) & 0xff)) * 1099511628211ull;
    for (size_t i = 0; i < (size_t)F * sizeof *v; i++)
        hsh = (hsh ^ b[i]) * 1099511628211ull;
    return (int64_t)(hsh >> 24);
}

int main(int argc, char **argv)
{
    if (vkdp_dist_init(&argc, &argv) != 0)
        return 1;
    int use_ref = 0, check_every = 0, perturb_rank = -1;
    long perturb_step = -1;
    float feature_scale = 1.0f;
    static const struct option opts[] = {{"ref", no_argument, NULL, 'r'},
                                         {"check-replicas", required_argument, NULL, 'c'},
                                         {"perturb-rank", required_argument, NULL, 'p'},
                                         {"perturb-step", required_argument, NULL, 's'},
                                         {"feature-scale", required_argument, NULL, 'f'},
                                         {NULL, 0, NULL, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'r')
            use_ref = 1;
        else if (o == 'c')
            check_every = atoi(optarg);
        else if (o == 'p')
            perturb_rank = atoi(optarg);
        else if (o == 's')
            perturb_step = atol(optarg);
        else if (o == 'f')
            feature_scale = strtof(optarg, NULL);
        else
            VKDP_FATAL("usage: test_head_np OUT [--ref] [--check-replicas N] [--perturb-rank R "
                       "--perturb-step S]");
    }
    if (optind != argc - 1)
        VKDP_FATAL("usage: test_head_np OUT [--ref] [--check-replicas N] [--perturb-rank R "
                   "--perturb-step S]");
    const char *out_path = argv[optind];

    vkdp_dist_info d;
    vkdp_dist_info_get(&d);
    vkdp_device *dev = NULL;
    if (!use_ref) {
        vkdp_device_opts dopts;
        vkdp_device_opts_default(&dopts);
        dopts.local_rank = d.local_rank;
        dopts.local_size = d.local_size;
        dev = vkdp_device_create(&dopts);
    }
    vkdp_head_cfg cfg;
    vkdp_head_cfg_default(&cfg);
    cfg.seed = 1234;
    vkdp_head *h = vkdp_head_create(dev, &cfg);

    float *centers = vkdp_xmalloc((size_t)C * F * 4);
    test_fill_uniform(centers, (size_t)C * F, 42, -1.0f, 1.0f);
    float *x = vkdp_xmalloc((size_t)NTRAIN * F * 4), *xv = vkdp_xmalloc((size_t)NVAL * F * 4);
    int *y = vkdp_xmalloc(NTRAIN * sizeof(int)), *yv = vkdp_xmalloc(NVAL * sizeof(int));
    make_data(x, y, NTRAIN, 3, centers);
    make_data(xv, yv, NVAL, 4, centers);
    for (size_t i = 0; i < (size_t)NTRAIN * F; i++)
        x[i] *= feature_scale;

    FILE *out = NULL;
    if (d.rank == 0 && !(out = fopen(out_path, "wb")))
        VKDP_FATAL("cannot create %s: %s", out_path, vkdp_errno_str());
    float *xb = vkdp_xmalloc((size_t)BATCH * F * 4), *dxb = vkdp_xmalloc((size_t)BATCH * F * 4);
    int64_t dx_digest = 0;
    int yb[BATCH], perm[NTRAIN];
    int64_t pos[BATCH];
    long step = 0;
    for (int e = 0; e < EPOCHS; e++) {
        for (int i = 0; i < NTRAIN; i++)
            perm[i] = i;
        test_rng r = {77 + (uint64_t)e};
        for (int i = NTRAIN - 1; i > 0; i--) {
            int k = (int)(test_rng_u64(&r) % (uint64_t)(i + 1)), t = perm[i];
            perm[i] = perm[k];
            perm[k] = t;
        }
        double loss = 0;
        int64_t correct = 0, count = 0;
        for (int b0 = 0; b0 < NTRAIN; b0 += BATCH) {
            int B = NTRAIN - b0 < BATCH ? NTRAIN - b0 : BATCH, lo, hi;
            my_share(B, &d, &lo, &hi);
            for (int i = lo; i < hi; i++) {
                memcpy(xb + (size_t)(i - lo) * F, x + (size_t)perm[b0 + i] * F, F * 4);
                yb[i - lo] = y[perm[b0 + i]];
                pos[i - lo] = b0 + i;
            }
            vkdp_head_result res;
            vkdp_head_train_step_dx(h, xb, yb, pos, hi - lo, B, e, &res, dxb);
            for (int i = 0; i < hi - lo; i++)
                dx_digest += sample_digest((int64_t)e * NTRAIN + pos[i], dxb + (size_t)i * F);
            loss += res.loss_sum;
            correct += res.correct;
            count += res.count;
            step++;
            if (step == perturb_step && d.rank == perturb_rank)
                vkdp_head_test_perturb(h, 0, 1e-3f);
            vkdp_head_check_replicas(h, step, check_every);
        }
        /* every sample's input gradient, bit for bit, whichever rank computed it */
        vkdp_allreduce_i64_sum(&dx_digest, 1);
        if (out)
            fprintf(out, "epoch %d dx digest %lld\n", e + 1, (long long)dx_digest);
        dx_digest = 0;
        int lo, hi;
        my_share(NVAL, &d, &lo, &hi);
        vkdp_head_result v;
        vkdp_head_evaluate(h, xv + (size_t)lo * F, yv + lo, hi - lo, &v, NULL);
        vkdp_log("epoch %d: loss %.6f accuracy %.4f val_loss %.6f val_accuracy %.4f\n", e + 1,
                 loss / count, (double)correct / count, v.loss_sum / v.count,
                 (double)v.correct / v.count);
        if (out)
            fprintf(out, "epoch %d loss %a correct %lld/%lld val_loss %a val_correct %lld/%lld\n",
                    e + 1, loss / count, (long long)correct, (long long)count,
                    v.loss_sum / v.count, (long long)v.correct, (long long)v.count);
    }
    for (int i = 0; i < vkdp_head_tensor_count(h); i++) {
        vkdp_head_tensor td;
        vkdp_head_tensor_desc(h, i, &td);
        float *t = vkdp_xmalloc((size_t)td.size * 4);
        vkdp_head_tensor_get(h, i, t);
        if (out) {
            fprintf(out, "%s %lld\n", td.name, (long long)td.size);
            if (fwrite(t, 4, (size_t)td.size, out) != (size_t)td.size)
                VKDP_FATAL("writing %s: %s", out_path, vkdp_errno_str());
            fputc('\n', out);
        }
        free(t);
    }
    if (out) {
        fprintf(out, "iterations %lld\n", (long long)vkdp_head_iterations(h));
        if (fclose(out) != 0)
            VKDP_FATAL("closing %s: %s", out_path, vkdp_errno_str());
    }
    free(xb); free(dxb); free(centers); free(x); free(xv); free(y); free(yv);
    vkdp_head_destroy(h);
    if (dev)
        vkdp_device_destroy(dev);
    vkdp_dist_finalize();
    return 0;
}
