/* Inline SVG line charts for the HTML report: axes with round-number ticks, one polyline per
 * series (broken at NaN), markers for short series, a legend. */
#include <math.h>

#include "vkdp/cli/report.h"

enum { W = 560, H = 300, ML = 62, MR = 16, MT = 34, MB = 46 };

/* 1, 2 or 5 times a power of ten, about range / target. */
static double nice_step(double range, int target)
{
    double raw = range / target, mag = pow(10, floor(log10(raw))), r = raw / mag;
    return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
}

/* Data range of the finite values, widened when empty or flat. */
static void range_of(const vkdp_svg_series *s, int ns, int use_y, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (int i = 0; i < ns; i++)
        for (int k = 0; k < s[i].n; k++) {
            double v = use_y ? s[i].y[k] : s[i].x[k];
            if (isfinite(v) && isfinite(s[i].y[k])) {
                *lo = fmin(*lo, v);
                *hi = fmax(*hi, v);
            }
        }
    if (!(*lo <= *hi)) {
        *lo = 0;
        *hi = 1;
    } else if (*lo == *hi) {
        double d = fabs(*lo) > 0 ? fabs(*lo) * 0.1 : 0.5;
        *lo -= d;
        *hi += d;
    }
}

/* Data to picture coordinates (y clamped to a fixed range). */
typedef struct {
    double x0, x1, y0, y1;
} frame;

static double px_of(const frame *fr, double x) { return ML + (x - fr->x0) / (fr->x1 - fr->x0) * (W - ML - MR); }
static double py_of(const frame *fr, double y)
{
    return H - MB - (fmin(fmax(y, fr->y0), fr->y1) - fr->y0) / (fr->y1 - fr->y0) * (H - MT - MB);
}

static void axis_ticks(FILE *f, const frame *fr, int horizontal, double step)
{
    double lo = horizontal ? fr->x0 : fr->y0, hi = horizontal ? fr->x1 : fr->y1;
    for (double t = ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) {
        double v = fabs(t) < step * 1e-9 ? 0 : t;
        if (horizontal) {
            double x = px_of(fr, v);
            fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>", x, MT, x, H - MB);
            fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n", x, H - MB + 16, v);
        } else {
            double y = py_of(fr, v);
            fprintf(f, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>", ML, y, W - MR, y);
            fprintf(f, "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", ML - 6, y + 4, v);
        }
    }
}

void vkdp_svg_line_chart(FILE *f, const char *id, const char *title, const char *xlabel, const char *ylabel,
                         const vkdp_svg_series *s, int ns, double y_lo, double y_hi)
{
    double x0, x1, y0, y1;
    range_of(s, ns, 0, &x0, &x1);
    if (y_lo < y_hi) {
        y0 = y_lo;
        y1 = y_hi;
    } else {
        range_of(s, ns, 1, &y0, &y1);
    }
    double xs = nice_step(x1 - x0, 8), ys = nice_step(y1 - y0, 5);
    if (xs < 1 && x1 - x0 >= 1)
        xs = 1; /* epochs and steps are integers */
    if (!(y_lo < y_hi)) {
        y0 = floor(y0 / ys) * ys;
        y1 = ceil(y1 / ys) * ys;
    }
    const frame fr = {x0, x1, y0, y1};
    fprintf(f, "<svg id=\"");
    vkdp_html_text(f, id);
    fprintf(f, "\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
               "role=\"img\"><title>", W, H, W, H);
    vkdp_html_text(f, title);
    fprintf(f, "</title>\n<text class=\"ctitle\" x=\"%d\" y=\"20\">", ML);
    vkdp_html_text(f, title);
    fprintf(f, "</text>\n");
    axis_ticks(f, &fr, 1, xs);
    axis_ticks(f, &fr, 0, ys);
    fprintf(f, "<rect class=\"frame\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n", ML, MT, W - ML - MR, H - MT - MB);
    fprintf(f, "<text class=\"label\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">", (ML + W - MR) / 2, H - 8);
    vkdp_html_text(f, xlabel);
    fprintf(f, "</text><text class=\"label\" transform=\"translate(14 %d) rotate(-90)\" text-anchor=\"middle\">",
            (MT + H - MB) / 2);
    vkdp_html_text(f, ylabel);
    fprintf(f, "</text>\n");
    for (int i = 0; i < ns; i++) {
        int npts = 0;
        for (int k = 0; k < s[i].n; k++)
            npts += isfinite(s[i].x[k]) && isfinite(s[i].y[k]);
        fprintf(f, "<g class=\"series\" data-series=\"");
        vkdp_html_text(f, s[i].name);
        fprintf(f, "\" data-n=\"%d\" stroke=\"%s\" fill=\"%s\">", npts, s[i].color, s[i].color);
        int open = 0;
        for (int k = 0; k < s[i].n; k++) {
            if (!isfinite(s[i].x[k]) || !isfinite(s[i].y[k])) {
                if (open)
                    fprintf(f, "\"/>");
                open = 0;
                continue;
            }
            double px = px_of(&fr, s[i].x[k]), py = py_of(&fr, s[i].y[k]);
            if (!open)
                fprintf(f, "<polyline fill=\"none\"%s points=\"", s[i].dashed ? " stroke-dasharray=\"6 4\"" : "");
            fprintf(f, "%s%.1f,%.1f", open ? " " : "", px, py);
            open = 1;
        }
        if (open)
            fprintf(f, "\"/>");
        if (s[i].n <= 60) /* markers where points are few enough to tell apart */
            for (int k = 0; k < s[i].n; k++)
                if (isfinite(s[i].x[k]) && isfinite(s[i].y[k]))
                    fprintf(f, "<circle r=\"3\" cx=\"%.1f\" cy=\"%.1f\"/>", px_of(&fr, s[i].x[k]),
                            py_of(&fr, s[i].y[k]));
        /* legend entry */
        int ly = MT + 14 + 16 * i;
        fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke-width=\"2\"%s/><text class=\"legend\" x=\"%d\" "
                   "y=\"%d\" stroke=\"none\">", W - MR - 150, ly, W - MR - 126, ly,
                s[i].dashed ? " stroke-dasharray=\"6 4\"" : "", W - MR - 120, ly + 4);
        vkdp_html_text(f, s[i].name);
        fprintf(f, "</text></g>\n");
    }
    fprintf(f, "</svg>\n");
}
