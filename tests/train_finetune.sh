#!/usr/bin/env bash
# Phase 2 (fine-tuning) end to end on a small subset: head 1 epoch, then $FROM (top_conv, or
# block7a + top_conv: the Keras example's last 20 layers) + head at --fine-tune-lr. -np 1, 2 and 4 give bit-identical checkpoints (every cross-sample gradient sum is
# an int64 sum); a run killed inside phase 2 and resumed at another -np, and one killed right after
# the switch (resumed from the head-only epoch's checkpoint), equal the uninterrupted run;
# top_conv's kernel moved away from the weights file's; predict on the fine-tuned checkpoint
# differs from the head-only checkpoint's and equals predict on its Keras export; a checkpoint
# whose /backbone or /optimizer tensor is NaN or misshapen is refused on resume, naming the file
# and the tensor. QUICK=1 stops after the rank-count and trained-tensor checks; AUGMENT=1 adds
# --augment (the frozen part then runs on augmented images in both phases).
source "$(dirname "$0")/train_common.sh"
FROM="${FROM:-top_conv}"
case "$FROM" in
  top_conv) tensors=1 values=409600 plan='409,600 trainable parameters, 25 KiB' ;;
  block7a) tensors=8 values=1121584 plan='1,121,584 trainable parameters, 73 KiB' ;;
  block6a) tensors=36 values=3129884 plan='3,129,884 trainable parameters, 282 KiB' ;;
  *) fail "FROM=$FROM: no expectations for it" ;;
esac
subset 6 "$WORK/data"
common=(--data "$WORK/data" --weights "$WEIGHTS" --epochs 1 --batch 8 --image-size "${IMAGE_SIZE:-64}"
  --fine-tune-epochs 2 --fine-tune-from "$FROM" --fine-tune-lr 1e-3)
if [ "${AUGMENT:-0}" = 1 ]; then common+=(--augment); fi
rm -rf "$WORK"/np* "$WORK"/kill* "$WORK"/bad* "$WORK"/perturbed
digest() { "$PY" "$here/ckpt_digest.py" "$1"; }

for np in 1 2 4; do
  # -np 4 also compares the replicas (head and backbone) after every step; -np 1 prints --profile's
  # table (phase 2's ops included)
  # -np 2 cuts the gradients into 50 KiB buckets: the sums, hence the checkpoint, must not change
  extra=()
  if [ $np = 2 ]; then extra=(--bucket-mb 0.05); fi
  if [ $np = 4 ]; then extra=(--check-replicas 1); fi
  if [ $np = 1 ]; then extra=(--profile); fi
  "${MPIRUN[@]}" -np $np "$TRAINER" train "${common[@]}" "${extra[@]}" --out "$WORK/np$np" >"$WORK/np$np.log" 2>&1 \
    || { cat "$WORK/np$np.log"; fail "-np $np fine-tuning run failed"; }
  digest "$WORK/np$np/latest.h5" >"$WORK/np$np.digest"
done
expect_grep "^Phase 2 after epoch 1: fine-tuning from $FROM: $plan of saved activations per image" "$WORK/np1.log"
expect_grep "^Fine-tuning from $FROM \\(epoch 2 of 3\\)" "$WORK/np1.log"
expect_grep '^ft_top_conv_grad +[0-9]+ ' "$WORK/np1.log"
if [ "$FROM" != top_conv ]; then expect_grep '^ft_conv1x1_grad_w +[0-9]+ ' "$WORK/np1.log"; fi
grep -E 'val_accuracy' "$WORK/np1.log" | tail -1
grep -q '^/backbone/top_conv/top_conv/kernel:0\[1, 1, 320, 1280\]' "$WORK/np1.digest" || fail "no /backbone tensor in the checkpoint"
grep -q '^/optimizer/m/top_conv/top_conv/kernel:0' "$WORK/np1.digest" || fail "no Adam m of top_conv in the checkpoint"
"$TRAINER" info "$WORK/np1/latest.h5" >"$WORK/info.txt" 2>&1 || { cat "$WORK/info.txt"; fail "trainer info failed"; }
expect_grep "^backbone weights: $tensors tensors, $values values" "$WORK/info.txt"
expect_grep '^  m/top_conv/top_conv/kernel:0 +\[1,1,320,1280\]' "$WORK/info.txt"
# the Adam in force: phase 2's (--fine-tune-lr) in the last checkpoint, in `trainer info` and in the
# file; still phase 1's (--lr, the default 0.01) at the switch, where it holds phase 1's moments
expect_grep '^optimizer: Adam, iterations [0-9]+, lr 0.001, ' "$WORK/info.txt"
"$PY" -c "import h5py, sys; lr = h5py.File(sys.argv[1], 'r')['optimizer'].attrs['lr']; sys.exit(float(lr) != 1e-3)" \
  "$WORK/np1/latest.h5" || fail "/optimizer lr of the fine-tuned checkpoint is not --fine-tune-lr 1e-3"
"$TRAINER" info "$WORK"/np1/ckpt-e0001-s*.h5 >"$WORK/info-e1.txt" 2>&1 || { cat "$WORK/info-e1.txt"; fail "trainer info failed"; }
expect_grep '^optimizer: Adam, iterations [0-9]+, lr 0.01, ' "$WORK/info-e1.txt"
for np in 2 4; do
  diff "$WORK/np1.digest" "$WORK/np$np.digest" || fail "-np $np checkpoint differs from -np 1"
done
# the buckets as logged: 25 MiB by default; 50 KiB cuts every tensor list of more than one tensor
# into more buckets; each phase-2 epoch at -np 4 reports the allreduce's share of the step
buckets() { sed -n 's/.* in \([0-9]*\) buckets of at most .* MiB (--bucket-mb).*/\1/p' "$1"; }
b1=$(buckets "$WORK/np1.log") b2=$(buckets "$WORK/np2.log")
[ -n "$b1" ] && [ -n "$b2" ] || fail "no bucket layout in the logs ('$b1', '$b2')"
if [ "$tensors" -gt 1 ]; then
  [ "$b2" -gt "$b1" ] || fail "--bucket-mb 0.05 gave $b2 buckets, the default $b1"
fi
expect_grep '^Fine-tuning: gradient allreduce not measured \(one rank' "$WORK/np1.log"
n=$(grep -cE "^Fine-tuning allreduce \(4 ranks, [0-9.]+ MB in $b1 buckets\): [0-9.]+ s alone = [0-9.]+% of the [0-9.]+ s mean step; rank 0 waited [0-9.]+ s per step after its backward, so at least [0-9]+% of it was hidden" "$WORK/np4.log")
[ "$n" = 2 ] || { grep -n 'allreduce' "$WORK/np4.log"; fail "$n allreduce reports at -np 4, not one per fine-tuning epoch (2)"; }
"$PY" - "$WORK/np1/latest.h5" "$WEIGHTS" <<'PYEOF' || fail "trained tensors check"
import sys, h5py, numpy as np
ck, w = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
names = []
ck["backbone"].visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
assert "top_conv/top_conv/kernel:0" in names, names
for n in names:
    k, k0 = ck["backbone"][n][...], w[n][...]
    assert k.shape == k0.shape, (n, k.shape, k0.shape)
    d = np.abs(k - k0).max()
    assert np.isfinite(k).all() and d > 0, f"{n} did not move (max |diff| {d})"
    assert np.abs(ck["optimizer/m/" + n][...]).max() > 0, f"Adam m of {n} is zero"
    print(f"{n} moved: max |diff| {d:.3e}")
assert int(ck["optimizer"].attrs["iterations"]) == 6, ck["optimizer"].attrs["iterations"]
PYEOF
if [ "${QUICK:-0}" = 1 ]; then
  echo "train_finetune ($FROM${AUGMENT:+, augment}, quick): ok (-np 1 = 2 = 4, every trainable tensor moved)"
  exit 0
fi

# --check-replicas catches a backbone replica that diverges (test hook), naming the step
set +e
VKDP_TEST_PERTURB_BACKBONE=1:4 timeout 300 "${MPIRUN[@]}" -np 2 "$TRAINER" train "${common[@]}" --check-replicas 1 \
  --out "$WORK/perturbed" >"$WORK/perturbed.log" 2>&1
rc=$?
set -e
[ $rc -ne 0 ] && [ $rc -ne 124 ] || { cat "$WORK/perturbed.log"; fail "a diverged backbone replica: exit $rc"; }
expect_grep 'replicas diverged after step 4 \(trainable backbone tensors and their Adam state\)' "$WORK/perturbed.log"

# killed right after the first phase-2 step (global step 4): resumed from the head-only epoch's
# checkpoint, the switch happens again on resume
set +e
VKDP_TEST_KILL=0:4 timeout 300 "${MPIRUN[@]}" -np 2 "$TRAINER" train "${common[@]}" --out "$WORK/kill1" >"$WORK/kill1.log" 2>&1
rc=$?
# killed after global step 6 with a checkpoint every step: resumed inside phase 2 (step 5)
VKDP_TEST_KILL=1:6 timeout 300 "${MPIRUN[@]}" -np 2 "$TRAINER" train "${common[@]}" --checkpoint-every 1 \
  --out "$WORK/kill2" >"$WORK/kill2.log" 2>&1
rc2=$?
set -e
[ $rc -ne 0 ] && [ $rc2 -ne 0 ] || fail "a job with a killed rank exited 0"
expect_grep 'killing myself after step 4' "$WORK/kill1.log"
expect_grep 'killing myself after step 6' "$WORK/kill2.log"
released "$WORK/kill1"
released "$WORK/kill2"
"${MPIRUN[@]}" -np 1 "$TRAINER" train "${common[@]}" --out "$WORK/kill1" --resume auto >"$WORK/resume1.log" 2>&1 \
  || { cat "$WORK/resume1.log"; fail "resume at the switch failed"; }
expect_grep '^Resuming from .*: 1 epoch\(s\) and 3 step\(s\) done' "$WORK/resume1.log"
"$PY" "$here/ckpt_compare.py" "$WORK/np1/latest.h5" "$WORK/kill1/latest.h5" || fail "run resumed at the switch differs"
cp -a "$WORK/kill2" "$WORK/bad"
"${MPIRUN[@]}" -np 4 "$TRAINER" train "${common[@]}" --checkpoint-every 1 --out "$WORK/kill2" --resume auto \
  >"$WORK/resume2.log" 2>&1 || { cat "$WORK/resume2.log"; fail "resume inside phase 2 failed"; }
expect_grep '^Resuming from .*: 1 epoch\(s\) and 5 step\(s\) done' "$WORK/resume2.log"
"$PY" "$here/ckpt_compare.py" "$WORK/np1/latest.h5" "$WORK/kill2/latest.h5" || fail "run resumed inside phase 2 differs"

# hostile checkpoints: NaN or a wrong shape in the trained tensors is refused on resume
bad() { # bad PYTHON-EDIT EXPECTED
  local f="$WORK/bad/edit.h5"
  cp "$(readlink -f "$WORK/bad/latest.h5")" "$f"
  "$PY" -c "import h5py, numpy as np; f = h5py.File('$f', 'r+'); $1" || fail "editing $f"
  if "$TRAINER" train "${common[@]}" --out "$WORK/bad" --resume "$f" >"$WORK/bad.log" 2>&1; then
    fail "resume from a checkpoint with $1 was accepted"
  fi
  expect_grep "$2" "$WORK/bad.log"
}
bad "d = f['backbone/top_conv/top_conv/kernel:0']; a = d[...]; a[0, 0, 3, 7] = np.nan; d[...] = a" \
  "edit.h5: /backbone/top_conv/top_conv/kernel:0\[.*\] = nan: not a finite value"
bad "d = f['optimizer/v/top_conv/top_conv/kernel:0']; a = d[...]; a[0, 0, 0, 1] = np.inf; d[...] = a" \
  "edit.h5: /optimizer/v/top_conv/top_conv/kernel:0\[.*\] = inf: not a finite value"
bad "a = f['optimizer/m/top_conv/top_conv/kernel:0'][...]; del f['optimizer/m/top_conv/top_conv/kernel:0']; f['optimizer/m/top_conv/top_conv/kernel:0'] = a.reshape(1, 1, 1280, 320)" \
  "edit.h5.*top_conv/top_conv/kernel:0.*shape"
bad "exec(\"for g in ('backbone', 'optimizer/m', 'optimizer/v'):\\n n = g + '/top_conv/top_conv/kernel:0'; a = f[n][...]; del f[n]; f[n] = a.reshape(1, 1, 1280, 320)\")" \
  "edit.h5: /backbone/top_conv/top_conv/kernel:0 has shape \[1,1,1280,320\], fine-tuning needs \[1,1,320,1280\]"

# predict: the fine-tuned checkpoint differs from the head-only one and equals its export
"$TRAINER" export --checkpoint "$WORK/np1/latest.h5" --keras "$WORK/model.h5" >"$WORK/export.log" 2>&1 \
  || { cat "$WORK/export.log"; fail "export failed"; }
imgs=()
for c in daisy roses; do
  while IFS= read -r f; do imgs+=("$FLOWERS/$c/$f"); done < <(ls "$FLOWERS/$c" | sort | tail -2)
done
predict() { # predict MODEL OUT
  "$TRAINER" predict --exact --top 5 --checkpoint "$1" "${imgs[@]}" >"$2.log" 2>&1 \
    || { cat "$2.log"; fail "predict --checkpoint $1 failed"; }
  grep -E '^/.*\.jpg:(  .* 0x[0-9a-f.p+-]+){5}$' "$2.log" >"$2" || true
  [ "$(wc -l <"$2")" -eq "${#imgs[@]}" ] || { cat "$2.log"; fail "predict $1: not one line per image"; }
}
predict "$WORK/np1/latest.h5" "$WORK/pred-ft.txt"
predict "$WORK/model.h5" "$WORK/pred-export.txt"
predict "$WORK/np1/ckpt-e0001-s000000003.h5" "$WORK/pred-head.txt"
cmp "$WORK/pred-ft.txt" "$WORK/pred-export.txt" || fail "predict on the export differs from the checkpoint"
# control: the same checkpoint with the weights file's top_conv kernel predicts differently
cp "$WORK/np1/latest.h5" "$WORK/orig.h5"
"$PY" -c "import h5py, sys; f = h5py.File(sys.argv[1], 'r+'); f['backbone/top_conv/top_conv/kernel:0'][...] = h5py.File(sys.argv[2], 'r')['top_conv/top_conv/kernel:0'][...]" \
  "$WORK/orig.h5" "$WEIGHTS" || fail "editing orig.h5"
predict "$WORK/orig.h5" "$WORK/pred-orig.txt"
if cmp -s "$WORK/pred-ft.txt" "$WORK/pred-orig.txt"; then fail "predict ignores the fine-tuned /backbone"; fi
if cmp -s "$WORK/pred-ft.txt" "$WORK/pred-head.txt"; then fail "fine-tuning did not change predict"; fi
echo "train_finetune: ok (-np 1 = 2 = 4, resumed at the switch and inside phase 2, predict = export)"
