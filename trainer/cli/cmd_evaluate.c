/* `trainer evaluate`: a checkpoint's head on a data folder: loss, accuracy, per-class
 * precision / recall / F1 and the confusion matrix. Runs on one rank or many. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "vkdp/ckpt/ckpt.h"
#include "vkdp/cli/cli.h"
#include "vkdp/cli/model_file.h"
#include "vkdp/cli/options.h"
#include "vkdp/cli/report.h"
#include "vkdp/core/common.h"
#include "vkdp/model/head.h"
#include "vkdp/train/head_ckpt.h"
#include "vkdp/train/session.h"

enum { W = 19 }; /* help: flag column width */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: [mpirun -np P] trainer evaluate --checkpoint FILE [--data DIR] [OPTIONS]\n"
            "\n"
            "Evaluates a checkpoint's head (with the frozen EfficientNetB0 it was trained on) on an\n"
            "image folder and prints loss, accuracy, per-class precision, recall and F1, and the\n"
            "confusion matrix (rows: true class, columns: predicted).\n"
            "\n"
            "  --checkpoint FILE   checkpoint .h5 (e.g. checkpoints/latest.h5), or a Keras export of\n"
            "                      one (trainer export --keras: its model, classes and data split)\n");
    vkdp_opts_help(f, VKDP_OPT_DATA, W, "the checkpoint's data folder");
    vkdp_opts_help(f, VKDP_OPT_WEIGHTS, W, "the checkpoint's; the SHA-256 must match");
    fprintf(f, "  --subset S          validation (default: the checkpoint's held-out split of DIR),\n"
               "                      training, or all\n");
    vkdp_opts_help(f, VKDP_OPT_BATCH, W, "the checkpoint's");
    vkdp_opts_help(f, VKDP_OPT_DECODE_THREADS, W, NULL);
    vkdp_opts_help(f, VKDP_OPT_FEATURE_BATCH, W, NULL);
    vkdp_opts_help(f, VKDP_OPT_MAX_PIXELS, W, NULL);
    vkdp_opts_help(f, VKDP_OPT_DEVICE, W, NULL);
    fprintf(f, "  --report DIR        also write DIR/index.html: learning curves, confusion heat map,\n"
               "                      per-class scores and the misclassified images (self-contained)\n"
               "  --report-max N      misclassified images shown in the report, worst first (default 100)\n"
               "  -h, --help          this help\n");
}

int cmd_evaluate(int argc, char **argv)
{
    static const int shared[] = {VKDP_OPT_DATA, VKDP_OPT_WEIGHTS, VKDP_OPT_BATCH, VKDP_OPT_DECODE_THREADS,
                                 VKDP_OPT_MAX_PIXELS, VKDP_OPT_DEVICE, VKDP_OPT_FEATURE_BATCH};
    static const struct option own[] = {
        {"checkpoint", required_argument, 0, 'c'},
        {"subset", required_argument, 0, 's'},
        {"report", required_argument, 0, 'r'},
        {"report-max", required_argument, 0, 'R'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    vkdp_opt_parser opts;
    vkdp_session_cfg sc;
    vkdp_opts_begin(&opts, "evaluate", argc, argv, shared, (int)VKDP_ARRAY_LEN(shared), own, &sc);
    /* not given: the checkpoint's */
    sc.data_dir = NULL;
    sc.weights = NULL;
    sc.batch = 0;
    const char *ckpath = NULL, *subset = "validation", *report = NULL;
    int report_max = 100, c;
    long v;
    while ((c = vkdp_opts_next(&opts)) != -1) {
        switch (c) {
        case VKDP_OPT_BAD: return 2;
        case 'c': ckpath = optarg; break;
        case 's': subset = optarg; break;
        case 'r': report = optarg; break;
        case 'R': if (vkdp_parse_long("evaluate", "--report-max", optarg, 0, 100000, &v)) return 2; report_max = (int)v; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!ckpath || optind < argc || (strcmp(subset, "validation") && strcmp(subset, "training") && strcmp(subset, "all"))) {
        usage(stderr);
        return 2;
    }
    vkdp_ckpt_state ck;
    char err[4096];
    vkdp_cli_read_model("evaluate", ckpath, &ck, &sc);
    if (report && vkdp_rank() == 0 && vkdp_report_dir(report, err, sizeof err) != 0)
        VKDP_FATAL("%s", err);

    if (!sc.data_dir)
        sc.data_dir = ck.data_dir;
    if (sc.batch == 0)
        sc.batch = ck.batch;
    sc.seed = (uint32_t)ck.seed;
    sc.validation_split = ck.validation_split;
    sc.image_size = ck.image_size;
    /* the checkpoint's classes, in its label order, as the array it stores: never joined into a
     * comma-separated string, so any folder name (commas included) round-trips */
    sc.class_list = (const char *const *)ck.class_names;
    sc.nclass_list = ck.nclasses;
    vkdp_session s;
    vkdp_session_open(&s, &sc, 1);
    vkdp_head *h = vkdp_session_head_for_ckpt(&s, &ck, ckpath);

    const int *items;
    int n;
    int *all = NULL;
    if (!strcmp(subset, "validation")) {
        items = s.split.val;
        n = s.split.nval;
    } else if (!strcmp(subset, "training")) {
        items = s.split.train;
        n = s.split.ntrain;
    } else {
        all = vkdp_xcalloc((size_t)s.idx.n, sizeof *all);
        for (int i = 0; i < s.idx.n; i++)
            all[i] = i;
        items = all;
        n = s.idx.n;
    }
    if (n == 0)
        VKDP_FATAL("%s: the %s subset is empty", sc.data_dir, subset);
    vkdp_log("Evaluating %s on %d %s image(s) of %s\n", ckpath, n, subset, sc.data_dir);
    vkdp_featurize(s.fc, s.bb, &s.idx, items, n, sc.batch, sc.image_size, sc.decode_threads,
                   s.feature_batch, "Computing features");

    const int C = ck.nclasses, F = VKDP_EFFNET_FEATURES;
    int64_t *conf = vkdp_xcalloc((size_t)C * C, sizeof *conf);
    double loss_sum = 0;
    int64_t correct = 0, count = 0, bad = 0;
    float *probs = vkdp_xmalloc((size_t)sc.batch * C * 4);
    vkdp_feat_batch fb = {vkdp_xmalloc((size_t)sc.batch * F * sizeof *fb.x),
                          vkdp_xcalloc((size_t)sc.batch, sizeof *fb.labels),
                          vkdp_xcalloc((size_t)sc.batch, sizeof *fb.pos), 0, 0};
    vkdp_report_samples rs;
    vkdp_report_samples_init(&rs, report ? n : 0, C);
    for (int step = 0; step < vkdp_num_steps(n, sc.batch); step++) {
        int lo, hi;
        vkdp_shard_range(n, sc.batch, step, s.dist.rank, s.dist.size, &lo, &hi);
        int m = vkdp_featcache_gather(s.fc, items, lo, hi, s.idx.label, &fb);
        bad += fb.missing;
        vkdp_head_result res;
        vkdp_head_evaluate(h, fb.x, fb.labels, m, &res, probs);
        loss_sum += res.loss_sum;
        correct += res.correct;
        count += res.count;
        for (int i = 0; i < m; i++) {
            int best = 0;
            for (int k = 1; k < C; k++)
                if (probs[i * C + k] > probs[i * C + best])
                    best = k;
            conf[fb.labels[i] * C + best]++;
            if (report)
                vkdp_report_samples_set(&rs, (int)fb.pos[i], fb.labels[i], probs + (size_t)i * C);
        }
    }
    vkdp_allreduce_i64_sum(conf, (size_t)C * C);
    vkdp_allreduce_i64_sum(&bad, 1);
    if (s.dist.rank == 0) {
        printf("\nloss: %.4f - accuracy: %.4f (%lld images%s)\n", loss_sum / (double)count,
               (double)correct / (double)count, (long long)count, bad ? ", undecodable ones skipped" : "");
        printf("\n%-16s %9s %9s %9s %9s\n", "class", "precision", "recall", "f1", "support");
        for (int k = 0; k < C; k++) {
            double p, r, f1;
            int64_t row;
            vkdp_class_prf(conf, C, k, &p, &r, &f1, &row);
            printf("%-16s %9.4f %9.4f %9.4f %9lld\n", ck.class_names[k], p, r, f1, (long long)row);
        }
        printf("\nconfusion matrix (rows: true, columns: predicted)\n%-16s", "");
        for (int k = 0; k < C; k++)
            printf(" %10.10s", ck.class_names[k]);
        printf("\n");
        for (int k = 0; k < C; k++) {
            printf("%-16s", ck.class_names[k]);
            for (int j = 0; j < C; j++)
                printf(" %10lld", (long long)conf[k * C + j]);
            printf("\n");
        }
        fflush(stdout);
    }
    if (report) {
        vkdp_report_samples_gather(&rs);
        vkdp_report_input ri = {ckpath, &ck, sc.data_dir, subset, &s.idx, items, &rs, conf,
                                loss_sum / (double)count, (double)correct / (double)count, count, bad, report_max};
        if (s.dist.rank == 0 && vkdp_report_write(report, &ri, err, sizeof err) != 0)
            VKDP_FATAL("%s", err);
        vkdp_log("report: %s/index.html\n", report);
    }
    vkdp_report_samples_free(&rs);
    free(fb.x); free(probs); free(fb.labels); free(fb.pos); free(conf); free(all);
    vkdp_head_destroy(h);
    vkdp_session_close(&s);
    vkdp_ckpt_state_free(&ck);
    return 0;
}
