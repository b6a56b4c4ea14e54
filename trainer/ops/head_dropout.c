/* Plain-C twins of the head shaders; see include/vkdp/ops/head_ref.h. Float expressions are split
 * into one operation per statement where the shader marks them `precise`, so neither side
 * contracts them into FMAs and both round identically. */
#include "vkdp/ops/head_ref.h"

#include <math.h>

#include "vkdp/ops/head_fx.h"

void vkdp_philox4x32_10(const uint32_t ctr_in[4], const uint32_t key_in[2], uint32_t out[4])
{
    uint32_t c0 = ctr_in[0], c1 = ctr_in[1], c2 = ctr_in[2], c3 = ctr_in[3];
    uint32_t k0 = key_in[0], k1 = key_in[1];
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

int vkdp_dropout_keep(const vkdp_dropout_key *k, uint64_t gpos, uint32_t j)
{
    uint32_t ctr[4] = {j, (uint32_t)gpos, (uint32_t)(gpos >> 32), k->epoch};
    uint32_t key[2] = {(uint32_t)k->seed, (uint32_t)(k->seed >> 32)};
    uint32_t r[4];
    vkdp_philox4x32_10(ctr, key, r);
    float u = (float)(r[0] >> 8) * (1.0f / 16777216.0f);
    return u >= k->rate;
}

void head_ref_bn_stats(const float *x, int n, int F, int mode, const float *mean, int64_t *sums,
                       uint32_t *ovf)
{
    for (int j = 0; j < F; j++) {
        int64_t s = 0;
        uint32_t o = 0;
        for (int i = 0; i < n; i++) {
            float v = x[(int64_t)i * F + j];
            if (mode == 0) {
                s += vkdp_fx(v, VKDP_FX_STAT_SHIFT, &o);
            } else {
                float d = v - mean[j];
                float d2 = d * d;
                s += vkdp_fx(d2, VKDP_FX_STAT_SHIFT, &o);
            }
        }
        sums[j] = s;
        ovf[j] = o;
    }
}

void head_ref_bn_dropout(const float *x, int n, int F, const float *stats, const float *params,
                         const uint64_t *gpos, const vkdp_dropout_key *k, float *xhat, float *xd)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < F; j++) {
            int64_t e = (int64_t)i * F + j;
            float v = x[e], m = stats[j], inv = stats[F + j];
            float d = v - m;
            xhat[e] = d * inv;
            float s = params[j] * inv;
            float ms = m * s;
            float shift = params[F + j] - ms;
            float vs = v * s;
            float bn = vs + shift;
            if (k->use_dropout)
                xd[e] = vkdp_dropout_keep(k, gpos[i], (uint32_t)j) ? bn * k->keep_scale : 0.0f;
            else
                xd[e] = bn;
        }
}

void head_ref_logits_loss(const float *xd, int n, int F, int C, const float *params,
                          int64_t kernel_off, int64_t bias_off, const int *labels, float inv_batch,
                          float *probs, float *dl, float *loss, uint32_t *correct)
{
    float z[C > 0 ? C : 1], e[C > 0 ? C : 1];
    for (int i = 0; i < n; i++) {
        for (int c = 0; c < C; c++)
            z[c] = 0.0f;
        for (int j = 0; j < F; j++) {
            float a = xd[(int64_t)i * F + j];
            for (int c = 0; c < C; c++) {
                float t = a * params[kernel_off + (int64_t)j * C + c];
                z[c] = z[c] + t;
            }
        }
        float zmax = -INFINITY;
        for (int c = 0; c < C; c++) {
            z[c] = z[c] + params[bias_off + c];
            zmax = fmaxf(zmax, z[c]);
        }
        float s = 0.0f;
        for (int c = 0; c < C; c++) {
            e[c] = expf(z[c] - zmax);
            s += e[c];
        }
        int y = labels[i], best = 0;
        float pbest = -1.0f;
        for (int c = 0; c < C; c++) {
            float p = e[c] / s;
            probs[(int64_t)i * C + c] = p;
            dl[(int64_t)i * C + c] = (p - (c == y ? 1.0f : 0.0f)) * inv_batch;
            if (p > pbest) {
                pbest = p;
                best = c;
            }
        }
        loss[i] = logf(s) - (z[y] - zmax);
        correct[i] = best == y;
    }
}

static float ref_dbn(const float *dl, const float *params, const uint64_t *gpos, int F, int C,
                     int i, int j, const vkdp_dropout_key *k)
{
    float acc = 0.0f;
    int64_t k0 = 2 * (int64_t)F + (int64_t)j * C;
    for (int c = 0; c < C; c++) {
        float t = params[k0 + c] * dl[(int64_t)i * C + c];
        acc = acc + t;
    }
    if (!k->use_dropout)
        return acc;
    return vkdp_dropout_keep(k, gpos[i], (uint32_t)j) ? acc * k->keep_scale : 0.0f;
}

void head_ref_grad_sums(const float *xhat, const float *xd, const float *dl, const float *params,
                        const uint64_t *gpos, const float *loss, const uint32_t *correct, int n,
                        int F, int C, int64_t first, const vkdp_dropout_key *k, int64_t *sums,
                        uint32_t *ovf)
{
    int64_t FC = (int64_t)F * C, P = 2 * (int64_t)F + FC + C;
    for (int64_t e = first; e < P + 2; e++) {
        int64_t s = 0;
        uint32_t o = 0;
        for (int i = 0; i < n; i++) {
            if (e < F) {
                float t = ref_dbn(dl, params, gpos, F, C, i, (int)e, k) * xhat[(int64_t)i * F + e];
                s += vkdp_fx(t, VKDP_FX_GRAD_SHIFT, &o);
            } else if (e < 2 * F) {
                s += vkdp_fx(ref_dbn(dl, params, gpos, F, C, i, (int)(e - F), k),
                             VKDP_FX_GRAD_SHIFT, &o);
            } else if (e < 2 * F + FC) {
                int64_t kk = e - 2 * F, j = kk / C, c = kk % C;
                float t = xd[(int64_t)i * F + j] * dl[(int64_t)i * C + c];
                s += vkdp_fx(t, VKDP_FX_GRAD_SHIFT, &o);
            } else if (e < P) {
                s += vkdp_fx(dl[(int64_t)i * C + (e - 2 * F - FC)], VKDP_FX_GRAD_SHIFT, &o);
            } else if (e == P) {
                s += vkdp_fx(loss[i], VKDP_FX_LOSS_SHIFT, &o);
            } else {
                s += correct[i];
            }
        }
        sums[e] = s;
        ovf[e] = o;
    }
}

void head_ref_adam(const int64_t *grad, float *params, float *m, float *v, int64_t P, float alpha,
                   float one_minus_beta1, float one_minus_beta2, float epsilon)
{
    float unscale = ldexpf(1.0f, -VKDP_FX_GRAD_SHIFT);
    for (int64_t p = 0; p < P; p++) {
        float g = (float)grad[p] * unscale;
        float mp = m[p], vp = v[p];
        float gm = g - mp;
        float dm = gm * one_minus_beta1;
        float mn = mp + dm;
        float g2 = g * g;
        float gv = g2 - vp;
        float dv = gv * one_minus_beta2;
        float vn = vp + dv;
        float ma = mn * alpha;
        float den = sqrtf(vn) + epsilon;
        m[p] = mn;
        v[p] = vn;
        params[p] = params[p] - ma / den;
    }
}
