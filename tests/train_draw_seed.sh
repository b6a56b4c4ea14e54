#!/usr/bin/env bash
# --draw-seed: the random draws (head initialisation, shuffle, augmentation, dropout, drop connect)
# apart from the split. Unset, it is --seed's value (the checkpoint of --draw-seed 123 equals the
# default run's, bit for bit); another value changes the training but not the validation split
# (`trainer evaluate`, which rebuilds the split from the checkpoint's --seed, gives the run's own
# last val_loss); the checkpoint records it and a resume must repeat it (refused otherwise, exact
# when repeated: inside a head-only epoch and inside phase 2, at another -np).
source "$(dirname "$0")/train_common.sh"
subset 6 "$WORK/data"
rm -rf "$WORK"/run* "$WORK"/res* "$WORK"/ft* "$WORK"/default_report
common=(--data "$WORK/data" --weights "$WEIGHTS" --batch 8 --image-size 64 --augment --checkpoint-every 1)
head=(--epochs 2)
ft=(--epochs 1 --fine-tune-epochs 1 --fine-tune-from block6a --fine-tune-lr 1e-3)
digest() { "$PY" "$here/ckpt_digest.py" "$1"; }
train() { # train NP OUT LOG ARGS...
  local np=$1 out=$2 log=$3
  shift 3
  "${MPIRUN[@]}" -np "$np" "$TRAINER" train "${common[@]}" --out "$out" "$@" >"$log" 2>&1 \
    || { cat "$log"; fail "trainer train $* failed"; }
}
val_loss() { grep -oE 'val_loss: [0-9.]+' "$1" | tail -1 | cut -d' ' -f2; }

# head only: the default, the same draws spelt out, other draws
train 2 "$WORK/run_default" "$WORK/default.log" "${head[@]}"
train 2 "$WORK/run_123" "$WORK/d123.log" "${head[@]}" --draw-seed 123
train 2 "$WORK/run_7" "$WORK/d7.log" "${head[@]}" --draw-seed 7
"$PY" "$here/ckpt_compare.py" "$WORK/run_default/latest.h5" "$WORK/run_123/latest.h5" \
  || fail "--draw-seed 123 (= --seed) differs from the default run"
if grep -q 'seeded with --draw-seed' "$WORK/default.log"; then fail "the default run logs a draw seed"; fi
expect_grep '^Random draws \(head initialisation, shuffle, augmentation, dropout, drop connect\) seeded with --draw-seed 7; the validation split with --seed 123\.$' "$WORK/d7.log"
expect_grep '^Using 6 files for validation\.$' "$WORK/d7.log"
digest "$WORK/run_default/latest.h5" >"$WORK/default.digest"
digest "$WORK/run_7/latest.h5" >"$WORK/d7.digest"
for t in '/head/pred/pred/kernel:0' '/metrics/epoch.loss'; do
  a=$(grep -F "$t" "$WORK/default.digest") b=$(grep -F "$t" "$WORK/d7.digest")
  [ -n "$a" ] && [ "$a" != "$b" ] || fail "$t: --draw-seed 7 did not change it ('$a' / '$b')"
done
"$TRAINER" info "$WORK/run_7/latest.h5" >"$WORK/info7.txt" 2>&1 || { cat "$WORK/info7.txt"; fail "trainer info failed"; }
expect_grep '^  seed: +123$' "$WORK/info7.txt"
expect_grep '^state: .* sampler_seed 7, dropout_seed 7,' "$WORK/info7.txt"
# the split is --seed's: evaluate (split from the checkpoint's seed 123) repeats the run's val_loss
"${MPIRUN[@]}" -np 2 "$TRAINER" evaluate --checkpoint "$WORK/run_7/latest.h5" >"$WORK/eval7.log" 2>&1 \
  || { cat "$WORK/eval7.log"; fail "evaluate failed"; }
vl_train=$(val_loss "$WORK/d7.log") vl_eval=$(grep -oE '^loss: [0-9.]+' "$WORK/eval7.log" | cut -d' ' -f2)
[ -n "$vl_train" ] && [ "$vl_train" = "$vl_eval" ] || fail "evaluate loss '$vl_eval' != --draw-seed 7's val_loss '$vl_train'"

# resume: refused without the checkpoint's draw seed, exact with it (step 4: inside epoch 2)
mid="$WORK/run_7/ckpt-e0001-s000000004.h5"
[ -f "$mid" ] || { ls "$WORK/run_7"; fail "no checkpoint after step 4"; }
mkdir -p "$WORK/res_bad" "$WORK/res_7"
if "${MPIRUN[@]}" -np 1 "$TRAINER" train "${common[@]}" "${head[@]}" --out "$WORK/res_bad" --resume "$mid" \
  >"$WORK/res_bad.log" 2>&1; then
  fail "a resume without --draw-seed 7 was accepted"
fi
expect_grep "cannot resume from .*ckpt-e0001-s000000004\.h5: its random draws were seeded with /state sampler_seed 7 and dropout_seed 7 \(--draw-seed\), this run has --draw-seed 123" "$WORK/res_bad.log"
train 1 "$WORK/res_7" "$WORK/res_7.log" "${head[@]}" --draw-seed 7 --resume "$mid"
expect_grep '^Resuming from .*: 1 epoch\(s\) and 4 step\(s\) done' "$WORK/res_7.log"
"$PY" "$here/ckpt_compare.py" "$WORK/run_7/latest.h5" "$WORK/res_7/latest.h5" \
  || fail "the --draw-seed 7 run resumed at step 4 differs from the uninterrupted one"

# phase 2 (augmented, drop connect in block6a..): other draws move the backbone elsewhere; a resume
# inside phase 2 at another -np with the same draw seed is exact
train 2 "$WORK/ft_default" "$WORK/ft_default.log" "${ft[@]}"
train 2 "$WORK/ft_7" "$WORK/ft_7.log" "${ft[@]}" --draw-seed 7
k='/backbone/block6a_expand_conv/block6a_expand_conv/kernel:0'
a=$(digest "$WORK/ft_default/latest.h5" | grep -F "$k") b=$(digest "$WORK/ft_7/latest.h5" | grep -F "$k")
[ -n "$a" ] && [ "$a" != "$b" ] || fail "$k: --draw-seed 7 did not change it ('$a' / '$b')"
mkdir -p "$WORK/ft_res"
train 1 "$WORK/ft_res" "$WORK/ft_res.log" "${ft[@]}" --draw-seed 7 --resume "$WORK/ft_7/ckpt-e0001-s000000004.h5"
expect_grep '^Resuming from .*: 1 epoch\(s\) and 4 step\(s\) done' "$WORK/ft_res.log"
"$PY" "$here/ckpt_compare.py" "$WORK/ft_7/latest.h5" "$WORK/ft_res/latest.h5" \
  || fail "the --draw-seed 7 fine-tuning run resumed inside phase 2 differs"

# evaluate --report's summary states the schedule: epochs of both phases, the fine-tuning, the
# draw seed apart from --seed (and no draw seed where they are one)
"${MPIRUN[@]}" -np 2 "$TRAINER" evaluate --checkpoint "$WORK/ft_7/latest.h5" --report "$WORK/ft_7_report" \
  >"$WORK/report7.log" 2>&1 || { cat "$WORK/report7.log"; fail "evaluate --report failed"; }
expect_grep '<dt>training</dt><dd>2 of 2 epoch\(s\), 6 step\(s\), batch 8, lr 0\.01, dropout 0\.2, augmented; the last 1 fine-tuned from block6a at lr 0\.001, drop connect rate 0\.2; image size 64, seed 123, draw seed 7, 2 rank\(s\)</dd>' \
  "$WORK/ft_7_report/index.html"
"$TRAINER" evaluate --checkpoint "$WORK/run_default/latest.h5" --report "$WORK/default_report" \
  >"$WORK/report_default.log" 2>&1 || { cat "$WORK/report_default.log"; fail "evaluate --report failed"; }
expect_grep '<dt>training</dt><dd>2 of 2 epoch\(s\), 6 step\(s\), batch 8, lr 0\.01, dropout 0\.2, augmented; image size 64, seed 123, 2 rank\(s\)</dd>' \
  "$WORK/default_report/index.html"

# the flag's limits
for bad in -1 4294967296 x; do
  if "$TRAINER" train "${common[@]}" "${head[@]}" --out "$WORK/res_bad" --draw-seed "$bad" >"$WORK/flag.log" 2>&1; then
    fail "--draw-seed $bad was accepted"
  fi
  expect_grep 'draw-seed' "$WORK/flag.log"
done
echo "train_draw_seed: ok (default = --draw-seed 123, other draws change training not the split, resume needs and keeps them)"
