#!/usr/bin/env bash
# The main job against its peer, measured in the same run on the same machine:
#   vkdp: mpirun -np 4 trainer train (full flower_photos, 2 epochs, the Keras tutorial's settings)
#   PyTorch (Debian's torch, all cores): the same job, tests/bench/torch_train.py
# Prints val_accuracy and wall time of both and the ratio vkdp / PyTorch (target <= 0.5).
# usage: bash tests/bench/train.sh [BUILD_DIR] [SHARED_DIR]
# KEEP=DIR keeps vkdp's checkpoints in DIR (e.g. for launch/plot_metrics.py).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build}"
shared="${2:-$root/../shared}"
np="${NP:-4}"
export VK_DRIVER_FILES="${VK_DRIVER_FILES:-/usr/share/vulkan/icd.d/lvp_icd.x86_64.json}"
data="$shared/data/flower_photos" weights="$shared/weights/efficientnetb0_notop.h5"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mpi=(mpirun --oversubscribe -np "$np")
[ "$(id -u)" -ne 0 ] || mpi+=(--allow-run-as-root)

echo "== vkdp: ${mpi[*]} trainer train --data $data (2 epochs)"
t0=$(date +%s.%N)
ck="${KEEP:-$work/ck}"
"${mpi[@]}" "$build/trainer" train --data "$data" --weights "$weights" --out "$ck" --log-interval 30 | tee "$work/vkdp.log"
t1=$(date +%s.%N)
echo "== PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'): tests/bench/torch_train.py"
/usr/bin/python3 "$root/tests/bench/torch_train.py" "$data" "$weights" | tee "$work/torch.log"
t2=$(date +%s.%N)
/usr/bin/python3 - "$work/vkdp.log" "$work/torch.log" "$t0" "$t1" "$t2" "$np" <<'PY'
import re, sys
vk, th, t0, t1, t2, np_ = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:6]), sys.argv[6]
va = re.findall(r"val_accuracy: ([0-9.]+)", open(vk).read())
tv = re.search(r"RESULT val_accuracy=([0-9.]+)", open(th).read())
a, b = t1 - t0, t2 - t1
print(f"\n{'job':<34} {'val_accuracy':>12} {'wall s':>9}")
print(f"{'vkdp mpirun -np ' + np_ + ' (lavapipe)':<34} {va[-1]:>12} {a:>9.1f}")
print(f"{'PyTorch CPU (same machine)':<34} {tv.group(1):>12} {b:>9.1f}")
print(f"ratio vkdp / PyTorch wall time: {a / b:.2f} (target <= 0.5)")
PY
