#!/usr/bin/env bash
# --augment in head-only training: the log says the feature cache is off for training images;
# -np 1 and -np 3 give bit-identical checkpoints (draws per seed, epoch and global sample index,
# not per rank); a run stopped after epoch 1 and resumed (-np 2) matches the uninterrupted one;
# the checkpoint records --augment (`trainer info`) and a resume that drops it is refused, naming
# it, without touching the checkpoints; and the augmentation changes the result (a run without it
# differs).
source "$(dirname "$0")/train_common.sh"
subset 6 "$WORK/data"
common=(--data "$WORK/data" --weights "$WEIGHTS" --epochs 2 --batch 8 --image-size "${IMAGE_SIZE:-96}")
rm -rf "$WORK"/np1 "$WORK"/np3 "$WORK"/plain "$WORK"/part

"${MPIRUN[@]}" -np 1 "$TRAINER" train "${common[@]}" --augment --out "$WORK/np1" >"$WORK/np1.log" 2>&1 \
  || { cat "$WORK/np1.log"; fail "-np 1 --augment failed"; }
expect_grep '^Augmentation on \(--augment\).*feature cache is off for training images' "$WORK/np1.log"
grep -E 'val_accuracy' "$WORK/np1.log" | tail -1

"${MPIRUN[@]}" -np 3 "$TRAINER" train "${common[@]}" --augment --out "$WORK/np3" >"$WORK/np3.log" 2>&1 \
  || { cat "$WORK/np3.log"; fail "-np 3 --augment failed"; }
"$PY" "$here/ckpt_compare.py" "$WORK/np1/latest.h5" "$WORK/np3/latest.h5" || fail "-np 3 differs from -np 1"

# epoch 1, then epoch 2 resumed from its checkpoint, with a third rank count
"${MPIRUN[@]}" -np 2 "$TRAINER" train "${common[@]}" --augment --epochs 1 --out "$WORK/part" \
  >"$WORK/part.log" 2>&1 || { cat "$WORK/part.log"; fail "first half failed"; }
"$TRAINER" info "$WORK/part/latest.h5" >"$WORK/info.txt" 2>&1 || { cat "$WORK/info.txt"; fail "trainer info failed"; }
expect_grep '^  augment: *1 ' "$WORK/info.txt"
before=$(ls -l --time-style=full-iso "$WORK/part")
if "${MPIRUN[@]}" -np 2 "$TRAINER" train "${common[@]}" --out "$WORK/part" --resume auto \
  >"$WORK/flip.log" 2>&1; then
  fail "a resume without --augment from an augmented checkpoint was accepted"
fi
expect_grep 'cannot resume from .*: it was trained with --augment, this run is without it' "$WORK/flip.log"
[ "$(ls -l --time-style=full-iso "$WORK/part")" = "$before" ] || fail "the refused resume changed $WORK/part"
"${MPIRUN[@]}" -np 2 "$TRAINER" train "${common[@]}" --augment --out "$WORK/part" --resume auto \
  >"$WORK/resume.log" 2>&1 || { cat "$WORK/resume.log"; fail "resume failed"; }
expect_grep '^Resuming from' "$WORK/resume.log"
"$PY" "$here/ckpt_compare.py" "$WORK/np1/latest.h5" "$WORK/part/latest.h5" || fail "resumed run differs"

"${MPIRUN[@]}" -np 1 "$TRAINER" train "${common[@]}" --out "$WORK/plain" >"$WORK/plain.log" 2>&1 \
  || { cat "$WORK/plain.log"; fail "run without --augment failed"; }
"$TRAINER" info "$WORK/plain/latest.h5" >"$WORK/info-plain.txt" 2>&1 || fail "trainer info failed"
expect_grep '^  augment: *0 ' "$WORK/info-plain.txt"
if "$PY" "$here/ckpt_compare.py" "$WORK/np1/latest.h5" "$WORK/plain/latest.h5" >/dev/null 2>&1; then
  fail "--augment changed nothing"
fi
echo "train_augment: ok (-np 1 = -np 3 = resumed -np 2, and differs from the unaugmented run)"
