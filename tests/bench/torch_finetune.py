#!/usr/bin/python3
"""The peer for tests/bench/finetune.sh: the Keras EfficientNet example's two-phase schedule in
PyTorch on this machine, with the settings `trainer train --augment --fine-tune-from LAYER` uses.

Phase 1 (--epochs, default 2): the frozen backbone (BN folded, as torch_train.py) on every
augmented training image, the tutorial's head (BatchNorm1d eps 1e-3 momentum 0.01, Dropout 0.2,
Linear), Adam(1e-2, eps 1e-7). Phase 2 (--fine-tune-epochs, default 2): from LAYER on, the
convolution, depthwise and SE weights are trainable with every BatchNormalization frozen in
inference mode (its affine applied to the unfolded convolution, so Adam sees Keras' variables),
drop connect (Keras' Dropout(noise_shape=(None,1,1,1)) at R * b / 16 for block b, R =
--drop-connect-rate, default 0.2 as trainer train's) in the
trainable residual blocks only (--drop-connect all: in every residual block, frozen ones included, in
both phases, as the Keras example's model and `trainer train --drop-connect all`), and one new Adam(--fine-tune-lr, default 1e-5, eps 1e-7) over
the head and the trainable tensors, as Keras' recompile gives. Augmentation on training images
only: RandomRotation(0.15), RandomTranslation(0.1, 0.1), RandomFlip("horizontal"),
RandomContrast(0.1) with TF's reflect fill and bilinear sampling (tests/ref/augment_ref.py's
NumPy formulas), drawn from NumPy's generator per image. Same Keras split (seed 123, 0.2) and
224x224 resize as torch_train.py. --draw-seed S (default 123) seeds the random draws (shuffle,
augmentation, dropout, drop connect) and leaves the split alone, so runs that differ only in S
show how much val_accuracy moves with the draws alone. --keras-head makes the head Keras' (and
vkdp's): Dense's glorot_uniform kernel with a zero bias, and BatchNormalization's moving variance
moved towards the biased batch variance; without it the head keeps torch's defaults (Linear's
kernel and bias uniform in +-1/sqrt(1280), BatchNorm1d's unbiased variance), as every peer run
before 2026-12-03 did. The Keras kernel is the default one's uniform numbers rescaled, so a draw
seed's shuffle, augmentation, dropout and drop connect are the same with and without the flag
(paired runs differ in the head's laws only). --vkdp-draws replays `trainer train --draw-seed S`'s
own random draws instead of drawing its own (tests/bench/vkdp_draws.py: the head's initial kernel,
each epoch's order, the augmentation's parameters, the dropout and drop-connect keep bits, from
vkdp's formulas; implies --keras-head): the peer then computes the same function of the same
randomness as vkdp, independently, and a difference in the end is the two implementations'
(floating point, the JPEG decoder), not their draws. --head-from CKPT.h5 starts from the head
of a `trainer train` checkpoint (its /head tensors, Keras' layout) and measures it on the
validation images first ("Epoch 0"); with --epochs 0 the peer then runs phase 2 alone from
vkdp's switch checkpoint, so both fine-tune the very same starting point.
usage: torch_finetune.py DATA_DIR WEIGHTS.h5 [--epochs N] [--fine-tune-epochs N]
       [--fine-tune-from LAYER] [--fine-tune-lr F] [--drop-connect-rate R] [--threads N] [--draw-seed S]
       [--head-from CKPT.h5] [--keras-head] [--vkdp-draws] [--drop-connect all|trainable]
Prints per-epoch metrics (with --vkdp-draws also an "exact:" line of them at full precision, to
compare with `trainer train --csv-log`) and a last line: RESULT val_accuracy=... seconds=..."""
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "ref"))
sys.path.insert(0, here)
from augment_ref import contrast, draw as vkdp_augment_draw, flip, rotation_matrix, transform, translation_matrix  # noqa: E402,E501
from data_split_ref import keras_split  # noqa: E402
from effnet_torch import STAGES, correct_pad  # noqa: E402
from torch_train import BN_EPS, Backbone, load, weight_getter  # noqa: E402
import vkdp_draws  # noqa: E402

BLOCK_NAMES = [f"block{s + 1}{chr(ord('a') + r)}" for s, st in enumerate(STAGES) for r in range(st[5])]


def arg(args, name, default, kind):
    return kind(args[args.index(name) + 1]) if name in args else default


def apply_augment(x, angle, dy, dx, flip_h, factor):
    """One [3, H, W] image in [0, 255] through the Keras example's four layers with these parameters."""
    img = x.permute(1, 2, 0).numpy().astype(np.float32)
    h, w, _ = img.shape
    img = transform(img, rotation_matrix(angle, h, w))
    img = transform(img, translation_matrix(dy, dx))
    img = flip(img, flip_h, False)
    img = contrast(img, factor)
    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)


def augment(x, rng):
    """The augmentation with parameters drawn here, from NumPy's generator."""
    h, w = x.shape[1], x.shape[2]
    angle = rng.uniform(-0.15, 0.15) * 2 * np.pi
    dy, dx = rng.uniform(-0.1, 0.1) * h, rng.uniform(-0.1, 0.1) * w
    return apply_augment(x, angle, dy, dx, rng.uniform() < 0.5, rng.uniform(0.9, 1.1))


class KerasBN(torch.nn.BatchNorm1d):
    """BatchNorm1d whose moving variance follows the biased batch variance, as Keras' does."""

    def forward(self, x):
        if not self.training:
            return super().forward(x)
        mean, var = x.mean(0), x.var(0, unbiased=False)
        with torch.no_grad():
            self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)
            self.running_var.mul_(1 - self.momentum).add_(self.momentum * var)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias


def make_head(nclasses, keras):
    """The tutorial's head: BN(eps 1e-3, momentum 0.01) -> Dropout(0.2) -> Dense, Keras' or torch's laws."""
    head = torch.nn.Sequential((KerasBN if keras else torch.nn.BatchNorm1d)(1280, eps=1e-3, momentum=0.01),
                               torch.nn.Dropout(0.2), torch.nn.Linear(1280, nclasses))
    if keras:  # glorot_uniform from Linear's own uniform numbers (+-1/sqrt(fan_in)), zero bias
        lin = head[2]
        with torch.no_grad():
            lin.weight.mul_(lin.in_features**0.5 * (6.0 / (lin.in_features + lin.out_features)) ** 0.5)
            lin.bias.zero_()
    return head


class Files(torch.utils.data.Dataset):
    """The images, augmented (aug) with parameters drawn from a NumPy generator of (seed, epoch,
    image): fresh each epoch, as Keras' are, whatever process loads them. (Until 2026-12-03 one
    generator was copied into each epoch's DataLoader worker, so every epoch replayed the same
    sequence of parameters over a new order; the peer figures in BENCHMARKS.md before that date
    were drawn so.)"""

    def __init__(self, items, size, aug, seed):
        self.items, self.size, self.aug, self.seed = items, size, aug, seed
        self.epoch = 0  # set by the training loop before each epoch's loader starts its worker

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        x = load(self.items[i][0], self.size)
        if self.aug:
            x = augment(x, np.random.default_rng((self.seed, self.epoch, i)))
        return x, self.items[i][1]


class ReplayFiles(torch.utils.data.Dataset):
    """One epoch of the training list in vkdp's order, augmented with vkdp's draws: item p is the
    image at position p of epoch `epoch`'s order, returned with p (vkdp's global sample index)."""

    def __init__(self, items, size, seed, epoch):
        self.items, self.size, self.seed, self.epoch = items, size, seed, epoch
        self.order = vkdp_draws.epoch_order(len(items), seed, epoch)

    def __len__(self):
        return len(self.items)

    def __getitem__(self, p):
        path, label = self.items[self.order[p]]
        x = load(path, self.size)
        angle, dy, dx, fh, _, factor = vkdp_augment_draw(self.seed, self.epoch, p, self.size, self.size, 1)
        return apply_augment(x, angle, dy, dx, fh != 0, factor), label, p


class Trainable(torch.nn.Module):
    """Blocks first.. and top_conv with unfolded kernels as parameters and frozen BN affines."""

    def __init__(self, path, first, connect_rate=0.2):
        super().__init__()
        get = weight_getter(path)

        def kernel(layer, kname="kernel:0", depthwise=False):
            k = get(layer, kname)
            return torch.nn.Parameter((k.permute(2, 3, 0, 1) if depthwise else k.permute(3, 2, 0, 1)).contiguous())

        def bn(layer):  # frozen: scale and shift, not parameters
            g, b = get(layer, "gamma:0"), get(layer, "beta:0")
            m, v = get(layer, "moving_mean:0"), get(layer, "moving_variance:0")
            s = g / torch.sqrt(v + BN_EPS)
            return s, b - m * s

        self.blocks, self.plist = [], torch.nn.ParameterList()
        i = 0
        for s, (k, stride, expand, cin, cout, repeats) in enumerate(STAGES):
            for r in range(repeats):
                n = BLOCK_NAMES[i]
                if i >= first:
                    st, ci = (stride, cin) if r == 0 else (1, cout)
                    blk = {"k": k, "stride": st, "res": st == 1 and ci == cout, "rate": connect_rate * i / 16, "index": i}
                    if expand != 1:
                        blk["expand"], blk["expand_bn"] = kernel(n + "_expand_conv"), bn(n + "_expand_bn")
                    blk["dw"] = kernel(n + "_dwconv", "depthwise_kernel:0", depthwise=True)
                    blk["dw_bn"] = bn(n + "_bn")
                    blk["se_r"] = (kernel(n + "_se_reduce"), torch.nn.Parameter(get(n + "_se_reduce", "bias:0")))
                    blk["se_e"] = (kernel(n + "_se_expand"), torch.nn.Parameter(get(n + "_se_expand", "bias:0")))
                    blk["proj"], blk["proj_bn"] = kernel(n + "_project_conv"), bn(n + "_project_bn")
                    for key in ("expand", "dw", "proj"):
                        if key in blk:
                            self.plist.append(blk[key])
                    self.plist.extend([*blk["se_r"], *blk["se_e"]])
                    self.blocks.append(blk)
                i += 1
        self.top, self.top_bn = kernel("top_conv"), bn("top_bn")
        self.plist.append(self.top)
        self.scales = None  # --vkdp-draws: block index -> the step's drop-connect scales, per sample

    @staticmethod
    def affine(x, sb):
        return x * sb[0].view(1, -1, 1, 1) + sb[1].view(1, -1, 1, 1)

    def forward(self, x):
        for b in self.blocks:
            inp = x
            if "expand" in b:
                x = F.silu(self.affine(F.conv2d(x, b["expand"]), b["expand_bn"]))
            if b["stride"] == 2:
                x = F.pad(x, correct_pad(x.shape[2], x.shape[3], b["k"]))
                x = F.conv2d(x, b["dw"], stride=2, groups=x.shape[1])
            else:
                x = F.conv2d(x, b["dw"], padding=b["k"] // 2, groups=x.shape[1])
            x = F.silu(self.affine(x, b["dw_bn"]))
            se = x.mean(dim=(2, 3), keepdim=True)
            se = torch.sigmoid(F.conv2d(F.silu(F.conv2d(se, *b["se_r"])), *b["se_e"]))
            x = self.affine(F.conv2d(x * se, b["proj"]), b["proj_bn"])
            if b["res"]:
                if self.training and b["rate"] > 0 and self.scales is not None:
                    x = x * self.scales[b["index"]].view(-1, 1, 1, 1)
                elif self.training and b["rate"] > 0:
                    keep = (torch.rand(x.shape[0], 1, 1, 1) >= b["rate"]).to(x.dtype)
                    x = x * keep / (1 - b["rate"])
                x = x + inp
        x = F.silu(self.affine(F.conv2d(x, self.top), self.top_bn))
        return x.mean(dim=(2, 3))


def head_from(head, path):
    """The head's tensors from a `trainer train` checkpoint (Keras layout) into the torch head."""
    import h5py

    with h5py.File(path, "r") as f:
        def t(name):
            return torch.from_numpy(np.asarray(f["head/" + name][...], dtype=np.float32))

        bn, dense = head[0], head[2]
        with torch.no_grad():
            bn.weight.copy_(t("head_bn/head_bn/gamma:0"))
            bn.bias.copy_(t("head_bn/head_bn/beta:0"))
            bn.running_mean.copy_(t("head_bn/head_bn/moving_mean:0"))
            bn.running_var.copy_(t("head_bn/head_bn/moving_variance:0"))
            dense.weight.copy_(t("pred/pred/kernel:0").t())
            dense.bias.copy_(t("pred/pred/bias:0"))


def validate(head, part, bb, vl, first):
    head.eval()
    part.eval()
    vls = vcs = vn = 0
    with torch.no_grad():
        for x, y in vl:
            logits = head(part(bb.forward_to(x, first)))
            vls += F.cross_entropy(logits, y, reduction="sum").item()
            vcs += (logits.argmax(1) == y).sum().item()
            vn += len(y)
    return vls / vn, vcs / vn, vn


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    data, weights = args[0], args[1]
    epochs, ft_epochs = arg(args, "--epochs", 2, int), arg(args, "--fine-tune-epochs", 2, int)
    ft_from, ft_lr = arg(args, "--fine-tune-from", "block6a", str), arg(args, "--fine-tune-lr", 1e-5, float)
    threads = arg(args, "--threads", os.cpu_count(), int)
    draw_seed = arg(args, "--draw-seed", 123, int)
    dc_rate = arg(args, "--drop-connect-rate", 0.2, float)
    dc_blocks = arg(args, "--drop-connect", "trainable", str)
    if dc_blocks not in ("all", "trainable"):
        sys.exit(f"--drop-connect {dc_blocks}: all or trainable")
    drop_all = dc_blocks == "all"
    vkdp_rng = "--vkdp-draws" in args
    keras_head = "--keras-head" in args or vkdp_rng
    if ft_from != "top_conv" and ft_from not in BLOCK_NAMES:
        sys.exit(f"--fine-tune-from {ft_from}: a block name (block1a..block7a) or top_conv")
    first = len(BLOCK_NAMES) if ft_from == "top_conv" else BLOCK_NAMES.index(ft_from)
    draws = "; random draws: vkdp's (--vkdp-draws)" if vkdp_rng else ""
    torch.set_num_threads(threads)
    torch.manual_seed(draw_seed)
    t0 = time.time()
    train, val = keras_split(data, 123, 0.2)
    nclasses = len([d for d in os.listdir(data) if os.path.isdir(os.path.join(data, d))])
    print(f"Found {len(train) + len(val)} files belonging to {nclasses} classes; {len(train)} training, "
          f"{len(val)} validation; torch {torch.__version__}, {threads} threads; fine-tuning from {ft_from}; "
          f"drop connect rate {dc_rate} in the {dc_blocks} residual blocks; draw seed {draw_seed}; "
          f"head: {'Keras' if keras_head else 'torch'} init and moving variance{draws}",
          flush=True)
    bb = Backbone(weights).eval()
    part = Trainable(weights, first, dc_rate)
    print(f"{sum(p.numel() for p in part.plist)} trainable backbone parameters", flush=True)
    head = make_head(nclasses, keras_head)
    if vkdp_rng:
        with torch.no_grad():
            head[2].weight.copy_(torch.from_numpy(vkdp_draws.head_kernel(draw_seed, 1280, nclasses)).t())
    g = torch.Generator()
    g.manual_seed(draw_seed)
    tl = torch.utils.data.DataLoader(Files(train, 224, True, draw_seed), batch_size=32, shuffle=True, generator=g, num_workers=1)
    vl = torch.utils.data.DataLoader(Files(val, 224, False, draw_seed), batch_size=32, shuffle=False, num_workers=1)
    val_acc = float("nan")
    if "--head-from" in args:
        src = arg(args, "--head-from", "", str)
        head_from(head, src)
        te = time.time()
        vloss, val_acc, _ = validate(head, part, bb, vl, first)
        print(f"Epoch 0 (head from {src}) - {time.time() - te:.0f}s - val_loss: {vloss:.4f}"
              f" - val_accuracy: {val_acc:.4f}", flush=True)
    opt = torch.optim.Adam(head.parameters(), lr=1e-2, betas=(0.9, 0.999), eps=1e-7)
    for epoch in range(epochs + ft_epochs):
        phase2 = epoch >= epochs
        if epoch == epochs:  # Keras' recompile: a new Adam for everything trainable
            opt = torch.optim.Adam(list(head.parameters()) + list(part.plist), lr=ft_lr, betas=(0.9, 0.999), eps=1e-7)
        te = time.time()
        head.train()
        part.train(phase2 or drop_all)  # training mode: drop connect in its residual blocks
        ls = cs = n = 0
        if vkdp_rng:  # this epoch's order and augmentation, vkdp's
            tl = torch.utils.data.DataLoader(ReplayFiles(train, 224, draw_seed, epoch), batch_size=32, shuffle=False,
                                             num_workers=1)
        else:
            tl.dataset.epoch = epoch
        for batch in tl:
            x, y = batch[0], batch[1]
            pos = batch[2].numpy() if vkdp_rng else None
            if vkdp_rng and (phase2 or drop_all):
                part.scales = {b["index"]: torch.from_numpy(vkdp_draws.drop_connect_scales(
                    pos, epoch, draw_seed, b["index"], dc_rate)) for b in part.blocks if b["res"]}
            frozen = None  # --drop-connect all: the frozen residual blocks' scales
            if drop_all:
                res = [i for i, b in enumerate(bb.blocks[:first]) if b["res"] and dc_rate * i / 16 > 0]
                if vkdp_rng:
                    frozen = {i: torch.from_numpy(vkdp_draws.drop_connect_scales(pos, epoch, draw_seed, i, dc_rate))
                              for i in res}
                else:
                    frozen = {i: (torch.rand(len(y)) >= dc_rate * i / 16).to(torch.float32) / (1 - dc_rate * i / 16)
                              for i in res}
            with torch.no_grad():
                z = bb.forward_to(x, first, frozen)
            if phase2:
                f = part(z)
            else:
                with torch.no_grad():
                    f = part(z)
            if vkdp_rng:  # BN -> vkdp's dropout mask -> Dense
                mask = torch.from_numpy(vkdp_draws.head_dropout_mask(pos, epoch, draw_seed, f.shape[1]))
                logits = head[2](head[0](f) * mask)
            else:
                logits = head(f)
            loss = F.cross_entropy(logits, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            ls += loss.item() * len(y)
            cs += (logits.argmax(1) == y).sum().item()
            n += len(y)
        vloss, val_acc, vn = validate(head, part, bb, vl, first)
        print(f"Epoch {epoch + 1}/{epochs + ft_epochs}{' (fine-tuning)' if phase2 else ''} - {time.time() - te:.0f}s"
              f" - loss: {ls / n:.4f} - accuracy: {cs / n:.4f} - val_loss: {vloss:.4f}"
              f" - val_accuracy: {val_acc:.4f} - images/s: {(n + vn) / (time.time() - te):.1f}", flush=True)
        if vkdp_rng:
            print(f"  exact: loss={ls / n!r} accuracy={cs / n!r} val_loss={vloss!r} val_accuracy={val_acc!r}",
                  flush=True)
    print(f"RESULT val_accuracy={val_acc:.4f} seconds={time.time() - t0:.1f}")


if __name__ == "__main__":
    main()
