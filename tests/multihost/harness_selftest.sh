#!/usr/bin/env bash
# The namespace-hosts harness itself (netns_hosts.sh, rsh_agent.sh), in a few seconds:
# 3 hosts with their own names and addresses that reach each other over the switch and resolve
# each other's names; nothing added to the root namespace; the rsh agent refuses a host that is
# not this run's; a run whose names exist already refuses to start; and nothing is left behind
# after a normal end, after SIGTERM, or after SIGKILL of the test (the reaper).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: network namespaces need root, this is uid $(id -u)"; exit 77; }
W=$(mktemp -d /tmp/vkmh-selftest.XXXXXX) || fail "mktemp"
trap 'rm -rf "$W"' EXIT
root_links=$(ip -o link | wc -l)

leftovers() { # TAG: what a run with TAG could leave behind
  ip netns list 2>/dev/null | grep "vkmh$1-"
  ls -d /etc/netns/vkmh"$1"-* /tmp/*vkmh"$1"-* /dev/shm/*vkmh"$1"-* 2>/dev/null
  pgrep -af -- "--reap .*" | grep -v pgrep | grep -F "$2"
}

# ---- a run: the hosts, their names, addresses, hosts file and switch ----
cat >"$W/run.sh" <<'EOS'
source "$1/netns_hosts.sh"
mh_up 3
echo "TAG $MH_TAG DIR $MH_DIR"
for i in 1 2 3; do
  [ "$(mh_exec $i hostname)" = "$(mh_ns $i)" ] || { echo "FAIL host $i is named $(mh_exec $i hostname)"; exit 1; }
  mh_exec $i ip -4 -o addr show dev eth0 | grep -q "inet $(mh_addr $i)/24" || { echo "FAIL host $i address"; exit 1; }
  for j in 1 2 3; do
    [ "$(mh_exec $i getent hosts "$(mh_ns $j)" | awk '{print $1}')" = "$(mh_addr $j)" ] ||
      { echo "FAIL host $i does not resolve host $j"; exit 1; }
    [ $i = $j ] || mh_wait_reach $i $j 10 || { echo "FAIL host $i cannot reach host $j"; exit 1; }
  done
done
[ "$(mh_exec_sys 2 hostname)" = "$(mh_ns 2)" ] || { echo "FAIL mh_exec_sys host name"; exit 1; }
MH_HOSTS="$MH_HOSTS" "$MH_AGENT" "$(mh_ns 2)" echo agent-ok | grep -qx agent-ok || { echo "FAIL agent"; exit 1; }
MH_HOSTS="$MH_HOSTS" "$MH_AGENT" "vkmh00000000-h1" true 2>/dev/null && { echo "FAIL agent entered a foreign host"; exit 1; }
mh_link 2 down && ! mh_wait_reach 1 2 2 || { echo "FAIL host 2 still reachable with its port down"; exit 1; }
mh_link 2 up && mh_wait_reach 1 2 10 || { echo "FAIL host 2 unreachable after its port came up"; exit 1; }
case "${2:-}" in
  hold) mh_exec 2 sleep 1000 & touch "$3"; wait ;;
esac
echo "RUN OK"
EOS
out=$(bash "$W/run.sh" "$here" 2>&1)
echo "$out"
grep -q '^RUN OK$' <<<"$out" || fail "the hosts are not as documented"
tag=$(sed -n 's/^TAG \([0-9a-f]*\) DIR .*/\1/p' <<<"$out")
dir=$(sed -n 's/^TAG [0-9a-f]* DIR //p' <<<"$out")
[ -n "$tag" ] || fail "no tag printed"
[ -z "$(leftovers "$tag" "$dir")" ] || fail "left behind after a normal end: $(leftovers "$tag" "$dir")"
[ ! -e "$dir" ] || fail "run dir $dir left behind"
[ "$(ip -o link | wc -l)" = "$root_links" ] || fail "the root namespace's links changed"
echo "ok   3 hosts as documented; nothing left behind after a normal end"

# ---- names that exist already: refused ----
had_run_netns=0
[ -d /run/netns ] && had_run_netns=1
ip netns add "vkmhfeedf00d-h2" || fail "cannot make a namespace to collide with"
out=$(MH_FORCE_TAG=feedf00d bash -c "source '$here/netns_hosts.sh'; mh_up 3" 2>&1)
rc=$?
ip netns del "vkmhfeedf00d-h2"
if [ $had_run_netns = 0 ] && [ -z "$(ls -A /run/netns)" ]; then umount /run/netns && rmdir /run/netns; fi
[ $rc -eq 1 ] && grep -q 'vkmhfeedf00d-h2 exists already' <<<"$out" ||
  fail "a run whose names exist started anyway (exit $rc): $out"
[ -z "$(ip netns list | grep vkmhfeedf00d)" ] || fail "the refused run made namespaces"
echo "ok   a run whose names exist already is refused"

# ---- SIGTERM and SIGKILL of a test: everything goes ----
for sig in TERM KILL; do
  rm -f "$W/up"
  bash "$W/run.sh" "$here" hold "$W/up" >"$W/$sig.log" 2>&1 &
  pid=$!
  deadline=$((SECONDS + 60))
  until [ -e "$W/up" ]; do
    kill -0 $pid 2>/dev/null && [ $SECONDS -lt $deadline ] || { cat "$W/$sig.log"; fail "held run did not come up"; }
    sleep 0.1
  done
  tag=$(sed -n 's/^TAG \([0-9a-f]*\) DIR .*/\1/p' "$W/$sig.log")
  dir=$(sed -n 's/^TAG [0-9a-f]* DIR //p' "$W/$sig.log")
  kill -$sig $pid
  wait $pid 2>/dev/null
  deadline=$((SECONDS + 30))
  while [ -n "$(leftovers "$tag" "$dir")" ] || [ -e "$dir" ]; do
    [ $SECONDS -lt $deadline ] || fail "30 s after SIG$sig, left behind: $(leftovers "$tag" "$dir") $dir"
    sleep 0.1
  done
  echo "ok   nothing left behind after SIG$sig of the test"
done
echo "harness_selftest: ok"
