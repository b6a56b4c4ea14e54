/* The HTML page of `trainer evaluate --report DIR` (see include/vkdp/cli/report.h). Output goes
 * through stdio: a write error sets the stream's error flag, checked once before the rename. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vkdp/cli/report.h"
#include "vkdp/core/common.h"
#include "vkdp/core/errmsg.h"
#include "vkdp/data/image.h"

#define THUMB_SIDE 160
#define THUMB_QUALITY 82

static const char *css =
    "body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1200px;color:#1b1b1b;background:#fff}"
    "h1{font-size:24px}h2{font-size:19px;margin-top:32px;border-bottom:1px solid #ccc;padding-bottom:4px}"
    "table{border-collapse:collapse}td,th{padding:4px 10px;text-align:right;border:1px solid #ddd}"
    "th{background:#f3f3f3}th.row{text-align:left}dl{display:grid;grid-template-columns:max-content auto;gap:2px 16px}"
    "dt{font-weight:600}dd{margin:0;word-break:break-all}.charts{display:flex;flex-wrap:wrap;gap:12px}"
    ".chart text{font-size:12px;fill:#333}.chart .ctitle{font-size:14px;font-weight:600}"
    ".chart .grid{stroke:#e4e4e4}.chart .frame{fill:none;stroke:#888}.chart polyline{stroke-width:2}"
    "table.heat td{min-width:56px;text-align:center}.gallery{display:flex;flex-wrap:wrap;gap:12px}"
    "figure{margin:0;width:172px;border:1px solid #ddd;padding:6px;font-size:12px}"
    "figure img{display:block;margin:0 auto 4px}figcaption .rel{color:#666;word-break:break-all}"
    ".bad{color:#b00020}.note{color:#555}\n";

static void esc(FILE *f, const char *s) { vkdp_html_text(f, s); }

static void summary(FILE *f, const vkdp_report_input *in)
{
    const vkdp_ckpt_state *ck = in->ck;
    fprintf(f, "<section id=\"summary\"><h2>Summary</h2><dl>\n<dt>checkpoint</dt><dd>");
    esc(f, in->checkpoint);
    fprintf(f, "</dd>\n<dt>data</dt><dd>");
    esc(f, in->data_dir);
    fprintf(f, " (");
    esc(f, in->subset);
    fprintf(f, " subset, %lld images%s)</dd>\n", (long long)in->count,
            in->skipped ? ", undecodable ones skipped" : "");
    fprintf(f, "<dt>loss</dt><dd id=\"loss\">%.4f</dd>\n<dt>accuracy</dt><dd id=\"accuracy\">%.4f</dd>\n", in->loss,
            in->accuracy);
    fprintf(f, "<dt>classes</dt><dd>");
    for (int k = 0; k < ck->nclasses; k++) {
        fprintf(f, "%s", k ? ", " : "");
        esc(f, ck->class_names[k]);
    }
    /* the schedule as `trainer train` ran it: epochs count both phases, and the random draws have
       their own seed when --draw-seed differed from --seed (a Keras export records neither) */
    fprintf(f, "</dd>\n<dt>training</dt><dd>%d of %d epoch(s), %lld step(s), batch %d, lr %g, dropout %g%s",
            ck->epoch, ck->epochs + ck->fine_tune_epochs, (long long)ck->global_step, ck->batch, ck->lr, ck->dropout,
            ck->augment ? ", augmented" : "");
    if (ck->fine_tune_epochs > 0) {
        fprintf(f, "; the last %d fine-tuned from ", ck->fine_tune_epochs);
        esc(f, ck->fine_tune_from);
        fprintf(f, " at lr %g, drop connect rate %g", ck->fine_tune_lr, ck->drop_connect_rate);
    }
    if (ck->drop_connect_all)
        fprintf(f, "; drop connect in every residual block, frozen ones included (rate %g)", ck->drop_connect_rate);
    fprintf(f, "; image size %d, seed %llu", ck->image_size, (unsigned long long)ck->seed);
    if (!ck->from_export && ck->sampler_seed != ck->seed)
        fprintf(f, ", draw seed %llu", (unsigned long long)ck->sampler_seed);
    fprintf(f, ", %d rank(s)</dd>\n", ck->nranks);
    fprintf(f, "<dt>written by</dt><dd>vkdp ");
    esc(f, ck->version);
    fprintf(f, " (");
    esc(f, ck->git_commit);
    fprintf(f, ") at ");
    esc(f, ck->created);
    fprintf(f, "</dd>\n</dl></section>\n");
}

static void curves(FILE *f, const vkdp_ckpt_state *ck)
{
    fprintf(f, "<section id=\"curves\"><h2>Learning curves</h2>\n");
    int ne = ck->nepochs_m;
    if (ne == 0)
        fprintf(f, "<p class=\"note\">No epoch finished in this checkpoint yet.</p>\n");
    double *ex = vkdp_xcalloc((size_t)ne + 1, sizeof *ex), *v[4];
    for (int i = 0; i < 4; i++)
        v[i] = vkdp_xcalloc((size_t)ne + 1, sizeof *v[i]);
    for (int i = 0; i < ne; i++) {
        ex[i] = ck->epoch_m[i].epoch;
        v[0][i] = ck->epoch_m[i].loss;
        v[1][i] = ck->epoch_m[i].val_loss;
        v[2][i] = ck->epoch_m[i].accuracy;
        v[3][i] = ck->epoch_m[i].val_accuracy;
    }
    fprintf(f, "<div class=\"charts\">\n");
    if (ne > 0) {
        vkdp_svg_series loss[2] = {{"training loss", "#1f77b4", ex, v[0], ne, 0},
                                   {"validation loss", "#d62728", ex, v[1], ne, 1}};
        vkdp_svg_series acc[2] = {{"training accuracy", "#1f77b4", ex, v[2], ne, 0},
                                  {"validation accuracy", "#d62728", ex, v[3], ne, 1}};
        vkdp_svg_line_chart(f, "loss-epoch", "Loss per epoch", "epoch", "loss", loss, 2, 0, 0);
        vkdp_svg_line_chart(f, "accuracy-epoch", "Accuracy per epoch", "epoch", "accuracy", acc, 2, 0, 1);
    }
    int64_t ns = ck->nsteps_m;
    if (ns > 0 && ns < (INT64_C(1) << 30)) {
        double *sx = vkdp_xcalloc((size_t)ns, sizeof *sx), *sy = vkdp_xcalloc((size_t)ns, sizeof *sy);
        for (int64_t i = 0; i < ns; i++) {
            sx[i] = (double)ck->step_m[i].step;
            sy[i] = ck->step_m[i].loss;
        }
        vkdp_svg_series st = {"training loss", "#1f77b4", sx, sy, (int)ns, 0};
        vkdp_svg_line_chart(f, "loss-step", "Loss per step", "step", "loss", &st, 1, 0, 0);
        free(sx);
        free(sy);
    }
    fprintf(f, "</div></section>\n");
    free(ex);
    for (int i = 0; i < 4; i++)
        free(v[i]);
}

static void confusion(FILE *f, const vkdp_report_input *in)
{
    const int C = in->ck->nclasses;
    fprintf(f, "<section id=\"confusion\"><h2>Confusion matrix</h2>\n<p class=\"note\">Rows: true class; columns: "
               "predicted class; shade: share of the row.</p>\n<table class=\"heat\" id=\"confusion-table\"><tr><th "
               "class=\"row\">true \\ predicted</th>");
    for (int k = 0; k < C; k++) {
        fprintf(f, "<th>");
        esc(f, in->ck->class_names[k]);
        fprintf(f, "</th>");
    }
    fprintf(f, "</tr>\n");
    for (int r = 0; r < C; r++) {
        int64_t row = 0;
        for (int c = 0; c < C; c++)
            row += in->conf[r * C + c];
        fprintf(f, "<tr><th class=\"row\">");
        esc(f, in->ck->class_names[r]);
        fprintf(f, "</th>");
        for (int c = 0; c < C; c++) {
            int64_t n = in->conf[r * C + c];
            double s = row ? (double)n / (double)row : 0;
            /* white to dark blue, white text on the dark half */
            fprintf(f, "<td style=\"background:rgb(%d,%d,%d);color:%s\">%lld</td>", (int)lround(255 - s * 227),
                    (int)lround(255 - s * 170), (int)lround(255 - s * 75), s > 0.5 ? "#fff" : "#111", (long long)n);
        }
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table></section>\n");
}

static void per_class(FILE *f, const vkdp_report_input *in)
{
    const int C = in->ck->nclasses;
    fprintf(f, "<section id=\"per-class\"><h2>Per-class precision, recall and F1</h2>\n<table id=\"per-class-table\">"
               "<tr><th class=\"row\">class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>\n");
    double mp = 0, mr = 0, mf = 0;
    int64_t total = 0;
    for (int k = 0; k < C; k++) {
        double p, r, f1;
        int64_t sup;
        vkdp_class_prf(in->conf, C, k, &p, &r, &f1, &sup);
        mp += p / C;
        mr += r / C;
        mf += f1 / C;
        total += sup;
        fprintf(f, "<tr><th class=\"row\">");
        esc(f, in->ck->class_names[k]);
        fprintf(f, "</th><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%lld</td></tr>\n", p, r, f1, (long long)sup);
    }
    fprintf(f, "<tr><th class=\"row\">macro average</th><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%lld</td></tr>\n",
            mp, mr, mf, (long long)total);
    fprintf(f, "</table></section>\n");
}

typedef struct {
    int pos, label, pred;
    float p_true, p_pred;
} miss;

static int worst_first(const void *a, const void *b)
{
    const miss *x = a, *y = b;
    if (x->p_true != y->p_true)
        return x->p_true < y->p_true ? -1 : 1;
    if (x->p_pred != y->p_pred)
        return x->p_pred > y->p_pred ? -1 : 1;
    return x->pos - y->pos;
}

static void thumb(FILE *f, const vkdp_report_input *in, int id)
{
    char path[4096], why[256];
    uint8_t *jpeg;
    size_t size;
    int w, h;
    vkdp_index_path(in->idx, id, path, sizeof path);
    if (vkdp_thumbnail_jpeg(path, THUMB_SIDE, THUMB_QUALITY, &jpeg, &size, &w, &h, why, sizeof why) != 0) {
        fprintf(f, "<div class=\"bad\">thumbnail unavailable: ");
        esc(f, why);
        fprintf(f, "</div>");
        return;
    }
    fprintf(f, "<img width=\"%d\" height=\"%d\" alt=\"", w, h);
    esc(f, in->idx->rel[id]);
    fprintf(f, "\" src=\"data:image/jpeg;base64,");
    vkdp_base64(f, jpeg, size);
    fprintf(f, "\">");
    free(jpeg);
}

static void misclassified(FILE *f, const vkdp_report_input *in)
{
    const vkdp_report_samples *s = in->samples;
    const int C = s->C;
    miss *m = vkdp_xcalloc((size_t)s->n + 1, sizeof *m);
    int nm = 0, evaluated = 0;
    for (int p = 0; p < s->n; p++) {
        const int64_t *c = s->cell + (size_t)p * (size_t)(C + 1);
        if (c[0] == 0)
            continue; /* undecodable: not evaluated */
        evaluated++;
        float pr[256];
        for (int k = 0; k < C && k < 256; k++) {
            uint32_t bits = (uint32_t)c[1 + k];
            memcpy(&pr[k], &bits, sizeof bits);
        }
        int label = (int)c[0] - 1, best = 0;
        for (int k = 1; k < C; k++)
            if (pr[k] > pr[best])
                best = k; /* the first of equal maxima, as evaluate's confusion matrix counts */
        if (best != label)
            m[nm++] = (miss){p, label, best, pr[label], pr[best]};
    }
    qsort(m, (size_t)nm, sizeof *m, worst_first);
    int shown = nm < in->max_gallery ? nm : in->max_gallery;
    fprintf(f, "<section id=\"misclassified\"><h2>Misclassified images</h2>\n<p class=\"note\" id=\"mis-count\" "
               "data-total=\"%d\" data-shown=\"%d\">%d of %d images misclassified%s; the lowest probability of the "
               "true class first.</p>\n<div class=\"gallery\">\n",
            nm, shown, nm, evaluated, shown < nm ? " (the worst shown, see --report-max)" : "");
    for (int i = 0; i < shown; i++) {
        int id = in->items[m[i].pos];
        fprintf(f, "<figure class=\"mis\" data-p-true=\"%.9g\" data-true=\"%d\" data-pred=\"%d\">", m[i].p_true,
                m[i].label, m[i].pred);
        thumb(f, in, id);
        fprintf(f, "<figcaption><span class=\"rel\">");
        esc(f, in->idx->rel[id]);
        fprintf(f, "</span><br>true: <b>");
        esc(f, in->ck->class_names[m[i].label]);
        fprintf(f, "</b> (p=%.3f)<br>predicted: <b>", m[i].p_true);
        esc(f, in->ck->class_names[m[i].pred]);
        fprintf(f, "</b> (p=%.3f)</figcaption></figure>\n", m[i].p_pred);
    }
    fprintf(f, "</div></section>\n");
    free(m);
}

int vkdp_report_dir(const char *dir, char *err, size_t errlen)
{
    struct stat st;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return vkdp_seterr(err, errlen, "report: cannot create the folder %s: %s", dir, vkdp_errno_str());
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return vkdp_seterr(err, errlen, "report: %s is not a folder", dir);
    if (access(dir, W_OK | X_OK) != 0)
        return vkdp_seterr(err, errlen, "report: cannot write into %s: %s", dir, vkdp_errno_str());
    return 0;
}

int vkdp_report_write(const char *dir, const vkdp_report_input *in, char *err, size_t errlen)
{
    if (in->ck->nclasses > 256 || in->samples->C != in->ck->nclasses)
        return vkdp_seterr(err, errlen, "report: %d classes (at most 256, samples have %d)", in->ck->nclasses,
                           in->samples->C);
    size_t pl = strlen(dir) + 64;
    char *tmp = vkdp_xmalloc(pl), *path = vkdp_xmalloc(pl);
    snprintf(tmp, pl, "%s/.index.html.tmp.%ld", dir, (long)getpid());
    snprintf(path, pl, "%s/index.html", dir);
    FILE *f = fopen(tmp, "w");
    int rc = 0;
    if (!f) {
        rc = vkdp_seterr(err, errlen, "report: cannot create %s: %s", tmp, vkdp_errno_str());
    } else {
        fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta http-equiv=\"Content-"
                   "Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\n"
                   "<meta name=\"viewport\" content=\"width=device-width\">\n<title>vkdp report: ");
        esc(f, in->checkpoint);
        fprintf(f, "</title>\n<style>%s</style></head><body>\n<h1>Evaluation of ", css);
        esc(f, in->checkpoint);
        fprintf(f, "</h1>\n");
        summary(f, in);
        curves(f, in->ck);
        confusion(f, in);
        per_class(f, in);
        misclassified(f, in);
        fprintf(f, "</body></html>\n");
        int bad = ferror(f), saved = errno;
        if (fclose(f) != 0 && !bad) {
            bad = 1;
            saved = errno;
        }
        errno = saved;
        if (bad) {
            rc = vkdp_seterr(err, errlen, "report: writing %s failed: %s", tmp, vkdp_errno_str());
        } else if (rename(tmp, path) != 0) {
            rc = vkdp_seterr(err, errlen, "report: cannot rename %s to %s: %s", tmp, path, vkdp_errno_str());
        }
        if (rc != 0 && unlink(tmp) != 0 && errno != ENOENT)
            vkdp_warn("cannot remove %s: %s", tmp, vkdp_errno_str());
    }
    free(tmp);
    free(path);
    return rc;
}
