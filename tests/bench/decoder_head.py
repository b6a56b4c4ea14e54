#!/usr/bin/python3
"""What the JPEG decoders' difference is worth to the head phase: accuracy only (issue 12).

vkdp decodes as Keras' loader does (tf.io.decode_image: libjpeg's fast integer inverse DCT,
JDCT_IFAST); the PyTorch peers decode with Pillow (the accurate one, JDCT_ISLOW). Everything after
the decoder (resize, backbone) is the same on both sides, so the two sides' frozen features differ
by the decoders' bits alone. This script compares vkdp's features (`trainer features`) with the
peer's over the Keras split (seed 123, 0.2), then trains the tutorial's head the Keras way
(head_init.py's way 3: glorot_uniform, zero bias, biased moving variance; BN -> Dropout(0.2) ->
Dense(C), Adam(1e-2), batch 32, 2 epochs, no augmentation) on each, paired by draw seed (the same
shuffle, dropout masks and kernel draws), and prints both means and the paired difference.
usage: decoder_head.py DATA_DIR WEIGHTS.h5 VKDP_FEATURES.h5 [--seeds N (400)]
       [--features PEER.npz (head_init.py's cache of the peer's features; computed there when
       missing, ~9 min on 2 cores)]
VKDP_FEATURES.h5: trainer features --data DATA_DIR --weights WEIGHTS.h5 --out VKDP_FEATURES.h5"""
import os
import statistics as st
import sys

import h5py
import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "ref"))
from data_split_ref import keras_split  # noqa: E402
from head_init import peer_features, run  # noqa: E402
from torch_finetune import arg  # noqa: E402


def vkdp_rows(path, data, *splits):
    """vkdp's features of each split's items (Keras split order), found by path in `trainer
    features`' file, which is read once."""
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        sys.exit(f"{path}: not readable as HDF5 ({e})")
    with f:
        lack = [k for k in ("features", "paths", "labels") if k not in f]
        if lack:
            sys.exit(f"{path}: no /{lack[0]}: not a `trainer features` file")
        feats = f["features"][...]
        names = [p.decode() if isinstance(p, bytes) else str(p) for p in f["paths"][...]]
        labels = f["labels"][...]
    row = {}
    for i, p in enumerate(names):
        row[os.path.realpath(p if os.path.isabs(p) else os.path.join(data, p))] = i
    out = []
    for items in splits:
        missing = [p for p, _ in items if os.path.realpath(p) not in row]
        if missing:
            sys.exit(f"{path}: {len(missing)} image(s) of the split have no features, e.g. {missing[0]}")
        rows = [row[os.path.realpath(p)] for p, _ in items]
        if [int(labels[r]) for r in rows] != [lab for _, lab in items]:
            sys.exit(f"{path}: labels differ from the Keras index of {data}")
        out.append(feats[rows])
    return out


def main():
    args = sys.argv[1:]
    if len(args) < 3:
        sys.exit(__doc__)
    data, weights, vk = args[0], args[1], args[2]
    n = arg(args, "--seeds", 400, int)
    if n < 2:
        sys.exit(f"--seeds {n}: at least 2 (the paired difference needs a standard error)")
    path = arg(args, "--features", "head_init_features.npz", str)
    torch.set_num_threads(1)
    peer = peer_features(data, weights, path)
    train, val = keras_split(data, 123, 0.2)
    if list(peer["ytrain"]) != [lab for _, lab in train] or list(peer["yval"]) != [lab for _, lab in val]:
        sys.exit(f"{path}: not the peer's features of {data}'s Keras split")
    sets = {"the peer's (Pillow, accurate DCT)": (peer["ftrain"], peer["fval"]),
            "vkdp's (TF's decode_image, fast DCT)": tuple(vkdp_rows(vk, data, train, val))}
    (ptr, pva), (vtr, vva) = sets.values()
    rel = np.linalg.norm(vtr - ptr, axis=1) / np.linalg.norm(ptr, axis=1)
    print(f"features, vkdp's against the peer's over {len(rel)} training images: largest difference "
          f"{np.abs(vtr - ptr).max():.3g}, mean {np.abs(vtr - ptr).mean():.3g}; relative L2 per image "
          f"median {np.median(rel):.3g}, largest {rel.max():.3g}")
    ytr, yva = torch.from_numpy(peer["ytrain"]).long(), torch.from_numpy(peer["yval"]).long()
    nclasses = int(max(ytr.max(), yva.max())) + 1
    acc = {}
    for name, (ftr, fva) in sets.items():
        ftr = torch.from_numpy(np.ascontiguousarray(ftr)).float()
        fva = torch.from_numpy(np.ascontiguousarray(fva)).float()
        acc[name] = [run(ftr, ytr, fva, yva, nclasses, s, True, True) for s in range(n)]
    print(f"Keras' head, {n} draw seeds, {len(yva)} validation images")
    for name, a in acc.items():
        print(f"  on {name} features: mean {st.mean(a):.4f} sd {st.stdev(a):.4f}")
    a, b = acc.values()
    dd = [x - y for x, y in zip(a, b)]
    print(f"  the peer's - vkdp's: {st.mean(dd):+.4f} (se {st.stdev(dd) / n**0.5:.4f}; "
          f"{st.mean(dd) * len(yva):+.1f} images)")


if __name__ == "__main__":
    main()
