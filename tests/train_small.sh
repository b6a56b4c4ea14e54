#!/usr/bin/env bash
# A small training job for runs under validation layers and the staged memory plan: 2 flower
# photos per class at 64x64, -np 2, batch 4, 2 epochs (the second from the feature cache), then
# evaluate. Every Vulkan command of the job goes through whatever layers the environment enables.
source "$(dirname "$0")/train_common.sh"
rm -rf "$WORK/data" "$WORK/out"
subset 2 "$WORK/data"
"${MPIRUN[@]}" -np 2 "$TRAINER" train --data "$WORK/data" --weights "$WEIGHTS" --image-size 64 \
  --epochs 2 --batch 4 --out "$WORK/out" >"$WORK/train.log" 2>&1 || { cat "$WORK/train.log"; fail "training failed"; }
expect_grep '^Epoch 2/2$' "$WORK/train.log"
expect_grep ' - val_accuracy: [0-9.]+ - images/s: [0-9.]+$' "$WORK/train.log"
"$TRAINER" evaluate --checkpoint "$WORK/out/latest.h5" --data "$WORK/data" >"$WORK/eval.log" 2>&1 \
  || { cat "$WORK/eval.log"; fail "evaluate failed"; }
expect_grep '^loss: [0-9.]+ - accuracy: [0-9.]+ \(2 images\)' "$WORK/eval.log"
if grep -q "Vulkan validation" "$WORK/train.log" "$WORK/eval.log"; then
  grep -h "Vulkan validation" "$WORK/train.log" "$WORK/eval.log" | head -5
  fail "validation messages above"
fi
echo "train_small: ok"
