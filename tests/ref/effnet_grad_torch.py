#!/usr/bin/python3
"""Independent float64 PyTorch autograd reference for fine-tuning: gradients of a scalar loss
through two consecutive EfficientNetB0 blocks w.r.t. the input and every trainable tensor.

Written from Keras' keras/applications/efficientnet.py block() and its layers, not from vkdp's C
code: weights read by name with h5py (effnet_torch.Weights), BatchNormalization frozen in
inference mode (F.batch_norm(training=False), eps 1e-3: Keras' trainable=False BN), Keras'
asymmetric correct_pad before a stride-2 depthwise conv, squeeze-excite as GAP -> Conv2D(bias,
swish) -> Conv2D(bias, sigmoid) -> multiply, and the block's Dropout(drop_rate,
noise_shape=(None, 1, 1, 1)) in training mode as TF computes it: x * (1 / (1 - rate)) * keep, with
rate = drop_connect_rate * b / blocks = 0.2 * b / 16.0 for the b-th block (the keep bits are
inputs, so both sides drop the same samples). Trainable: expand/depthwise/se/project kernels and
the se biases; BN gamma/beta are frozen and get no gradient.

usage: effnet_grad_torch.py WEIGHTS.h5 OUTDIR
For each case writes OUTDIR/<case>.{x,r,keep}.f32 (inputs: block input [B,H,W,Cin], loss weights
r [B,Ho,Wo,Cout] with loss = sum(r * out), keep bits [2, B]) and OUTDIR/<case>.torch.<what>.f32
(float32 of the float64 results): out, dx, and for each block and trainable tensor
<block>_<layer>_<weight> in Keras' layout ([k,k,C,1] depthwise, [1,1,in,out] kernels).
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from effnet_torch import STAGES, Weights, conv, correct_pad, depthwise  # noqa: E402

BN_EPS = 1e-3
DROP_CONNECT_RATE = 0.2
# (name, blocks, B, H, W, keep bits per block per sample): block6d + block7a at their real 7x7
# (6d has drop connect; one sample dropped); block6a (stride 2) + block6b at the real 14x14 and at
# odd 11x9 (correct_pad on both parities); block1a (no expand conv) + block2a (k3, stride 2).
CASES = [
    ("b6d_b7a", ["block6d", "block7a"], 3, 7, 7, [[1, 0, 1], [1, 1, 1]]),
    ("b6a_b6b", ["block6a", "block6b"], 3, 14, 14, [[1, 1, 1], [1, 1, 0]]),
    ("b6a_b6b_odd", ["block6a", "block6b"], 2, 11, 9, [[1, 1], [0, 1]]),
    ("b1a_b2a", ["block1a", "block2a"], 2, 12, 15, [[1, 1], [1, 1]]),
]
TRAINABLE = [("expand_conv", "kernel:0"), ("dwconv", "depthwise_kernel:0"), ("se_reduce", "kernel:0"),
             ("se_reduce", "bias:0"), ("se_expand", "kernel:0"), ("se_expand", "bias:0"),
             ("project_conv", "kernel:0")]


def block_table():
    """name -> (b, kernel, stride, expand, filters_in, filters_out), as Keras' EfficientNet() loop."""
    table, b = {}, 0
    for s, (k, stride, expand, cin, cout, repeats) in enumerate(STAGES):
        for r in range(repeats):
            table[f"block{s + 1}{chr(ord('a') + r)}"] = (b, k, stride if r == 0 else 1, expand,
                                                         cin if r == 0 else cout, cout)
            b += 1
    return table, float(b)


def frozen_bn(x, wt, layer):
    return F.batch_norm(x, wt.get(layer, "moving_mean:0"), wt.get(layer, "moving_variance:0"),
                        weight=wt.get(layer, "gamma:0"), bias=wt.get(layer, "beta:0"), training=False,
                        eps=BN_EPS)


def block(x, wt, p, name, spec, blocks, keep):
    """Keras' block() in training mode with frozen BN; p: the trainable tensors (leaves)."""
    b, k, stride, expand, cin, cout = spec
    inputs = x
    if expand != 1:
        x = F.silu(frozen_bn(conv(x, p[(name, "expand_conv", "kernel:0")]), wt, name + "_expand_bn"))
    if stride == 2:
        x = F.pad(x, correct_pad(x.shape[2], x.shape[3], k))
    else:
        x = F.pad(x, (k // 2,) * 4)
    x = depthwise(x, p[(name, "dwconv", "depthwise_kernel:0")], stride)
    x = F.silu(frozen_bn(x, wt, name + "_bn"))
    se = x.mean(dim=(2, 3), keepdim=True)
    se = F.silu(conv(se, p[(name, "se_reduce", "kernel:0")], bias=p[(name, "se_reduce", "bias:0")]))
    se = torch.sigmoid(conv(se, p[(name, "se_expand", "kernel:0")], bias=p[(name, "se_expand", "bias:0")]))
    x = x * se
    x = frozen_bn(conv(x, p[(name, "project_conv", "kernel:0")]), wt, name + "_project_bn")
    if stride == 1 and cin == cout:
        rate = DROP_CONNECT_RATE * b / blocks
        if rate > 0:
            mask = torch.tensor(keep, dtype=x.dtype).view(-1, 1, 1, 1)
            x = x * (1.0 / (1.0 - rate)) * mask
        x = x + inputs
    return x


def run_case(wt, table, blocks, outdir, seed, case, names, B, H, W, keep):
    rng = np.random.RandomState(seed)
    cin = table[names[0]][4]
    x_np = rng.standard_normal((B, H, W, cin)).astype(np.float32)
    x = torch.from_numpy(x_np.astype(np.float64)).permute(0, 3, 1, 2).requires_grad_()
    p = {}
    for name in names:
        for layer, weight in TRAINABLE:
            if layer == "expand_conv" and table[name][3] == 1:
                continue
            p[(name, layer, weight)] = wt.get(f"{name}_{layer}", weight).requires_grad_()
    y = x
    for i, name in enumerate(names):
        y = block(y, wt, p, name, table[name], blocks, keep[i])
    out = y.permute(0, 2, 3, 1)
    r_np = rng.uniform(-1, 1, out.shape).astype(np.float32)
    loss = (torch.from_numpy(r_np.astype(np.float64)) * out).sum()
    loss.backward()

    def save(what, arr):
        np.ascontiguousarray(arr, dtype=np.float32).tofile(os.path.join(outdir, f"{case}.{what}.f32"))

    save("x", x_np)
    save("r", r_np)
    save("keep", np.array(keep, dtype=np.float32))
    save("torch.out", out.detach().numpy())
    save("torch.dx", x.grad.permute(0, 2, 3, 1).numpy())
    for (name, layer, weight), t in p.items():
        save(f"torch.{name}_{layer}_{weight.split(':')[0]}", t.grad.numpy())
    print(f"{case}: {names} B={B} {H}x{W}: out {tuple(out.shape)}, loss {loss.item():.6f}, "
          f"|dx|max {x.grad.abs().max().item():.4g}")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    weights, outdir = sys.argv[1:]
    os.makedirs(outdir, exist_ok=True)
    torch.set_num_threads(2)
    wt = Weights(weights)
    table, blocks = block_table()
    for i, (case, names, B, H, W, keep) in enumerate(CASES):
        run_case(wt, table, blocks, outdir, 1234 + i, case, names, B, H, W, keep)


if __name__ == "__main__":
    main()
