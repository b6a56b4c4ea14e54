#!/usr/bin/python3
"""Inputs and PyTorch reference features for test_effnet_ref.

usage: make_effnet_inputs.py SHARED_DIR OUTDIR
Writes, for each case, OUTDIR/<case>.images.f32 (raw float32 [B, H, W, 3] RGB in [0, 255]) and
OUTDIR/<case>.torch.f32 (effnet_torch.py's features [B, 1280]):
  flowers224: 8 real flower photos (two from each of four classes) resized to 224x224;
  odd189x162: 2 photos at 189x162, so that Keras' correct_pad sees odd and even sides on both axes.
The resize method does not matter: C and torch get the identical pixels.
"""
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import effnet_torch  # noqa: E402

PHOTOS = [
    "daisy/100080576_f52e8ee070_n.jpg", "daisy/10140303196_b88d3d6cec.jpg",
    "roses/10090824183_d02c613f10_m.jpg", "roses/102501987_3cdb8e5394_n.jpg",
    "sunflowers/1008566138_6927679c8a.jpg", "sunflowers/1022552002_2b93faf9e7_n.jpg",
    "tulips/100930342_92e8746431_n.jpg", "tulips/10094729603_eeca3f2cb6.jpg",
]
CASES = [("flowers224", PHOTOS, 224, 224), ("odd189x162", [PHOTOS[1], PHOTOS[6]], 189, 162)]


def load(shared, rel, h, w):
    path = os.path.join(shared, "data", "flower_photos", rel)
    img = Image.open(path).convert("RGB").resize((w, h), Image.BILINEAR)
    return np.asarray(img, dtype=np.float32)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    shared, outdir = sys.argv[1:]
    os.makedirs(outdir, exist_ok=True)
    weights = effnet_torch.Weights(os.path.join(shared, "weights", "efficientnetb0_notop.h5"))
    import torch
    torch.set_num_threads(2)
    for case, photos, h, w in CASES:
        images = np.stack([load(shared, p, h, w) for p in photos])
        images.tofile(os.path.join(outdir, case + ".images.f32"))
        with torch.no_grad():
            feats = effnet_torch.features(weights, torch.from_numpy(images.astype(np.float64)))
        feats.numpy().astype(np.float32).tofile(os.path.join(outdir, case + ".torch.f32"))
        print(f"{case}: {images.shape} -> features mean {feats.mean():.6f} max {feats.max():.6f}")


if __name__ == "__main__":
    main()
