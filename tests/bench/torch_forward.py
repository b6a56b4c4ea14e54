"""PyTorch CPU forward throughput of an EfficientNet-B0 feature extractor with the same layer
shapes as vkdp's backbone (BN folded into conv biases, random weights: timing only).
usage: /usr/bin/python3 torch_forward.py [SECONDS] [BATCH...]
Prints "torch batch=N images_per_s=X" lines. channels_last layout, no_grad, one warm-up pass."""
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# (kernel, stride, expand, in, out, repeats) of EfficientNetB0
BLOCKS = [(3, 1, 1, 32, 16, 1), (3, 2, 6, 16, 24, 2), (5, 2, 6, 24, 40, 2), (3, 2, 6, 40, 80, 3),
          (5, 1, 6, 80, 112, 3), (5, 2, 6, 112, 192, 4), (3, 1, 6, 192, 320, 1)]


def correct_pad(k):
    # Keras correct_pad for even input sides: (left, right, top, bottom) = (k//2-1, k//2, ...)
    return (k // 2 - 1, k // 2, k // 2 - 1, k // 2)


class MBConv(nn.Module):
    def __init__(self, k, s, e, cin, cout):
        super().__init__()
        c = cin * e
        self.expand = nn.Conv2d(cin, c, 1) if e != 1 else None
        self.k, self.s = k, s
        self.dw = nn.Conv2d(c, c, k, s, padding=k // 2 if s == 1 else 0, groups=c)
        se = max(1, int(cin * 0.25))
        self.se_r = nn.Conv2d(c, se, 1)
        self.se_e = nn.Conv2d(se, c, 1)
        self.project = nn.Conv2d(c, cout, 1)
        self.residual = s == 1 and cin == cout

    def forward(self, x):
        h = F.silu(self.expand(x)) if self.expand is not None else x
        if self.s == 2:
            h = F.pad(h, correct_pad(self.k))
        h = F.silu(self.dw(h))
        g = torch.sigmoid(self.se_e(F.silu(self.se_r(F.adaptive_avg_pool2d(h, 1)))))
        h = self.project(h * g)
        return h + x if self.residual else h


class Features(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 32, 3, 2)
        blocks = []
        for k, s, e, cin, cout, r in BLOCKS:
            for i in range(r):
                blocks.append(MBConv(k, s if i == 0 else 1, e, cin if i == 0 else cout, cout))
        self.blocks = nn.Sequential(*blocks)
        self.top = nn.Conv2d(320, 1280, 1)
        self.register_buffer("scale", torch.rand(1, 3, 1, 1))
        self.register_buffer("shift", torch.rand(1, 3, 1, 1))

    def forward(self, x):
        x = x * self.scale + self.shift
        x = F.silu(self.stem(F.pad(x, correct_pad(3))))
        x = self.blocks(x)
        return F.adaptive_avg_pool2d(F.silu(self.top(x)), 1).flatten(1)


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    batches = [int(b) for b in sys.argv[2:]] or [8, 32]
    torch.set_num_threads(os.cpu_count())
    # random weights shrink activations into denormals, which x86 computes ~100x slower
    torch.set_flush_denormal(True)
    torch.manual_seed(0)
    # channels_last (NHWC, like ours) is PyTorch's fastest CPU layout here: mkldnn convolutions
    # skip the per-layer NCHW <-> blocked reorders (2.5x faster than NCHW on this machine)
    net = Features().eval().to(memory_format=torch.channels_last)
    print(f"torch {torch.__version__} threads={torch.get_num_threads()}", flush=True)
    with torch.no_grad():
        for b in batches:
            x = (torch.rand(b, 3, 224, 224) * 255).contiguous(memory_format=torch.channels_last)
            net(x)  # warm-up
            iters, t0 = 0, time.perf_counter()
            while True:
                y = net(x)
                iters += 1
                t = time.perf_counter() - t0
                if t >= seconds and iters >= 2:
                    break
            assert y.shape == (b, 1280)
            print(f"torch batch={b} images_per_s={b * iters / t:.2f} iters={iters}", flush=True)


if __name__ == "__main__":
    main()
