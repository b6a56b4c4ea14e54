# Sourced after mh_common.sh: slurm3_up starts a 3-node Slurm cluster on the namespace hosts of
# netns_hosts.sh (one slurmd per host, each with its own node-local folder for spool, logs and
# TmpFS; slurmctld on host 1, also the login node where every client command runs: on_login; one
# munged for all, a Unix socket reached by path). Everything is removed by mh_down on exit. Exit
# 77 (SKIP, with the reason) when namespaces or Slurm cannot be started here.

skip() { echo "SKIP: Slurm cannot start here: $*"; exit 77; }
on_login() { mh_exec_sys 1 "$@"; } # client commands run on host 1

slurm3_up() {
for b in munged slurmctld slurmd sbatch srun scontrol sinfo; do
  command -v "$b" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin command -v "$b" >/dev/null 2>&1 ||
    skip "$b not found (apt-get install slurm-wlm munge)"
done
PATH=$PATH:/usr/sbin

mh_up 3 # first: SKIP at once where namespaces cannot be made
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

}
