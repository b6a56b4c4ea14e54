#!/usr/bin/env bash
# Ranks compare their data index before step 1 (issue #13 item 8): two ranks each given a
# node-local copy of the data that differs only in one file's size (same names, labels and split)
# end at once with one line naming the ranks and hosts that differ, not with a misleading MPI
# error mid-step; identical copies train.
source "$(dirname "$0")/train_common.sh"
rm -rf "$WORK/d0" "$WORK/d1" "$WORK/ck"
subset 3 "$WORK/d0"
cp -a "$WORK/d0" "$WORK/d1"
# rank 1's copy: roses' first file is another photo under the same name
f="$(ls "$WORK/d1/roses" | head -1)"
other="$(find "$FLOWERS/roses" -maxdepth 1 -name '*.jpg' | LC_ALL=C sort | sed -n 10p)"
cmp -s "$other" "$WORK/d0/roses/$f" && fail "the replacement photo is the original"
ln -sf "$other" "$WORK/d1/roses/$f"
cat >"$WORK/per_rank.sh" <<'SH'
#!/usr/bin/env bash
# Each rank trains on its own copy: d$RANK (d0 for every rank when SAME=1).
r="${OMPI_COMM_WORLD_RANK:?not under Open MPI}"
[ "${SAME:-0}" = 1 ] && r=0
exec "$TRAINER" train --data "$WORK/d$r" "$@"
SH
args=(--weights "$WEIGHTS" --out "$WORK/ck" --epochs 1 --batch 4 --image-size 32)
start=$(date +%s)
rc=0
"${MPIRUN[@]}" -np 2 -x TRAINER -x WORK bash "$WORK/per_rank.sh" "${args[@]}" >"$WORK/diff.log" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || { cat "$WORK/diff.log"; fail "ranks with different data copies exited 0"; }
expect_grep 'rank 0: error: ranks disagree on the data index \(files, sizes, labels and split of --data\): rank 1 \(host [^)]+\) has [0-9a-f]{16}\.\.\., unlike rank 0 \(host [^)]+\) with [0-9a-f]{16}\.\.\. \(1 of 2 ranks differ\); every rank must see an identical data folder' "$WORK/diff.log"
grep -q "Epoch 1/1" "$WORK/diff.log" && { cat "$WORK/diff.log"; fail "a step ran before the data check"; }
[ ! -e "$WORK/ck/latest.h5" ] || fail "a checkpoint was written"
echo "different copies: exit $rc after $(($(date +%s) - start)) s"
SAME=1 "${MPIRUN[@]}" -np 2 -x TRAINER -x WORK -x SAME bash "$WORK/per_rank.sh" "${args[@]}" >"$WORK/same.log" 2>&1 \
  || { cat "$WORK/same.log"; fail "identical copies did not train"; }
expect_grep '^Epoch 1/1' "$WORK/same.log"
echo "ok: ranks with differing data copies stop before step 1 naming them; identical copies train"
