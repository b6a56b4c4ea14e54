#!/usr/bin/env bash
# --feature-batch: a pass that computes features packs several steps' images into one backbone
# call, ahead of the head, instead of one step's share per call. An image's features do not
# depend on the other images of its call, so nothing may change:
#  1. refactor_identity's fixed run (-np 2, batch 16: shares of 8) with --feature-batch 24 gives
#     the committed digest, and rank 0 computed its 24 training images in 1 call, not 3;
#  2. `trainer features` over a folder with an undecodable image, --feature-batch 40 against the
#     default, at -np 1 and -np 2: the same features, labels and paths bit for bit, the bad file
#     dropped in both.
source "$(dirname "$0")/train_common.sh"
expected="$here/expected/train_np2_12pc.digest"
rm -rf "$WORK/data" "$WORK/out" "$WORK/feat"
subset 12 "$WORK/data"
"${MPIRUN[@]}" -np 2 "$TRAINER" train --data "$WORK/data" --weights "$WEIGHTS" --epochs 2 --batch 16 \
  --out "$WORK/out" --feature-batch 24 >"$WORK/train.log" 2>&1 || { cat "$WORK/train.log"; fail "training failed"; }
expect_grep '^features: up to 24 images per backbone call' "$WORK/train.log"
expect_grep '^features of 24 images in 1 backbone call \(rank 0\)' "$WORK/train.log"
$PY "$here/ckpt_digest.py" "$WORK/out/latest.h5" >"$WORK/digest" || fail "ckpt_digest.py failed"
diff -u "$expected" "$WORK/digest" || fail "--feature-batch 24 changed the checkpoint (lines above: - expected, + this run)"
echo "ok: --feature-batch 24: checkpoint bit-identical to $expected, 1 backbone call for rank 0's 24 images"

# a folder with one undecodable JPEG among 12 per class
mkdir -p "$WORK/feat"
cp -rL "$WORK/data" "$WORK/feat/data"
printf '\xff\xd8\xff\xe0 not a jpeg' >"$WORK/feat/data/roses/zz_broken.jpg"
for np in 1 2; do
  for fb in default 40; do
    extra=()
    [ "$fb" = default ] || extra=(--feature-batch "$fb")
    "${MPIRUN[@]}" -np "$np" "$TRAINER" features --data "$WORK/feat/data" --weights "$WEIGHTS" --batch 16 \
      --out "$WORK/feat/np$np-$fb.h5" "${extra[@]}" >"$WORK/feat/np$np-$fb.log" 2>&1 ||
      { cat "$WORK/feat/np$np-$fb.log"; fail "features -np $np --feature-batch $fb failed"; }
  done
done
$PY - "$WORK/feat" <<'PY' || fail "features differ with --feature-batch"
import sys, h5py, numpy as np
d = sys.argv[1]
ref = h5py.File(f"{d}/np1-default.h5", "r")
n = ref["features"].shape[0]
paths = [p.decode() if isinstance(p, bytes) else p for p in ref["paths"][()]]
assert n == 60, f"expected 60 decodable images, got {n}"
assert not any("zz_broken" in p for p in paths), "the undecodable file was kept"
for name in ("np1-40", "np2-default", "np2-40"):
    f = h5py.File(f"{d}/{name}.h5", "r")
    for k in ("features", "labels", "paths"):
        if not np.array_equal(f[k][()], ref[k][()]):
            sys.exit(f"{name}: /{k} differs from np1-default")
print(f"ok: features of {n} images bit-identical at -np 1/2 with and without --feature-batch 40")
PY
