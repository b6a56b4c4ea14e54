/* Squeeze-and-excite forward (the backbone ops' references chained) and its backward
 * (see vkdp/ops/grad_ref.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vkdp/core/common.h"
#include "vkdp/ops/backbone_ops.h"
#include "vkdp/ops/grad_ref.h"
#include "vkdp/ops/ops.h"

void vkdp_ref_se(uint32_t B, uint32_t P, uint32_t C, uint32_t se, const float *x, const float *wr,
                 const float *br, const float *we, const float *be, float *y, float *gate)
{
    float *pool = vkdp_xmalloc((size_t)B * C * sizeof *pool);
    float *g = gate ? gate : vkdp_xmalloc((size_t)B * C * sizeof *g);
    vkdp_ref_gap(B, P, C, x, pool);
    vkdp_ref_se_excite(B, C, se, pool, wr, br, we, be, g);
    memmove(y, x, (size_t)B * P * C * sizeof *y);
    vkdp_ref_se_gate(B, P, C, y, g);
    if (!gate)
        free(g);
    free(pool);
}

void vkdp_grad_se_gate(uint32_t B, uint32_t P, uint32_t C, const float *x, const float *gate,
                       const float *dy, float *dx, float *dgate)
{
    double *acc = vkdp_xmalloc((size_t)C * sizeof *acc);
    for (uint32_t b = 0; b < B; b++) {
        const float *gb = gate + (size_t)b * C;
        for (uint32_t c = 0; c < C; c++)
            acc[c] = 0;
        for (uint32_t p = 0; p < P; p++) {
            size_t row = ((size_t)b * P + p) * C;
            for (uint32_t c = 0; c < C; c++) {
                acc[c] += (double)dy[row + c] * x[row + c];
                if (dx)
                    dx[row + c] = dy[row + c] * gb[c];
            }
        }
        if (dgate)
            for (uint32_t c = 0; c < C; c++)
                dgate[(size_t)b * C + c] = (float)acc[c];
    }
    free(acc);
}

/* The reduce layer of one sample as vkdp_ref_se_excite rounds it: h = pool wr + br, r = swish(h). */
static void excite_reduce(uint32_t C, uint32_t se, const float *pool, const float *wr,
                          const float *br, float *h, float *r)
{
    for (uint32_t j = 0; j < se; j++) {
        double a = br[j];
        for (uint32_t c = 0; c < C; c++)
            a += (double)pool[c] * wr[(size_t)c * se + j];
        h[j] = (float)a;
        r[j] = vkdp_ref_act(VKDP_ACT_SWISH, h[j]);
    }
}

void vkdp_grad_se_excite(uint32_t B, uint32_t C, uint32_t se, const float *pool, const float *wr,
                         const float *br, const float *we, const float *be, const float *dgate,
                         float *dpool, float *dwr, float *dbr, float *dwe, float *dbe)
{
    float *h = vkdp_xmalloc((size_t)se * sizeof *h), *r = vkdp_xmalloc((size_t)se * sizeof *r);
    float *gate = vkdp_xmalloc((size_t)C * sizeof *gate), *dz = vkdp_xmalloc((size_t)C * sizeof *dz);
    float *dh = vkdp_xmalloc((size_t)se * sizeof *dh);
    double *awr = vkdp_xcalloc((size_t)C * se, sizeof *awr), *abr = vkdp_xcalloc(se, sizeof *abr);
    double *awe = vkdp_xcalloc((size_t)se * C, sizeof *awe), *abe = vkdp_xcalloc(C, sizeof *abe);
    for (uint32_t b = 0; b < B; b++) {
        const float *pb = pool + (size_t)b * C;
        excite_reduce(C, se, pb, wr, br, h, r);
        vkdp_ref_se_excite(1, C, se, pb, wr, br, we, be, gate);
        for (uint32_t c = 0; c < C; c++) {
            float g = gate[c];
            dz[c] = dgate[(size_t)b * C + c] * (g * (1.0f - g));
            abe[c] += dz[c];
        }
        for (uint32_t j = 0; j < se; j++) {
            double a = 0;
            for (uint32_t c = 0; c < C; c++) {
                a += (double)dz[c] * we[(size_t)j * C + c];
                awe[(size_t)j * C + c] += (double)r[j] * dz[c];
            }
            float dr = (float)a;
            vkdp_grad_swish(1, &h[j], &dr, &dh[j]);
            abr[j] += dh[j];
        }
        for (uint32_t c = 0; c < C; c++) {
            double a = 0;
            for (uint32_t j = 0; j < se; j++) {
                a += (double)dh[j] * wr[(size_t)c * se + j];
                awr[(size_t)c * se + j] += (double)pb[c] * dh[j];
            }
            if (dpool)
                dpool[(size_t)b * C + c] = (float)a;
        }
    }
    for (size_t i = 0; i < (size_t)C * se; i++) {
        if (dwr)
            dwr[i] = (float)awr[i];
        if (dwe)
            dwe[i] = (float)awe[i];
    }
    for (uint32_t j = 0; dbr && j < se; j++)
        dbr[j] = (float)abr[j];
    for (uint32_t c = 0; dbe && c < C; c++)
        dbe[c] = (float)abe[c];
    free(h), free(r), free(gate), free(dz), free(dh);
    free(awr), free(abr), free(awe), free(abe);
}

void vkdp_grad_se(uint32_t B, uint32_t P, uint32_t C, uint32_t se, const float *x,
                  const float *wr, const float *br, const float *we, const float *be,
                  const float *dy, float *dx, float *dwr, float *dbr, float *dwe, float *dbe)
{
    size_t bc = (size_t)B * C;
    float *pool = vkdp_xmalloc(bc * sizeof *pool), *gate = vkdp_xmalloc(bc * sizeof *gate);
    float *dgate = vkdp_xmalloc(bc * sizeof *dgate), *dpool = vkdp_xmalloc(bc * sizeof *dpool);
    vkdp_ref_gap(B, P, C, x, pool);
    vkdp_ref_se_excite(B, C, se, pool, wr, br, we, be, gate);
    vkdp_grad_se_gate(B, P, C, x, gate, dy, dx, dgate);
    vkdp_grad_se_excite(B, C, se, pool, wr, br, we, be, dgate, dpool, dwr, dbr, dwe, dbe);
    if (dx)
        vkdp_grad_gap(B, P, C, dpool, dx, 1);
    free(pool), free(gate), free(dgate), free(dpool);
}
