#!/usr/bin/python3
"""The peer for tests/bench/train.sh: the Keras tutorial's job in PyTorch on this machine.

Same data split as Keras (numpy RandomState(seed).shuffle, validation tail), 224x224 bilinear
resize with half-pixel centres (F.interpolate, align_corners=False, no antialias: TF's
resize), the frozen EfficientNetB0 with the same .h5 weights (float32, BN folded at load, Keras'
asymmetric padding), the same head: BatchNorm1d(eps 1e-3, momentum 0.01) -> Dropout(0.2) ->
Linear(1280, C), Adam(1e-2, eps 1e-7), cross-entropy, batch 32, 2 epochs. As in the tutorial, the
backbone runs on every image in every epoch.
With --feature-cache, the strongest CPU alternative a user could write in an afternoon: the frozen
backbone runs once per image (train and validation, no augmentation, so its output cannot change),
and every epoch trains the head on the cached features, shuffled per epoch as the DataLoader does.
usage: torch_train.py DATA_DIR WEIGHTS.h5 [--epochs N] [--threads N] [--feature-cache]
Prints per-epoch metrics and a last line: RESULT val_accuracy=... seconds=..."""
import os
import sys
import time

import h5py
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ref"))
from data_split_ref import keras_split  # noqa: E402
from effnet_torch import STAGES, correct_pad  # noqa: E402

BN_EPS = 1e-3


def weight_getter(path):
    """get(layer, weight) -> float32 tensor of a Keras weights file, looked up by weight_names."""
    f = h5py.File(path, "r")

    def get(layer, weight):
        g = f[layer]
        for name in g.attrs["weight_names"]:
            name = name.decode() if isinstance(name, bytes) else name
            if name.split("/")[-1] == weight:
                return torch.from_numpy(np.asarray(g[name], dtype=np.float32))
        raise KeyError(layer + "/" + weight)
    return get


class Backbone(torch.nn.Module):
    """EfficientNetB0 features with BN folded into the convolutions (float32)."""

    def __init__(self, path):
        super().__init__()
        get = weight_getter(path)

        def folded(conv_layer, bn_layer, kname="kernel:0", depthwise=False):
            k = get(conv_layer, kname)
            g, b = get(bn_layer, "gamma:0"), get(bn_layer, "beta:0")
            m, v = get(bn_layer, "moving_mean:0"), get(bn_layer, "moving_variance:0")
            s = g / torch.sqrt(v + BN_EPS)
            w = k.permute(2, 3, 0, 1) if depthwise else k.permute(3, 2, 0, 1)  # -> [O, I, kh, kw]
            return (w * s.view(-1, 1, 1, 1)).contiguous(), b - m * s

        mean = get("normalization", "mean:0")
        std = get("normalization", "variance:0")
        self.scale = (1.0 / 255.0) / (torch.clamp(torch.sqrt(std), min=1e-7) * torch.sqrt(std))
        self.shift = -mean / (torch.clamp(torch.sqrt(std), min=1e-7) * torch.sqrt(std))
        self.stem = folded("stem_conv", "stem_bn")
        self.blocks = []
        for s, (k, stride, expand, cin, cout, repeats) in enumerate(STAGES):
            for r in range(repeats):
                n = f"block{s + 1}{chr(ord('a') + r)}"
                st, ci = (stride, cin) if r == 0 else (1, cout)
                blk = {"k": k, "stride": st, "res": st == 1 and ci == cout}
                if expand != 1:
                    blk["expand"] = folded(n + "_expand_conv", n + "_expand_bn")
                blk["dw"] = folded(n + "_dwconv", n + "_bn", "depthwise_kernel:0", depthwise=True)
                blk["se_r"] = (get(n + "_se_reduce", "kernel:0").permute(3, 2, 0, 1).contiguous(),
                               get(n + "_se_reduce", "bias:0"))
                blk["se_e"] = (get(n + "_se_expand", "kernel:0").permute(3, 2, 0, 1).contiguous(),
                               get(n + "_se_expand", "bias:0"))
                blk["proj"] = folded(n + "_project_conv", n + "_project_bn")
                self.blocks.append(blk)
        self.top = folded("top_conv", "top_bn")

    def forward(self, x):  # x: [B, 3, H, W] in [0, 255]
        x = F.silu(F.conv2d(self.forward_to(x, len(self.blocks)), *self.top))
        return x.mean(dim=(2, 3))

    def forward_to(self, x, first, scales=None):
        """The activation entering block `first` (all blocks: top_conv's input). scales: block index ->
        each sample's drop-connect scale of that residual block's branch (Keras' Dropout before the
        add), or None: none."""
        x = x * self.scale.view(1, 3, 1, 1) + self.shift.view(1, 3, 1, 1)
        x = F.pad(x, correct_pad(x.shape[2], x.shape[3], 3))
        x = F.silu(F.conv2d(x, *self.stem, stride=2))
        for i, b in enumerate(self.blocks[:first]):
            inp = x
            if "expand" in b:
                x = F.silu(F.conv2d(x, *b["expand"]))
            if b["stride"] == 2:
                x = F.pad(x, correct_pad(x.shape[2], x.shape[3], b["k"]))
                x = F.conv2d(x, *b["dw"], stride=2, groups=x.shape[1])
            else:
                x = F.conv2d(x, *b["dw"], padding=b["k"] // 2, groups=x.shape[1])
            x = F.silu(x)
            se = x.mean(dim=(2, 3), keepdim=True)
            se = torch.sigmoid(F.conv2d(F.silu(F.conv2d(se, *b["se_r"])), *b["se_e"]))
            x = F.conv2d(x * se, *b["proj"])
            if b["res"]:
                if scales is not None and i in scales:
                    x = x * scales[i].view(-1, 1, 1, 1)
                x = x + inp
        return x


def load(path, size):
    img = Image.open(path).convert("RGB")
    x = torch.from_numpy(np.asarray(img, dtype=np.float32)).permute(2, 0, 1).unsqueeze(0)
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=False)[0]


class Files(torch.utils.data.Dataset):
    def __init__(self, items, size):
        self.items, self.size = items, size

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return load(self.items[i][0], self.size), self.items[i][1]


def features(bb, loader):
    """The frozen backbone's pooled features and labels of every image the loader gives."""
    fs, ys = [], []
    with torch.no_grad():
        for x, y in loader:
            fs.append(bb(x.contiguous(memory_format=torch.channels_last)))
            ys.append(y)
    return torch.cat(fs), torch.cat(ys)


def cached_epochs(bb, head, opt, tl, vl, g, epochs):
    """Backbone once (timed as part of epoch 1), then head-only epochs on the cached features."""
    te = time.time()
    # a loader without shuffling: the cache is indexed by sample, the order drawn per epoch below
    plain = torch.utils.data.DataLoader(tl.dataset, batch_size=32, shuffle=False, num_workers=1)
    ftr, ytr = features(bb, plain)
    fva, yva = features(bb, vl)
    print(f"Features of {len(ytr) + len(yva)} images in {time.time() - te:.1f}s", flush=True)
    val_acc = float("nan")
    for epoch in range(epochs):
        if epoch:
            te = time.time()
        head.train()
        ls = cs = n = 0
        for idx in torch.randperm(len(ytr), generator=g).split(32):
            logits = head(ftr[idx])
            loss = F.cross_entropy(logits, ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            ls += loss.item() * len(idx)
            cs += (logits.argmax(1) == ytr[idx]).sum().item()
            n += len(idx)
        head.eval()
        with torch.no_grad():
            logits = head(fva)
            vls = F.cross_entropy(logits, yva, reduction="sum").item()
            val_acc = (logits.argmax(1) == yva).sum().item() / len(yva)
        print(f"Epoch {epoch + 1}/{epochs} - {time.time() - te:.0f}s - loss: {ls / n:.4f} - accuracy: {cs / n:.4f}"
              f" - val_loss: {vls / len(yva):.4f} - val_accuracy: {val_acc:.4f}", flush=True)
    return val_acc


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    data, weights = args[0], args[1]
    epochs = int(args[args.index("--epochs") + 1]) if "--epochs" in args else 2
    threads = int(args[args.index("--threads") + 1]) if "--threads" in args else os.cpu_count()
    torch.set_num_threads(threads)
    torch.manual_seed(123)
    t0 = time.time()
    train, val = keras_split(data, 123, 0.2)
    nclasses = len([d for d in os.listdir(data) if os.path.isdir(os.path.join(data, d))])
    print(f"Found {len(train) + len(val)} files belonging to {nclasses} classes; {len(train)} training, "
          f"{len(val)} validation; torch {torch.__version__}, {threads} threads", flush=True)
    bb = Backbone(weights).eval()
    # channels_last: oneDNN's fast convolution path on CPU (2.5x NCHW on this machine)
    cl = torch.channels_last
    bb.stem = (bb.stem[0].contiguous(memory_format=cl), bb.stem[1])
    bb.top = (bb.top[0].contiguous(memory_format=cl), bb.top[1])
    for blk in bb.blocks:
        for key, v in blk.items():
            if isinstance(v, tuple) and v[0].dim() == 4:
                blk[key] = (v[0].contiguous(memory_format=cl), v[1])
    head = torch.nn.Sequential(torch.nn.BatchNorm1d(1280, eps=1e-3, momentum=0.01), torch.nn.Dropout(0.2),
                               torch.nn.Linear(1280, nclasses))
    opt = torch.optim.Adam(head.parameters(), lr=1e-2, betas=(0.9, 0.999), eps=1e-7)
    g = torch.Generator()
    g.manual_seed(123)
    tl = torch.utils.data.DataLoader(Files(train, 224), batch_size=32, shuffle=True, generator=g, num_workers=1)
    vl = torch.utils.data.DataLoader(Files(val, 224), batch_size=32, shuffle=False, num_workers=1)
    if "--feature-cache" in args:
        val_acc = cached_epochs(bb, head, opt, tl, vl, g, epochs)
        print(f"RESULT val_accuracy={val_acc:.4f} seconds={time.time() - t0:.1f}")
        return
    val_acc = float("nan")
    for epoch in range(epochs):
        te = time.time()
        head.train()
        ls = cs = n = 0
        for x, y in tl:
            with torch.no_grad():
                f = bb(x.contiguous(memory_format=torch.channels_last))
            logits = head(f)
            loss = F.cross_entropy(logits, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            ls += loss.item() * len(y)
            cs += (logits.argmax(1) == y).sum().item()
            n += len(y)
        head.eval()
        vls = vcs = vn = 0
        with torch.no_grad():
            for x, y in vl:
                logits = head(bb(x.contiguous(memory_format=torch.channels_last)))
                vls += F.cross_entropy(logits, y, reduction="sum").item()
                vcs += (logits.argmax(1) == y).sum().item()
                vn += len(y)
        val_acc = vcs / vn
        print(f"Epoch {epoch + 1}/{epochs} - {time.time() - te:.0f}s - loss: {ls / n:.4f} - accuracy: {cs / n:.4f}"
              f" - val_loss: {vls / vn:.4f} - val_accuracy: {val_acc:.4f} - images/s: {(n + vn) / (time.time() - te):.1f}",
              flush=True)
    print(f"RESULT val_accuracy={val_acc:.4f} seconds={time.time() - t0:.1f}")


if __name__ == "__main__":
    main()
