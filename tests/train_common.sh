# Sourced by the training tests: paths, a subset maker, mpirun flags and check helpers.
# Expects TRAINER (the binary), SHARED (the shared/ folder) and WORK (a scratch folder).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WEIGHTS="$SHARED/weights/efficientnetb0_notop.h5"
FLOWERS="$SHARED/data/flower_photos"
PY=/usr/bin/python3
export LP_NUM_THREADS="${LP_NUM_THREADS:-1}"
MPIRUN=(mpirun --oversubscribe --bind-to none)
if [ "$(id -u)" -eq 0 ]; then MPIRUN+=(--allow-run-as-root); fi
mkdir -p "$WORK"

fail() { echo "FAIL: $*" >&2; exit 1; }
expect_grep() { # expect_grep PATTERN FILE
  grep -qE -- "$1" "$2" || { echo "---- $2"; cat "$2"; fail "expected /$1/ in $2"; }
}
subset() { # subset N DIR
  bash "$here/make_subset.sh" "$FLOWERS" "$2" "$1"
}
released() { # released DIR: waits until the job that held --out DIR has exited (its flock goes with
  # its last process): mpirun can return while a killed job's other rank is still exiting, and a
  # job started on the same --out then is refused as a second job (seen in train_csv_log under load)
  timeout 120 flock "$1/.vkdp-lock" true || fail "--out $1 still locked 120 s after its job ended"
}
killed_run() { # killed_run LOG OUT CMD...: a job on --out OUT one of whose ranks kills itself
  # (VKDP_TEST_KILL); sets rc and elapsed (seconds from the kill to mpirun's return); fails when it
  # exited 0 or hung; returns once OUT is released, so no rank of the killed job is left to race
  # what the test does next with OUT or $WORK
  set +e
  "${@:3}" >"$1" 2>&1 &
  local pid=$!
  while kill -0 $pid 2>/dev/null && ! grep -q 'killing myself' "$1"; do sleep 0.2; done
  local t_kill
  t_kill=$(date +%s.%N)
  wait $pid
  rc=$?
  set -e
  elapsed=$("$PY" -c "import sys,time; print(round(time.time() - float(sys.argv[1]), 1))" "$t_kill")
  [ $rc -ne 0 ] || { cat "$1"; fail "job with a killed rank exited 0"; }
  [ $rc -ne 124 ] || { cat "$1"; fail "job with a killed rank hung (timeout)"; }
  released "$2"
}
