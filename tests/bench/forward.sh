#!/bin/sh
# Backbone forward throughput: vkdp (Vulkan, active device) vs PyTorch CPU on the same machine,
# same batches, same run. usage: tests/bench/forward.sh [BUILD_DIR [SECONDS]]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
seconds=${2:-5}
weights=${VKDP_WEIGHTS:-$here/../../../shared/weights/efficientnetb0_notop.h5}
: "${VK_DRIVER_FILES:=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json}"
export VK_DRIVER_FILES
[ -x "$build/bench_forward" ] || { echo "forward.sh: $build/bench_forward not built" >&2; exit 1; }
[ -r "$weights" ] || { echo "forward.sh: weights $weights not readable (set VKDP_WEIGHTS)" >&2; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
"$build/bench_forward" "$weights" "$seconds" 8 32 | tee -a "$out"
/usr/bin/python3 "$here/torch_forward.py" "$seconds" 8 32 | tee -a "$out"
echo "== ours / torch images/s:"
for b in 8 32; do
  ours=$(sed -n "s/^ours batch=$b images_per_s=\([0-9.]*\).*/\1/p" "$out")
  theirs=$(sed -n "s/^torch batch=$b images_per_s=\([0-9.]*\).*/\1/p" "$out")
  awk -v b="$b" -v o="$ours" -v t="$theirs" \
    'BEGIN { printf "batch %s: ours %.2f, torch %.2f, ratio %.2f\n", b, o, t, o / t }'
done
