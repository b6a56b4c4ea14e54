#!/usr/bin/env bash
# --drop-connect all (the Keras example's model: drop connect in every residual block, frozen ones
# included, in both phases) end to end on a small subset: head 1 epoch (no --augment: the frozen
# backbone is stochastic by drop connect alone, so training images bypass the feature cache),
# then block6a..top_conv 1 epoch. -np 1 and -np 3 give bit-identical checkpoints (scales drawn per
# seed, epoch, global sample index and block); runs killed inside phase 1 and inside phase 2 and
# resumed at other rank counts equal the uninterrupted run; the checkpoint records it (`trainer
# info`, evaluate --report) and a resume without it is refused, naming it, without touching the checkpoints; and it
# changes the head-only epoch (a run with drop connect in the trainable blocks only differs).
source "$(dirname "$0")/train_common.sh"
subset 6 "$WORK/data"
common=(--data "$WORK/data" --weights "$WEIGHTS" --epochs 1 --batch 8 --image-size "${IMAGE_SIZE:-64}"
  --fine-tune-epochs 1 --fine-tune-from block6a --fine-tune-lr 1e-3 --drop-connect-rate 0.5)
rm -rf "$WORK"/np* "$WORK"/kill* "$WORK"/plain

for np in 1 3; do
  "${MPIRUN[@]}" -np $np "$TRAINER" train "${common[@]}" --drop-connect all --out "$WORK/np$np" >"$WORK/np$np.log" 2>&1 \
    || { cat "$WORK/np$np.log"; fail "-np $np --drop-connect all failed"; }
done
expect_grep '^Drop connect in every residual block \(--drop-connect all.*0.5 \* b / 16.*training images are not cached \(validation images stay cached\)' "$WORK/np1.log"
expect_grep 'drop connect at --drop-connect-rate 0.5 \(block b of every residual block' "$WORK/np1.log"
grep -E 'val_accuracy' "$WORK/np1.log" | tail -1
"$PY" "$here/ckpt_compare.py" "$WORK/np1/latest.h5" "$WORK/np3/latest.h5" || fail "-np 3 differs from -np 1"
"$TRAINER" info "$WORK/np1/latest.h5" >"$WORK/info.txt" 2>&1 || { cat "$WORK/info.txt"; fail "trainer info failed"; }
expect_grep '^  drop_connect_all: *1 ' "$WORK/info.txt"
expect_grep '^  drop_connect_rate: *0.5 ' "$WORK/info.txt"

# evaluate --report's summary says so
"${MPIRUN[@]}" -np 1 "$TRAINER" evaluate --checkpoint "$WORK/np1/latest.h5" --report "$WORK/report" \
  >"$WORK/report.log" 2>&1 || { cat "$WORK/report.log"; fail "evaluate --report failed"; }
expect_grep 'drop connect rate 0\.5; drop connect in every residual block, frozen ones included \(rate 0\.5\); image size 64' \
  "$WORK/report/index.html"

# killed after global step 2 (phase 1, its epoch has 3 steps) and after step 5 (phase 2), with a
# checkpoint every step (the killed step's own is not written: resumed after global steps 1 and 4), at other rank counts
set +e
VKDP_TEST_KILL=0:2 timeout 300 "${MPIRUN[@]}" -np 2 "$TRAINER" train "${common[@]}" --drop-connect all --checkpoint-every 1 \
  --out "$WORK/kill1" >"$WORK/kill1.log" 2>&1
rc=$?
VKDP_TEST_KILL=1:5 timeout 300 "${MPIRUN[@]}" -np 2 "$TRAINER" train "${common[@]}" --drop-connect all --checkpoint-every 1 \
  --out "$WORK/kill2" >"$WORK/kill2.log" 2>&1
rc2=$?
set -e
[ $rc -ne 0 ] && [ $rc2 -ne 0 ] || fail "a job with a killed rank exited 0"
expect_grep 'killing myself after step 2' "$WORK/kill1.log"
expect_grep 'killing myself after step 5' "$WORK/kill2.log"
released "$WORK/kill1"
released "$WORK/kill2"
# a resume that drops the flag is refused and leaves the folder as it was
before=$(ls -l --time-style=full-iso "$WORK/kill1")
if "${MPIRUN[@]}" -np 1 "$TRAINER" train "${common[@]}" --out "$WORK/kill1" --resume auto >"$WORK/flip.log" 2>&1; then
  fail "a resume without --drop-connect all from such a checkpoint was accepted"
fi
expect_grep 'cannot resume from .*: it was trained with --drop-connect all \(rate 0.5\), this run has --drop-connect trainable' "$WORK/flip.log"
[ "$(ls -l --time-style=full-iso "$WORK/kill1")" = "$before" ] || fail "the refused resume changed $WORK/kill1"
"${MPIRUN[@]}" -np 3 "$TRAINER" train "${common[@]}" --drop-connect all --checkpoint-every 1 --out "$WORK/kill1" --resume auto \
  >"$WORK/resume1.log" 2>&1 || { cat "$WORK/resume1.log"; fail "resume inside phase 1 failed"; }
expect_grep '^Resuming from .*: 0 epoch\(s\) and 1 step\(s\) done' "$WORK/resume1.log"
"$PY" "$here/ckpt_compare.py" "$WORK/np1/latest.h5" "$WORK/kill1/latest.h5" || fail "run resumed inside phase 1 differs"
"${MPIRUN[@]}" -np 1 "$TRAINER" train "${common[@]}" --drop-connect all --checkpoint-every 1 --out "$WORK/kill2" --resume auto \
  >"$WORK/resume2.log" 2>&1 || { cat "$WORK/resume2.log"; fail "resume inside phase 2 failed"; }
expect_grep '^Resuming from .*: 1 epoch\(s\) and 4 step\(s\) done' "$WORK/resume2.log"
"$PY" "$here/ckpt_compare.py" "$WORK/np1/latest.h5" "$WORK/kill2/latest.h5" || fail "run resumed inside phase 2 differs"

# control: drop connect in the trainable blocks only gives another head-only epoch
"${MPIRUN[@]}" -np 1 "$TRAINER" train "${common[@]}" --out "$WORK/plain" >"$WORK/plain.log" 2>&1 \
  || { cat "$WORK/plain.log"; fail "run without --drop-connect all failed"; }
"$TRAINER" info "$WORK/plain/latest.h5" >"$WORK/info-plain.txt" 2>&1 || fail "trainer info failed"
if grep -qE '^  drop_connect_all: *1 ' "$WORK/info-plain.txt"; then fail "the plain run records drop_connect_all 1"; fi
if "$PY" "$here/ckpt_compare.py" "$WORK"/np1/ckpt-e0001-s*.h5 "$WORK"/plain/ckpt-e0001-s*.h5 >/dev/null 2>&1; then
  fail "--drop-connect all changed nothing in the head-only epoch"
fi
echo "train_drop_connect_all: ok (-np 1 = -np 3 = resumed in phase 1 and in phase 2, and differs from trainable-only)"
