#!/usr/bin/python3
"""Checks vkdp's augmentation reference (trainer/ops/augment_ref.c) against an independent NumPy
implementation of the same Keras/TF formulas, on real flower photos.

The NumPy side is written from Keras' layers and TF's kernels, vectorised over the whole image:
get_rotation_matrix / get_translation_matrix (Keras), ImageProjectiveTransformV3 with
fill_mode="reflect", interpolation="bilinear", fill_value 0 (TF image_ops.h: MapCoordinate
<FILL_REFLECT>, bilinear_interpolation, float32 arithmetic), RandomFlip's left-right / up-down
reversal, AdjustContrastv2 (mean + f * (x - mean), mean = sum * (1/HW)) and RandomContrast's
clip to [0, 255]. Each stage is compared on the C side's previous stage (so an error is located)
and the whole chain from the original photo.

It also re-implements Philox-4x32-10 and the documented mapping of its outputs to parameters
(augment_ref.h: stream 0x41554700 + {0, 1}, ctr = (stream, gpos lo, gpos hi, epoch), key = seed,
u = (r >> 8) / 2^24, value = u * (max - min) + min in float32) and requires the C draws to be
bit-identical, for every flip mode.

usage: augment_ref.py EXE DATA_DIR
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

F32 = np.float32
# (angle rad, dy px, dx px, flip_h, flip_v, contrast): identity, each layer alone at its extremes
# (+-0.15 * 2 pi, +-0.1 * 224 px, factor 0.9 / 1.1), and mixes.
PARAMS = np.array([
    [0.0, 0.0, 0.0, 0, 0, 1.0],
    [-0.15 * 2 * np.pi, 0.0, 0.0, 0, 0, 1.0],
    [0.15 * 2 * np.pi, 0.0, 0.0, 0, 0, 1.0],
    [0.0, 22.4, -22.4, 0, 0, 1.0],
    [0.0, -3.0, 5.0, 1, 0, 0.9],
    [0.3171, -7.25, 13.61, 1, 0, 1.0999],
    [-0.7013, 11.07, 5.5, 1, 1, 0.9314],
], dtype=F32)
# per-stage and whole-chain tolerances in pixel units ([0, 255]). Both sides follow TF's float32
# operation order and measure bit-identical here; the slack is for another libm's cosf/sinf (an
# ulp of the angle moves a coordinate by ~1e-5 px). A wrong fill mode or pixel centre is >= 1.
TOL_STAGE = 1e-3
TOL_CHAIN = 1e-3


def rotation_matrix(angle, h, w):
    """Keras get_rotation_matrix in float32 (tf.cos/tf.sin of a float32 angle)."""
    a = np.float64(F32(angle))
    c, s = F32(np.cos(a)), F32(np.sin(a))
    h1, w1 = F32(h) - F32(1), F32(w) - F32(1)
    x_off = (w1 - (c * w1 - s * h1)) / F32(2)
    y_off = (h1 - (s * w1 + c * h1)) / F32(2)
    return np.array([c, -s, x_off, s, c, y_off, 0, 0], dtype=F32)


def translation_matrix(dy, dx):
    return np.array([1, 0, -F32(dx), 0, 1, -F32(dy), 0, 0], dtype=F32)


def mirror(c, n):
    """scipy's "mirror" (d c b | a b c d | c b a), for the control only: not what TF does."""
    c = np.abs(c)
    c = np.where(c > n - 1, 2 * (n - 1) - c, c)
    return np.clip(c, 0, n - 1).astype(F32)


def reflect(c, n):
    """TF MapCoordinate<FILL_REFLECT> on an array of float32 coordinates, then the clamp."""
    if n <= 1:
        return np.zeros_like(c)
    sz2, fn = F32(2 * n), F32(n)
    neg = np.where(c < sz2, sz2 * np.trunc(-c / sz2) + c, c)
    neg = np.where(neg < -fn, neg + sz2, -neg - F32(1))
    pos = c - sz2 * np.trunc(c / sz2)
    pos = np.where(pos >= fn, sz2 - pos - F32(1), pos)
    out = np.where(c < 0, neg, np.where(c > fn - F32(1), pos, c))
    return np.clip(out, F32(0), fn - F32(1)).astype(F32)


def transform(img, t, fill=reflect):
    """ImageProjectiveTransformV3(reflect, bilinear, fill 0) of one float32 [H, W, C] image."""
    h, w, _ = img.shape
    ys, xs = np.meshgrid(np.arange(h, dtype=F32), np.arange(w, dtype=F32), indexing="ij")
    k = t[6] * xs + t[7] * ys + F32(1)
    x = fill((t[0] * xs + t[1] * ys + t[2]) / k, w)
    y = fill((t[3] * xs + t[4] * ys + t[5]) / k, h)
    x0, y0 = np.floor(x), np.floor(y)
    x1, y1 = x0 + F32(1), y0 + F32(1)
    padded = np.zeros((h + 1, w + 1, img.shape[2]), dtype=F32)  # row/column h, w: the fill value
    padded[:h, :w] = img

    def at(yy, xx):
        return padded[yy.astype(np.int64), xx.astype(np.int64)]

    wx0, wx1 = (x1 - x)[..., None], (x - x0)[..., None]
    top = wx0 * at(y0, x0) + wx1 * at(y0, x1)
    bottom = wx0 * at(y1, x0) + wx1 * at(y1, x1)
    return ((y1 - y)[..., None] * top + (y - y0)[..., None] * bottom).astype(F32)


def flip(img, fh, fv):
    if fh:
        img = img[:, ::-1]
    if fv:
        img = img[::-1]
    return np.ascontiguousarray(img)


def contrast(img, f):
    h, w, _ = img.shape
    mean = F32(img.astype(np.float64).sum(axis=(0, 1))) * (F32(1) / F32(h * w))
    return np.clip(mean + F32(f) * (img - mean), F32(0), F32(255)).astype(F32)


def stages(img, p):
    """The four stages of the chain on (the C side's) inputs: returns a function per stage."""
    return [lambda x: transform(x, rotation_matrix(p[0], *img.shape[:2])),
            lambda x: transform(x, translation_matrix(p[1], p[2])),
            lambda x: flip(x, p[3] != 0, p[4] != 0),
            lambda x: contrast(x, p[5])]


def check_images(exe, tmp, photos, h, w):
    imgs = np.stack([np.asarray(Image.open(p).convert("RGB").resize((w, h), Image.BILINEAR), dtype=F32)
                     for p in photos])
    n = len(photos)
    imgs.tofile(os.path.join(tmp, "in.f32"))
    PARAMS.tofile(os.path.join(tmp, "params.f32"))
    out_path = os.path.join(tmp, "out.f32")
    subprocess.run([exe, "images", os.path.join(tmp, "in.f32"), str(n), str(h), str(w),
                    os.path.join(tmp, "params.f32"), str(len(PARAMS)), out_path], check=True)
    got = np.fromfile(out_path, dtype=F32).reshape(n, len(PARAMS), 4, h, w, 3)
    fails, worst_stage, worst_chain = 0, 0.0, 0.0
    for i in range(n):
        for j, p in enumerate(PARAMS):
            fns = stages(imgs[i], p)
            prev, chain = imgs[i], imgs[i]
            for s, fn in enumerate(fns):
                d = float(np.abs(fn(prev) - got[i, j, s]).max())
                chain = fn(chain)
                worst_stage = max(worst_stage, d)
                if d > TOL_STAGE:
                    print(f"FAIL {h}x{w} image {i} params {j} stage {s}: max |C - numpy| = {d:.3e}")
                    fails += 1
                prev = got[i, j, s]
            d = float(np.abs(chain - got[i, j, 3]).max())
            worst_chain = max(worst_chain, d)
            if d > TOL_CHAIN:
                print(f"FAIL {h}x{w} image {i} params {j} chain: max |C - numpy| = {d:.3e}")
                fails += 1
    # identity parameters: every stage returns the photo (contrast 1: mean + (x - mean), 1 ulp)
    ident = got[:, 0]
    if not (np.array_equal(ident[:, 0], imgs) and np.array_equal(ident[:, 2], imgs)
            and np.abs(ident[:, 3] - imgs).max() <= 3e-5):
        print(f"FAIL {h}x{w}: identity parameters changed the image")
        fails += 1
    # control: the fill mode is exercised (the extreme rotation's corners come from the reflection)
    wrong = transform(imgs[0], rotation_matrix(PARAMS[1][0], h, w), fill=mirror)
    d = float(np.abs(wrong - got[0, 1, 0]).max())
    print(f"{'ok' if d > 1 else 'FAIL'}   control {h}x{w}: scipy's 'mirror' instead of TF's 'reflect' differs "
          f"by {d:.3g} (must be > 1)")
    fails += d <= 1
    print(f"{'ok' if not fails else 'FAIL'}   {h}x{w}, {n} photos x {len(PARAMS)} parameter sets: "
          f"worst stage |C - numpy| {worst_stage:.3e} (tol {TOL_STAGE}), chain {worst_chain:.3e} "
          f"(tol {TOL_CHAIN})")
    return fails


MASK32 = 0xFFFFFFFF


def philox4x32_10(ctr, key):
    c0, c1, c2, c3 = ctr
    k0, k1 = key
    for _ in range(10):
        p0, p1 = 0xD2511F53 * c0, 0xCD9E8D57 * c2
        c0, c1, c2, c3 = ((p1 >> 32) ^ c1 ^ k0) & MASK32, p1 & MASK32, ((p0 >> 32) ^ c3 ^ k1) & MASK32, p0 & MASK32
        k0, k1 = (k0 + 0x9E3779B9) & MASK32, (k1 + 0xBB67AE85) & MASK32
    return c0, c1, c2, c3


def draw(seed, epoch, gpos, h, w, mode, rot=0.15, hf=0.1, wf=0.1, cf=0.1):
    key = (seed & MASK32, seed >> 32)

    def u(r):
        return F32(r >> 8) * F32(1.0 / 16777216.0)

    def uniform(r, lo, hi):
        return u(r) * (F32(hi) - F32(lo)) + F32(lo)

    r = philox4x32_10((0x41554700, gpos & MASK32, gpos >> 32, epoch), key)
    angle = uniform(r[0], -rot * 2.0 * 3.141592653589793, rot * 2.0 * 3.141592653589793)
    dy = uniform(r[1], -hf, hf) * F32(h)
    dx = uniform(r[2], -wf, wf) * F32(w)
    cfac = uniform(r[3], 1.0 - cf, 1.0 + cf)
    r = philox4x32_10((0x41554701, gpos & MASK32, gpos >> 32, epoch), key)
    fh = float(bool(mode & 1) and u(r[0]) >= F32(0.5))
    fv = float(bool(mode & 2) and u(r[1]) >= F32(0.5))
    return np.array([angle, dy, dx, fh, fv, cfac], dtype=F32)


def check_draws(exe, tmp):
    fails = 0
    for seed, epoch, gpos0, mode in [(123, 0, 0, 1), (123, 7, 4294967290, 3), (2**63 + 12345, 1, 1000, 2),
                                     (0, 0, 0, 0)]:
        count, h, w = 64, 224, 189
        path = os.path.join(tmp, "draws.f32")
        subprocess.run([exe, "draw", str(seed), str(epoch), str(gpos0), str(count), str(h), str(w), str(mode),
                        path], check=True)
        got = np.fromfile(path, dtype=F32).reshape(count, 6)
        ref = np.stack([draw(seed, epoch, gpos0 + i, h, w, mode) for i in range(count)])
        same = np.array_equal(got.view(np.uint32), ref.view(np.uint32))
        print(f"{'ok' if same else 'FAIL'}   draws seed {seed} epoch {epoch} gpos {gpos0}.. flip mode {mode}: "
              f"{'bit-identical' if same else 'differ'} ({count} samples)")
        fails += not same
    return fails


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    exe, data = sys.argv[1:]
    classes = sorted(d for d in os.listdir(data) if os.path.isdir(os.path.join(data, d)))
    photos = []
    for c in classes[:3]:
        files = sorted(f for f in os.listdir(os.path.join(data, c)) if f.lower().endswith(".jpg"))
        photos.append(os.path.join(data, c, files[len(files) // 3]))
    fails = 0
    with tempfile.TemporaryDirectory(prefix="vkdp-augment-") as tmp:
        fails += check_images(exe, tmp, photos, 224, 224)
        fails += check_images(exe, tmp, photos[:1], 189, 162)  # odd/even, H != W: axes not swapped
        fails += check_draws(exe, tmp)
    print("augmentation matches NumPy" if not fails else f"{fails} FAILURES")
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
