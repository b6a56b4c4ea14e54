#!/usr/bin/env bash
# A cut link mid-epoch: 3 namespace hosts, one rank each; rank 2 (host 3) pauses after global
# step 9 (test hook VKDP_TEST_STALL with a go-file), host 3's switch port goes down, rank 2
# continues into step 10's collective. TCP reports nothing on a cut link: without the collective
# watchdog every rank would wait forever (those on host 3 even after mpirun gave up). With
# --collective-timeout T (30 s here, above the ranks' start-up skew on a loaded machine), every
# rank on both sides of the cut must have exited within T + 20 s of it, each that noticed with
# the watchdog's message naming step 10 and the collective; before that, no TCP timeout can
# have ended anything (the hosts' TCP gives up after ~51 s, see netns_hosts.sh). mpirun must
# then end non-zero (its halt order to host 3 times out), and the step-8 checkpoint stay intact.
source "$(dirname "$0")/mh_common.sh"
T_OUT=${COLLECTIVE_TIMEOUT:-30}
mh_up 3 # first: SKIP at once where namespaces cannot be made
subset 12 "$WORK/data"
rm -rf "$WORK/run" "$WORK/go" "$WORK/cut.log"

VKDP_TEST_STALL="2:9:$WORK/go" mh_mpirun 1 --host "$(mh_hostlist 1 3)" -np 3 \
  -x VK_DRIVER_FILES -x LP_NUM_THREADS -x VKDP_TEST_STALL \
  "$TRAINER" "${JOB[@]}" --data "$WORK/data" --out "$WORK/run" --collective-timeout "$T_OUT" \
  >"$WORK/cut.log" 2>&1 &
pid=$!
wait_for_line "$WORK/cut.log" 'VKDP_TEST_STALL: stalling after step 9' $pid 600
for h in 1 2 3; do [ -n "$(mh_procs $h trainer)" ] || fail "no trainer process on host $h"; done
mh_link 3 down || fail "could not set host 3's switch port down"
t_cut=$(now_s)
touch "$WORK/go"
echo "host 3's link is down; rank 2 continues into step 10"

# every rank, on both sides of the cut, must be gone within T + 20 s
deadline=$((SECONDS + T_OUT + 20))
while [ -n "$(mh_procs 1 trainer)$(mh_procs 2 trainer)$(mh_procs 3 trainer)" ]; do
  [ $SECONDS -lt $deadline ] || { cat "$WORK/cut.log"; fail "trainer processes still run $((T_OUT + 20)) s after the cut (watchdog $T_OUT s)"; }
  sleep 0.1
done
echo "every rank exited $(elapsed_since "$t_cut")s after the cut (--collective-timeout $T_OUT)"
wait_exit $pid 120
rc=$?
[ $rc -ne 124 ] || { cat "$WORK/cut.log"; fail "mpirun still runs 120 s after every rank exited"; }
[ $rc -ne 0 ] || { cat "$WORK/cut.log"; fail "the job with a cut link exited 0"; }
echo "mpirun ended with status $rc $(elapsed_since "$t_cut")s after the cut"
expect_grep "collective watchdog: MPI_Allreduce .* in training step 10 \(epoch 2, step 4 of 6\) has not completed after [0-9]+ s \(--collective-timeout $T_OUT\)" "$WORK/cut.log"
grep 'collective watchdog' "$WORK/cut.log"
check_intact "$WORK/run/latest.h5" 8
echo "mpi_link_down: ok"
