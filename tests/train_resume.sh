#!/usr/bin/env bash
# Failure and resume: one rank is SIGKILLed mid-epoch (test hook VKDP_TEST_KILL): the job must
# exit non-zero within 30 s, the latest checkpoint must stay readable, and `--resume auto` must
# finish with a result bit-identical to an uninterrupted run. Resuming with another rank count
# gives the same result too, and a checkpoint of another class set is refused.
source "$(dirname "$0")/train_common.sh"
subset 12 "$WORK/data"
common=(--data "$WORK/data" --weights "$WEIGHTS" --epochs 2 --batch 8 --checkpoint-every 2 --image-size "${IMAGE_SIZE:-224}")

rm -rf "$WORK/ref" "$WORK/run" "$WORK/run3"
"${MPIRUN[@]}" -np 2 "$TRAINER" train "${common[@]}" --out "$WORK/ref" >"$WORK/ref.log" 2>&1 \
  || { cat "$WORK/ref.log"; fail "uninterrupted run failed"; }

# 6 steps per epoch; rank 1 dies right after global step 9 (mid epoch 2, after the step-8 checkpoint)
killed_run "$WORK/killed.log" "$WORK/run" env VKDP_TEST_KILL=1:9 timeout 300 "${MPIRUN[@]}" -np 2 "$TRAINER" train "${common[@]}" \
  --out "$WORK/run"
expect_grep 'killing myself after step 9' "$WORK/killed.log"
h5dump -H "$WORK/run/latest.h5" >/dev/null || fail "latest checkpoint unreadable after the kill"
step=$("$PY" -c "import h5py,sys; print(h5py.File(sys.argv[1],'r')['state'].attrs['global_step'])" "$WORK/run/latest.h5")
[ "$step" = 8 ] || fail "latest checkpoint is at step $step, expected 8"
"$PY" -c "import sys; sys.exit(0 if float(sys.argv[1]) < 30 else 1)" "$elapsed" \
  || fail "the job took ${elapsed}s to exit after a rank was killed (limit 30 s)"
echo "killed job exited with status $rc ${elapsed}s after the kill"
cp -a "$WORK/run" "$WORK/run3"

"${MPIRUN[@]}" -np 2 "$TRAINER" train "${common[@]}" --out "$WORK/run" --resume auto >"$WORK/resume.log" 2>&1 \
  || { cat "$WORK/resume.log"; fail "resume failed"; }
expect_grep '^Resuming from .*latest.h5: 1 epoch\(s\) and 8 step\(s\) done' "$WORK/resume.log"
"$PY" "$here/ckpt_compare.py" "$WORK/ref/latest.h5" "$WORK/run/latest.h5" || fail "resumed run differs"

"${MPIRUN[@]}" -np 3 "$TRAINER" train "${common[@]}" --out "$WORK/run3" --resume auto >"$WORK/resume3.log" 2>&1 \
  || { cat "$WORK/resume3.log"; fail "resume with -np 3 failed"; }
"$PY" "$here/ckpt_compare.py" "$WORK/ref/latest.h5" "$WORK/run3/latest.h5" || fail "resumed -np 3 run differs"

# a checkpoint of other classes is refused, naming the difference
mkdir -p "$WORK/other"
rm -rf "$WORK/other/data"; cp -as "$WORK/data" "$WORK/other/data"; mv "$WORK/other/data/tulips" "$WORK/other/data/zinnias"
set +e
"$TRAINER" train --data "$WORK/other/data" --weights "$WEIGHTS" --epochs 3 --batch 8 --out "$WORK/run" \
  --resume auto --image-size "${IMAGE_SIZE:-224}" >"$WORK/refused.log" 2>&1
rc=$?
set -e
[ $rc -ne 0 ] || fail "resume with other classes was accepted"
expect_grep 'cannot resume from .*classes' "$WORK/refused.log"
echo "train_resume: ok"
