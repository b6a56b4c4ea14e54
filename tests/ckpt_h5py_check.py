"""An independent reader (h5py) sees the checkpoint layout vkdp_ckpt_write promises.

usage: /usr/bin/python3 ckpt_h5py_check.py CHECKPOINT.h5
The file is the one ctest's ckpt_roundtrip leaves: 3 epochs of tc_make_state (1280 features)."""
import sys

import h5py
import numpy as np

path = sys.argv[1]
with h5py.File(path, "r") as f:
    k = f["/head/pred/pred/kernel:0"]
    assert k.shape == (1280, 5) and k.dtype == np.float32, (k.shape, k.dtype)
    assert f["/head/pred/pred/bias:0"].shape == (5,)
    # Keras legacy layout: names relative to the layer group, fixed-length byte strings.
    wn = [n.decode() for n in f["/head/pred"].attrs["weight_names"]]
    assert wn == ["pred/kernel:0", "pred/bias:0"], wn
    ln = [n.decode() for n in f["/head"].attrs["layer_names"]]
    assert ln == ["head_bn", "pred"], ln
    for w in ("gamma", "beta", "moving_mean", "moving_variance"):
        assert f["/head/head_bn/head_bn/%s:0" % w].shape == (1280,)
    cfg = f["/config"].attrs
    classes = list(cfg["class_names"])
    assert classes == ["daisy", "dandelion", "roses", "sunflowers", "tulips"], classes
    assert int(cfg["image_size"]) == 180 and int(cfg["batch"]) == 32
    assert cfg["created"].endswith("Z") and len(cfg["weights_sha256"]) == 64
    opt = f["/optimizer"]
    assert int(opt.attrs["iterations"]) == 276
    assert opt["m/pred/pred/kernel:0"].shape == (1280, 5)
    assert opt["v/head_bn/head_bn/gamma:0"].shape == (1280,)
    st = f["/state"].attrs
    assert (int(st["epoch"]), int(st["global_step"]), int(st["step_in_epoch"])) == (3, 276, 0)
    ep = f["/metrics/epoch"]
    assert ep.maxshape == (None,) and ep.chunks is not None and ep.compression == "gzip"
    assert list(ep["epoch"]) == [1, 2, 3], list(ep["epoch"])
    assert np.allclose(ep["loss"], [1.0, 0.5, 1.0 / 3])
    assert set(ep.dtype.names) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy",
                                   "images_per_s", "seconds", "skipped"}
    sm = f["/metrics/step"]
    assert sm.maxshape == (None,) and sm.compression == "gzip" and sm.shape == (276,)
    assert list(sm["step"][:3]) == [1, 2, 3]
print("ok   h5py reads %s: /head/pred/pred/kernel:0 %s, %d epoch rows, %d step rows"
      % (path, k.shape, ep.shape[0], sm.shape[0]))
