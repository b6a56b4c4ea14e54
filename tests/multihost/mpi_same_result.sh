#!/usr/bin/env bash
# mpirun across 3 namespace hosts over TCP (one rank per host, btl tcp, oob/btl on the test
# subnet only) runs the real trainer on a flower subset: its checkpoint must be bit-identical
# (tests/ckpt_digest.py) to the same job's with 3 ranks on one host.
source "$(dirname "$0")/mh_common.sh"
mh_up 3 # first: SKIP at once where namespaces cannot be made
subset 12 "$WORK/data"
rm -rf "$WORK/ref" "$WORK/run"
reference_run "$WORK/ref" "$WORK/ref.log"

# the ranks really are on three hosts, talking over the switch
mh_mpirun 1 --host "$(mh_hostlist 1 3)" -np 3 "$MPI_HELLO" >"$WORK/hello.log" 2>&1 ||
  { cat "$WORK/hello.log"; fail "mpi_hello across 3 hosts failed"; }
cat "$WORK/hello.log"
for i in 1 2 3; do expect_grep "rank $((i - 1)) of 3 on $(mh_ns $i), allreduce\(rank\) = 3 \(ok\)" "$WORK/hello.log"; done

mh_mpirun 1 --host "$(mh_hostlist 1 3)" -np 3 -x VK_DRIVER_FILES -x LP_NUM_THREADS \
  "$TRAINER" "${JOB[@]}" --data "$WORK/data" --out "$WORK/run" >"$WORK/run.log" 2>&1 ||
  { cat "$WORK/run.log"; fail "the 3-host run failed"; }
same_digest "$WORK/ref/latest.h5" "$WORK/run/latest.h5"
echo "mpi_same_result: ok"
