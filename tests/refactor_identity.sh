#!/usr/bin/env bash
# A fixed small run (12 flower photos per class, 2 epochs, batch 16, -np 2) must produce a
# checkpoint whose tensors, optimizer state and metrics are bit-identical to the ones recorded in
# tests/expected/train_np2_12pc.digest, which the build before the module refactor produced.
# A deliberate numerical change (a new kernel that sums in another order) regenerates it with
#   VKDP_UPDATE_EXPECTED=1 ctest -R refactor_identity
# and says why in its commit.
source "$(dirname "$0")/train_common.sh"
expected="$here/expected/train_np2_12pc.digest"
rm -rf "$WORK/data" "$WORK/out"
subset 12 "$WORK/data"
"${MPIRUN[@]}" -np 2 "$TRAINER" train --data "$WORK/data" --weights "$WEIGHTS" --epochs 2 --batch 16 \
  --out "$WORK/out" >"$WORK/train.log" 2>&1 || { cat "$WORK/train.log"; fail "training failed"; }
$PY "$here/ckpt_digest.py" "$WORK/out/latest.h5" >"$WORK/digest" || fail "ckpt_digest.py failed"
if [ "${VKDP_UPDATE_EXPECTED:-0}" = 1 ]; then
  cp "$WORK/digest" "$expected"
  echo "updated $expected"
  exit 0
fi
if ! diff -u "$expected" "$WORK/digest"; then
  fail "the checkpoint differs from $expected (lines above: - expected, + this build)"
fi
echo "ok: $(wc -l <"$WORK/digest") tensors, attributes and metric columns bit-identical to $expected"
