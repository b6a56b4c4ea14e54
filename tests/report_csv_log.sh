#!/usr/bin/env bash
# trainer train --csv-log: Keras' CSVLogger format (header, 0-based epochs, Python repr values,
# CRLF), values equal to the checkpoint's /metrics/epoch; a run killed mid-epoch and resumed
# writes the same bytes as an uninterrupted one; a log with a duplicate row, a row of an
# unfinished epoch, a missing row and a torn last line is repaired on resume; a resume without a
# log writes the finished epochs; another program's CSV is refused.
source "$(dirname "$0")/train_common.sh"
subset 4 "$WORK/data"
common=(--data "$WORK/data" --weights "$WEIGHTS" --epochs 3 --batch 4 --checkpoint-every 2 --image-size 64)
rm -rf "$WORK"/ref "$WORK"/run* "$WORK"/*.csv

"${MPIRUN[@]}" -np 2 "$TRAINER" train "${common[@]}" --out "$WORK/ref" --csv-log "$WORK/ref.csv" >"$WORK/ref.log" 2>&1 \
  || { cat "$WORK/ref.log"; fail "uninterrupted run failed"; }
"$PY" - "$WORK/ref.csv" "$WORK/ref/latest.h5" <<'PY' || fail "CSV log is not Keras' CSVLogger format of the metrics"
import csv, sys, h5py
raw = open(sys.argv[1], "rb").read()
assert raw.count(b"\r\n") == raw.count(b"\n") == 4, raw  # header + 3 rows, CRLF as Keras' excel dialect
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"], rows[0]
ep = h5py.File(sys.argv[2], "r")["metrics/epoch"][...]
assert len(rows) - 1 == len(ep) == 3, (rows, ep)
for r, m in zip(rows[1:], ep):
    assert int(r[0]) == m["epoch"] - 1, (r, m)  # Keras' epochs are 0-based
    for field, col in zip(r[1:], ["accuracy", "loss", "val_accuracy", "val_loss"]):
        assert float(field) == float(m[col]) and repr(float(field)) == field, (field, col, m[col])
print("CSV ok:", rows)
PY

# rank 1 dies after global step 7 (mid epoch 2: the step-6 checkpoint is the latest), then resume;
# the fresh run truncates what was in the file
printf 'junk\r\n' >"$WORK/run.csv"
set +e
VKDP_TEST_KILL=1:7 timeout 300 "${MPIRUN[@]}" -np 2 "$TRAINER" train "${common[@]}" --out "$WORK/run" \
  --csv-log "$WORK/run.csv" >"$WORK/killed.log" 2>&1
rc=$?
set -e
[ $rc -ne 0 ] && [ $rc -ne 124 ] || { cat "$WORK/killed.log"; fail "killed run: exit $rc"; }
expect_grep 'killing myself after step 7' "$WORK/killed.log"
released "$WORK/run"
[ "$(wc -l <"$WORK/run.csv")" = 2 ] || { cat "$WORK/run.csv"; fail "killed run: expected only the header and epoch 0"; }
"${MPIRUN[@]}" -np 2 "$TRAINER" train "${common[@]}" --out "$WORK/run" --resume auto --csv-log "$WORK/run.csv" \
  >"$WORK/resume.log" 2>&1 || { cat "$WORK/resume.log"; fail "resume failed"; }
expect_grep '^Resuming from .*: 1 epoch\(s\) and 6 step\(s\) done' "$WORK/resume.log"
cmp "$WORK/ref.csv" "$WORK/run.csv" || { diff "$WORK/ref.csv" "$WORK/run.csv"; fail "resumed CSV differs from the uninterrupted one"; }
grep -q 'CSV log' "$WORK/resume.log" && fail "a consistent log was rewritten on resume"

# a damaged log: epoch 0 twice, epoch 1 missing, epoch 2 (not in the epoch-2 checkpoint), a torn line
e2="$WORK/run/ckpt-e0002-s000000008.h5"
[ -f "$e2" ] || { ls "$WORK/run"; fail "no epoch-2 checkpoint"; }
{ sed -n 1,2p "$WORK/ref.csv"; sed -n 2p "$WORK/ref.csv"; sed -n 4p "$WORK/ref.csv"; printf '2,0.5,1.2'; } >"$WORK/damaged.csv"
"$TRAINER" train "${common[@]}" --out "$WORK/run-damaged" --resume "$e2" --csv-log "$WORK/damaged.csv" \
  >"$WORK/damaged.log" 2>&1 || { cat "$WORK/damaged.log"; fail "resume with a damaged log failed"; }
expect_grep 'CSV log .*damaged.csv: 1 row\(s\) written from the checkpoint, 3 row\(s\) of unfinished or repeated epochs dropped' "$WORK/damaged.log"
cmp "$WORK/ref.csv" "$WORK/damaged.csv" || { diff "$WORK/ref.csv" "$WORK/damaged.csv"; fail "repaired CSV differs"; }

# a resume without a log: the finished epochs come from the checkpoint; a fresh run truncates
"$TRAINER" train "${common[@]}" --out "$WORK/run-new" --resume "$e2" --csv-log "$WORK/new.csv" \
  >"$WORK/new.log" 2>&1 || { cat "$WORK/new.log"; fail "resume with a new log failed"; }
cmp "$WORK/ref.csv" "$WORK/new.csv" || fail "a log started on resume differs"
printf 'step,loss\r\n0,1.0\r\n' >"$WORK/foreign.csv"
cp "$WORK/foreign.csv" "$WORK/foreign-before.csv"
set +e
"$TRAINER" train "${common[@]}" --out "$WORK/run-foreign" --resume "$e2" --csv-log "$WORK/foreign.csv" \
  >"$WORK/foreign.log" 2>&1
rc=$?
set -e
[ $rc -ne 0 ] || fail "appending to another program's CSV was accepted"
expect_grep "error: --csv-log .*foreign.csv: its first line 'step,loss' is not this run's CSV log header" "$WORK/foreign.log"
cmp "$WORK/foreign.csv" "$WORK/foreign-before.csv" || fail "the refused file was modified"
echo "report_csv_log: ok"
