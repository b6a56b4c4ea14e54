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
    """Inference-mode BatchNormalization with the file's own statistics."""
    return F.batch_norm(x, wt.get(layer, "moving_mean:0"), wt.get(layer, "moving_variance:0"),
                        weight=wt.get(layer, "gamma:0"), bias=wt.get(layer, "beta:0"), training=False, eps=BN_EPS)


def conv(x, kernel_hwio, stride=1, padding=0, bias=None):
    return F.conv2d(x, kernel_hwio.permute(3, 2, 0, 1), bias=bias, stride=stride, padding=padding)


def depthwise(x, kernel, stride):
    """"valid" depthwise conv of padded x [B, C, H, W] with Keras' kernel [k, k, C, 1].

    Written as its definition, a sum over the k*k taps of strided slices: F.conv2d(groups=C) is
    the same thing, but in float64 it takes torch's per-group slow path (~20 s for 8 images)."""
    k = kernel.shape[0]
    oh = (x.shape[2] - k) // stride + 1
    ow = (x.shape[3] - k) // stride + 1
    out = torch.zeros(x.shape[0], x.shape[1], oh, ow, dtype=x.dtype)
    for ky in range(k):
        for kx in range(k):
            tap = x[:, :, ky:ky + stride * (oh - 1) + 1:stride, kx:kx + stride * (ow - 1) + 1:stride]
            out.addcmul_(tap, kernel[ky, kx, :, 0].view(1, -1, 1, 1))
    return out


def swish(x):
    return F.silu(x)  # x * sigmoid(x)


def block(x, wt, name, k, stride, expand, cin, cout):
    inputs = x
    if expand != 1:
        x = swish(bn(conv(x, wt.get(name + "_expand_conv", "kernel:0")), wt, name + "_expand_bn"))
    if stride == 2:
        x = F.pad(x, correct_pad(x.shape[2], x.shape[3], k))
    else:
        x = F.pad(x, (k // 2,) * 4)  # "same" at stride 1, odd k
    x = depthwise(x, wt.get(name + "_dwconv", "depthwise_kernel:0"), stride)
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
