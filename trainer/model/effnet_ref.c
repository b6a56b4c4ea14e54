/* Plain-C reference forward pass of EfficientNetB0 (inference, BN folded), one image at a time,
 * NHWC float32. Written for clarity; the Vulkan backbone is tested against it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vkdp/core/common.h"
#include "vkdp/model/effnet.h"
#include "vkdp/model/effnet_arch.h"
#include "vkdp/ops/act.h"


/* An activation [h, w, c], C fastest. */
typedef struct {
    int h, w, c;
    float *d;
} act;

static act act_new(int h, int w, int c)
{
    act a = {h, w, c, vkdp_xmalloc((size_t)h * w * c * sizeof(float))};
    return a;
}

static void act_free(act *a)
{
    free(a->d);
    a->d = NULL;
}

static void swish_inplace(act *a)
{
    size_t n = (size_t)a->h * a->w * a->c;
    for (size_t i = 0; i < n; i++)
        a->d[i] = vkdp_swish(a->d[i]);
}

/* out[m, n] = b[n] + sum_k in[m, k] w[k, n]; loop order m, k, n keeps w rows and out rows in cache.
 * Four k at a time: a quarter of the loads and stores of y, which matters unoptimised and under
 * ASan, where the tests run. */
static act pointwise(const act *in, const float *w, const float *b, int cout)
{
    act out = act_new(in->h, in->w, cout);
    size_t M = (size_t)in->h * in->w;
    int K = in->c;
    for (size_t m = 0; m < M; m++) {
        const float *x = in->d + m * K;
        float *y = out.d + m * cout;
        memcpy(y, b, (size_t)cout * sizeof *y);
        int k = 0;
        for (; k + 4 <= K; k += 4) {
            const float x0 = x[k], x1 = x[k + 1], x2 = x[k + 2], x3 = x[k + 3];
            const float *w0 = w + (size_t)k * cout, *w1 = w0 + cout, *w2 = w1 + cout, *w3 = w2 + cout;
            for (int n = 0; n < cout; n++)
                y[n] += (x0 * w0[n] + x1 * w1[n]) + (x2 * w2[n] + x3 * w3[n]);
        }
        for (; k < K; k++) {
            const float xk = x[k];
            const float *wk = w + (size_t)k * cout;
            for (int n = 0; n < cout; n++)
                y[n] += xk * wk[n];
        }
    }
    return out;
}

/* Zero padding (pad_top/pad_left before; the bottom/right padding is implied by the output size)
 * then a "valid" k x k conv with the given stride. dense: w [k, k, cin, cout]; depthwise (cout ==
 * cin, w [k, k, c]) when depthwise != 0. */
static act conv_kxk(const act *in, const float *w, const float *b, int k, int stride, int pad_top, int pad_left,
                    int out_h, int out_w, int cout, int depthwise)
{
    act out = act_new(out_h, out_w, cout);
    int cin = in->c;
    for (int oy = 0; oy < out_h; oy++)
        for (int ox = 0; ox < out_w; ox++) {
            float *y = out.d + ((size_t)oy * out_w + ox) * cout;
            memcpy(y, b, (size_t)cout * sizeof *y);
            for (int ky = 0; ky < k; ky++) {
                int iy = oy * stride + ky - pad_top;
                if (iy < 0 || iy >= in->h)
                    continue;
                for (int kx = 0; kx < k; kx++) {
                    int ix = ox * stride + kx - pad_left;
                    if (ix < 0 || ix >= in->w)
                        continue;
                    const float *x = in->d + ((size_t)iy * in->w + ix) * cin;
                    if (depthwise) {
                        const float *wt = w + ((size_t)ky * k + kx) * cin;
                        for (int c = 0; c < cin; c++)
                            y[c] += x[c] * wt[c];
                    } else {
                        for (int ci = 0; ci < cin; ci++) {
                            const float *wt = w + (((size_t)ky * k + kx) * cin + ci) * cout;
                            for (int co = 0; co < cout; co++)
                                y[co] += x[ci] * wt[co];
                        }
                    }
                }
            }
        }
    return out;
}

/* Padding of a k x k layer with this stride: stride 2 is Keras' ZeroPadding2D(correct_pad) +
 * "valid"; stride 1 is "same" (k odd: k/2 on each side). */
static void layer_padding(const act *in, int k, int stride, int *top, int *left, int *out_h, int *out_w)
{
    int after;
    if (stride == 2) {
        vkdp_correct_pad(in->h, k, top, &after);
        vkdp_correct_pad(in->w, k, left, &after);
    } else {
        *top = *left = k / 2;
    }
    *out_h = vkdp_conv_out_side(in->h, k, stride);
    *out_w = vkdp_conv_out_side(in->w, k, stride);
}

/* Global average per channel, accumulated in double. */
static void channel_mean(const act *a, float *mean)
{
    double *sum = vkdp_xcalloc((size_t)a->c, sizeof *sum);
    size_t M = (size_t)a->h * a->w;
    for (size_t m = 0; m < M; m++)
        for (int c = 0; c < a->c; c++)
            sum[c] += a->d[m * a->c + c];
    for (int c = 0; c < a->c; c++)
        mean[c] = (float)(sum[c] / (double)M);
    free(sum);
}

/* x *= sigmoid(W2 swish(W1 mean(x) + b1) + b2), per channel */
static void squeeze_excite(act *x, const vkdp_mbconv *b)
{
    float *s = vkdp_xmalloc((size_t)b->exp_ch * sizeof *s);
    float *r = vkdp_xmalloc((size_t)b->se_ch * sizeof *r);
    channel_mean(x, s);
    for (int j = 0; j < b->se_ch; j++) {
        double acc = b->se_reduce_b[j];
        for (int c = 0; c < b->exp_ch; c++)
            acc += (double)s[c] * b->se_reduce_w[(size_t)c * b->se_ch + j];
        r[j] = vkdp_swish((float)acc);
    }
    for (int c = 0; c < b->exp_ch; c++) {
        double acc = b->se_expand_b[c];
        for (int j = 0; j < b->se_ch; j++)
            acc += (double)r[j] * b->se_expand_w[(size_t)j * b->exp_ch + c];
        s[c] = vkdp_sigmoid((float)acc);
    }
    size_t M = (size_t)x->h * x->w;
    for (size_t m = 0; m < M; m++)
        for (int c = 0; c < x->c; c++)
            x->d[m * x->c + c] *= s[c];
    free(r);
    free(s);
}

static act mbconv(const act *in, const vkdp_mbconv *b)
{
    act e = {0, 0, 0, NULL};
    const act *x = in;
    if (b->has_expand) {
        e = pointwise(in, b->expand_w, b->expand_b, b->exp_ch);
        swish_inplace(&e);
        x = &e;
    }
    int top, left, oh, ow;
    layer_padding(x, b->kernel, b->stride, &top, &left, &oh, &ow);
    act d = conv_kxk(x, b->dw_w, b->dw_b, b->kernel, b->stride, top, left, oh, ow, b->exp_ch, 1);
    act_free(&e);
    swish_inplace(&d);
    squeeze_excite(&d, b);
    act out = pointwise(&d, b->project_w, b->project_b, b->out_ch);
    act_free(&d);
    if (b->has_residual) {
        size_t n = (size_t)out.h * out.w * out.c;
        for (size_t i = 0; i < n; i++)
            out.d[i] += in->d[i];
    }
    return out;
}

void vkdp_effnet_forward_ref(const vkdp_effnet *net, const float *images, int B, int H, int W, float *pooled)
{
    for (int img = 0; img < B; img++) {
        act x = act_new(H, W, 3);
        const float *src = images + (size_t)img * H * W * 3;
        for (size_t p = 0; p < (size_t)H * W; p++)
            for (int c = 0; c < 3; c++)
                x.d[p * 3 + c] = src[p * 3 + c] * net->in_scale[c] + net->in_shift[c];

        int top, left, oh, ow;
        layer_padding(&x, 3, 2, &top, &left, &oh, &ow);
        act y = conv_kxk(&x, net->stem_w, net->stem_b, 3, 2, top, left, oh, ow, VKDP_EFFNET_STEM_CH, 0);
        act_free(&x);
        swish_inplace(&y);

        for (int i = 0; i < net->nblocks; i++) {
            act next = mbconv(&y, &net->blocks[i]);
            act_free(&y);
            y = next;
        }

        act top_act = pointwise(&y, net->top_w, net->top_b, VKDP_EFFNET_FEATURES);
        act_free(&y);
        swish_inplace(&top_act);
        channel_mean(&top_act, pooled + (size_t)img * VKDP_EFFNET_FEATURES);
        act_free(&top_act);
    }
}
