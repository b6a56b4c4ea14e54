/* `trainer info FILE`: everything a checkpoint holds, human-readable. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vkdp/ckpt/ckpt.h"
#include "vkdp/cli/cli.h"
#include "vkdp/core/common.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: trainer info [--steps N] FILE\n"
            "\n"
            "Prints a checkpoint written by `trainer train`: its config (classes, image size, seed,\n"
            "batch, learning rate, weights file and SHA-256, program version), every weight tensor\n"
            "(shape, mean, std, min, max), the Adam optimizer state, the loop position (epoch,\n"
            "global step, step in epoch) and the metrics history (one row per epoch, then the\n"
            "number of logged steps and the last N of them).\n"
            "\n"
            "options:\n"
            "  --steps N   how many of the last step rows to print (default 5, 0 = none, -1 = all)\n"
            "  -h, --help  this text\n"
            "\n"
            "FILE may be a checkpoint directory (`trainer train --out DIR`): its latest.h5 is shown.\n"
            "Exit status 1 when FILE is missing, not HDF5, truncated, or not laid out as a vkdp\n"
            "checkpoint (the message says which).\n");
}

static void tensor_row(const char *prefix, const vkdp_named_tensor *t)
{
    int64_t n = vkdp_tensor_numel(t);
    double sum = 0, sq = 0, mn = INFINITY, mx = -INFINITY;
    int64_t nonfinite = 0;
    for (int64_t i = 0; i < n; i++) {
        double x = t->data[i];
        if (!isfinite(x)) {
            nonfinite++;
            continue;
        }
        sum += x;
        sq += x * x;
        mn = x < mn ? x : mn;
        mx = x > mx ? x : mx;
    }
    int64_t m = n - nonfinite;
    double mean = m ? sum / (double)m : NAN;
    double var = m ? sq / (double)m - mean * mean : NAN;
    char shape[96];
    vkdp_tensor_shape_str(t, shape, sizeof shape);
    printf("  %s%-40s %-14s %12.5g %12.5g %12.5g %12.5g", prefix, t->name, shape, mean,
           sqrt(var > 0 ? var : 0), m ? mn : NAN, m ? mx : NAN);
    if (nonfinite)
        printf("  (%lld non-finite)", (long long)nonfinite);
    printf("\n");
}

static void tensor_table(const char *title, const char *prefix, const vkdp_named_tensor *t, int n)
{
    int64_t total = 0;
    for (int i = 0; i < n; i++)
        total += vkdp_tensor_numel(&t[i]);
    printf("%s: %d tensors, %lld values\n", title, n, (long long)total);
    if (n)
        printf("  %-*s %-14s %12s %12s %12s %12s\n", (int)(40 + strlen(prefix)), "name", "shape",
               "mean", "std", "min", "max");
    for (int i = 0; i < n; i++)
        tensor_row(prefix, &t[i]);
}

/* One group's fields from the checkpoint's field table: "  name: value note" lines (config), or
 * one "title: a 1, b 2, ..." line. */
static void print_fields(const vkdp_ckpt_state *s, const char *group, const char *title)
{
    size_t n;
    const vkdp_ckpt_field *f = vkdp_ckpt_fields(&n);
    int first = 1;
    if (title)
        printf("%s", title);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(f[i].group, group))
            continue;
        char v[4200], label[64];
        vkdp_ckpt_field_str(&f[i], s, v, sizeof v);
        if (title) {
            printf("%s%s %s%s%s", first ? " " : ", ", f[i].name, v, f[i].note ? " " : "",
                   f[i].note ? f[i].note : "");
        } else {
            snprintf(label, sizeof label, "%s:", f[i].name);
            printf("  %-19s %s%s%s\n", label, v, f[i].note ? " " : "", f[i].note ? f[i].note : "");
        }
        first = 0;
    }
    if (title)
        printf("\n");
}

static void print_info(const char *path, const vkdp_ckpt_state *s, long nsteps)
{
    printf("checkpoint: %s\n", path);
    printf("config:\n");
    char label[64];
    snprintf(label, sizeof label, "classes (%d):", s->nclasses);
    printf("  %-19s ", label);
    for (int i = 0; i < s->nclasses; i++)
        printf("%s%s", i ? ", " : "", s->class_names[i]);
    printf("\n");
    print_fields(s, "config", NULL);

    tensor_table("head weights", "", s->weights, s->nweights);
    if (s->backbone_trainable)
        tensor_table("backbone weights", "", s->backbone, s->nbackbone);

    print_fields(s, "optimizer", "optimizer: Adam,");
    tensor_table("  first moments", "m/", s->adam_m, s->nslots);
    tensor_table("  second moments", "v/", s->adam_v, s->nslots);

    print_fields(s, "state", "state:");

    printf("metrics: %d epochs\n", s->nepochs_m);
    if (s->nepochs_m)
        printf("  %5s %10s %9s %10s %9s %10s %9s %8s\n", "epoch", "loss", "accuracy", "val_loss",
               "val_acc", "images/s", "seconds", "skipped");
    for (int i = 0; i < s->nepochs_m; i++) {
        const vkdp_epoch_metrics *m = &s->epoch_m[i];
        printf("  %5d %10.5f %9.4f %10.5f %9.4f %10.1f %9.1f %8lld\n", m->epoch, m->loss,
               m->accuracy, m->val_loss, m->val_accuracy, m->images_per_s, m->seconds,
               (long long)m->skipped);
    }
    printf("steps: %lld logged\n", (long long)s->nsteps_m);
    int64_t first = nsteps < 0 || nsteps > s->nsteps_m ? 0 : s->nsteps_m - nsteps;
    if (first < s->nsteps_m)
        printf("  %9s %10s %9s %10s\n", "step", "loss", "accuracy", "lr");
    for (int64_t i = first; i < s->nsteps_m; i++) {
        const vkdp_step_metrics *m = &s->step_m[i];
        printf("  %9lld %10.5f %9.4f %10.3g\n", (long long)m->step, m->loss, m->accuracy, m->lr);
    }
}

int cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {
        {"steps", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long nsteps = 5;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's': {
            char *end = NULL;
            nsteps = strtol(optarg, &end, 10);
            if (!end || *end || nsteps < -1) {
                fprintf(stderr, "trainer info: --steps must be an integer >= -1, got '%s'\n", optarg);
                return 2;
            }
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "trainer info: expected exactly one checkpoint FILE\n\n");
        usage(stderr);
        return 2;
    }
    const char *path = argv[optind];
    char latest[4200];
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(latest, sizeof latest, "%s/%s", path, VKDP_CKPT_LATEST);
        path = latest;
    }
    vkdp_ckpt_state s;
    char err[2048];
    if (vkdp_ckpt_read(path, &s, err, sizeof err) < 0) {
        vkdp_ckpt_state_free(&s);
        fprintf(stderr, "vkdp: error: %s\n", err);
        return 1;
    }
    print_info(path, &s, nsteps);
    vkdp_ckpt_state_free(&s);
    return 0;
}
