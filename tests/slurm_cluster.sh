#!/usr/bin/env bash
# Starts a real single-node Slurm cluster (munged + slurmctld + slurmd, no systemd) in a temporary
# directory, submits one batch job with `sbatch --wait`, checks it, and stops every daemon it
# started by PID (trap), whatever happens.
#
# usage: tests/slurm_cluster.sh (--job 'COMMAND' | --script FILE) [options]
#   --job 'COMMAND'      run COMMAND (a shell command line, e.g. "srun --mpi=pmix -n 2 trainer
#                        --version") as the body of a generated batch script
#   --script FILE        submit FILE as is (e.g. launch/train.sbatch); its #SBATCH lines apply
#   --sbatch-args 'ARGS' extra sbatch options (word-split), e.g. "--export=ALL,VKDP_EPOCHS=1"
#   --ntasks N           tasks for --job scripts (default 2)
#   --time MIN           job time limit in minutes (default 10)
#   --expect REGEX       the job's output must have a line matching this extended regex (grep -E);
#                        repeatable: every one must match
#   --requeue-after SEC  SEC seconds after the job starts running, `scontrol requeue` it once
#                        (a preempted / failed node); the job must then run again to completion
#   --requeue-when FILE  with --requeue-after: wait for FILE to exist first (e.g. the first
#                        checkpoint's latest.h5), then SEC more seconds
#   --workdir DIR        job working directory (default: the current directory)
#   --fresh-dir DIR      remove DIR before submitting (a checkpoint directory left by an earlier run)
#   --deadline SEC       give up SEC seconds after the cluster is up (default 300): the job is
#                        cancelled and its output and state printed, before ctest's own timeout
#                        would kill this script and leave the job's processes behind
#   --keep               keep the temporary directory (logs, job output) for inspection
#
# The job runs as root with the caller's environment (sbatch --export=ALL). Its output is printed.
# Exit status: 0 job completed (exit 0) and matched --expect; 1 it did not; 77 Slurm could not be
# started here (no binaries, not root, a daemon did not come up): the reason is printed.
set -uo pipefail

SKIP=77
job="" script="" sbatch_args="" ntasks=2 time_min=10 requeue_after="" requeue_when="" keep=0 deadline_s=300
expect=() fresh_dirs=()
workdir=$PWD
while [ $# -gt 0 ]; do
  case "$1" in
    --job) job=$2; shift 2 ;;
    --script) script=$2; shift 2 ;;
    --sbatch-args) sbatch_args=$2; shift 2 ;;
    --ntasks) ntasks=$2; shift 2 ;;
    --time) time_min=$2; shift 2 ;;
    --expect) expect+=("$2"); shift 2 ;;
    --requeue-after) requeue_after=$2; shift 2 ;;
    --requeue-when) requeue_when=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    --fresh-dir) fresh_dirs+=("$2"); shift 2 ;;
    --deadline) deadline_s=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "slurm_cluster: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ -z "$job" ] && [ -z "$script" ]; then
  echo "slurm_cluster: give --job 'COMMAND' or --script FILE" >&2; exit 2
fi

if [ -n "$script" ]; then
  [ -f "$script" ] || { echo "slurm_cluster: no batch script $script" >&2; exit 2; }
  script=$(realpath "$script")
fi

skip() { echo "SKIP: Slurm cannot start here: $*"; exit $SKIP; }

for b in munged slurmctld slurmd sbatch srun scontrol sinfo; do
  command -v "$b" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin command -v "$b" >/dev/null 2>&1 ||
    skip "$b not found (apt-get install slurm-wlm munge)"
done
PATH=$PATH:/usr/sbin
[ "$(id -u)" -eq 0 ] || skip "slurmd must run as root (SlurmUser=root) and this is uid $(id -u)"

T=$(mktemp -d /tmp/vkdp-slurm.XXXXXX) || skip "mktemp failed"
chmod 700 "$T"
pids=()
cleanup() {
  local p
  # Jobs first: stopping the daemons under a running job would orphan its slurmstepd and ranks.
  if [ -n "${SLURM_CONF:-}" ] && [ ${#pids[@]} -gt 0 ]; then
    scancel --user=root 2>/dev/null   # SIGTERM, then SIGKILL after KillWait (5 s)
    for _ in $(seq 150); do
      [ -z "$(squeue -h -t RUNNING,COMPLETING,CONFIGURING 2>/dev/null)" ] && break
      sleep 0.1
    done
  fi
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null
  done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  if [ $keep -eq 1 ]; then echo "slurm_cluster: kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- munge: own key, socket, pid and log in $T ----
dd if=/dev/urandom of="$T/munge.key" bs=1024 count=1 status=none && chmod 400 "$T/munge.key" ||
  skip "cannot create a munge key"
munged -F --force --key-file="$T/munge.key" --socket="$T/munge.sock" --pid-file="$T/munged.pid" \
  --log-file="$T/munged.log" --seed-file="$T/munged.seed" >"$T/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$T/munge.sock" ] && break; sleep 0.1; done
[ -S "$T/munge.sock" ] || skip "munged did not start: $(cat "$T/munged.out" "$T/munged.log" 2>/dev/null | tail -3)"

# ---- slurm.conf for this host ----
free_port() { # a TCP port nobody listens on
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo $p; return; fi
  done
  echo 6817
}
host=$(hostname -s)
node=$(slurmd -C | head -1)   # "NodeName=<host> CPUs=.. Boards=.. ... RealMemory=.."
[ -n "$node" ] || skip "slurmd -C printed nothing"
ctld_port=$(free_port)
slurmd_port=$(free_port)
while [ "$slurmd_port" = "$ctld_port" ]; do slurmd_port=$(free_port); done
mkdir -p "$T/state" "$T/spool" "$T/tmp"
: >"$T/plugstack.conf"
cat >"$T/slurm.conf" <<EOF
ClusterName=vkdptest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
AuthInfo=socket=$T/munge.sock
CredType=cred/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
# The PMIx plugin keeps per-step directories named after uid, job and step id under TmpFS:
# with /tmp, two clusters (or a test run after another) would share "spmix_appdir_0_1.0".
TmpFS=$T/tmp
FirstJobId=$((1000 + RANDOM))
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
PlugStackConfig=$T/plugstack.conf
$(cat "$(dirname "$0")/slurm_common.conf")
$node State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$T/slurm.conf

slurmctld -D -i -f "$T/slurm.conf" >"$T/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$T/slurm.conf" >"$T/slurmd.out" 2>&1 &
pids+=($!)
state=""
for _ in $(seq 150); do
  state=$(sinfo -h -N -o '%T' 2>/dev/null | head -1)
  [ "$state" = "idle" ] && break
  for p in "${pids[@]}"; do
    kill -0 "$p" 2>/dev/null || skip "a Slurm daemon exited at start: $(tail -n 3 "$T"/slurm*.out "$T"/slurm*.log 2>/dev/null)"
  done
  sleep 0.2
done
[ "$state" = "idle" ] || skip "node did not become idle in 30 s (state '$state'): $(tail -n 3 "$T/slurmctld.log" "$T/slurmd.log" 2>/dev/null)"
deadline=$(( $(date +%s) + deadline_s ))
in_time() { [ "$(date +%s)" -lt "$deadline" ]; }
echo "slurm_cluster: cluster up in $T (slurmctld :$ctld_port, slurmd :$slurmd_port, node $node)"

# ---- the job ----
if [ -n "$job" ]; then
  script=$T/job.sbatch
  cat >"$script" <<EOF
#!/bin/bash
#SBATCH --job-name=vkdp-test
#SBATCH --nodes=1
#SBATCH --ntasks=$ntasks
#SBATCH --time=$time_min
set -euo pipefail
echo "job \$SLURM_JOB_ID on \$(hostname) with \$SLURM_NTASKS tasks (restart count \${SLURM_RESTART_COUNT:-0})"
$job
EOF
fi
out=$T/job.out
for d in "${fresh_dirs[@]}"; do rm -rf -- "$d"; done
# Without a requeue, sbatch --wait blocks until the job ends; with one, it would return at the
# requeue, so we submit and poll instead.
wait_opt=--wait
[ -n "$requeue_after" ] && wait_opt=""
echo "slurm_cluster: submitting $script"
# shellcheck disable=SC2086  # sbatch_args is a list of options on purpose
jobid=$(cd "$workdir" && sbatch --parsable $wait_opt --export=ALL --output="$out" --open-mode=append \
  --chdir="$workdir" $sbatch_args "$script" 2>"$T/sbatch.err")
rc=$?
jobid=${jobid%%;*}
if [ -z "$jobid" ]; then
  echo "FAIL sbatch rejected the job: $(cat "$T/sbatch.err")"; exit 1
fi
[ -n "$wait_opt" ] && echo "slurm_cluster: sbatch --wait returned $rc"
echo "slurm_cluster: submitted job $jobid"

if [ -n "$requeue_after" ]; then
  # Wait for it to run, let it work for a while, then requeue it as a node failure would.
  for _ in $(seq 600); do
    st=$(squeue -h -j "$jobid" -o '%T' 2>/dev/null)
    [ "$st" = "RUNNING" ] || [ -z "$st" ] && break
    sleep 0.2
  done
  if [ -n "$requeue_when" ]; then
    while in_time; do
      [ -e "$requeue_when" ] && break
      [ "$(squeue -h -j "$jobid" -o '%T' 2>/dev/null)" = "RUNNING" ] || break
      sleep 0.2
    done
  fi
  sleep "$requeue_after"
  if [ "$(squeue -h -j "$jobid" -o '%T' 2>/dev/null)" = "RUNNING" ]; then
    echo "slurm_cluster: requeueing job $jobid"
    scontrol requeue "$jobid" || { echo "FAIL scontrol requeue $jobid"; exit 1; }
    requeued_at=$(date +%s)
    # A requeued job is held back (BeginTime ~2 min ahead); a test need not wait for that, but it
    # must not start the job again before two things are true, or slurmd refuses the launch and
    # the job ends FAILED ("Job N already killed, do not launch batch job"):
    # 1. the old run has finished completing: the job is PENDING and the node idle again;
    # 2. the clock has left the second of the requeue. The requeue revokes the job's credential
    #    with the kill request's time, in whole seconds, and slurmd rejects any launch credential
    #    created at or before that second (cred.c: cred->ctime <= j->revoked). A relaunch within
    #    the same second as the requeue failed about half the time on a 2-core machine.
    for _ in $(seq 300); do
      [ "$(squeue -h -j "$jobid" -o '%T' 2>/dev/null)" = "PENDING" ] &&
        [ "$(sinfo -h -N -o '%T' 2>/dev/null | head -1)" = "idle" ] && break
      sleep 0.1
    done
    while [ "$(date +%s)" -le "$requeued_at" ]; do sleep 0.05; done
    scontrol update JobId="$jobid" StartTime=now || echo "slurm_cluster: could not advance the start time"
  else
    echo "FAIL job $jobid was no longer running after $requeue_after s: nothing to requeue"; echo "---- job output ----"; cat "$out" 2>/dev/null; exit 1
  fi
fi

# sbatch --wait would return at the requeue; poll until the job has really finished.
while in_time; do
  st=$(scontrol show job "$jobid" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
  case "$st" in
    COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED) break ;;
  esac
  sleep 0.2
done
info=$(scontrol show job "$jobid" 2>/dev/null)
st=$(sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' <<<"$info")
ec=$(sed -n 's/.* ExitCode=\([0-9:]*\).*/\1/p' <<<"$info")
restarts=$(sed -n 's/.*Restarts=\([0-9]*\).*/\1/p' <<<"$info")
echo "---- job $jobid output ----"
cat "$out" 2>/dev/null
echo "---- job $jobid: state $st, exit code $ec, restarts ${restarts:-0} ----"
fail=0
if [ "$st" != "COMPLETED" ] || [ "$ec" != "0:0" ]; then
  in_time || echo "FAIL job $jobid had not finished $deadline_s s after the cluster came up (--deadline)"
  echo "FAIL job $jobid ended $st with exit code $ec"
  tail -n 5 "$T/slurmd.log" 2>/dev/null
  fail=1
else
  echo "ok   job $jobid completed with exit code 0"
fi
for re in "${expect[@]}"; do
  if grep -Eq -- "$re" "$out" 2>/dev/null; then echo "ok   output matches /$re/"
  else echo "FAIL output does not match /$re/"; fail=1; fi
done
if [ -n "$requeue_after" ]; then
  if [ "${restarts:-0}" -ge 1 ]; then echo "ok   job was requeued and ran again (restarts $restarts)"
  else echo "FAIL job shows no restart"; fail=1; fi
fi
exit $fail
