#!/usr/bin/env bash
# A 3-node Slurm cluster on the namespace hosts of netns_hosts.sh (slurm3_cluster.sh).
# launch/train.sbatch runs with --nodes=3 --ntasks-per-node=1: srun --mpi=pmix starts one rank
# per node, talking TCP over the switch. The job must complete on all three nodes, and its
# checkpoint must be bit-identical (tests/ckpt_digest.py) to the same job's with 3 ranks on one
# host. Exit 77 (SKIP, with the reason) when namespaces or Slurm cannot be started here.
source "$(dirname "$0")/mh_common.sh"
SBATCH_SCRIPT="$here/../launch/train.sbatch"
source "$here/multihost/slurm3_cluster.sh"

slurm3_up
subset 12 "$WORK/data"
rm -rf "$WORK/ref" "$WORK/run" "$WORK/job.out"
reference_run "$WORK/ref" "$WORK/ref.log"

# ---- the job: launch/train.sbatch on 3 nodes, one task each ----
export VKDP_TRAINER=$TRAINER VKDP_DATA=$WORK/data VKDP_WEIGHTS=$WEIGHTS VKDP_OUTPUT=$WORK/run VKDP_EPOCHS=2
export VKDP_TRAIN_ARGS="--batch 8 --checkpoint-every 2 --image-size ${IMAGE_SIZE:-96}"
# Open MPI between the nodes: TCP on the test subnet only
export OMPI_MCA_btl=tcp,self OMPI_MCA_btl_tcp_if_include=$MH_SUBNET
# A rank that crashes leaves a core in $WORK (core_pattern permitting; Slurm passes this limit on
# to the tasks): printed with gdb below, so a rare crash names its caller the first time it is seen.
ulimit -c unlimited 2>/dev/null || true
submit() { # sets jobid, st (final state), ec (exit code), info
  rm -f "$WORK"/core "$WORK"/core.*
  rm -rf "$WORK/run"
  jobid=$(on_login sbatch --parsable --export=ALL --nodes=3 --ntasks-per-node=1 --time=20 \
    --output="$WORK/job.out" --chdir="$WORK" "$SBATCH_SCRIPT" 2>"$T/sbatch.err")
  jobid=${jobid%%;*}
  [ -n "$jobid" ] || fail "sbatch rejected the job: $(cat "$T/sbatch.err")"
  echo "slurm: submitted job $jobid"
  local deadline=$((SECONDS + 900))
  while :; do
    st=$(on_login scontrol show job "$jobid" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
    case "$st" in
      COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED) break ;;
    esac
    [ $SECONDS -lt $deadline ] || { cat "$WORK/job.out"; fail "job $jobid still $st after 900 s"; }
    sleep 0.5
  done
  info=$(on_login scontrol show job "$jobid")
  ec=$(sed -n 's/.* ExitCode=\([0-9:]*\).*/\1/p' <<<"$info")
  echo "---- job $jobid output ----"
  cat "$WORK/job.out"
  echo "---- job $jobid: state $st, exit code $ec ----"
}
failed() { [ "$st" != COMPLETED ] || [ "$ec" != 0:0 ]; }
submit
if failed; then
  tail -n 5 "$T"/node-*/slurmd.log "$T/slurmctld.log"
  for c in "$WORK"/core "$WORK"/core.*; do
    [ -f "$c" ] || continue
    echo "---- $c ----"
    if command -v gdb >/dev/null; then
      gdb -q -batch -ex 'info threads' -ex 'thread apply all bt 12' -ex 'x/2gx $sp' "$TRAINER" "$c" 2>&1 | tail -n 80
    else
      echo "(gdb not installed: kept as $c)"
    fi
  done
  fail "job $jobid ended $st with exit code $ec"
fi
nodelist=$(sed -n 's/.* NodeList=\([^ ]*\).*/\1/p' <<<"$info" | head -1)
[ "$(on_login scontrol show hostnames "$nodelist" | sort -u | wc -l)" = 3 ] ||
  fail "job $jobid ran on '$nodelist', not on 3 nodes"
echo "ok   job $jobid completed on $nodelist"
expect_grep "^train.sbatch: job $jobid \(restart 0\) on .*, 3 ranks" "$WORK/job.out"
expect_grep '^Epoch 2/2' "$WORK/job.out"
# both start-up fences as trees (launch/train.sbatch: the MPI_Init crash under Slurm's mixed fences)
expect_grep '^train.sbatch: SLURM_PMIX_FENCE=tree srun --mpi=pmix ' "$WORK/job.out"
same_digest "$WORK/ref/latest.h5" "$WORK/run/latest.h5"
echo "slurm_3nodes: ok"
