#!/usr/bin/python3
"""The exported file alone reproduces the checkpoint's accuracy: backbone features from the
independent PyTorch reference (tests/ref/effnet_torch.py, run on EXPORT.h5), then the head as
Keras runs it at inference (BatchNormalization with its moving statistics, epsilon 1e-3; Dense;
softmax), all weights read from EXPORT.h5 by Keras' names.

usage: export_accuracy.py EXPORT.h5 FEATURES.f32 LABELS.txt EVAL.log
"""
import re
import sys

import h5py
import numpy as np

out_path, feat_path, labels_path, eval_log = sys.argv[1:5]
f = h5py.File(out_path, "r")
labels = np.loadtxt(labels_path, dtype=np.int64, ndmin=1)
x = np.fromfile(feat_path, dtype=np.float32).reshape(len(labels), -1).astype(np.float64)
bn = {w: f["batch_normalization"][f"batch_normalization/{w}:0"][()].astype(np.float64)
      for w in ("gamma", "beta", "moving_mean", "moving_variance")}
x = (x - bn["moving_mean"]) / np.sqrt(bn["moving_variance"] + 1e-3) * bn["gamma"] + bn["beta"]
logits = x @ f["pred"]["pred/kernel:0"][()].astype(np.float64) + f["pred"]["pred/bias:0"][()]
acc = float(np.mean(np.argmax(logits, axis=1) == labels))
m = re.search(r"accuracy: ([0-9.]+) \((\d+) images", open(eval_log).read())
if not m:
    sys.exit(f"FAIL: no accuracy line in {eval_log}")
print(f"exported model (PyTorch reference): accuracy {acc:.4f} on {len(labels)} images; "
      f"trainer evaluate on the checkpoint: {m.group(1)} on {m.group(2)}")
sys.exit(0 if f"{acc:.4f}" == m.group(1) and int(m.group(2)) == len(labels) else 1)
