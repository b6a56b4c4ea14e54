/* `trainer evaluate --report DIR`: a self-contained DIR/index.html (inline CSS and SVG, thumbnails
 * as data: URIs, no script, no network) with the checkpoint's learning curves, the confusion
 * matrix as a heat map, per-class precision / recall / F1 and the misclassified images, worst
 * first. Every string that comes from a file or folder name is HTML-escaped. */
#ifndef VKDP_REPORT_H
#define VKDP_REPORT_H
#include <stdint.h>
#include <stdio.h>

#include "vkdp/ckpt/ckpt.h"
#include "vkdp/data/data.h"

/* Precision, recall, F1 and support of class k from a C x C confusion matrix (rows: true,
 * columns: predicted); 0 where undefined (no prediction / no sample of k), as sklearn does. */
void vkdp_class_prf(const int64_t *conf, int C, int k, double *precision, double *recall, double *f1,
                    int64_t *support);

/* What each evaluated sample got, by its position p in the evaluated list, gathered from every
 * rank (each position is written by exactly one rank). */
typedef struct {
    int n, C;
    int64_t *cell;      /* [n][1 + C]: label + 1 (0: not evaluated), then float bits of each probability */
} vkdp_report_samples;

void vkdp_report_samples_init(vkdp_report_samples *s, int n, int C);
void vkdp_report_samples_set(vkdp_report_samples *s, int p, int label, const float *probs);
/* Collective over all ranks: afterwards every rank holds every sample. */
void vkdp_report_samples_gather(vkdp_report_samples *s);
void vkdp_report_samples_free(vkdp_report_samples *s);

typedef struct {
    const char *checkpoint;            /* as given on the command line */
    const vkdp_ckpt_state *ck;         /* classes, config, /metrics */
    const char *data_dir, *subset;
    const vkdp_index *idx;             /* paths of the evaluated items */
    const int *items;                  /* [samples->n] index ids, by position */
    const vkdp_report_samples *samples;
    const int64_t *conf;               /* [C * C] */
    double loss, accuracy;
    int64_t count, skipped;
    int max_gallery;                   /* misclassified images shown at most */
} vkdp_report_input;

/* Creates dir when missing and checks it is a writable folder (before any expensive work).
 * Returns 0, or -1 with a message naming dir in err. */
int vkdp_report_dir(const char *dir, char *err, size_t errlen);
/* Writes dir/index.html (dir must exist; the file is replaced atomically). Returns 0, or -1 with
 * a message naming the path in err. */
int vkdp_report_write(const char *dir, const vkdp_report_input *in, char *err, size_t errlen);

/* ---- pieces of the page (report_*.c) ---- */
/* Text as HTML (element content and quoted attribute values alike): & < > " ' escaped, bytes that
 * are not valid UTF-8 and control characters replaced by U+FFFD. */
void vkdp_html_text(FILE *f, const char *s);
/* Bytes as base64 (RFC 4648, padded). */
void vkdp_base64(FILE *f, const uint8_t *data, size_t n);

typedef struct {
    const char *name;       /* legend text (escaped) */
    const char *color;      /* CSS colour, a constant of ours */
    const double *x, *y;    /* n points; NaN y breaks the line */
    int n;
    int dashed;
} vkdp_svg_series;

/* An inline <svg id="id"> line chart with axes, ticks and a legend. y_lo/y_hi: fixed y range when
 * y_lo < y_hi (e.g. accuracy 0..1), else fitted to the data. */
void vkdp_svg_line_chart(FILE *f, const char *id, const char *title, const char *xlabel, const char *ylabel,
                         const vkdp_svg_series *series, int nseries, double y_lo, double y_hi);

#endif
