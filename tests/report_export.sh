#!/usr/bin/env bash
# trainer export --keras on tests/report_e2e.sh's checkpoint: the Keras layout and values
# (tests/export_check.py), the checkpoint's accuracy reproduced from the exported file alone by the
# independent PyTorch reference (tests/export_accuracy.py), and refusals: weights with another
# SHA-256, a foreign checkpoint, a missing flag.
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
echo "report_export: ok"
