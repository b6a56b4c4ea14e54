/* Fixed-point arithmetic of the head's cross-sample sums, shared by the shaders (via push
 * constants), the C references and the MPI reductions.
 *
 * Every per-sample contribution to a sum over samples is rounded to an int64 multiple of 2^-shift
 * (round to nearest, ties to even) and the sums are int64 additions. Integer addition is
 * associative, so a sum is the same bits however the samples are split over ranks, invocations
 * or MPI reduction trees: that is what makes `-np 1` and `-np 4` bit-identical.
 *
 * Headroom: one contribution may be at most 2^50 units (|value| <= 2^(50-shift)); a larger,
 * NaN or infinite one counts as an overflow (and contributes 0), and every overflow aborts the
 * run on all ranks, since the counts travel in the same allreduce. With at most
 * VKDP_FX_MAX_SAMPLES = 2^12 contributions per sum, |sum| < 2^62: int64 cannot wrap. */
#ifndef VKDP_HEAD_FX_H
#define VKDP_HEAD_FX_H
#include <math.h>
#include <stdint.h>

/* BatchNorm batch statistics: sum x and sum (x-mean)^2; resolution 2.3e-10, |x| <= 2.6e5. */
#define VKDP_FX_STAT_SHIFT 32
/* Gradients (dgamma, dbeta, dkernel, dbias): per-sample terms are O(1/B) so 2^40 (9.1e-13)
 * keeps ~20 more bits than float for typical terms; one term may reach 1024. */
#define VKDP_FX_GRAD_SHIFT 40
/* Per-sample cross-entropy for the reported loss: resolution 2.3e-10, one term <= 2.6e5. */
#define VKDP_FX_LOSS_SHIFT 32
/* Largest contribution, in units. */
#define VKDP_FX_LIMIT_LOG2 50
/* Most contributions one sum may have, over all ranks: the global batch limit. */
#define VKDP_FX_MAX_SAMPLES 4096

/* The exact C twin of the shaders' fx(): v * 2^shift is exact in float (a power-of-two scale),
 * rintf rounds half to even under the default rounding mode, as GLSL roundEven does. */
static inline int64_t vkdp_fx(float v, int shift, uint32_t *ovf)
{
    float q = ldexpf(v, shift);
    if (!(fabsf(q) <= (float)(1ll << VKDP_FX_LIMIT_LOG2))) {
        (*ovf)++;
        return 0;
    }
    return (int64_t)rintf(q);
}

static inline double vkdp_fx_to_double(int64_t s, int shift) { return ldexp((double)s, -shift); }

#endif
