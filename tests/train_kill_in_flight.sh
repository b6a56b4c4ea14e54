#!/usr/bin/env bash
# A rank dies while a backbone call is in flight (async_depth 2, epoch 1: after step 2 the call of
# step 3's images runs through the head step): the job must still end, non-zero, within 30 s (no
# rank left waiting on a fence or a collective).
source "$(dirname "$0")/train_common.sh"
subset 12 "$WORK/data"
rm -rf "$WORK/run"
killed_run "$WORK/killed.log" "$WORK/run" env VKDP_TEST_KILL=1:2 timeout 300 "${MPIRUN[@]}" -np 2 "$TRAINER" train \
  --data "$WORK/data" --weights "$WEIGHTS" --epochs 2 --batch 8 --out "$WORK/run"
expect_grep 'micro-batch [0-9]+, 2 in flight' "$WORK/killed.log"
expect_grep 'killing myself after step 2' "$WORK/killed.log"
"$PY" -c "import sys; sys.exit(0 if float(sys.argv[1]) < 30 else 1)" "$elapsed" \
  || fail "job took ${elapsed} s to end after the kill (limit 30 s)"
echo "ok: a rank killed with a backbone call in flight: the job ended (exit $rc) ${elapsed} s later"
