#!/usr/bin/python3
"""Independent reference for Keras' EfficientNetB0(include_top=False) feature extractor.

Functional PyTorch (float64) written from Keras' keras/applications/efficientnet.py, not from
vkdp's C code: weights read by name with h5py, BatchNorm applied explicitly with the file's
unfolded statistics (eps 1e-3, no folding), Keras' asymmetric correct_pad before every stride-2
conv (torchvision's symmetric padding differs and is not used).

usage: effnet_torch.py WEIGHTS.h5 IMAGES.f32 B H W FEATURES.f32
  IMAGES.f32: raw float32 [B, H, W, 3] RGB in [0, 255]; FEATURES.f32: raw float32 [B, 1280]
  (global average of the top activation).
"""
import sys

import h5py
import numpy as np
import torch
import torch.nn.functional as F

BN_EPS = 1e-3
# (kernel, stride, expand, in, out, repeats): keras DEFAULT_BLOCKS_ARGS, B0 coefficients 1.0
STAGES = [(3, 1, 1, 32, 16, 1), (3, 2, 6, 16, 24, 2), (5, 2, 6, 24, 40, 2), (3, 2, 6, 40, 80, 3),
          (5, 1, 6, 80, 112, 3), (5, 2, 6, 112, 192, 4), (3, 1, 6, 192, 320, 1)]


class Weights:
    def __init__(self, path):
        self.f = h5py.File(path, "r")

    def get(self, layer, weight):
        g = self.f[layer]
        for name in g.attrs["weight_names"]:
            name = name.decode() if isinstance(name, bytes) else name
            if name.split("/")[-1] == weight:
                return torch.from_numpy(np.asarray(g[name], dtype=np.float64))
        raise KeyError(f"{layer}/{weight}")


def correct_pad(h, w, k):
    """keras.applications.imagenet_utils.correct_pad -> F.pad's (left, right, top, bottom)."""
    adjust = (1 - h % 2, 1 - w % 2)
    correct = (k // 2, k // 2)
    return (correct[1] - adjust[1], correct[1], correct[0] - adjust[0], correct[0])


def bn(x, wt, layer):
    g, b = wt.get(layer, "gamma:0"), wt.get(layer, "beta:0")
    m, v = wt.get(layer, "moving_mean:0"), wt.get(layer, "moving_variance:0")
    shape = (1, -1, 1, 1)
    return (x - m.view(shape)) / torch.sqrt(v.view(shape) + BN_EPS) * g.view(shape) + b.view(shape)


def conv(x, kernel_hwio, stride=1, padding=0, bias=None):
    return F.conv2d(x, kernel_hwio.permute(3, 2, 0, 1), bias=bias, stride=stride, padding=padding)


def swish(x):
    return x * torch.sigmoid(x)


def block(x, wt, name, k, stride, expand, cin, cout):
    inputs = x
    if expand != 1:
        x = swish(bn(conv(x, wt.get(name + "_expand_conv", "kernel:0")), wt, name + "_expand_bn"))
    dw = wt.get(name + "_dwconv", "depthwise_kernel:0")  # [k, k, C, 1] -> [C, 1, k, k]
    if stride == 2:
        x = F.pad(x, correct_pad(x.shape[2], x.shape[3], k))
        pad = 0
    else:
        pad = k // 2  # "same" at stride 1, odd k
    x = F.conv2d(x, dw.permute(2, 3, 0, 1), stride=stride, padding=pad, groups=x.shape[1])
    x = swish(bn(x, wt, name + "_bn"))
    # squeeze and excite, reduced to max(1, int(cin * 0.25)) channels
    se = x.mean(dim=(2, 3), keepdim=True)
    se = swish(conv(se, wt.get(name + "_se_reduce", "kernel:0"), bias=wt.get(name + "_se_reduce", "bias:0")))
    se = torch.sigmoid(conv(se, wt.get(name + "_se_expand", "kernel:0"), bias=wt.get(name + "_se_expand", "bias:0")))
    x = x * se
    x = bn(conv(x, wt.get(name + "_project_conv", "kernel:0")), wt, name + "_project_bn")
    if stride == 1 and cin == cout:
        x = x + inputs
    return x


def features(wt, images):
    """images: float64 [B, H, W, 3] in [0, 255] -> [B, 1280]"""
    x = images.permute(0, 3, 1, 2)
    x = x * (1.0 / 255.0)  # Rescaling(1/255)
    mean = wt.get("normalization", "mean:0").view(1, 3, 1, 1)
    var = wt.get("normalization", "variance:0").view(1, 3, 1, 1)
    x = (x - mean) / torch.clamp(torch.sqrt(var), min=1e-7)  # Normalization
    x = x * (1.0 / torch.sqrt(var))  # Rescaling(1/sqrt(stddev)): 'variance' holds the stddev
    x = F.pad(x, correct_pad(x.shape[2], x.shape[3], 3))
    x = swish(bn(conv(x, wt.get("stem_conv", "kernel:0"), stride=2), wt, "stem_bn"))
    for s, (k, stride, expand, cin, cout, repeats) in enumerate(STAGES):
        for r in range(repeats):
            name = f"block{s + 1}{chr(ord('a') + r)}"
            x = block(x, wt, name, k, stride if r == 0 else 1, expand, cin if r == 0 else cout, cout)
    x = swish(bn(conv(x, wt.get("top_conv", "kernel:0")), wt, "top_bn"))
    return x.mean(dim=(2, 3))


def main():
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    weights, images_path, b, h, w, out_path = sys.argv[1:]
    b, h, w = int(b), int(h), int(w)
    raw = np.fromfile(images_path, dtype=np.float32)
    if raw.size != b * h * w * 3:
        sys.exit(f"{images_path}: {raw.size} floats, expected {b}x{h}x{w}x3")
    torch.set_num_threads(2)
    with torch.no_grad():
        feats = features(Weights(weights), torch.from_numpy(raw.reshape(b, h, w, 3).astype(np.float64)))
    feats.numpy().astype(np.float32).tofile(out_path)
    print(f"effnet_torch: {b}x{h}x{w} -> {out_path}, features mean {feats.mean():.6f} max {feats.max():.6f}")


if __name__ == "__main__":
    main()
