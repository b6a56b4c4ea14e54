#!/usr/bin/python3
"""Broken and variant copies of the Keras EfficientNetB0 weights file for test_effnet_load.

usage: make_bad_weights.py WEIGHTS.h5 OUTDIR
(the truncated copy is made by the ctest command itself, with head -c)
"""
import os
import sys

import h5py
import numpy as np


def names(attr):
    return [n.decode() if isinstance(n, bytes) else n for n in attr]


def set_names(obj, key, values):
    width = max([len(v) for v in values] + [1])
    obj.attrs[key] = np.array([v.encode() for v in values], dtype=f"S{width}")


def copy(src_path, dst_path, mutate=None):
    with h5py.File(src_path, "r") as src, h5py.File(dst_path, "w") as dst:
        for k, v in src.attrs.items():
            dst.attrs[k] = v
        for name in src:
            src.copy(src[name], dst, name)
        if mutate:
            mutate(dst)


def drop_weight(f, layer, weight, keep_listed=False):
    g = f[layer]
    full = f"{layer}/{weight}"
    del g[full]
    if not keep_listed:
        set_names(g, "weight_names", [n for n in names(g.attrs["weight_names"]) if n != full])


def drop_layer(f, layer):
    del f[layer]
    set_names(f, "layer_names", [n for n in names(f.attrs["layer_names"]) if n != layer])


def replace(f, layer, weight, data):
    path = f"{layer}/{layer}/{weight}"
    del f[path]
    f.create_dataset(path, data=data)


def add_layer(f, layer, tensors):
    g = f.create_group(layer)
    for w, data in tensors.items():
        g.create_dataset(f"{layer}/{w}", data=data)
    set_names(g, "weight_names", [f"{layer}/{w}" for w in tensors])
    set_names(f, "layer_names", names(f.attrs["layer_names"]) + [layer])


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, out = sys.argv[1:]
    os.makedirs(out, exist_ok=True)
    p = lambda n: os.path.join(out, n)  # noqa: E731
    rng = np.random.default_rng(0)

    copy(src, p("missing_tensor.h5"), lambda f: drop_weight(f, "block3b_dwconv", "depthwise_kernel:0"))
    copy(src, p("missing_layer.h5"), lambda f: drop_layer(f, "block5c_se_expand"))
    # weight_names still lists it, the dataset is gone
    copy(src, p("listed_absent.h5"), lambda f: drop_weight(f, "top_bn", "beta:0", keep_listed=True))
    copy(src, p("wrong_shape.h5"),
         lambda f: replace(f, "block2a_project_conv", "kernel:0", np.zeros((1, 1, 96, 25), np.float32)))
    copy(src, p("nan.h5"),
         lambda f: replace(f, "stem_bn", "gamma:0", np.full(32, np.nan, np.float32)))
    def conv_bias(f):  # a stem conv with a bias: not EfficientNetB0's
        g = f["stem_conv"]
        g.create_dataset("stem_conv/bias:0", data=np.zeros(32, np.float32))
        set_names(g, "weight_names", names(g.attrs["weight_names"]) + ["stem_conv/bias:0"])
    copy(src, p("extra_weight.h5"), conv_bias)
    # a layer EfficientNetB0 does not have (as in an EfficientNetB1 file)
    copy(src, p("foreign_layer.h5"),
         lambda f: add_layer(f, "block1b_dwconv", {"depthwise_kernel:0": np.zeros((3, 3, 16, 1), np.float32)}))

    def with_top(f):
        add_layer(f, "avg_pool", {})
        add_layer(f, "top_dropout", {})
        add_layer(f, "predictions", {"kernel:0": rng.standard_normal((1280, 1000)).astype(np.float32),
                                     "bias:0": np.zeros(1000, np.float32)})
    copy(src, p("with_top.h5"), with_top)

    def many_missing(f):
        drop_weight(f, "block3b_dwconv", "depthwise_kernel:0")
        drop_layer(f, "block5c_se_expand")
        for w in ("gamma:0", "beta:0", "moving_mean:0", "moving_variance:0"):
            drop_weight(f, "top_bn", w)
    copy(src, p("many_missing.h5"), many_missing)

    def vlen_names(f):  # variable-length string attributes instead of fixed-width ones
        vlen = h5py.string_dtype()
        for layer in names(f.attrs["layer_names"]):
            g = f[layer]
            g.attrs.create("weight_names", np.array(names(g.attrs["weight_names"]), dtype=object), dtype=vlen)
        f.attrs.create("layer_names", np.array(names(f.attrs["layer_names"]), dtype=object), dtype=vlen)
    copy(src, p("vlen_names.h5"), vlen_names)

    # a tensor that is an external link into another file (here the real weights file itself)
    def external(f):
        path = "stem_conv/stem_conv/kernel:0"
        del f[path]
        f[path] = h5py.ExternalLink(os.path.abspath(src), "/" + path)
    copy(src, p("external_link.h5"), external)

    # model.save() layout: the weights layout under /model_weights
    with h5py.File(src, "r") as s, h5py.File(p("full_model.h5"), "w") as d:
        d.attrs["keras_version"] = s.attrs["keras_version"]
        g = d.create_group("model_weights")
        for k, v in s.attrs.items():
            g.attrs[k] = v
        for name in s:
            s.copy(s[name], g, name)
    with h5py.File(p("no_layer_names.h5"), "w") as f:
        f.create_dataset("x", data=np.zeros(3, np.float32))
    with open(p("not_hdf5.h5"), "w") as f:
        f.write("this is not an HDF5 file\n" * 100)
    print(f"make_bad_weights: wrote variants of {src} to {out}")


if __name__ == "__main__":
    main()
