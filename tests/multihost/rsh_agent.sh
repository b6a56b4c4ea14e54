#!/bin/sh
# Open MPI's plm_rsh_agent for the namespace hosts of tests/multihost/netns_hosts.sh, in place of
# ssh: called as `rsh_agent.sh HOST COMMAND...`, it runs COMMAND with sh on HOST, i.e. in the
# network namespace named HOST with a UTS namespace of its own whose host name is HOST. It only
# enters the hosts of the current run (MH_HOSTS, exported by mh_up), never another namespace.
# The agent process becomes the remote session (exec): when the host is killed, it dies with
# it, as an ssh connection to a dead host ends, and mpirun sees its daemon fail.
host=${1:-}
[ $# -ge 2 ] || { echo "rsh_agent: usage: rsh_agent.sh HOST COMMAND..." >&2; exit 255; }
shift
case " ${MH_HOSTS:-} " in
  *" $host "*) ;;
  *) echo "rsh_agent: '$host' is not one of this run's hosts (MH_HOSTS='${MH_HOSTS:-}')" >&2; exit 255 ;;
esac
[ -e "/run/netns/$host" ] || { echo "rsh_agent: host $host has no namespace (gone?)" >&2; exit 255; }
# ssh hands the remote shell its arguments joined by spaces: so do we.
exec ip netns exec "$host" unshare --uts -- sh -c 'hostname "$0" && exec sh -c "$1"' "$host" "$*"
