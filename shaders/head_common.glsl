// Shared by the head_*.comp shaders: fixed-point conversion (twin of vkdp_fx in
// include/vkdp/ops/head_fx.h) and the counter-based dropout generator (twin of vkdp_philox4x32 in
// trainer/ops/head_dropout.c). Both must stay bit-identical to their C twins.
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require

const float FX_LIMIT = 1125899906842624.0; // 2^50 units, VKDP_FX_LIMIT_LOG2

// round(v * scale) to nearest even, scale a power of two (so the product is exact); a term
// beyond the limit (or NaN/Inf) counts as an overflow and contributes 0.
int64_t fx(float v, float scale, inout uint ovf)
{
    precise float q = v * scale;
    if (!(abs(q) <= FX_LIMIT)) {
        ovf++;
        return int64_t(0);
    }
    return int64_t(roundEven(q));
}

// Philox-4x32-10 (Salmon et al., Random123).
uvec4 philox4x32_10(uvec4 ctr, uvec2 key)
{
    for (int r = 0; r < 10; r++) {
        uint hi0, lo0, hi1, lo1;
        umulExtended(0xD2511F53u, ctr.x, hi0, lo0);
        umulExtended(0xCD9E8D57u, ctr.z, hi1, lo1);
        ctr = uvec4(hi1 ^ ctr.y ^ key.x, lo1, hi0 ^ ctr.w ^ key.y, lo0);
        key += uvec2(0x9E3779B9u, 0xBB67AE85u);
    }
    return ctr;
}

// Dropout keep decision of feature j of global sample gpos in an epoch: a function of
// (seed, epoch, gpos, j) only, so it does not depend on how samples are split over ranks.
// Uniform u = top 24 bits / 2^24 (exact in float); kept when u >= rate, as TF's dropout does.
bool dropout_keep(uvec2 seed, uint epoch, uint gpos_lo, uint gpos_hi, uint j, float rate)
{
    uvec4 r = philox4x32_10(uvec4(j, gpos_lo, gpos_hi, epoch), seed);
    float u = float(r.x >> 8) * (1.0 / 16777216.0);
    return u >= rate;
}
