#!/usr/bin/env bash
# Backbone calls in flight or not: `trainer features` at -np 1 on 200 flower photos (40 per
# class), VKDP_TUNE=async_depth=1 (submit and wait) and =2 (the host packs the next call while
# one runs), alternating, ROUNDS rounds each; wall time of the whole process and the trainer's
# images/s line. Extra arguments go to `trainer features` (e.g. --decode-threads 1 --profile).
# Prints the CPU model and load average first: on a shared machine the rounds are indicative.
# usage: bash tests/bench/features_async.sh [BUILD_DIR] [SHARED_DIR] [ROUNDS] [FEATURES ARGS...]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build}"
shared="$(cd "${2:-$root/../shared}" && pwd)"
rounds="${3:-3}"
shift $(($# < 3 ? $# : 3))
export VK_DRIVER_FILES="${VK_DRIVER_FILES:-/usr/share/vulkan/icd.d/lvp_icd.x86_64.json}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
bash "$root/tests/make_subset.sh" "$shared/data/flower_photos" "$work/data" 40
echo "== $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
  for d in 1 2; do
    s=$(date +%s.%N)
    VKDP_TUNE=async_depth=$d "$build/trainer" features --data "$work/data" \
      --weights "$shared/weights/efficientnetb0_notop.h5" --out "$work/d$d.h5" "$@" >"$work/d$d.log" 2>&1 ||
      { cat "$work/d$d.log"; exit 1; }
    e=$(date +%s.%N)
    printf 'round %s async_depth %s: %.2f s | %s | %s\n' "$r" "$d" "$(echo "$e - $s" | bc)" \
      "$(grep -oE '[0-9.]+ images/s' "$work/d$d.log")" "$(grep -E '^total ' "$work/d$d.log" | tr -s ' ' || true)"
  done
done
