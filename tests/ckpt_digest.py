#!/usr/bin/python3
"""ckpt_digest.py FILE.h5: one line per deterministic piece of a checkpoint, "<name> <sha256>".

Covers every tensor under /head, /backbone and /optimizer (raw float32 bytes, shape in the name),
the optimizer's and /state's attributes, /config's training attributes, and every column of
/metrics/epoch and /metrics/step except wall-clock ones (seconds, images_per_s). Two runs of the
same job, on any number of ranks and before and after a refactor, must print the same lines;
compare them with `diff`. Used by tests/refactor_identity.sh against tests/expected/."""
import hashlib
import sys

import h5py
import numpy as np

WALL_CLOCK = {"seconds", "images_per_s", "epoch_seconds", "created", "git_commit", "version",
              "data_dir", "weights_file", "nranks"}


def digest(b):
    return hashlib.sha256(b).hexdigest()


def attr_bytes(v):
    if isinstance(v, (bytes, str)):
        return (v.encode() if isinstance(v, str) else v)
    a = np.asarray(v)
    if a.dtype.kind in "OSU":
        return "\x1f".join(x.decode() if isinstance(x, bytes) else str(x) for x in a.ravel()).encode()
    # values, not their storage type: an attribute rewritten as int64 instead of int32 is the same
    if a.dtype.kind in "iub":
        return a.astype("<i8").tobytes()
    return a.astype("<f8").tobytes()


def main():
    f = h5py.File(sys.argv[1], "r")
    out = []

    def visit(name, obj):
        top = name.split("/")[0]
        if isinstance(obj, h5py.Dataset) and top in ("head", "backbone", "optimizer"):
            a = obj[...]
            out.append(f"/{name}{list(a.shape)}:{a.dtype.str} {digest(a.tobytes())}")

    f.visititems(visit)
    for g in ("config", "optimizer", "state"):
        if g not in f:
            continue
        for k in sorted(f[g].attrs):
            if k in WALL_CLOCK:
                continue
            out.append(f"/{g}@{k} {digest(attr_bytes(f[g].attrs[k]))}")
    for t in ("epoch", "step"):
        d = f["metrics"][t][...]
        for col in d.dtype.names:
            if col in WALL_CLOCK:
                continue
            out.append(f"/metrics/{t}.{col}[{len(d)}] {digest(np.ascontiguousarray(d[col]).tobytes())}")
    print("\n".join(sorted(out)))


if __name__ == "__main__":
    main()
