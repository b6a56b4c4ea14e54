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
