#!/usr/bin/env bash
# Class folder names round-trip whatever they hold (issue #13 item 7): a checkpoint stores them as
# an HDF5 string array and `evaluate` hands them on as an array, never joined with commas, so
# folders "daisy, white" and "roses,red" train, show in `trainer info` and h5py, and evaluate
# and predict name them.
source "$(dirname "$0")/train_common.sh"
data="$WORK/data" out="$WORK/ck"
rm -rf "$data" "$out" "$WORK/flowers"
subset 4 "$WORK/flowers"
mkdir -p "$data"
mv "$WORK/flowers/daisy" "$data/daisy, white"
mv "$WORK/flowers/roses" "$data/roses,red"
"${MPIRUN[@]}" -np 1 "$TRAINER" train --data "$data" --weights "$WEIGHTS" --out "$out" --epochs 1 \
  --batch 4 --image-size 64 --validation-split 0.25 >"$WORK/train.log" 2>&1 \
  || { cat "$WORK/train.log"; fail "training failed"; }
expect_grep '^Found 8 files belonging to 2 classes\.$' "$WORK/train.log"
ck="$out/latest.h5"
"$TRAINER" info "$ck" >"$WORK/info.log" || fail "trainer info failed"
expect_grep 'classes \(2\): +daisy, white, roses,red$' "$WORK/info.log"
"$PY" - "$ck" <<'PY' || fail "h5py check"
import sys, h5py
names = [n.decode() if isinstance(n, bytes) else n for n in h5py.File(sys.argv[1], "r")["config"].attrs["class_names"]]
assert names == ["daisy, white", "roses,red"], names
PY
"${MPIRUN[@]}" -np 1 "$TRAINER" evaluate --checkpoint "$ck" >"$WORK/eval.log" 2>&1 \
  || { cat "$WORK/eval.log"; fail "evaluate failed"; }
expect_grep '^loss: [0-9.]+ - accuracy: [0-9.]+ \(2 images\)' "$WORK/eval.log"
expect_grep '^daisy, white +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9]+$' "$WORK/eval.log"
expect_grep '^roses,red +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9]+$' "$WORK/eval.log"
img="$(ls "$data/roses,red/"* | head -1)"
"${MPIRUN[@]}" -np 1 "$TRAINER" predict --checkpoint "$ck" --top 2 "$img" >"$WORK/pred.log" 2>&1 \
  || { cat "$WORK/pred.log"; fail "predict failed"; }
grep -qF "roses,red" "$WORK/pred.log" || { cat "$WORK/pred.log"; fail "predict does not name roses,red"; }
echo "ok: class names with commas and spaces round-trip through train, info, h5py, evaluate, predict"
