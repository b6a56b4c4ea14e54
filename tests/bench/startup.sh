#!/usr/bin/env bash
# Start-up cost of the whole job on a tiny dataset, against its peer in the same run:
#   vkdp: mpirun -np 4 trainer train, 60 images (12 per class), 1 epoch (two steps + validation)
#   PyTorch (Debian's torch): tests/bench/torch_train.py on the same 60 images, 1 epoch
# Each round runs both, one after the other (alternating which goes first); the wall time covers
# the whole process (MPI launch, Vulkan/lavapipe start, shader compilation, weight load, or
# Python and torch import). Issue 11's target: the vkdp job <= 8 s on an idle 2-core machine.
# Run it on an otherwise idle machine; it prints the CPU model and load average first.
# usage: bash tests/bench/startup.sh [BUILD_DIR] [SHARED_DIR] [ROUNDS]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build}"
shared="$(cd "${2:-$root/../shared}" && pwd)"
rounds="${3:-3}"
export VK_DRIVER_FILES="${VK_DRIVER_FILES:-/usr/share/vulkan/icd.d/lvp_icd.x86_64.json}"
weights="$shared/weights/efficientnetb0_notop.h5"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
bash "$root/tests/make_subset.sh" "$shared/data/flower_photos" "$work/data" 12
mpi=(mpirun --oversubscribe -np 4)
[ "$(id -u)" -ne 0 ] || mpi+=(--allow-run-as-root)
echo "== $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
run_vkdp() {
  rm -rf "$work/ck"
  "${mpi[@]}" "$build/trainer" train --data "$work/data" --weights "$weights" --out "$work/ck" --epochs 1 \
    >"$work/vkdp.log" 2>&1 || { cat "$work/vkdp.log"; exit 1; }
}
run_torch() {
  /usr/bin/python3 "$root/tests/bench/torch_train.py" "$work/data" "$weights" --epochs 1 >"$work/torch.log" 2>&1 \
    || { cat "$work/torch.log"; exit 1; }
}
now() { date +%s.%N; }
vk=() th=()
for r in $(seq "$rounds"); do
  for side in $([ $((r % 2)) -eq 1 ] && echo "vkdp torch" || echo "torch vkdp"); do
    t0=$(now); "run_$side"; t1=$(now)
    s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    if [ "$side" = vkdp ]; then vk+=("$s"); else th+=("$s"); fi
    printf 'round %d %-5s %6.2f s\n' "$r" "$side" "$s"
  done
done
grep -h "val_accuracy" "$work/vkdp.log" | tail -1
/usr/bin/python3 - "${vk[*]}" "${th[*]}" <<'PY'
import statistics, sys
vk = [float(x) for x in sys.argv[1].split()]
th = [float(x) for x in sys.argv[2].split()]
mv, mt = statistics.median(vk), statistics.median(th)
print(f"median vkdp {mv:.2f} s, PyTorch {mt:.2f} s, ratio vkdp / PyTorch {mv / mt:.2f} (vkdp target <= 8 s)")
PY
