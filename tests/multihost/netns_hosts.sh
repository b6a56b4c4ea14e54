#!/usr/bin/env bash
# Several hosts on one machine, for the multi-host tests: each host is a Linux network namespace
# with its own host name, on a private switch. Sourced by tests/multihost/*.sh (bash, as root).
#
#   source tests/multihost/netns_hosts.sh
#   mh_up 3                 # hosts 1..3, or exit 77 (SKIP) with the reason when this machine
#                           # cannot make namespaces (not root, no `ip netns`, no veth/bridge)
#   mh_exec 1 CMD...        # run CMD on host 1 (its network, its host name, its hosts file)
#   mh_exec_sys 1 CMD...    # the same, keeping the machine's /sys (cgroups, for slurmd)
#   mh_mpirun 1 ARGS...     # mpirun started on host 1, ranks on the hosts named in ARGS (--host)
#   mh_kill_host 3          # SIGKILL every process of host 3 (a machine lost with all it ran)
#   mh_link 3 down|up       # host 3's switch port down/up (a cut cable: TCP sees nothing)
#   mh_bg_pid PID           # a root-namespace process of the test to stop at clean-up
#
# What mh_up makes, all named vkmh<tag>-* with a random 8-hex-digit <tag> per run, so that two
# runs cannot collide (it refuses to start if one of its names exists already):
#   - a namespace vkmh<tag>-sw holding the switch: a bridge br0 with one veth port pN per host;
#     nothing is added to the root namespace (each veth is created with its far end directly in
#     the host's namespace);
#   - per host N a namespace vkmh<tag>-hN whose eth0 has 198.51.100.N/24 (the documentation
#     range, RFC 5737, which exists only inside these namespaces) and lo up; processes started
#     with mh_exec or the rsh agent also get a UTS namespace with the host name vkmh<tag>-hN;
#   - in each host, net.ipv4.tcp_retries2=7 (MH_TCP_RETRIES2; a per-namespace sysctl): a TCP
#     send that is never acknowledged fails after ~51 s, not ~15 min, so that mpirun ends in
#     bounded time after a job abort even when one of its daemons sits behind a cut link;
#   - one hosts file ($MH_DIR/hosts: every host's name and address) that `ip netns exec` shows as
#     /etc/hosts inside each host, placed as /etc/netns/vkmh<tag>-hN/hosts;
#   - $MH_DIR (mktemp -d): hosts file, state, logs.
# The Open MPI rsh agent is tests/multihost/rsh_agent.sh (MH_AGENT): it only enters this run's
# hosts (MH_HOSTS). mh_mpirun adds the agent, TCP only (btl tcp,self) and oob/btl restricted to
# 198.51.100.0/24.
#
# Clean-up (mh_down) runs on exit, failure, SIGINT/SIGTERM (trap), and also when the test is
# SIGKILLed (a ctest timeout): a detached reaper process waits for the test's PID to disappear
# and runs the same clean-up from $MH_DIR/state. It kills every process left in each host's
# namespace (by PID, until none is left), deletes the namespaces (which deletes their links),
# removes the /etc/netns entries, what its hosts' processes left in /tmp and /dev/shm under
# their host names (Open MPI session folders of killed daemons), $MH_DIR, and /run/netns when
# this run created it and it is empty, then stops the reaper. Every wait is on a condition with a bounded deadline.
#
# MH_FORCE_TAG=<8 hex digits> replaces the random tag (the self-test uses it to check the
# refusal). Also runnable by hand: `tests/multihost/netns_hosts.sh --cleanup DIR` redoes a run's clean-up
# from its state file.

MH_SUBNET=198.51.100.0/24
MH_SELF=$(realpath "${BASH_SOURCE[0]}")
MH_AGENT=$(dirname "$MH_SELF")/rsh_agent.sh
MH_DIR="" MH_TAG="" MH_N=0 MH_SW="" MH_REAPER=""
MH_HOSTS=""
# TCP in the hosts gives up on unacknowledged data after about 51 s instead of Linux's ~15 min
# (RTO 0.2 s doubling 7 times): mpirun, whose daemon behind a cut link never answers its halt
# order, then ends in bounded time once the job has aborted (this sysctl is per namespace).
MH_TCP_RETRIES2=${MH_TCP_RETRIES2:-7}

# ---- clean-up from a state file: "tag TAG", "ns NAME", "etc DIR", "pid PID", "runnetns" ----
mh_netns_pids() { # PIDs of the processes in namespace $1
  ip netns pids "$1" 2>/dev/null
}

mh_kill_ns_procs() { # SIGKILL everything in namespace $1 until it is empty (deadline 20 s)
  local ns=$1 pids deadline=$((SECONDS + 20))
  while pids=$(mh_netns_pids "$ns") && [ -n "$pids" ]; do
    # shellcheck disable=SC2086  # a list of PIDs
    kill -9 $pids 2>/dev/null
    if [ $SECONDS -ge $deadline ]; then
      echo "netns_hosts: processes $pids in $ns survived SIGKILL for 20 s" >&2
      return 1
    fi
    sleep 0.05
  done
  return 0
}

mh_cleanup_state() { # DIR: undo everything DIR/state records (idempotent)
  local dir=$1 kind what rc=0
  [ -f "$dir/state" ] || { rm -rf "$dir"; return 0; }
  # root-namespace processes first (they may be talking to the hosts)
  while read -r kind what; do
    [ "$kind" = pid ] || continue
    kill "$what" 2>/dev/null
    local deadline=$((SECONDS + 5))
    while kill -0 "$what" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
    kill -9 "$what" 2>/dev/null
  done <"$dir/state"
  while read -r kind what; do
    [ "$kind" = ns ] || continue
    if [ -e "/run/netns/$what" ]; then
      mh_kill_ns_procs "$what" || rc=1
      ip netns del "$what" || { echo "netns_hosts: could not delete namespace $what" >&2; rc=1; }
    fi
  done <"$dir/state"
  while read -r kind what; do
    [ "$kind" = etc ] || continue
    rm -rf -- "$what"
  done <"$dir/state"
  # what processes named after this run's hosts left in the machine's /tmp and /dev/shm when
  # they were killed (Open MPI's session folders /tmp/ompi.HOST.UID, shared-memory segments)
  while read -r kind what; do
    [ "$kind" = tag ] || continue
    find /tmp /dev/shm -maxdepth 1 -name "*vkmh$what-*" -exec rm -rf -- {} + 2>/dev/null
  done <"$dir/state"
  rmdir /etc/netns 2>/dev/null # only when no other run uses it
  if grep -qx runnetns "$dir/state" && [ -d /run/netns ] && [ -z "$(ls -A /run/netns)" ]; then
    umount /run/netns 2>/dev/null
    rmdir /run/netns 2>/dev/null
  fi
  rm -rf -- "$dir"
  return $rc
}

if [ "${1:-}" = --reap ] || [ "${1:-}" = --cleanup ]; then
  # --reap PID DIR: wait for the test process PID to end, then clean up DIR (detached helper)
  if [ "$1" = --reap ]; then
    while kill -0 "$2" 2>/dev/null; do sleep 0.5; done
    shift
  fi
  [ -n "${2:-}" ] && [ -d "$2" ] || { echo "netns_hosts: no run directory '${2:-}'" >&2; exit 1; }
  mh_cleanup_state "$2"
  exit $?
fi

mh_ns() { echo "vkmh$MH_TAG-h$1"; }
mh_addr() { echo "198.51.100.$1"; }

mh_down() {
  local rc=0
  [ -n "$MH_DIR" ] || return 0
  mh_cleanup_state "$MH_DIR" || rc=1
  if [ -n "$MH_REAPER" ]; then kill "$MH_REAPER" 2>/dev/null; fi
  MH_DIR="" MH_REAPER=""
  return $rc
}

mh_skip() { echo "SKIP: cannot make network namespaces here: $*"; mh_down; exit 77; }
mh_die() { echo "FAIL: netns_hosts: $*" >&2; mh_down; exit 1; }

mh_up() {
  local n=$1 i ns name
  [ "$(id -u)" -eq 0 ] || mh_skip "network namespaces need root, this is uid $(id -u)"
  for b in ip unshare nsenter hostname; do
    command -v "$b" >/dev/null 2>&1 || mh_skip "$b not found (apt-get install iproute2 util-linux)"
  done
  MH_TAG=${MH_FORCE_TAG:-$(od -An -N4 -tx4 /dev/urandom | tr -d ' \n')} # forced: self-test only
  MH_N=$n
  MH_SW="vkmh$MH_TAG-sw"
  local names=("$MH_SW")
  for ((i = 1; i <= n; i++)); do names+=("$(mh_ns $i)"); done
  for name in "${names[@]}"; do
    if [ -e "/run/netns/$name" ] || [ -e "/etc/netns/$name" ]; then
      echo "FAIL: netns_hosts: $name exists already (/run/netns or /etc/netns): refusing to start" >&2
      exit 1
    fi
  done
  MH_DIR=$(mktemp -d /tmp/vkmh.XXXXXX) || mh_skip "mktemp failed"
  chmod 700 "$MH_DIR"
  echo "tag $MH_TAG" >"$MH_DIR/state"
  [ -d /run/netns ] || echo runnetns >>"$MH_DIR/state"
  trap 'mh_down' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  # The reaper: its own session, and its parent (the subshell) exits at once, so a SIGKILL of
  # this test (or of its process group) does not take it along; it cleans up when this shell's
  # PID is gone. setsid execs in place here (a background job is no group leader): $! is its PID.
  MH_REAPER=$( (setsid bash "$MH_SELF" --reap $$ "$MH_DIR" </dev/null >/dev/null 2>&1 & echo $!) )
  [ -n "$MH_REAPER" ] && kill -0 "$MH_REAPER" 2>/dev/null || mh_skip "cannot start the clean-up reaper (setsid)"

  echo "ns $MH_SW" >>"$MH_DIR/state"
  ip netns add "$MH_SW" 2>"$MH_DIR/err" || mh_skip "ip netns add failed: $(cat "$MH_DIR/err")"
  ip -n "$MH_SW" link set lo up || mh_die "lo up in $MH_SW"
  ip -n "$MH_SW" link add br0 type bridge 2>"$MH_DIR/err" || mh_skip "no bridge device: $(cat "$MH_DIR/err")"
  ip -n "$MH_SW" link set br0 up || mh_die "br0 up in $MH_SW"
  {
    echo "127.0.0.1 localhost"
    for ((i = 1; i <= n; i++)); do echo "$(mh_addr $i) $(mh_ns $i)"; done
  } >"$MH_DIR/hosts"
  MH_HOSTS=""
  for ((i = 1; i <= n; i++)); do
    ns=$(mh_ns $i)
    echo "ns $ns" >>"$MH_DIR/state"
    ip netns add "$ns" || mh_die "ip netns add $ns"
    ip -n "$MH_SW" link add "p$i" type veth peer name eth0 netns "$ns" 2>"$MH_DIR/err" ||
      mh_skip "no veth pairs: $(cat "$MH_DIR/err")"
    ip -n "$MH_SW" link set "p$i" master br0 up || mh_die "port p$i on br0"
    ip -n "$ns" link set lo up || mh_die "lo up in $ns"
    ip -n "$ns" addr add "$(mh_addr $i)/24" dev eth0 || mh_die "address on $ns"
    ip -n "$ns" link set eth0 up || mh_die "eth0 up in $ns"
    ip netns exec "$ns" sysctl -q -w "net.ipv4.tcp_retries2=$MH_TCP_RETRIES2" ||
      mh_die "cannot set net.ipv4.tcp_retries2 in $ns"
    echo "etc /etc/netns/$ns" >>"$MH_DIR/state"
    mkdir -p "/etc/netns/$ns" && cp "$MH_DIR/hosts" "/etc/netns/$ns/hosts" ||
      mh_die "cannot write /etc/netns/$ns/hosts"
    MH_HOSTS+="${MH_HOSTS:+ }$ns"
  done
  export MH_HOSTS
  # Up means every host reaches every other one: wait for the bridge ports to forward (a TCP
  # connection to a port nobody listens on is refused once the path works).
  for ((i = 2; i <= n; i++)); do
    mh_wait_reach 1 "$i" 20 || mh_die "host 1 cannot reach host $i after 20 s"
  done
  echo "netns_hosts: $n hosts up: $MH_HOSTS (switch $MH_SW, run dir $MH_DIR)"
}

mh_wait_reach() { # FROM TO SECONDS: until FROM gets an answer from TO (a refused connection)
  local deadline=$((SECONDS + $3)) out
  while [ $SECONDS -lt "$deadline" ]; do
    # port 9 (discard) listens nowhere here: "refused" proves the path works both ways
    out=$(timeout 2 ip netns exec "$(mh_ns "$1")" bash -c "exec 3<>/dev/tcp/$(mh_addr "$2")/9" 2>&1)
    case "$out" in *refused*) return 0 ;; esac
    sleep 0.1
  done
  return 1
}

mh_exec() { # N CMD...: CMD on host N, with the host's name
  local ns
  ns=$(mh_ns "$1")
  shift
  ip netns exec "$ns" unshare --uts -- sh -c 'hostname "$0" && exec "$@"' "$ns" "$@"
}

mh_exec_sys() { # N CMD...: as mh_exec, but keeping the machine's /sys (ip netns exec mounts a
  # fresh sysfs, which hides /sys/fs/cgroup: slurmd needs it); /etc/hosts is the run's hosts file
  # in a private mount namespace
  local ns
  ns=$(mh_ns "$1")
  shift
  nsenter --net="/run/netns/$ns" unshare --mount --uts -- \
    sh -c 'h=$1 f=$2; shift 2; mount --bind "$f" /etc/hosts && hostname "$h" && exec "$@"' sh "$ns" "$MH_DIR/hosts" "$@"
}

mh_mpirun() { # N MPIRUN-ARGS...: mpirun started on host N over this run's hosts
  local n=$1
  shift
  local root=()
  [ "$(id -u)" -eq 0 ] && root=(--allow-run-as-root)
  mh_exec "$n" mpirun "${root[@]}" --bind-to none \
    --mca plm_rsh_agent "$MH_AGENT" --mca plm_rsh_no_tree_spawn 1 \
    --mca btl tcp,self --mca btl_tcp_if_include "$MH_SUBNET" --mca oob_tcp_if_include "$MH_SUBNET" \
    "$@"
}

mh_kill_host() { # N: every process of host N, SIGKILL
  mh_kill_ns_procs "$(mh_ns "$1")"
}

mh_link() { # N up|down: host N's port on the switch
  ip -n "$MH_SW" link set "p$1" "$2"
}

mh_bg_pid() { # PID: a process of the test in the root namespace, stopped at clean-up
  echo "pid $1" >>"$MH_DIR/state"
}

mh_procs() { # N NAME: PIDs of host N's processes whose command name is NAME
  local p c
  for p in $(mh_netns_pids "$(mh_ns "$1")"); do
    c=$(cat "/proc/$p/comm" 2>/dev/null) && [ "$c" = "$2" ] && echo "$p"
  done
}
