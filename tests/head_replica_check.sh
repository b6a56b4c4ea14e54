#!/bin/sh
# --check-replicas must catch a deliberately perturbed replica: the job has to exit non-zero
# (not hang: `timeout` would return 124) and say at which step the replicas diverged.
# usage: head_replica_check.sh MPIEXEC TEST_HEAD_NP OUTDIR
set -u
mpiexec=$1 exe=$2 dir=$3
mkdir -p "$dir"
log="$dir/replica_check.log"
timeout 120 "$mpiexec" --allow-run-as-root --oversubscribe -np 3 -x LP_NUM_THREADS=1 \
  "$exe" "$dir/replica_check.bin" --check-replicas 2 --perturb-rank 1 --perturb-step 3 >"$log" 2>&1
rc=$?
cat "$log"
if [ $rc -eq 0 ]; then echo "FAIL: perturbed run exited 0"; exit 1; fi
if [ $rc -eq 124 ]; then echo "FAIL: perturbed run hung (timeout)"; exit 1; fi
if ! grep -q "replicas diverged after step 4" "$log"; then
  echo "FAIL: no 'replicas diverged after step 4' message"; exit 1
fi
echo "ok: divergence after step 4 detected, exit status $rc"
