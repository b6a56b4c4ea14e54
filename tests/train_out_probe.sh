#!/usr/bin/env bash
# --out is created and probed before any compute (issue #13 item 6): a file given as --out, a
# read-only folder and a nearly full filesystem each end the job at once with one line naming
# --out and the cause, before the data is even indexed. The read-only folder and the full
# filesystem are small tmpfs mounts in a private mount namespace (unshare -m, as root); where
# that is impossible those two cases are skipped (exit 77) after the others passed.
source "$(dirname "$0")/train_common.sh"
data="$WORK/data"
rm -rf "$data" "$WORK/afile" "$WORK/mnt"
subset 2 "$data"
args=(--data "$data" --weights "$WEIGHTS" --epochs 1 --batch 4 --image-size 32)
# refused CASE PATTERN CMD...: CMD exits non-zero with PATTERN, before any training step
refused() {
  local name="$1" pattern="$2" rc=0
  shift 2
  "$@" >"$WORK/$name.log" 2>&1 || rc=$?
  [ "$rc" -ne 0 ] || { cat "$WORK/$name.log"; fail "$name: exit 0"; }
  expect_grep "$pattern" "$WORK/$name.log"
  grep -q "^Epoch 1/1" "$WORK/$name.log" && { cat "$WORK/$name.log"; fail "$name: a step ran first"; }
  echo "$name: $(grep -o 'error: .*' "$WORK/$name.log" | head -1)"
}
echo "not a folder" >"$WORK/afile"
refused file_as_out "error: --out $WORK/afile: not a directory" \
  "${MPIRUN[@]}" -np 1 "$TRAINER" train "${args[@]}" --out "$WORK/afile"
grep -q "Found .* files" "$WORK/file_as_out.log" && fail "file_as_out: the data was indexed before --out was checked"

mnt="$WORK/mnt"
mkdir -p "$mnt"
if ! unshare -m true 2>/dev/null || ! unshare -m mount -t tmpfs -o size=64k tmpfs "$mnt" 2>/dev/null; then
  echo "SKIP: no private mount namespace with a tmpfs here (needs root): read-only and full --out not tested"
  exit 77
fi
export TRAINER WEIGHTS data mnt
refused read_only "error: --out $mnt/ro is not writable: cannot create its lock file $mnt/ro/.vkdp-lock: Read-only file system" \
  unshare -m bash -c 'mount -t tmpfs -o size=1m tmpfs "$mnt" && mkdir "$mnt/ro" && mount -o remount,ro "$mnt" &&
    exec "$0" "$@"' "${MPIRUN[@]}" -np 1 "$TRAINER" train "${args[@]}" --out "$mnt/ro"
refused full "error: --out $mnt/full has 0\.[0-9]+ MB free, less than two checkpoints of this run \(about 0\.[0-9]+ MB each" \
  unshare -m bash -c 'mount -t tmpfs -o size=64k tmpfs "$mnt" && exec "$0" "$@"' \
    "${MPIRUN[@]}" -np 1 "$TRAINER" train "${args[@]}" --out "$mnt/full"
[ -z "$(ls -A "$mnt")" ] || fail "the tmpfs mounts leaked out of their namespaces"
echo "ok: a file, a read-only folder and a full filesystem as --out are refused before any step"
