#!/usr/bin/env bash
# The trainable tensors of a fine-tuning plan, as the flat blocks and checkpoints lay them out,
# against the weights file read independently with h5py: exactly the non-BatchNormalization
# weights of the layers from the plan's first layer on (by the file's layer_names), each path
# present with the same shape, in reverse file order.
# usage: finetune_tensors.sh TEST_FINETUNE_PLAN PYTHON WEIGHTS.h5
set -euo pipefail
for from in top_conv block7a block6a block1a; do
  "$1" tensors "$from" | "$2" -c '
import sys, h5py
f = h5py.File(sys.argv[1], "r")
start = sys.argv[2] if sys.argv[2] != "block1a" else "block1a_dwconv"
names = [n.decode() for n in f.attrs["layer_names"]]
names = names[names.index(start if "_" in start else start + "_expand_conv"):]
want = []
for layer in names:
    for w in f[layer].attrs.get("weight_names", []):
        w = w.decode()
        if w.split("/")[-1] not in ("gamma:0", "beta:0", "moving_mean:0", "moving_variance:0"):
            want.append((f"{layer}/{w}", tuple(f[layer][w].shape)))
want.reverse()
got = []
for line in sys.stdin:
    p = line.split()
    got.append((p[0], tuple(int(d) for d in p[1:])))
if got != want:
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            sys.exit(f"FAIL from {sys.argv[2]}: entry {i}: ours {g}, the file {w}")
    sys.exit(f"FAIL from {sys.argv[2]}: {len(got)} tensors, the file has {len(want)}")
print(f"ok: from {sys.argv[2]}: {len(got)} tensors = the file, reverse order")
' "$3" "$from"
done
