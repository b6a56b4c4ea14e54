#!/usr/bin/python3
"""Checks vkdp's resize against a NumPy re-implementation of TF's ResizeBilinear with
half_pixel_centers=True (what tf.image.resize(method="bilinear", antialias=False) runs), on real
decoded images: the C program dumps the decoded uint8 RGB and its resize; NumPy resizes the dumped
uint8 and compares (<= 1e-4 absolute). Decode checks against Pillow (same libjpeg-turbo, accurate
integer DCT): vkdp's accurate-DCT decode must match it exactly (max |diff| <= 1 allowed for a
different libjpeg build); the fast-DCT decode that Keras/TF uses must stay close (mean |diff| < 3).
usage: data_resize_ref.py EXE DATA_DIR
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

try:
    from PIL import Image
except ImportError:  # the resize check does not need it
    Image = None


def tf_resize_bilinear(img, out_h, out_w):
    """TF ResizeBilinear (half_pixel_centers): float32 arithmetic in TF's order."""
    in_h, in_w, _ = img.shape

    def weights(out_size, in_size):
        scale = np.float32(in_size) / np.float32(out_size)
        src = (np.arange(out_size, dtype=np.float32) + np.float32(0.5)) * scale - np.float32(0.5)
        f = np.floor(src)
        lower = np.maximum(f.astype(np.int64), 0)
        upper = np.minimum(np.ceil(src).astype(np.int64), in_size - 1)
        return lower, upper, (src - f).astype(np.float32)

    ylo, yhi, yl = weights(out_h, in_h)
    xlo, xhi, xl = weights(out_w, in_w)
    x = img.astype(np.float32)
    tl, tr = x[ylo][:, xlo], x[ylo][:, xhi]
    bl, br = x[yhi][:, xlo], x[yhi][:, xhi]
    xl = xl[None, :, None]
    yl = yl[:, None, None]
    top = tl + (tr - tl) * xl
    bottom = bl + (br - bl) * xl
    return top + (bottom - top) * yl


def main():
    exe, data = sys.argv[1], sys.argv[2]
    classes = sorted(d for d in os.listdir(data) if os.path.isdir(os.path.join(data, d)))
    images = []
    for c in classes:
        files = sorted(f for f in os.listdir(os.path.join(data, c)) if f.lower().endswith(".jpg"))
        images += [os.path.join(data, c, files[0]), os.path.join(data, c, files[len(files) // 2])]
    sizes = [(224, 224), (7, 5), (331, 517), (1, 1)]
    fails = 0
    worst = 0.0
    with tempfile.TemporaryDirectory(prefix="vkdp-resize-") as tmp:
        for i, path in enumerate(images):
            prefix = os.path.join(tmp, f"img{i}")
            args = [exe, path, prefix] + [str(v) for hw in sizes for v in hw]
            out = subprocess.run(args, check=True, capture_output=True, text=True).stdout.split()
            w, h = int(out[0]), int(out[1])
            rgb = np.fromfile(prefix + ".rgb", dtype=np.uint8).reshape(h, w, 3)
            for oh, ow in sizes:
                got = np.fromfile(f"{prefix}_{oh}x{ow}.f32", dtype=np.float32).reshape(oh, ow, 3)
                ref = tf_resize_bilinear(rgb, oh, ow)
                err = float(np.max(np.abs(got.astype(np.float64) - ref)))
                worst = max(worst, err)
                ok = err <= 1e-4 and got.min() >= 0 and got.max() <= 255
                fails += not ok
                if not ok:
                    print(f"FAIL resize {os.path.basename(path)} {w}x{h} -> {ow}x{oh}: max abs {err:.3e}")
            if Image is not None:
                pil = np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)
                islow = np.fromfile(prefix + ".islow", dtype=np.uint8).reshape(h, w, 3)
                d = np.abs(pil - islow.astype(np.int16))
                ok = pil.shape == islow.shape and int(d.max()) <= 1
                fails += not ok
                print(f"{'ok' if ok else 'FAIL'} accurate-DCT decode {os.path.basename(path)} {w}x{h} vs Pillow: "
                      f"max |diff| {d.max()}, {int((d > 0).sum())} values differ")
                d = np.abs(pil - rgb.astype(np.int16))
                ok = float(d.mean()) < 3
                fails += not ok
                print(f"{'ok' if ok else 'FAIL'} fast-DCT (TF) decode {os.path.basename(path)} vs Pillow ISLOW: "
                      f"mean |diff| {d.mean():.3f}, max {d.max()}")
    print(f"{'ok' if not fails else 'FAIL'} resize {len(images)} images x {len(sizes)} sizes vs NumPy TF "
          f"bilinear: worst max abs {worst:.3e} (tol 1e-4)")
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
