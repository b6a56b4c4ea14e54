#!/usr/bin/env bash
# One phase-2 step of the whole job against an independent float64 PyTorch autograd reference
# (tests/ref/finetune_step_torch.py): 20 flower photos (16 training), -np 2, one head step, then one
# step from block6a over the whole training set with --dropout 0 and drop connect off (the test
# hook VKDP_TEST_NO_DROP_CONNECT). The reference, fed vkdp's own decoded pixels and its switch
# checkpoint's head, must match the step's loss, every trainable tensor's gradient (read from
# Adam's first moments), the head BN's moving statistics and Adam's update. The same step with
# drop connect on must fail the gradient comparison: the check can tell a different computation.
source "$(dirname "$0")/train_common.sh"
subset 4 "$WORK/data"
rm -rf "$WORK"/exact "$WORK"/dropconnect
run() { # run OUT [ENV=VALUE...]: the one-step job
  local out="$1"
  shift
  env "$@" "${MPIRUN[@]}" -np 2 "$TRAINER" train --data "$WORK/data" --weights "$WEIGHTS" --batch 16 \
    --epochs 1 --lr 1e-3 --dropout 0 --fine-tune-epochs 1 --fine-tune-from block6a --fine-tune-lr 1e-4 \
    --out "$WORK/$out" >"$WORK/$out.log" 2>&1 || { cat "$WORK/$out.log"; fail "the $out run failed"; }
}
run exact VKDP_TEST_NO_DROP_CONNECT=1
expect_grep '^Using 16 files for training\.' "$WORK/exact.log"
expect_grep '^test hook VKDP_TEST_NO_DROP_CONNECT: phase 2 trains without drop connect' "$WORK/exact.log"
"$DUMP" "$WORK/data" 20 224 "$WORK/images.f32" >/dev/null
ref() { # ref OUT: the reference on that run's switch and one-step checkpoints
  "$PY" "$here/ref/finetune_step_torch.py" "$WEIGHTS" "$WORK/data" "$WORK/images.f32" 224 \
    "$WORK/$1/ckpt-e0001-s000000001.h5" "$WORK/$1/ckpt-e0002-s000000002.h5" block6a 1e-4
}
ref exact | tee "$WORK/exact.ref" || fail "vkdp's phase-2 step differs from the PyTorch reference"
run dropconnect
if ref dropconnect >"$WORK/dropconnect.ref"; then
  cat "$WORK/dropconnect.ref"
  fail "the step with drop connect on matched the reference without it: the comparison cannot fail"
fi
expect_grep '^FAIL gradients of 40 tensors' "$WORK/dropconnect.ref"
grep '^FAIL' "$WORK/dropconnect.ref"
echo "PASS: one phase-2 step equals the float64 PyTorch reference; with drop connect on it does not"
