#!/bin/sh
# Backbone forward throughput: vkdp (Vulkan, active device) vs PyTorch CPU on the same machine,
# same batches, same run. The two alternate for ROUNDS rounds and each side's best round counts:
# on a shared machine the load changes within minutes.
# usage: tests/bench/forward.sh [BUILD_DIR [SECONDS [ROUNDS]]]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
seconds=${2:-3}
rounds=${3:-3}
weights=${VKDP_WEIGHTS:-$here/../../../shared/weights/efficientnetb0_notop.h5}
: "${VK_DRIVER_FILES:=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json}"
export VK_DRIVER_FILES
[ -x "$build/bench_forward" ] || { echo "forward.sh: $build/bench_forward not built" >&2; exit 1; }
[ -r "$weights" ] || { echo "forward.sh: weights $weights not readable (set VKDP_WEIGHTS)" >&2; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), load: $(cut -d' ' -f1-3 /proc/loadavg)"
r=1
while [ "$r" -le "$rounds" ]; do
  echo "== round $r"
  if [ "$r" -eq 1 ]; then
    "$build/bench_forward" "$weights" "$seconds" 8 32 | tee -a "$out"
  else
    "$build/bench_forward" "$weights" --no-profile "$seconds" 8 32 | grep '^ours' | tee -a "$out"
  fi
  /usr/bin/python3 "$here/torch_forward.py" "$seconds" 8 32 | tee -a "$out"
  r=$((r + 1))
done
echo "== ours / torch images/s (best of $rounds rounds each):"
for b in 8 32; do
  ours=$(sed -n "s/^ours batch=$b images_per_s=\([0-9.]*\).*/\1/p" "$out" | sort -g | tail -1)
  theirs=$(sed -n "s/^torch batch=$b images_per_s=\([0-9.]*\).*/\1/p" "$out" | sort -g | tail -1)
  awk -v b="$b" -v o="$ours" -v t="$theirs" \
    'BEGIN { printf "batch %s: ours %.2f, torch %.2f, ratio %.2f\n", b, o, t, o / t }'
done
