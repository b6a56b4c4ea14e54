#!/usr/bin/python3
"""One step of phase 2 (fine-tuning) by vkdp against an independent float64 PyTorch autograd
reference: the gradient of every trainable tensor (backbone and head), the step's loss, the head
BatchNormalization's moving statistics and the Adam update.

The reference is written from Keras (effnet_torch.py's functional EfficientNetB0, frozen BN in
inference mode; the tutorial's head: BatchNormalization in training mode with batch statistics,
biased variance, eps 1e-3 and momentum 0.99, Dense, softmax cross-entropy averaged over the global
batch), not from vkdp's C code. Its inputs are vkdp's own decoded pixels (test_dump_inputs), so
the comparison starts from the same numbers, and the head it starts from is vkdp's switch
checkpoint's. The run it checks must be one phase-2 step over the whole training set (batch >=
training images: the gradient then does not depend on the shuffle), with --dropout 0 and
--drop-connect-rate 0 (the reference cannot repeat vkdp's random draws).

vkdp's gradient is read from the Adam state after that step: the new Adam of phase 2 starts from
zero moments, so m = (1 - beta1) g and v = (1 - beta2) g^2 after its first step.

usage: finetune_step_torch.py WEIGHTS.h5 DATA_DIR IMAGES.f32 SIZE SWITCH.h5 AFTER.h5 FIRST LR
  IMAGES.f32: float32 [N, SIZE, SIZE, 3] of every image of DATA_DIR in Keras' index order;
  SWITCH.h5: the checkpoint at the end of the head phase; AFTER.h5: one phase-2 step later;
  FIRST: the first trainable block (block1a..block7a) or top_conv; LR: --fine-tune-lr.
Exit 0 when every figure is within its bound (printed), 1 otherwise."""
import os
import sys

import h5py
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data_split_ref import keras_index, keras_split  # noqa: E402
from effnet_torch import STAGES, Weights, features  # noqa: E402

BETA1, BETA2, ADAM_EPS = 0.9, 0.999, 1e-7
HEAD = ["head_bn/head_bn/gamma:0", "head_bn/head_bn/beta:0", "pred/pred/kernel:0", "pred/pred/bias:0"]
# Bounds, relative to the largest element of the reference's tensor: float32 through the network
# against float64 (measured: gradients 5.6e-6, loss 3.7e-7; two blocks alone agree to 2.8e-6).
GRAD_BOUND, LOSS_BOUND, STAT_BOUND, ADAM_BOUND = 1e-4, 1e-5, 1e-5, 1e-4


class Trainable(Weights):
    """The weights file, with the trainable layers' kernels and SE biases as float64 leaves."""

    def __init__(self, path, trainable):
        super().__init__(path)
        self.trainable, self.leaves = trainable, {}

    def get(self, layer, weight):
        if layer not in self.trainable or weight not in ("kernel:0", "depthwise_kernel:0", "bias:0"):
            return super().get(layer, weight)
        key = f"{layer}/{layer}/{weight}"
        if key not in self.leaves:
            self.leaves[key] = super().get(layer, weight).clone().requires_grad_(True)
        return self.leaves[key]


def read(f, name):
    return torch.from_numpy(np.asarray(f[name][...], dtype=np.float64))


def main():
    if len(sys.argv) != 9:
        sys.exit(__doc__)
    weights, data, images_path, size, switch, after, first_name, lr = sys.argv[1:]
    size, lr = int(size), float(lr)
    names = [f"block{s + 1}{chr(ord('a') + r)}" for s, st in enumerate(STAGES) for r in range(st[5])]
    first = len(names) if first_name == "top_conv" else names.index(first_name)
    trainable = {"top_conv"}
    for name in names[first:]:
        trainable |= {name + s for s in ("_expand_conv", "_dwconv", "_se_reduce", "_se_expand", "_project_conv")}
    paths, _ = keras_index(data)
    train, _ = keras_split(data, 123, 0.2)
    raw = np.fromfile(images_path, dtype=np.float32)
    if raw.size != len(paths) * size * size * 3:
        sys.exit(f"{images_path}: {raw.size} floats, expected {len(paths)}x{size}x{size}x3")
    pos = {p: i for i, p in enumerate(paths)}
    pick = [pos[p] for p, _ in train]
    images = torch.from_numpy(raw.reshape(len(paths), size, size, 3)[pick].astype(np.float64))
    labels = torch.tensor([y for _, y in train])
    torch.set_num_threads(2)

    # effnet_torch's forward as it is: autograd records from the first trainable leaf on
    wt = Trainable(weights, trainable)
    feats = features(wt, images)
    with h5py.File(switch, "r") as f:
        head = {n: read(f, "head/" + n).requires_grad_(n in HEAD) for n in
                HEAD + ["head_bn/head_bn/moving_mean:0", "head_bn/head_bn/moving_variance:0"]}
    bmean = feats.mean(0)
    bvar = ((feats - bmean) ** 2).mean(0)  # Keras' BatchNormalization: tf.nn.moments, biased
    z = (feats - bmean) / torch.sqrt(bvar + 1e-3) * head[HEAD[0]] + head[HEAD[1]]
    logits = z @ head[HEAD[2]] + head[HEAD[3]]
    loss = F.cross_entropy(logits, labels)  # softmax + categorical cross-entropy, batch mean
    loss.backward()
    ref = {n: head[n].grad for n in HEAD}
    ref.update({k: v.grad for k, v in wt.leaves.items()})
    print(f"finetune_step_torch: {len(train)} training images from {first_name}, {len(wt.leaves)} backbone "
          f"tensors, loss {loss.item():.6f}")

    fails = 0

    def check(what, worst, bound):
        nonlocal fails
        ok = worst <= bound
        fails += not ok
        print(f"{'ok' if ok else 'FAIL'} {what}: {worst:.3g} (bound {bound:g})")

    with h5py.File(after, "r") as f:
        steps = f["metrics/step"][...]
        check(f"the step's loss {steps[-1]['loss']:.6f} vs the reference's",
              abs(steps[-1]["loss"] - loss.item()) / loss.item(), LOSS_BOUND)
        worst, worst_name, total = 0.0, "", 0
        lines, m = [], {}
        for n, g in ref.items():
            group = "optimizer/m/" + n
            m[n] = read(f, group)
            got = m[n] / (1 - BETA1)
            if got.shape != g.shape:
                sys.exit(f"{after}: {group} has shape {tuple(got.shape)}, the reference {tuple(g.shape)}")
            rel = ((got - g).abs().max() / g.abs().max()).item()
            lines.append((rel, n, g.abs().max().item()))
            total += g.numel()
            if rel > worst:
                worst, worst_name = rel, n
        for rel, n, scale in sorted(lines, reverse=True)[:5]:
            print(f"   {n}: max |vkdp - torch| / max |torch| = {rel:.3g} (max |g| {scale:.3g})")
        check(f"gradients of {len(ref)} tensors ({total} values), the worst {worst_name}", worst, GRAD_BOUND)

        # Adam's first step from vkdp's own moments, in Keras' form
        # (w -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps), t = 1), and v = 0.1 m^2
        worst_w = worst_v = 0.0
        for n in ref:
            mn, v = m[n], read(f, "optimizer/v/" + n)
            w1 = read(f, ("head/" if n in HEAD else "backbone/") + n)
            w0 = (head if n in HEAD else wt.leaves)[n].detach()  # the weights before the step
            want = w0 - lr * np.sqrt(1 - BETA2) / (1 - BETA1) * mn / (torch.sqrt(v) + ADAM_EPS)
            # beyond the float32 rounding of the stored weight
            ulp = torch.from_numpy(np.spacing(np.abs(want.numpy()).astype(np.float32)).astype(np.float64))
            worst_w = max(worst_w, ((w1 - want).abs() - ulp).clamp(min=0).max().item() / lr)
            worst_v = max(worst_v, ((v - 0.1 * mn * mn).abs().max() / (0.1 * mn * mn).max()).item())
        check("Adam's update from vkdp's moments, in units of the rate", worst_w, ADAM_BOUND)
        check("v = (1 - beta2) g^2 beside m = (1 - beta1) g", worst_v, ADAM_BOUND)

        mm0, mv0 = head["head_bn/head_bn/moving_mean:0"], head["head_bn/head_bn/moving_variance:0"]
        with torch.no_grad():
            for stat, old, batch in (("moving_mean:0", mm0, bmean), ("moving_variance:0", mv0, bvar)):
                want = old * 0.99 + batch * 0.01
                got = read(f, "head/head_bn/head_bn/" + stat)
                check(f"head BN {stat} after the step", ((got - want).abs().max() / want.abs().max()).item(),
                      STAT_BOUND)
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
