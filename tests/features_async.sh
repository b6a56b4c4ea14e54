#!/usr/bin/env bash
# Backbone calls left in flight (async_depth 2: the host packs the next call while one runs) give
# the same features as submit-and-wait (VKDP_TUNE=async_depth=1): `trainer features` over 15
# images in packs of 4, 4, 4, 3 (--batch 2 --feature-batch 5: a pack size that does not divide
# the set), at -np 1 both ways and at -np 2 in flight, bit for bit.
source "$(dirname "$0")/train_common.sh"
subset 3 "$WORK/data"
run() { # run NP DEPTH
  "${MPIRUN[@]}" -np "$1" env VKDP_TUNE="async_depth=$2" "$TRAINER" features --data "$WORK/data" \
    --weights "$WEIGHTS" --batch 2 --feature-batch 5 --image-size 128 --out "$WORK/np$1-d$2.h5" \
    >"$WORK/np$1-d$2.log" 2>&1 || { cat "$WORK/np$1-d$2.log"; fail "features -np $1 async_depth $2 failed"; }
  expect_grep "micro-batch 5, $2 in flight" "$WORK/np$1-d$2.log"
}
run 1 1
run 1 2
run 2 2
$PY - "$WORK" <<'PY' || fail "features differ between async depths"
import sys, h5py, numpy as np
d = sys.argv[1]
ref = h5py.File(f"{d}/np1-d1.h5", "r")
n = ref["features"].shape[0]
assert n == 15, f"expected 15 images, got {n}"
assert len(np.unique(ref["features"][()], axis=0)) == n, "some images share features"
for name in ("np1-d2", "np2-d2"):
    f = h5py.File(f"{d}/{name}.h5", "r")
    for k in ("features", "labels", "paths"):
        if not np.array_equal(f[k][()], ref[k][()]):
            sys.exit(f"{name}: /{k} differs from np1-d1 (synchronous)")
print(f"ok: features of {n} images bit-identical with calls in flight (-np 1, 2) and without")
PY
