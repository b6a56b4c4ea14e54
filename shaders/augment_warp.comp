#version 450
// augment_warp: one resampling layer of the training augmentation (include/vkdp/ops/augment.h),
// TF's ImageProjectiveTransformV3 with fill_mode reflect, bilinear interpolation, fill value 0,
// in the reference's order of float operations (trainer/ops/augment_ref.c; `precise` forbids
// fused multiply-adds, which the C reference does not use). PASS 0 applies each image's rotation
// matrix; PASS 1 its translation matrix, then its flips (an exact index reversal, folded in by
// reading the flipped output position). One invocation per output pixel, all channels.
layout(local_size_x = 64, local_size_x_id = 100) in; // x: the device table's wg (vkdp/ops/tune.h)
layout(constant_id = 0) const int PASS = 0;
layout(std430, binding = 0) readonly buffer IN { float src[]; };
layout(std430, binding = 1) readonly buffer PRM { float prm[]; }; // [B, 20]: vkdp_augment_pack
layout(std430, binding = 2) writeonly buffer OUT { float dst[]; };
layout(push_constant) uniform P { uint B, H, W, C; } p;

// TF's MapCoordinate<FILL_REFLECT>, then the clamp to [0, len - 1] (augment_ref.c note 5).
float reflect_coord(float v, int len)
{
    precise float c = v;
    const precise float sz2 = 2.0 * float(len);
    if (isnan(c) || isinf(c))
        return 0.0;
    if (c < 0.0) {
        if (len <= 1) {
            c = 0.0;
        } else {
            if (c < sz2)
                c = sz2 * trunc(-c / sz2) + c;
            c = c < float(-len) ? c + sz2 : -c - 1.0;
        }
    } else if (c > float(len - 1)) {
        if (len <= 1) {
            c = 0.0;
        } else {
            c -= sz2 * trunc(c / sz2);
            if (c >= float(len))
                c = sz2 - c - 1.0;
        }
    }
    return min(max(c, 0.0), float(len - 1));
}

float read_or_fill(uint base, float y, float x, uint ch)
{
    if (y < 0.0 || y >= float(p.H) || x < 0.0 || x >= float(p.W))
        return 0.0;
    return src[base + (uint(y) * p.W + uint(x)) * p.C + ch];
}

void main()
{
    uint group = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    uint i = group * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (i >= p.B * p.H * p.W)
        return;
    uint ox = i % p.W, oy = (i / p.W) % p.H, b = i / (p.W * p.H);
    uint pb = b * 20u, m = pb + (PASS == 0 ? 0u : 8u);
    uint sx = ox, sy = oy;
    if (PASS == 1) {
        if (prm[pb + 16u] != 0.0)
            sx = p.W - 1u - ox;
        if (prm[pb + 17u] != 0.0)
            sy = p.H - 1u - oy;
    }
    uint base = b * p.H * p.W * p.C, o = base + (oy * p.W + ox) * p.C;
    const precise float fx = float(sx), fy = float(sy);
    const precise float proj = prm[m + 6u] * fx + prm[m + 7u] * fy + 1.0;
    if (proj == 0.0) {
        for (uint ch = 0; ch < p.C; ch++)
            dst[o + ch] = 0.0;
        return;
    }
    const precise float xin = (prm[m + 0u] * fx + prm[m + 1u] * fy + prm[m + 2u]) / proj;
    const precise float yin = (prm[m + 3u] * fx + prm[m + 4u] * fy + prm[m + 5u]) / proj;
    const precise float x = reflect_coord(xin, int(p.W)), y = reflect_coord(yin, int(p.H));
    const precise float x0 = floor(x), y0 = floor(y), x1 = x0 + 1.0, y1 = y0 + 1.0;
    for (uint ch = 0; ch < p.C; ch++) {
        precise float top = (x1 - x) * read_or_fill(base, y0, x0, ch) +
                            (x - x0) * read_or_fill(base, y0, x1, ch);
        precise float bottom = (x1 - x) * read_or_fill(base, y1, x0, ch) +
                               (x - x0) * read_or_fill(base, y1, x1, ch);
        precise float v = (y1 - y) * top + (y - y0) * bottom;
        dst[o + ch] = v;
    }
}
