#!/usr/bin/env bash
# Every shared flag's limit, for every subcommand that takes it: a value just outside the limit
# gives the table's one clear line "trainer CMD: --FLAG 'V' is not ..." and exit status 2 before
# any work; the limit's own bounds are accepted (checked with a trailing --help, which then exits
# 0 without running anything). What is no number at all is checked once per kind of flag.
set -uo pipefail
: "${TRAINER:?TRAINER must name the trainer binary}"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# bad CMD FLAG VALUE EXPECTED-MESSAGE
bad() {
  local out rc
  out="$("$TRAINER" "$1" "$2" "$3" 2>&1 >/dev/null)"
  rc=$?
  [ "$rc" -eq 2 ] || fail "trainer $1 $2 '$3': exit $rc, expected 2"
  [ "$out" = "$4" ] || fail "trainer $1 $2 '$3': said '$out', expected '$4'"
}
# good CMD FLAG VALUE...: every value accepted (then --help exits 0)
good() {
  local cmd="$1" flag="$2" rc args=()
  shift 2
  for v in "$@"; do args+=("$flag" "$v"); done
  "$TRAINER" "$cmd" "${args[@]}" --help >/dev/null 2>&1
  rc=$?
  [ "$rc" -eq 0 ] || fail "trainer $cmd ${args[*]} --help: exit $rc, expected 0"
}
# int CMD FLAG LO HI
int() {
  local msg="is not an integer in $3..$4"
  [ "$1" != train ] || bad "$1" "$2" x "trainer $1: $2 'x' $msg"
  bad "$1" "$2" "$(($3 - 1))" "trainer $1: $2 '$(($3 - 1))' $msg"
  bad "$1" "$2" "$(($4 + 1))" "trainer $1: $2 '$(($4 + 1))' $msg"
  good "$1" "$2" "$3" "$4"
}

for cmd in train evaluate features; do
  int $cmd --batch 1 4096
  int $cmd --decode-threads 1 256
done
for cmd in train evaluate predict features; do
  # one index for every rank, or one per local rank (vkdp/vk/devsel.h)
  msg="is not a device index or a comma-separated list of them"
  bad $cmd --device -1 "trainer $cmd: --device: '-1' $msg"
  bad $cmd --device 0,x "trainer $cmd: --device: '0,x' $msg"
  bad $cmd --device 64 "trainer $cmd: --device: '64': indices must be below 64, at most 64 of them"
  good $cmd --device 0 63 0,1,2,3
done
for cmd in train features; do
  int $cmd --image-size 32 4096
done
for cmd in train evaluate predict features dataset; do
  int $cmd --max-pixels 1 268435456
  # the help captured first: `trainer --help | grep -q` under pipefail fails at random once the
  # text outgrows one pipe write (grep exits at the match, the trainer's next write gets SIGPIPE)
  help=$("$TRAINER" $cmd --help) || fail "trainer $cmd --help: exit $?"
  grep -q -- '--max-pixels N .*(default 50000000)' <<<"$help" ||
    fail "trainer $cmd --help does not document --max-pixels and its default"
done
for cmd in train dataset; do
  int $cmd --seed 0 4294967295
  msg="is not a number in [0, 1)"
  bad $cmd --validation-split 1 "trainer $cmd: --validation-split '1' $msg"
  bad $cmd --validation-split -0.01 "trainer $cmd: --validation-split '-0.01' $msg"
  good $cmd --validation-split 0 0.999
done
bad train --validation-split 0.2x "trainer train: --validation-split '0.2x' is not a number in [0, 1)"
for cmd in train features dataset; do
  bad $cmd --class-names , "trainer $cmd: --class-names ',' names no class"
  good $cmd --class-names daisy,roses
done
# a flag a subcommand does not take is refused, not silently ignored
"$TRAINER" predict --seed 1 --checkpoint x y >/dev/null 2>&1
[ $? -eq 2 ] || fail "trainer predict --seed: expected exit 2"

[ "$failures" -eq 0 ] || { echo "cli_bad_flag: $failures failure(s)"; exit 1; }
echo "cli_bad_flag: ok"
