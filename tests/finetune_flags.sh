#!/usr/bin/env bash
# The fine-tuning flags of `trainer train`: limits, conflicts and the block-boundary rule give one
# clear line and exit 2 before any work (no data or weights are read: the paths below do not
# exist); the limits' own bounds and valid plans pass with a trailing --help.
set -uo pipefail
: "${TRAINER:?TRAINER must name the trainer binary}"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
none=(--data /nonexistent/data --weights /nonexistent/w.h5)

# bad EXPECTED-SUBSTRING ARGS...
bad() {
  local want="$1" out rc
  shift
  out="$("$TRAINER" train "${none[@]}" "$@" 2>&1 >/dev/null)"
  rc=$?
  [ "$rc" -eq 2 ] || fail "trainer train $*: exit $rc, expected 2 ($out)"
  [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "trainer train $*: more than one line: $out"
  case "$out" in *"$want"*) echo "ok: $*: $out" ;; *) fail "trainer train $*: said '$out', expected '$want'" ;; esac
}
good() {
  "$TRAINER" train "${none[@]}" "$@" --help >/dev/null 2>&1 || fail "trainer train $* --help: exit $?, expected 0"
}

bad "--fine-tune-epochs '-1' is not an integer in 0..100000" --fine-tune-epochs -1
bad "--fine-tune-epochs '100001' is not an integer in 0..100000" --fine-tune-epochs 100001
bad "--fine-tune-lr '11' is not" --fine-tune-lr 11
bad "--fine-tune-lr 'x' is not" --fine-tune-lr x
bad "--trainable-top '0' is not an integer in 1..100000" --trainable-top 0
good --fine-tune-epochs 0 --fine-tune-epochs 100000 --fine-tune-lr 0 --fine-tune-lr 10 --trainable-top 1
bad "--fine-tune-from has no effect without --fine-tune-epochs" --fine-tune-from block6a
bad "--trainable-top has no effect without --fine-tune-epochs" --trainable-top 20
bad "--fine-tune-lr has no effect without --fine-tune-epochs" --fine-tune-lr 1e-4
bad "--bucket-mb has no effect without --fine-tune-epochs" --bucket-mb 5
bad "--drop-connect-rate has no effect without --fine-tune-epochs" --drop-connect-rate 0
bad "--drop-connect-rate '1' is not a number in [0, 0.99]" --fine-tune-epochs 1 --fine-tune-from top_conv --drop-connect-rate 1
bad "--drop-connect-rate '-0.1' is not a number" --fine-tune-epochs 1 --fine-tune-from top_conv --drop-connect-rate -0.1
good --fine-tune-epochs 1 --fine-tune-from top_conv --drop-connect-rate 0 --drop-connect-rate 0.99
bad "--drop-connect: expected all or trainable, got 'some'" --drop-connect some
bad "--drop-connect all with --drop-connect-rate 0 drops nothing" --drop-connect all --drop-connect-rate 0
good --drop-connect trainable --drop-connect all
bad "--bucket-mb '0' is not a number in [0.001, 2048]" --fine-tune-epochs 1 --fine-tune-from top_conv --bucket-mb 0
bad "--bucket-mb '2049' is not a number" --fine-tune-epochs 1 --fine-tune-from top_conv --bucket-mb 2049
good --fine-tune-epochs 1 --fine-tune-from top_conv --bucket-mb 0.001 --bucket-mb 2048
bad "needs the layers to train: --fine-tune-from LAYER" --fine-tune-epochs 2
bad "--fine-tune-from and --trainable-top both choose" --fine-tune-epochs 1 --fine-tune-from block6a --trainable-top 79
bad "'block9a' is not a layer of EfficientNetB0; valid: block1a, block2a" --fine-tune-epochs 1 --fine-tune-from block9a
bad "--fine-tune-from stem_conv: the stem cannot be trained" --fine-tune-epochs 1 --fine-tune-from stem_conv
bad "block6b_se_reduce is inside block6b: fine-tuning starts at a block boundary, block6b or block6c" \
  --fine-tune-epochs 1 --fine-tune-from block6b_se_reduce
bad "--trainable-top 21 cuts block6d in the middle" --fine-tune-epochs 1 --trainable-top 21
bad "the nearest block boundaries are --trainable-top 35 (from block6d) and --trainable-top 20 (from block7a)" \
  --fine-tune-epochs 1 --trainable-top 21
bad "at least 7 (top_conv)" --fine-tune-epochs 1 --trainable-top 4
# a valid plan passes the flag checks, and the run stops at the missing data folder instead (exit 1)
for plan in "--fine-tune-from top_conv --image-size 64 --fine-tune-lr 1e-4" "--trainable-top 20" "--fine-tune-from block6a"; do
  # shellcheck disable=SC2086
  out="$("$TRAINER" train "${none[@]}" --fine-tune-epochs 1 $plan 2>&1)"
  rc=$?
  [ "$rc" -eq 1 ] || fail "$plan: exit $rc, expected 1 ($out)"
  case "$out" in *"data folder /nonexistent/data"*) echo "ok: $plan passes the flag checks" ;; *) fail "$plan: said '$out'" ;; esac
done
# --drop-connect all acts in head-only training too, so there --drop-connect-rate is no error
out="$("$TRAINER" train "${none[@]}" --drop-connect all --drop-connect-rate 0.3 2>&1)"
rc=$?
[ "$rc" -eq 1 ] || fail "--drop-connect all --drop-connect-rate 0.3: exit $rc, expected 1 ($out)"
case "$out" in *"data folder /nonexistent/data"*) echo "ok: --drop-connect all sets the rate without fine-tuning" ;; *) fail "--drop-connect all: said '$out'" ;; esac
[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "ok: fine-tuning flags"
