#!/usr/bin/env bash
# The main job against its peer, measured in the same run on the same machine:
#   vkdp: mpirun -np 4 trainer train (full flower_photos, 2 epochs, the Keras tutorial's settings)
#   PyTorch (Debian's torch, all cores): the same job, tests/bench/torch_train.py (the tutorial's
#     way: the backbone on every image in every epoch)
#   PyTorch with a feature cache: torch_train.py --feature-cache (backbone once, head epochs on
#     cached features: what vkdp does)
# Prints val_accuracy and wall time of all three and the ratios vkdp / PyTorch (targets <= 0.5
# against the tutorial's way, <= 1.0 against the feature-caching one).
# Run it on an otherwise idle machine; it prints the CPU model and load average first.
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

echo "== $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== vkdp: ${mpi[*]} trainer train --data $data (2 epochs)"
t0=$(date +%s.%N)
ck="${KEEP:-$work/ck}"
"${mpi[@]}" "$build/trainer" train --data "$data" --weights "$weights" --out "$ck" --log-interval 30 | tee "$work/vkdp.log"
t1=$(date +%s.%N)
echo "== PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'): tests/bench/torch_train.py"
/usr/bin/python3 "$root/tests/bench/torch_train.py" "$data" "$weights" | tee "$work/torch.log"
t2=$(date +%s.%N)
echo "== PyTorch with a feature cache: tests/bench/torch_train.py --feature-cache"
/usr/bin/python3 "$root/tests/bench/torch_train.py" "$data" "$weights" --feature-cache | tee "$work/torch_fc.log"
t3=$(date +%s.%N)
/usr/bin/python3 - "$work/vkdp.log" "$work/torch.log" "$work/torch_fc.log" "$t0" "$t1" "$t2" "$t3" "$np" <<'PY'
import re, sys
vk, th, fc = sys.argv[1:4]
t0, t1, t2, t3 = map(float, sys.argv[4:8])
np_ = sys.argv[8]
va = re.findall(r"val_accuracy: ([0-9.]+)", open(vk).read())
tv = re.search(r"RESULT val_accuracy=([0-9.]+)", open(th).read())
tf = re.search(r"RESULT val_accuracy=([0-9.]+)", open(fc).read())
a, b, c = t1 - t0, t2 - t1, t3 - t2
print(f"\n{'job':<40} {'val_accuracy':>12} {'wall s':>9}")
print(f"{'vkdp mpirun -np ' + np_ + ' (lavapipe)':<40} {va[-1]:>12} {a:>9.1f}")
print(f"{'PyTorch CPU, the tutorial way':<40} {tv.group(1):>12} {b:>9.1f}")
print(f"{'PyTorch CPU, feature cache':<40} {tf.group(1):>12} {c:>9.1f}")
print(f"ratio vkdp / PyTorch (tutorial way): {a / b:.2f} (target <= 0.5)")
print(f"ratio vkdp / PyTorch (feature cache): {a / c:.2f} (target <= 1.0)")
PY
