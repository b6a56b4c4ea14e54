#!/usr/bin/python3
"""`trainer export --keras` output against the rules Keras' legacy HDF5 weights loader
(load_weights_from_hdf5_group, no TensorFlow here) reads, the official weights file it was built
from, and the checkpoint it exports. That loader reads only the root attributes layer_names,
backend and keras_version and each listed layer's weight_names and datasets: the export's extra
root attributes (vkdp_class_names, vkdp_<config field>) are ignored by Keras and checked here
against the checkpoint. A checkpoint with a /backbone group (fine-tuned tensors) must have those
exported in place of the weights file's.

usage: export_check.py EXPORT.h5 WEIGHTS.h5 CHECKPOINT.h5
"""
import sys

import h5py
import numpy as np

out_path, weights_path, ckpt_path = sys.argv[1:4]
out, src, ck = h5py.File(out_path, "r"), h5py.File(weights_path, "r"), h5py.File(ckpt_path, "r")


def names(attr):
    assert attr.dtype.kind in ("S", "f"), attr.dtype  # fixed-length bytes, or Keras' empty float array
    return [n.decode("utf8") for n in attr] if attr.dtype.kind == "S" else []


def fail(msg):
    sys.exit(f"FAIL: {msg}")


src_layers = names(src.attrs["layer_names"])
head = ["avg_pool", "batch_normalization", "top_dropout", "pred"]
want = [src_layers[0], "img_augmentation"] + src_layers[1:] + head
got = names(out.attrs["layer_names"])
if got != want:
    fail(f"layer_names: {len(got)} layers, want {len(want)}; first difference at "
         f"{next(i for i, (a, b) in enumerate(zip(got + [None] * len(want), want)) if a != b)}")
for a in ("backend", "keras_version"):
    v, w = out.attrs[a], src.attrs[a]
    v, w = v.decode() if isinstance(v, bytes) else v, w.decode() if isinstance(w, bytes) else w
    if v != w:
        fail(f"attribute {a}: {v!r}, the weights file has {w!r}")
if sorted(out.keys()) != sorted(want):
    fail(f"groups {sorted(set(out.keys()) ^ set(want))} differ from layer_names")

# every backbone layer: the same weight_names, dtypes, shapes and values as the official file,
# except the values of the checkpoint's fine-tuned /backbone tensors
tuned = {}
if "backbone" in ck:
    ck["backbone"].visititems(lambda n, o: tuned.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None)
copied = taken = 0
for layer in src_layers:
    sw, ow = names(src[layer].attrs["weight_names"]), names(out[layer].attrs["weight_names"])
    if sw != ow:
        fail(f"{layer}: weight_names {ow}, the weights file has {sw}")
    for w in sw:
        a, b = out[layer][w], src[layer][w]
        want = tuned.get(f"{layer}/{w}", b[()])
        taken += f"{layer}/{w}" in tuned
        if a.dtype != b.dtype or a.shape != b.shape or not np.array_equal(a[()], want):
            fail(f"{layer}/{w}: {a.dtype}{a.shape} differs from the "
                 f"{'checkpoint' if f'{layer}/{w}' in tuned else 'weights file'}'s {b.dtype}{b.shape}")
        copied += 1
if taken != len(tuned):
    fail(f"{len(tuned) - taken} /backbone tensor(s) of the checkpoint name no tensor of the weights file")

# layers without weights: what Keras writes (GlobalAveragePooling2D, Dropout, the augmentation
# Sequential, and the weights file's own): no datasets, weight_names an empty float64 array
# (np.asarray of an empty list), as the official file holds them
for layer in got:
    wn = out[layer].attrs["weight_names"]
    if len(wn) == 0 and (wn.dtype != np.float64 or wn.shape != (0,) or len(out[layer].keys())):
        fail(f"{layer}: weightless layer with weight_names {wn.dtype}{wn.shape}, {len(out[layer].keys())} objects")
    if layer in src_layers and not len(wn) and src[layer].attrs["weight_names"].dtype != wn.dtype:
        fail(f"{layer}: weight_names dtype {wn.dtype}, the weights file has {src[layer].attrs['weight_names'].dtype}")
for layer in ("img_augmentation", "avg_pool", "top_dropout"):
    if names(out[layer].attrs["weight_names"]) or len(out[layer].keys()):
        fail(f"{layer} has weights")

# the head: Keras' weight order, float32, the checkpoint's values bit for bit
C = len(ck["config"].attrs["class_names"])
F = src["top_bn"]["top_bn/gamma:0"].shape[0]
head_w = {
    "batch_normalization": [("gamma", (F,), "head_bn"), ("beta", (F,), "head_bn"),
                            ("moving_mean", (F,), "head_bn"), ("moving_variance", (F,), "head_bn")],
    "pred": [("kernel", (F, C), "pred"), ("bias", (C,), "pred")],
}
for layer, ws in head_w.items():
    wn = names(out[layer].attrs["weight_names"])
    if wn != [f"{layer}/{w}:0" for w, _, _ in ws]:
        fail(f"{layer}: weight_names {wn}")
    for w, shape, ck_layer in ws:
        d = out[layer][f"{layer}/{w}:0"]
        ref = ck["head"][ck_layer][ck_layer][f"{w}:0"]
        if d.dtype != np.float32 or d.shape != shape or not np.array_equal(d[()], ref[()]):
            fail(f"{layer}/{w}:0: {d.dtype}{d.shape}, want float32{shape} equal to /head/{ck_layer}/{ck_layer}/{w}:0")

# what load_weights_from_hdf5_group does: the layers with weights, in order, one per model layer
# with weights, each layer's weight list matched by position and shape
weighted = [l for l in got if names(out[l].attrs["weight_names"])]
model = [l for l in src_layers if names(src[l].attrs["weight_names"])] + ["batch_normalization", "pred"]
if weighted != model:
    fail(f"{len(weighted)} layers with weights, the tutorial model has {len(model)}")
# what reading the export back needs: the checkpoint's classes and /config, as root attributes
if out.attrs["layer_names"].dtype.kind != "S":
    fail(f"layer_names is {out.attrs['layer_names'].dtype}, Keras writes fixed-length bytes")
cfg = ck["config"].attrs
extra = {k for k in out.attrs if k not in ("layer_names", "backend", "keras_version")}
want_extra = {"vkdp_class_names"} | {f"vkdp_{k}" for k in cfg if k != "class_names"}
if extra != want_extra:
    fail(f"root attributes {sorted(extra ^ want_extra)} differ from the checkpoint's /config")
if list(out.attrs["vkdp_class_names"]) != list(cfg["class_names"]):
    fail(f"vkdp_class_names {list(out.attrs['vkdp_class_names'])}, the checkpoint has {list(cfg['class_names'])}")
for k in cfg:
    if k != "class_names" and out.attrs[f"vkdp_{k}"] != cfg[k]:
        fail(f"vkdp_{k} = {out.attrs[f'vkdp_{k}']!r}, the checkpoint's /config {k} = {cfg[k]!r}")

print(f"export: {len(got)} layers ({len(weighted)} with weights), {copied} backbone tensors copied exactly ({taken} from the checkpoint's /backbone), "
      f"head = checkpoint, {C} classes, keras_version {out.attrs['keras_version']}")
