# Sourced by the multi-host training tests: train_common.sh (paths, subset, checks), the
# namespace hosts, the small job they all run, and waits that end on a condition or a deadline.
# Expects TRAINER, SHARED and WORK as train_common.sh does.
source "$(dirname "${BASH_SOURCE[0]}")/../train_common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/netns_hosts.sh"
set +e # the waits below look at exit statuses themselves; every failure calls fail()

# 12 photos per class, 6 steps per epoch at batch 8, a checkpoint every 2 steps.
JOB=(train --weights "$WEIGHTS" --epochs 2 --batch 8 --checkpoint-every 2 --image-size "${IMAGE_SIZE:-96}")

mh_hostlist() { # FIRST LAST: "h<FIRST>,...,h<LAST>" for --host
  local i s=""
  for ((i = $1; i <= $2; i++)); do s+="${s:+,}$(mh_ns $i)"; done
  echo "$s"
}

# A reference run of JOB on one host, in the root namespace (no namespaces involved).
reference_run() { # OUT LOG
  "${MPIRUN[@]}" -np 3 "$TRAINER" "${JOB[@]}" --data "$WORK/data" --out "$1" >"$2" 2>&1 ||
    { cat "$2"; fail "the one-host reference run failed"; }
}

wait_for_line() { # FILE REGEX PID SECONDS: until FILE has a line matching REGEX (PID must live)
  local deadline=$((SECONDS + $4))
  until grep -qE -- "$2" "$1" 2>/dev/null; do
    kill -0 "$3" 2>/dev/null || { cat "$1"; fail "the job ended before printing /$2/"; }
    [ $SECONDS -lt $deadline ] || { cat "$1"; fail "no /$2/ in $1 after $4 s"; }
    sleep 0.1
  done
}

wait_exit() { # PID SECONDS: the job's exit status, or fail when it is still running at the deadline
  local deadline=$((SECONDS + $2))
  while kill -0 "$1" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || return 124
    sleep 0.1
  done
  wait "$1"
}

elapsed_since() { # T0 (from now_s): seconds since, one decimal
  "$PY" -c "import sys,time; print(round(time.time() - float(sys.argv[1]), 1))" "$1"
}
now_s() { date +%s.%N; }

ckpt_step() { # FILE: /state global_step
  "$PY" -c "import h5py,sys; print(h5py.File(sys.argv[1],'r')['state'].attrs['global_step'])" "$1"
}

check_intact() { # FILE STEP: readable by HDF5 and h5py, at global step STEP
  h5dump -H "$1" >/dev/null 2>&1 || fail "$1 is not readable after the failure"
  local s
  s=$(ckpt_step "$1") || fail "h5py cannot read /state of $1"
  [ "$s" = "$2" ] || fail "$1 is at global step $s, expected $2"
  echo "ok   $1 intact at global step $s"
}

same_digest() { # A B: tests/ckpt_digest.py of two checkpoints must be identical
  "$PY" "$here/ckpt_digest.py" "$1" >"$WORK/digest.a" || fail "ckpt_digest.py $1"
  "$PY" "$here/ckpt_digest.py" "$2" >"$WORK/digest.b" || fail "ckpt_digest.py $2"
  diff "$WORK/digest.a" "$WORK/digest.b" >"$WORK/digest.diff" ||
    { head -20 "$WORK/digest.diff"; fail "$2 differs from $1 (ckpt_digest.py)"; }
  echo "ok   $2 is bit-identical to $1 ($(wc -l <"$WORK/digest.a") digests)"
}
