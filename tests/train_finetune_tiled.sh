#!/usr/bin/env bash
# Phase 2 with a rank's batch larger than one buffer may hold (issue 12: "the batch is tiled when a
# tensor would exceed maxStorageBufferRange"): top_conv's per-sample weight-gradient partials are
# 1.6 MB each, so 96 samples on one rank (157 MB) pass lavapipe's 128 MiB; the job must run them in
# tiles of 81, say so, and give the bits of -np 4 (24 a rank, one tile). From block6a (drop connect
# in 6b-6d), VKDP_TEST_FT_CHUNK=10 forces tiles of 10 on one rank, the last of them partial, against
# -np 2's untiled 48: the same bits again.
source "$(dirname "$0")/train_common.sh"
subset 25 "$WORK/data"
rm -rf "$WORK"/np* "$WORK"/*.log "$WORK"/*.digest
run() { # run NAME NP FROM [ENV=VALUE...]
  local name=$1 np=$2 from=$3
  env "${@:4}" "${MPIRUN[@]}" -np "$np" "$TRAINER" train --data "$WORK/data" --weights "$WEIGHTS" --epochs 1 \
    --batch 96 --image-size 64 --fine-tune-epochs 1 --fine-tune-from "$from" --fine-tune-lr 1e-3 \
    --out "$WORK/$name" >"$WORK/$name.log" 2>&1 || { cat "$WORK/$name.log"; fail "$name: the job failed"; }
  "$PY" "$here/ckpt_digest.py" "$WORK/$name/latest.h5" >"$WORK/$name.digest"
}
run np1 1 top_conv
run np4 4 top_conv
expect_grep "^Phase 2 runs a rank's 96 samples in tiles of at most 81: one tensor of them all would pass the device's binding limit \(maxStorageBufferRange 128 MiB\)\.$" "$WORK/np1.log"
if grep -q 'in tiles of' "$WORK/np4.log"; then fail "-np 4 (24 samples a rank) was tiled"; fi
diff "$WORK/np1.digest" "$WORK/np4.digest" || fail "tiled -np 1 checkpoint differs from -np 4's"
grep -q '^/backbone/top_conv/top_conv/kernel:0' "$WORK/np1.digest" || fail "no trained top_conv in the checkpoint"
run np1_6a 1 block6a VKDP_TEST_FT_CHUNK=10
run np2_6a 2 block6a
expect_grep "^Phase 2 runs a rank's 96 samples in tiles of at most 10: the test hook VKDP_TEST_FT_CHUNK sets them\.$" "$WORK/np1_6a.log"
diff "$WORK/np1_6a.digest" "$WORK/np2_6a.digest" || fail "block6a in tiles of 10 differs from -np 2 untiled"
echo "PASS: 96 samples a rank in tiles (81 for the binding limit, 10 forced) give the untiled bits"
