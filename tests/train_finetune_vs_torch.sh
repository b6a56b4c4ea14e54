#!/usr/bin/env bash
# One phase-2 step of the whole job against an independent float64 PyTorch autograd reference
# (tests/ref/finetune_step_torch.py): 20 flower photos (16 training), -np 2, one head step, then one
# step from block6a over the whole training set with --dropout 0 and --drop-connect-rate 0 (the
# reference cannot repeat drop connect's random draws). The reference, fed vkdp's own decoded
# pixels and its switch checkpoint's head, must match the step's loss, every trainable tensor's gradient (read from
# Adam's first moments), the head BN's moving statistics and Adam's update. The same step with
# drop connect on (the default rate, 0.2) must fail the gradient comparison: the check can tell a
# different computation. A resume of the first run's switch checkpoint at another rate is refused.
source "$(dirname "$0")/train_common.sh"
subset 4 "$WORK/data"
rm -rf "$WORK"/exact "$WORK"/dropconnect "$WORK"/resumed
# the one-step job's flags, shared by its runs and the refused resume
job=(--data "$WORK/data" --weights "$WEIGHTS" --batch 16 --epochs 1 --lr 1e-3 --dropout 0
  --fine-tune-epochs 1 --fine-tune-from block6a --fine-tune-lr 1e-4)
run() { # run OUT [FLAG...]: the one-step job
  local out="$1"
  shift
  "${MPIRUN[@]}" -np 2 "$TRAINER" train "$@" "${job[@]}" \
    --out "$WORK/$out" >"$WORK/$out.log" 2>&1 || { cat "$WORK/$out.log"; fail "the $out run failed"; }
}
run exact --drop-connect-rate 0
expect_grep '^Using 16 files for training\.' "$WORK/exact.log"
expect_grep '; drop connect at --drop-connect-rate 0 \(none\); ' "$WORK/exact.log"
"$DUMP" "$WORK/data" 20 224 "$WORK/images.f32" >/dev/null
ref() { # ref OUT: the reference on that run's switch and one-step checkpoints
  "$PY" "$here/ref/finetune_step_torch.py" "$WEIGHTS" "$WORK/data" "$WORK/images.f32" 224 \
    "$WORK/$1/ckpt-e0001-s000000001.h5" "$WORK/$1/ckpt-e0002-s000000002.h5" block6a 1e-4
}
ref exact | tee "$WORK/exact.ref" || fail "vkdp's phase-2 step differs from the PyTorch reference"
run dropconnect
expect_grep '; drop connect at --drop-connect-rate 0.2 \(block b of the trainable residual blocks: rate \* b / 16\); ' \
  "$WORK/dropconnect.log"
if ref dropconnect >"$WORK/dropconnect.ref"; then
  cat "$WORK/dropconnect.ref"
  fail "the step with drop connect on matched the reference without it: the comparison cannot fail"
fi
expect_grep '^FAIL gradients of 40 tensors' "$WORK/dropconnect.ref"
grep '^FAIL' "$WORK/dropconnect.ref"
# the rate is part of the run: the checkpoint keeps it (at 0: written, the default 0.2 left out),
# and a resume at another rate is refused, naming both
"$TRAINER" info "$WORK/exact/latest.h5" >"$WORK/info.txt" 2>&1 || { cat "$WORK/info.txt"; fail "trainer info failed"; }
expect_grep '^  drop_connect_rate: +0 \(phase 2: block b drops at rate \* b / 16\)$' "$WORK/info.txt"
"$TRAINER" info "$WORK/dropconnect/latest.h5" >"$WORK/info-dc.txt" 2>&1 || fail "trainer info failed"
expect_grep '^  drop_connect_rate: +0.2 ' "$WORK/info-dc.txt"
"$PY" -c "import h5py, sys; a = [dict(h5py.File(p, 'r')['config'].attrs) for p in sys.argv[1:]]; sys.exit(not (a[0]['drop_connect_rate'] == 0 and 'drop_connect_rate' not in a[1]))" \
  "$WORK/exact/latest.h5" "$WORK/dropconnect/latest.h5" || fail "/config drop_connect_rate: not 0 in the first, or present at the default"
rm -rf "$WORK/resumed"
if "${MPIRUN[@]}" -np 2 "$TRAINER" train "${job[@]}" --drop-connect-rate 0.1 \
  --out "$WORK/resumed" --resume "$WORK/exact/ckpt-e0001-s000000001.h5" >"$WORK/resumed.log" 2>&1; then
  fail "a resume at --drop-connect-rate 0.1 of a run trained at 0 was accepted"
fi
expect_grep "cannot resume from .*: it was trained with --fine-tune-epochs 1 --fine-tune-from block6a --fine-tune-lr 0.0001 --drop-connect-rate 0, this run has .* --drop-connect-rate 0.1" \
  "$WORK/resumed.log"
echo "PASS: one phase-2 step equals the float64 PyTorch reference; with drop connect on it does not; the rate is kept"
