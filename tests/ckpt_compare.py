#!/usr/bin/python3
"""ckpt_compare.py A.h5 B.h5 [--rtol R]: the two checkpoints hold the same training result:
head weights, fine-tuned /backbone tensors, Adam moments and iterations, state position, and per-epoch / per-step metrics
(loss, accuracy, val_loss, val_accuracy). Bit-identical unless --rtol is given. Timing columns
(seconds, images_per_s), creation time and rank count may differ."""
import sys

import h5py
import numpy as np

a, b = sys.argv[1], sys.argv[2]
rtol = float(sys.argv[sys.argv.index("--rtol") + 1]) if "--rtol" in sys.argv else 0.0
fa, fb = h5py.File(a, "r"), h5py.File(b, "r")
bad = []


def same(name, x, y):
    x, y = np.asarray(x), np.asarray(y)
    if x.shape != y.shape:
        bad.append(f"{name}: shape {x.shape} vs {y.shape}")
        return
    if rtol == 0:
        if x.tobytes() != y.tobytes():
            d = np.max(np.abs(x.astype(np.float64) - y.astype(np.float64)))
            bad.append(f"{name}: not bit-identical (max abs diff {d:.3e})")
    else:
        scale = max(np.max(np.abs(y)), 1e-30)
        d = np.max(np.abs(x.astype(np.float64) - y.astype(np.float64))) / scale
        if not d <= rtol:
            bad.append(f"{name}: relative diff {d:.3e} > {rtol}")


def walk(g, prefix):
    out = {}
    for k, v in g.items():
        if isinstance(v, h5py.Dataset):
            out[prefix + k] = v[...]
        else:
            out.update(walk(v, prefix + k + "/"))
    return out


for grp in ("head", "optimizer", "backbone"):
    if grp == "backbone" and grp not in fa and grp not in fb:
        continue  # a frozen backbone: the weights file's
    if grp not in fa or grp not in fb:
        bad.append(f"/{grp} in only one of the files")
        continue
    da, db = walk(fa[grp], grp + "/"), walk(fb[grp], grp + "/")
    if sorted(da) != sorted(db):
        bad.append(f"{grp}: tensors {sorted(da)} vs {sorted(db)}")
    for k in da:
        if k in db:
            same(k, da[k], db[k])
same("optimizer iterations", fa["optimizer"].attrs["iterations"], fb["optimizer"].attrs["iterations"])
for attr in ("epoch", "global_step", "step_in_epoch"):
    same("state/" + attr, fa["state"].attrs[attr], fb["state"].attrs[attr])
ea, eb = fa["metrics/epoch"][...], fb["metrics/epoch"][...]
for col in ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "skipped"):
    same("metrics/epoch/" + col, ea[col], eb[col])
sa, sb = fa["metrics/step"][...], fb["metrics/step"][...]
for col in ("step", "loss", "accuracy"):
    same("metrics/step/" + col, sa[col], sb[col])
if bad:
    print(f"{a} vs {b}: DIFFERENT\n  " + "\n  ".join(bad))
    sys.exit(1)
print(f"{a} vs {b}: same ({'bit-identical' if rtol == 0 else f'rtol {rtol}'}); "
      f"final val_accuracy {ea['val_accuracy'][-1]:.4f}")
