#!/usr/bin/env bash
# One job per --out (issue #13 item 4): while a job runs, a second job given the same --out exits
# non-zero at once, naming the first (host and pid from the lock file) and touching nothing; the
# lock left by a job killed with SIGKILL is stale and the next job takes it over with a warning;
# a job that ends cleanly releases it (an empty lock file).
source "$(dirname "$0")/train_common.sh"
data="$WORK/data" out="$WORK/ck" lock="$WORK/ck/.vkdp-lock"
rm -rf "$data" "$out"
subset 3 "$data"
args=(--data "$data" --weights "$WEIGHTS" --out "$out" --batch 4 --image-size 32)
VKDP_TEST_HOLD_AFTER_EPOCH=1 "${MPIRUN[@]}" -np 1 -x VKDP_TEST_HOLD_AFTER_EPOCH "$TRAINER" train "${args[@]}" \
  --epochs 2 >"$WORK/a.log" 2>&1 &
a_mpirun=$!
cleanup() { kill -9 "$a_mpirun" 2>/dev/null || true; [ -z "${a_pid:-}" ] || kill -9 "$a_pid" 2>/dev/null || true; }
trap cleanup EXIT
# Job A holds the flock from before it indexes the data, but it writes into $out until its epoch-1
# checkpoint is done; B's "touches nothing" check compares listings, so it starts only once A has
# reached the test hold (after that checkpoint) and $out stays still.
for _ in $(seq 6000); do
  grep -q 'VKDP_TEST_HOLD_AFTER_EPOCH: holding after epoch 1' "$WORK/a.log" && break
  kill -0 "$a_mpirun" 2>/dev/null || { cat "$WORK/a.log"; fail "job A ended before reaching its hold"; }
  sleep 0.1
done
grep -q 'VKDP_TEST_HOLD_AFTER_EPOCH: holding after epoch 1' "$WORK/a.log" \
  || { cat "$WORK/a.log"; fail "job A did not reach its hold after epoch 1 in 600 s"; }
read -r _ host _ a_pid _ <"$lock" || fail "no holder line in $lock"
[ "$host" = "$(hostname)" ] || fail "lock file names host '$host', not $(hostname)"
[ "$(ps -o comm= -p "$a_pid")" = trainer ] || fail "lock file names pid $a_pid, which is not job A's trainer"
# $out itself and everything in it, to the nanosecond; not `ls -la`, whose ".." line is $WORK and
# changes (at minute resolution) when b.log is created there
listing() { find "$out" -printf '%P %y %s %i %m %T@\n' | sort; }
before="$(listing)"
start=$(date +%s%N)
rc=0
"${MPIRUN[@]}" -np 1 "$TRAINER" train "${args[@]}" --epochs 1 --keep 1 >"$WORK/b.log" 2>&1 || rc=$?
took_ms=$((($(date +%s%N) - start) / 1000000))
[ "$rc" -ne 0 ] || { cat "$WORK/b.log"; fail "job B with the same --out exited 0"; }
expect_grep "error: --out $out is in use by another job \(host $host pid $a_pid since [0-9T:-]+Z; lock file $lock\): give each job its own --out" "$WORK/b.log"
[ "$took_ms" -lt 30000 ] || fail "job B took $took_ms ms to give up"
grep -q "Found .* files" "$WORK/b.log" && fail "job B indexed the data before checking the lock"
after="$(listing)"
[ "$after" = "$before" ] || { diff <(echo "$before") <(echo "$after"); fail "job B changed $out"; }
kill -0 "$a_mpirun" 2>/dev/null || fail "job A did not survive job B"
echo "job B refused in $took_ms ms: $(grep -o 'in use by.*' "$WORK/b.log")"
# a node failure: job A killed, its lock file still names it
kill -9 "$a_pid"
wait "$a_mpirun" 2>/dev/null || true
released "$out"
grep -q "pid $a_pid " "$lock" || fail "the killed job's lock file does not name it"
"${MPIRUN[@]}" -np 1 "$TRAINER" train "${args[@]}" --epochs 1 >"$WORK/c.log" 2>&1 \
  || { cat "$WORK/c.log"; fail "job C could not take over the stale lock"; }
expect_grep "warning: --out $out: taking over the stale lock of a job that ended without releasing it \(host $host pid $a_pid since " "$WORK/c.log"
expect_grep '^Epoch 1/1' "$WORK/c.log"
[ -e "$lock" ] && [ ! -s "$lock" ] || fail "job C did not release the lock (an empty lock file) at its end"
echo "ok: a second job on the same --out stops at once naming the first; a stale lock is taken over with a warning"
