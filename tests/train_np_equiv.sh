#!/usr/bin/env bash
# The same training with -np 1, 2, 3 and 4 gives bit-identical per-epoch metrics, per-step
# metrics, head weights and Adam state (20 real images per class, 2 epochs; batch 32 leaves a
# partial last batch and slices that are not divisible by every rank count).
source "$(dirname "$0")/train_common.sh"
subset 20 "$WORK/data"
for np in 1 2 3 4; do
  out="$WORK/np$np"
  rm -rf "$out"
  "${MPIRUN[@]}" -np $np "$TRAINER" train --data "$WORK/data" --weights "$WEIGHTS" --out "$out" \
    --epochs 2 --batch 32 --image-size "${IMAGE_SIZE:-224}" >"$WORK/np$np.log" 2>&1 \
    || { cat "$WORK/np$np.log"; fail "-np $np exited non-zero"; }
  grep -E 'val_accuracy' "$WORK/np$np.log" | tail -1
done
for np in 2 3 4; do
  "$PY" "$here/ckpt_compare.py" "$WORK/np1/latest.h5" "$WORK/np$np/latest.h5" || fail "-np $np differs from -np 1"
done
echo "train_np_equiv: ok (bit-identical for -np 1, 2, 3, 4)"
