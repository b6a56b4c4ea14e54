#!/usr/bin/python3
"""What the PyTorch peers' two departures from Keras' head are worth: accuracy only (issue 12).

The peers (torch_train.py, torch_finetune.py) differ from Keras' head, and from vkdp's, in two
ways that no exactness test sees (those load vkdp's head): torch.nn.Linear's default
initialisation (kaiming_uniform with a = sqrt(5): kernel and bias uniform in +-1/sqrt(1280)) where
Keras' Dense draws the kernel glorot_uniform with a zero bias; and BatchNorm1d's moving variance,
updated with the unbiased batch variance where Keras' BatchNormalization (not fused for 2-D
inputs) uses the biased one. This script trains the tutorial's head (BN eps 1e-3 momentum 0.01 ->
Dropout(0.2) -> Dense(C), Adam(1e-2, eps 1e-7), batch 32, 2 epochs, no augmentation) on the peer's
frozen features of the Keras split three ways for every draw seed: as the peers do, with Keras'
initialisation, and with Keras' initialisation and moving variance (Keras' head, vkdp's). The
runs of a seed share the shuffle, the dropout masks and the uniform numbers the kernel is drawn
from; only the laws differ. It prints each way's mean and the paired differences with their
standard errors.
usage: head_init.py DATA_DIR WEIGHTS.h5 [--seeds N (200)] [--features FILE.npz (computed and
       kept there when missing: 3670 images through the peer's backbone, ~9 min on 2 cores)]"""
import os
import statistics as st
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "ref"))
from data_split_ref import keras_split  # noqa: E402
from torch_finetune import KerasBN, arg  # noqa: E402
from torch_train import Backbone, Files, features  # noqa: E402


def compute_features(data, weights, path):
    train, val = keras_split(data, 123, 0.2)
    bb = Backbone(weights).eval()
    out = {}
    for name, items in (("val", val), ("train", train)):
        t = time.time()
        loader = torch.utils.data.DataLoader(Files(items, 224), batch_size=16, shuffle=False, num_workers=0)
        f, y = features(bb, loader)
        out["f" + name], out["y" + name] = f.numpy(), y.numpy()
        print(f"{name}: {len(y)} images through the peer's backbone in {time.time() - t:.0f} s", flush=True)
    np.savez(path, **out)


def peer_features(data, weights, path):
    """The peer's features of the Keras split, from `path` (computed and kept there when missing)."""
    if not os.path.exists(path):
        compute_features(data, weights, path)
    return np.load(path)


def run(ftr, ytr, fva, yva, nclasses, seed, keras_init, keras_bn, epochs=2):
    """val_accuracy of the head trained with draw seed `seed`, Keras' or torch's laws."""
    torch.manual_seed(seed)  # the dropout masks
    bn = (KerasBN if keras_bn else torch.nn.BatchNorm1d)(1280, eps=1e-3, momentum=0.01)
    head = torch.nn.Sequential(bn, torch.nn.Dropout(0.2), torch.nn.Linear(1280, nclasses))
    gi = torch.Generator()
    gi.manual_seed(10**6 + seed)
    lin = head[2]
    with torch.no_grad():
        u = torch.rand(lin.weight.shape, generator=gi) * 2 - 1
        if keras_init:  # glorot_uniform, zero bias
            lin.weight.copy_(u * (6.0 / (1280 + nclasses)) ** 0.5)
            lin.bias.zero_()
        else:  # torch.nn.Linear's default law
            lin.weight.copy_(u / 1280**0.5)
            lin.bias.copy_((torch.rand(lin.bias.shape, generator=gi) * 2 - 1) / 1280**0.5)
    opt = torch.optim.Adam(head.parameters(), lr=1e-2, betas=(0.9, 0.999), eps=1e-7)
    g = torch.Generator()
    g.manual_seed(seed)  # the shuffle
    for _ in range(epochs):
        head.train()
        for idx in torch.randperm(len(ytr), generator=g).split(32):
            loss = F.cross_entropy(head(ftr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    head.eval()
    with torch.no_grad():
        return (head(fva).argmax(1) == yva).float().mean().item()


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    data, weights = args[0], args[1]
    n = arg(args, "--seeds", 200, int)
    torch.set_num_threads(1)
    d = peer_features(data, weights, arg(args, "--features", "head_init_features.npz", str))
    ftr, fva = torch.from_numpy(d["ftrain"]), torch.from_numpy(d["fval"])
    ytr, yva = torch.from_numpy(d["ytrain"]).long(), torch.from_numpy(d["yval"]).long()
    nclasses = int(max(ytr.max(), yva.max())) + 1
    ways = (("the peers (torch's init and moving variance)", False, False),
            ("Keras' init, torch's moving variance", True, False),
            ("Keras' head (init and moving variance; vkdp's)", True, True))
    acc = [[run(ftr, ytr, fva, yva, nclasses, s, ki, kb) for s in range(n)] for _, ki, kb in ways]
    print(f"{n} draw seeds, {len(yva)} validation images")
    for (name, _, _), a in zip(ways, acc):
        print(f"  {name}: mean {st.mean(a):.4f} sd {st.stdev(a):.4f}")
    for i, j in ((0, 1), (1, 2), (0, 2)):
        dd = [x - y for x, y in zip(acc[i], acc[j])]
        print(f"  way {i + 1} - way {j + 1}: {st.mean(dd):+.4f} (se {st.stdev(dd) / n**0.5:.4f}; "
              f"{st.mean(dd) * len(yva):+.1f} images)")


if __name__ == "__main__":
    main()
