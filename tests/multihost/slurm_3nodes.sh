#!/usr/bin/env bash
# A 3-node Slurm cluster on the namespace hosts of netns_hosts.sh: one slurmd per host (each sees
# its own node-local folder for spool, logs and TmpFS), slurmctld on host 1 (also the login
# node: every client command runs there), one munged for all (a Unix socket, not networked).
# launch/train.sbatch runs with --nodes=3 --ntasks-per-node=1: srun --mpi=pmix starts one rank
# per node, talking TCP over the switch. The job must complete on all three nodes, and its
# checkpoint must be bit-identical (tests/ckpt_digest.py) to the same job's with 3 ranks on one
# host. Exit 77 (SKIP, with the reason) when namespaces or Slurm cannot be started here.
source "$(dirname "$0")/mh_common.sh"
SBATCH_SCRIPT="$here/../launch/train.sbatch"

skip() { echo "SKIP: Slurm cannot start here: $*"; exit 77; }
for b in munged slurmctld slurmd sbatch srun scontrol sinfo; do
  command -v "$b" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin command -v "$b" >/dev/null 2>&1 ||
    skip "$b not found (apt-get install slurm-wlm munge)"
done
PATH=$PATH:/usr/sbin

mh_up 3 # first: SKIP at once where namespaces cannot be made
subset 12 "$WORK/data"
rm -rf "$WORK/ref" "$WORK/run" "$WORK/job.out"
reference_run "$WORK/ref" "$WORK/ref.log"
T=$MH_DIR

# ---- munge: own key and socket in $T (root namespace; the socket is reached by path) ----
dd if=/dev/urandom of="$T/munge.key" bs=1024 count=1 status=none && chmod 400 "$T/munge.key" ||
  skip "cannot create a munge key"
munged -F --force --key-file="$T/munge.key" --socket="$T/munge.sock" --pid-file="$T/munged.pid" \
  --log-file="$T/munged.log" --seed-file="$T/munged.seed" >"$T/munged.out" 2>&1 &
mh_bg_pid $!
deadline=$((SECONDS + 10))
until [ -S "$T/munge.sock" ]; do
  [ $SECONDS -lt $deadline ] || skip "munged did not start: $(tail -n 3 "$T/munged.out" "$T/munged.log" 2>/dev/null)"
  sleep 0.1
done

# ---- slurm.conf: the hosts' own addresses; ports are per namespace, so the defaults serve ----
hw=$(slurmd -C | head -1 | sed 's/^NodeName=[^ ]* //') # CPUs=.. Boards=.. ... RealMemory=..
[ -n "$hw" ] || skip "slurmd -C printed nothing"
mkdir -p "$T/ctld-state" "$T/node"
nodes=""
for i in 1 2 3; do
  mkdir -p "$T/node-$i/spool" "$T/node-$i/tmp"
  nodes+="NodeName=$(mh_ns $i) NodeAddr=$(mh_addr $i) $hw State=UNKNOWN"$'\n'
done
: >"$T/plugstack.conf"
cat >"$T/slurm.conf" <<EOF
ClusterName=vkdpmh
SlurmctldHost=$(mh_ns 1)($(mh_addr 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$T/munge.sock
CredType=cred/munge
StateSaveLocation=$T/ctld-state
# $T/node is each slurmd's own folder: a bind mount of $T/node-N inside that host
SlurmdSpoolDir=$T/node/spool
SlurmdPidFile=$T/node/slurmd.pid
SlurmdLogFile=$T/node/slurmd.log
TmpFS=$T/node/tmp
SlurmctldPidFile=$T/slurmctld.pid
SlurmctldLogFile=$T/slurmctld.log
PlugStackConfig=$T/plugstack.conf
FirstJobId=$((1000 + RANDOM))
$(cat "$here/slurm_common.conf")
$nodes
PartitionName=debug Nodes=$(mh_ns 1),$(mh_ns 2),$(mh_ns 3) Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$T/slurm.conf
on_login() { mh_exec_sys 1 "$@"; } # client commands run on host 1

mh_exec_sys 1 slurmctld -D -i -f "$T/slurm.conf" >"$T/slurmctld.out" 2>&1 &
for i in 1 2 3; do
  # each host has a private mount namespace: the bind mount stays in it
  mh_exec_sys $i sh -c 'mount --bind "$0/node-$1" "$0/node" && exec slurmd -D -f "$0/slurm.conf"' "$T" $i \
    >"$T/slurmd-$i.out" 2>&1 &
done
deadline=$((SECONDS + 60))
while :; do
  states=$(on_login sinfo -h -N -o '%N %T' 2>/dev/null | sort -u)
  [ "$(grep -c ' idle$' <<<"$states")" = 3 ] && break
  [ $SECONDS -lt $deadline ] ||
    skip "3 idle nodes not reached in 60 s (sinfo: $(tr "\n" ";" <<<"$states")): $(tail -n 3 "$T"/slurm*.out "$T/slurmctld.log" "$T"/node-*/slurmd.log 2>&1)"
  sleep 0.2
done
echo "slurm: 3 nodes idle: $(tr '\n' ' ' <<<"$states")"

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
same_digest "$WORK/ref/latest.h5" "$WORK/run/latest.h5"
echo "slurm_3nodes: ok"
