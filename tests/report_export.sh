#!/usr/bin/env bash
# trainer export --keras on tests/report_e2e.sh's checkpoint: the Keras layout and values
# (tests/export_check.py), the checkpoint's accuracy reproduced from the exported file alone by the
# independent PyTorch reference (tests/export_accuracy.py); the export read back by our own
# loader: predict on it equals predict on the checkpoint bit for bit (hex floats, every class) on
# 1 and 2 ranks, and evaluate gives the same metrics; a fine-tuned checkpoint (a /backbone tensor
# made here with h5py) exports its own values and predicts differently, and predict and evaluate on
# that checkpoint itself equal its export's (bad /backbone tensors refused); and refusals: weights with
# another SHA-256, a foreign checkpoint, a missing flag, --weights with an export.
source "$(dirname "$0")/train_common.sh"
: "${E2E:?}" "${DUMP:?}"
ck="$E2E/ck/latest.h5"
[ -f "$ck" ] && [ -f "$E2E/eval.log" ] || fail "no $ck or eval.log (tests/report_e2e.sh makes them)"
rm -f "$WORK/model.h5"
"$TRAINER" export --checkpoint "$ck" --keras "$WORK/model.h5" >"$WORK/export.log" 2>&1 \
  || { cat "$WORK/export.log"; fail "trainer export failed"; }
expect_grep "^Wrote $WORK/model.h5: EfficientNetB0 .* 5 classes: " "$WORK/export.log"
"$PY" "$here/export_check.py" "$WORK/model.h5" "$WEIGHTS" "$ck" || fail "export layout"

# eval.log is `evaluate --subset all` of every image of $E2E/data, at the checkpoint's image size
size="$("$PY" -c "import h5py,sys; print(int(h5py.File(sys.argv[1])['config'].attrs['image_size']))" "$ck")"
"$DUMP" "$E2E/data" 100000 "$size" "$WORK/in.f32" "$WORK/labels.txt" >/dev/null
n="$(wc -l <"$WORK/labels.txt")"
"$PY" "$here/ref/effnet_torch.py" "$WORK/model.h5" "$WORK/in.f32" "$n" "$size" "$size" "$WORK/feat.f32" >/dev/null
"$PY" "$here/export_accuracy.py" "$WORK/model.h5" "$WORK/feat.f32" "$WORK/labels.txt" "$E2E/eval.log" \
  || fail "the exported model's accuracy differs from the checkpoint's"

# Read back. Real photos, full size, from three classes: predict --exact prints every class's
# probability as a hex float; the export's must be the checkpoint's bit for bit, on 1 and 2 ranks.
imgs=()
for c in daisy roses tulips; do
  while IFS= read -r f; do imgs+=("$FLOWERS/$c/$f"); done < <(ls "$FLOWERS/$c" | sort | head -2)
done
predict() { # predict NP MODEL OUT: OUT gets the per-image lines (the log lines name the micro-batch)
  "${MPIRUN[@]}" -np "$1" "$TRAINER" predict --exact --top 5 --checkpoint "$2" "${imgs[@]}" >"$3.log" 2>&1 \
    || { cat "$3.log"; fail "predict -np $1 --checkpoint $2 failed"; }
  grep -E '^/.*\.jpg:(  .* 0x[0-9a-f.p+-]+){5}$' "$3.log" >"$3" || true
  [ "$(wc -l <"$3")" -eq "${#imgs[@]}" ] \
    || { cat "$3.log"; fail "predict -np $1 --checkpoint $2: not one line of 5 hex probabilities per image"; }
}
for np in 1 2; do
  predict "$np" "$ck" "$WORK/pred-ck-$np.txt"
  predict "$np" "$WORK/model.h5" "$WORK/pred-export-$np.txt"
  cmp "$WORK/pred-ck-$np.txt" "$WORK/pred-export-$np.txt" \
    || { diff "$WORK/pred-ck-$np.txt" "$WORK/pred-export-$np.txt"; fail "predict -np $np: export differs from checkpoint"; }
done
cmp "$WORK/pred-ck-1.txt" "$WORK/pred-ck-2.txt" || fail "predict differs between 1 and 2 ranks"
# evaluate on the validation split, which the export's vkdp_* attributes (data folder, seed,
# split, image size, batch) must reproduce: the same metrics and confusion matrix
evaluate() { # evaluate MODEL: metrics and confusion matrix into $WORK/eval-<basename>.txt
  "${MPIRUN[@]}" -np 2 "$TRAINER" evaluate --checkpoint "$1" >"$WORK/eval-rb.log" 2>&1 \
    || { cat "$WORK/eval-rb.log"; fail "evaluate --checkpoint $1 failed"; }
  expect_grep "^Using [0-9]+ files for validation" "$WORK/eval-rb.log"
  sed -n '/^loss: /,$p' "$WORK/eval-rb.log" >"$WORK/eval-$(basename "$1").txt"
}
for m in "$ck" "$WORK/model.h5"; do
  evaluate "$m"
done
[ -s "$WORK/eval-model.h5.txt" ] && cmp "$WORK/eval-latest.h5.txt" "$WORK/eval-model.h5.txt" \
  || { diff "$WORK/eval-latest.h5.txt" "$WORK/eval-model.h5.txt"; fail "evaluate: export's metrics differ"; }

# Fine-tuned backbone, as fine-tuning writes it: /backbone/<the weights file's path>; one tensor
# here, changed. The export must hold it (export_check.py) and the other tensors unchanged, and
# predict on the export must differ from predict on the untouched model.
"$PY" - "$ck" "$WORK/tuned.h5" "$WEIGHTS" <<'PYEOF'
import shutil, sys
import h5py, numpy as np
src, dst, weights = sys.argv[1:4]
shutil.copyfile(src, dst)
layer, w = "block6a_expand_conv", "block6a_expand_conv/kernel:0"
with h5py.File(weights, "r") as wf, h5py.File(dst, "r+") as f:
    f["config"].attrs["backbone_trainable"] = np.int32(1)
    g = f.create_group("backbone")
    g.attrs["layer_names"] = np.array([layer.encode()])
    lg = g.create_group(layer)
    lg.attrs["weight_names"] = np.array([w.encode()])
    lg.create_dataset(w, data=wf[layer][w][()] * np.float32(1.5))
PYEOF
"$TRAINER" export --checkpoint "$WORK/tuned.h5" --keras "$WORK/tuned-model.h5" >"$WORK/export-tuned.log" 2>&1 \
  || { cat "$WORK/export-tuned.log"; fail "export of a fine-tuned checkpoint failed"; }
"$PY" "$here/export_check.py" "$WORK/tuned-model.h5" "$WEIGHTS" "$WORK/tuned.h5" >"$WORK/check-tuned.log" \
  || { cat "$WORK/check-tuned.log"; fail "fine-tuned export layout"; }
expect_grep "\(1 from the checkpoint's /backbone\)" "$WORK/check-tuned.log"
predict 1 "$WORK/tuned-model.h5" "$WORK/pred-tuned.txt"
if cmp -s "$WORK/pred-ck-1.txt" "$WORK/pred-tuned.txt"; then
  fail "predict on the fine-tuned export equals predict on the untouched model"
fi
# The checkpoint itself: predict applies its /backbone tensors (re-folding BN) and must equal
# predict on its export bit for bit, on 1 and 2 ranks.
for np in 1 2; do
  predict "$np" "$WORK/tuned.h5" "$WORK/pred-tuned-ck-$np.txt"
  cmp "$WORK/pred-tuned.txt" "$WORK/pred-tuned-ck-$np.txt" \
    || { diff "$WORK/pred-tuned.txt" "$WORK/pred-tuned-ck-$np.txt"; fail "predict -np $np on the fine-tuned checkpoint differs from its export"; }
done
# evaluate applies them too: the fine-tuned checkpoint's metrics are its export's, not the
# untouched model's
evaluate "$WORK/tuned.h5"
evaluate "$WORK/tuned-model.h5"
cmp "$WORK/eval-tuned.h5.txt" "$WORK/eval-tuned-model.h5.txt" \
  || { diff "$WORK/eval-tuned.h5.txt" "$WORK/eval-tuned-model.h5.txt"; fail "evaluate: fine-tuned checkpoint differs from its export"; }
if cmp -s "$WORK/eval-tuned.h5.txt" "$WORK/eval-latest.h5.txt"; then
  fail "evaluate on the fine-tuned checkpoint equals evaluate on the untouched one"
fi
# Hostile /backbone tensors: refused naming the file and the tensor.
bad_backbone() { # bad_backbone KIND PATTERN
  "$PY" - "$WORK/tuned.h5" "$WORK/tuned-$1.h5" "$1" <<'PYEOF'
import shutil, sys
import h5py, numpy as np
src, dst, kind = sys.argv[1:4]
shutil.copyfile(src, dst)
name = "backbone/block6a_expand_conv/block6a_expand_conv/kernel:0"
with h5py.File(dst, "r+") as f:
    d = f[name][()]
    del f[name]
    if kind == "shape":
        d = d[:, :, :, :-1]
    else:
        d[0, 0, 3, 7] = np.float32(np.nan)
    f.create_dataset(name, data=d)
PYEOF
  if "$TRAINER" predict --checkpoint "$WORK/tuned-$1.h5" "${imgs[0]}" >"$WORK/bad.log" 2>&1; then
    fail "predict on a checkpoint with a bad /backbone tensor ($1) succeeded"
  fi
  expect_grep "$2" "$WORK/bad.log"
}
bad_backbone shape "$WORK/tuned-shape.h5.*block6a_expand_conv/block6a_expand_conv/kernel:0.*shape.*\\[1,1,112,671\\].*\\[1,1,112,672\\]"
bad_backbone nan "$WORK/tuned-nan.h5: tensor block6a_expand_conv/block6a_expand_conv/kernel:0 has a non-finite value at element 2023"

refuse() { # refuse PATTERN ARGS...: trainer export ARGS fails with PATTERN and writes no file
  local pat="$1"; shift
  rm -f "$WORK/bad.h5"
  if "$TRAINER" export "$@" >"$WORK/bad.log" 2>&1; then fail "export $* succeeded"; fi
  expect_grep "$pat" "$WORK/bad.log"
  [ ! -e "$WORK/bad.h5" ] || fail "export $* left $WORK/bad.h5"
}
refuse "has SHA-256 .* but checkpoint .* was trained on weights with SHA-256" \
  --checkpoint "$ck" --keras "$WORK/bad.h5" --weights "$WORK/model.h5"
refuse "error: .*$WEIGHTS" --checkpoint "$WEIGHTS" --keras "$WORK/bad.h5"
refuse "--checkpoint FILE and --keras OUT.h5 are required" --checkpoint "$ck"
if "$TRAINER" predict --checkpoint "$WORK/model.h5" --weights "$WEIGHTS" "${imgs[0]}" >"$WORK/bad.log" 2>&1; then
  fail "predict --weights with an export succeeded"
fi
expect_grep "weights does not apply to $WORK/model.h5: a Keras export holds its own backbone" "$WORK/bad.log"
echo "report_export: ok"
