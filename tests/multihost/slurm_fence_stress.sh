#!/usr/bin/env bash
# By hand, not in ctest (minutes, and it measures a rate): N launches of mpi_hello with
# `srun --mpi=pmix` on the 3-node cluster of slurm3_cluster.sh, one task per node, alternating
# two environments, counting the launches that fail and the ranks that leave a core. It is how
# the MPI_Init crash of Debian 12's Open MPI 4.1.4 under Slurm 22.05's default PMIx fences was
# measured, and how launch/train.sbatch's SLURM_PMIX_FENCE setting was chosen (README, "Known
# issue"). Load makes the crash likelier: run it beside other work to see it sooner.
#   TRAINER=build/trainer MPI_HELLO=build/mpi_hello SHARED=../shared WORK=/tmp/stress \
#     [N=400] [ENV_A="SLURM_PMIX_FENCE=tree"] [ENV_B="SLURM_PMIX_FENCE=mixed"] \
#     bash tests/multihost/slurm_fence_stress.sh
# Prints a line per failed launch (with its rank's SLURM_PROCID when it left a core) and, at the
# end, "stress: N launches; A [...] failed a of N/2; B [...] failed b of N/2".
source "$(dirname "$0")/mh_common.sh"
source "$here/multihost/slurm3_cluster.sh"
: "${MPI_HELLO:?MPI_HELLO must name the mpi_hello test program}"
N=${N:-400} ENV_A=${ENV_A:-SLURM_PMIX_FENCE=tree} ENV_B=${ENV_B:-SLURM_PMIX_FENCE=mixed}
slurm3_up
export OMPI_MCA_btl=tcp,self OMPI_MCA_btl_tcp_if_include=$MH_SUBNET
ulimit -c unlimited 2>/dev/null || true
mkdir -p "$WORK" && rm -f "$WORK"/core*
bad_a=0 bad_b=0
for ((r = 1; r <= N; r++)); do
  if ((r % 2)); then cfg=A envs=$ENV_A; else cfg=B envs=$ENV_B; fi
  # shellcheck disable=SC2086  # envs is a list of NAME=VALUE words
  out=$(on_login env $envs timeout 30 srun --mpi=pmix --kill-on-bad-exit=1 -N3 -n3 --ntasks-per-node=1 \
    --chdir="$WORK" "$MPI_HELLO" 2>&1)
  rc=$?
  if [ $rc != 0 ] || [ "$(grep -c '(ok)' <<<"$out")" != 3 ]; then
    if [ $cfg = A ]; then bad_a=$((bad_a + 1)); else bad_b=$((bad_b + 1)); fi
    who="no core"
    for c in "$WORK"/core*; do
      [ -f "$c" ] && who="core of $(strings "$c" | grep -m1 '^SLURM_PROCID=')" && rm -f "$c"
    done
    echo "launch $r ($cfg: $envs): exit $rc, $who"
  fi
  if [ $((r % 50)) = 0 ]; then echo "stress: $r launches; A failed $bad_a, B failed $bad_b ($(date +%T))"; fi
done
echo "stress: $N launches; A [$ENV_A] failed $bad_a of $(((N + 1) / 2)); B [$ENV_B] failed $bad_b of $((N / 2))"
