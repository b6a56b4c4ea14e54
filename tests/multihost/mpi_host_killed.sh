#!/usr/bin/env bash
# A whole host lost mid-epoch: 3 namespace hosts, one rank each. Rank 2 stops after global step 9
# (test hook VKDP_TEST_STALL, so that the loss lands at a known point: mid epoch 2, after the
# step-8 checkpoint); then every process of host 3 (its rank and Open MPI's daemon) is SIGKILLed.
# The job must end non-zero within 30 s with the step-8 checkpoint intact, and `--resume auto`
# on the two remaining hosts must finish bit-identical to an uninterrupted one-host run.
source "$(dirname "$0")/mh_common.sh"
mh_up 3 # first: SKIP at once where namespaces cannot be made
subset 12 "$WORK/data"
rm -rf "$WORK/ref" "$WORK/run" "$WORK/killed.log"
reference_run "$WORK/ref" "$WORK/ref.log"

VKDP_TEST_STALL=2:9 mh_mpirun 1 --host "$(mh_hostlist 1 3)" -np 3 \
  -x VK_DRIVER_FILES -x LP_NUM_THREADS -x VKDP_TEST_STALL \
  "$TRAINER" "${JOB[@]}" --data "$WORK/data" --out "$WORK/run" >"$WORK/killed.log" 2>&1 &
pid=$!
wait_for_line "$WORK/killed.log" 'VKDP_TEST_STALL: stalling after step 9' $pid 600
[ -n "$(mh_procs 3 trainer)" ] && [ -n "$(mh_procs 3 orted)" ] || fail "host 3 runs no trainer or orted"
mh_kill_host 3 || fail "could not kill host 3's processes"
t_kill=$(now_s)
echo "host 3 killed (all its processes)"
wait_exit $pid 30
rc=$?
el=$(elapsed_since "$t_kill")
[ $rc -ne 124 ] || { cat "$WORK/killed.log"; fail "the job still runs 30 s after host 3 was killed"; }
[ $rc -ne 0 ] || { cat "$WORK/killed.log"; fail "the job exited 0 after losing a host"; }
echo "the job ended with status $rc ${el}s after host 3 was killed"
for h in 1 2; do [ -z "$(mh_procs $h trainer)" ] || fail "trainer processes left on host $h"; done
check_intact "$WORK/run/latest.h5" 8

mh_mpirun 1 --host "$(mh_hostlist 1 2)" -np 2 -x VK_DRIVER_FILES -x LP_NUM_THREADS \
  "$TRAINER" "${JOB[@]}" --data "$WORK/data" --out "$WORK/run" --resume auto >"$WORK/resume.log" 2>&1 ||
  { cat "$WORK/resume.log"; fail "--resume auto on hosts 1 and 2 failed"; }
expect_grep '^Resuming from .*latest.h5: 1 epoch\(s\) and 8 step\(s\) done' "$WORK/resume.log"
same_digest "$WORK/ref/latest.h5" "$WORK/run/latest.h5"
echo "mpi_host_killed: ok"
