/* Per-sample results of `trainer evaluate` gathered on every rank for the report: each position
 * is filled by the one rank that evaluated it, so an integer sum over ranks is an exact gather. */
#include <stdlib.h>
#include <string.h>

#include "vkdp/cli/report.h"
#include "vkdp/core/common.h"
#include "vkdp/dist/dist.h"

void vkdp_class_prf(const int64_t *conf, int C, int k, double *precision, double *recall, double *f1,
                    int64_t *support)
{
    int64_t tp = conf[k * C + k], col = 0, row = 0;
    for (int j = 0; j < C; j++) {
        col += conf[j * C + k];
        row += conf[k * C + j];
    }
    double p = col ? (double)tp / (double)col : 0, r = row ? (double)tp / (double)row : 0;
    *precision = p;
    *recall = r;
    *f1 = p + r > 0 ? 2 * p * r / (p + r) : 0;
    *support = row;
}

void vkdp_report_samples_init(vkdp_report_samples *s, int n, int C)
{
    s->n = n;
    s->C = C;
    s->cell = vkdp_xcalloc((size_t)n * (size_t)(C + 1), sizeof *s->cell);
}

void vkdp_report_samples_set(vkdp_report_samples *s, int p, int label, const float *probs)
{
    if (p < 0 || p >= s->n || label < 0 || label >= s->C)
        VKDP_FATAL("report: sample %d of %d with label %d of %d classes", p, s->n, label, s->C);
    int64_t *c = s->cell + (size_t)p * (size_t)(s->C + 1);
    c[0] = label + 1;
    for (int k = 0; k < s->C; k++) {
        uint32_t bits;
        memcpy(&bits, &probs[k], sizeof bits);
        c[1 + k] = bits;
    }
}

void vkdp_report_samples_gather(vkdp_report_samples *s)
{
    vkdp_allreduce_i64_sum(s->cell, (size_t)s->n * (size_t)(s->C + 1));
}

void vkdp_report_samples_free(vkdp_report_samples *s)
{
    free(s->cell);
    memset(s, 0, sizeof *s);
}
