#!/usr/bin/env bash
# Fine-tuning against its peer, measured in the same run on the same machine (issue 12):
#   vkdp: mpirun -np 4 trainer train --augment --epochs 2 --fine-tune-epochs 2 --fine-tune-from block6a
#   PyTorch (Debian's torch, all cores): tests/bench/torch_finetune.py, the same schedule (same
#     split, weights, frozen BN, augmentation, drop connect in the trainable residual blocks, a new
#     Adam at FT_LR, default 1e-5, for phase 2)
# Prints val_accuracy (target >= 0.93 after fine-tuning) and wall time of both, and the ratio.
# The two jobs run one after the other, in the order given by ORDER ("vkdp torch", the default, or
# "torch vkdp"); run it twice, once each way, on an otherwise idle machine (it prints the CPU model
# and load average first). SUBSET=N uses N images per class (a smoke run; no figure), FROM=LAYER
# another boundary, NP the rank count, KEEP=DIR keeps vkdp's checkpoints, FT_LR phase 2's rate for
# both (default 1e-5, --fine-tune-lr's default; BENCHMARKS.md has the rates tried), DC phase 2's
# --drop-connect-rate for both (default: their default, 0.2), DRAW the --draw-seed of both (default
# 123, both sides' default: the shuffle, dropout, drop connect and augmentation draws; the split
# stays --seed 123's), for the from-scratch draws BENCHMARKS.md reports, KERAS_HEAD=1 the peer's
# --keras-head (Keras' head initialisation and moving variance, as vkdp's; default: torch's, as
# every peer figure before 2026-12-03), VKDP_DRAWS=1 the peer's --vkdp-draws (it replays vkdp's own
# random draws of the draw seed: same initial head, order, augmentation, dropout, drop connect;
# it implies KERAS_HEAD), DC_ALL=1 `--drop-connect all` for both (drop connect in every residual
# block, frozen ones included, in both phases: the Keras example's model; default: the trainable
# blocks only).
# usage: bash tests/bench/finetune.sh [BUILD_DIR] [SHARED_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build}"
shared="$(cd "${2:-$root/../shared}" && pwd)"
np="${NP:-4}" from="${FROM:-block6a}" order="${ORDER:-vkdp torch}" ft_lr="${FT_LR:-1e-5}"
export VK_DRIVER_FILES="${VK_DRIVER_FILES:-/usr/share/vulkan/icd.d/lvp_icd.x86_64.json}"
data="$shared/data/flower_photos" weights="$shared/weights/efficientnetb0_notop.h5"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ -n "${SUBSET:-}" ]; then
  bash "$root/tests/make_subset.sh" "$data" "$work/data" "$SUBSET"
  data="$work/data"
fi
mpi=(mpirun --oversubscribe -np "$np")
[ "$(id -u)" -ne 0 ] || mpi+=(--allow-run-as-root)
schedule=(--epochs 2 --fine-tune-epochs 2 --fine-tune-from "$from" --fine-tune-lr "$ft_lr")
if [ -n "${DC:-}" ]; then schedule+=(--drop-connect-rate "$DC"); fi
if [ -n "${DRAW:-}" ]; then schedule+=(--draw-seed "$DRAW"); fi
if [ "${DC_ALL:-0}" = 1 ]; then schedule+=(--drop-connect all); fi
peer_head=()
if [ "${KERAS_HEAD:-0}" = 1 ]; then peer_head=(--keras-head); fi
if [ "${VKDP_DRAWS:-0}" = 1 ]; then peer_head=(--vkdp-draws); fi
echo "== $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
now() { date +%s.%N; }
run_vkdp() {
  echo "== vkdp: ${mpi[*]} trainer train --augment ${schedule[*]} --data $data"
  local t0; t0=$(now)
  "${mpi[@]}" "$build/trainer" train --data "$data" --weights "$weights" --out "${KEEP:-$work/ck}" --augment \
    "${schedule[@]}" --log-interval 60 | tee "$work/vkdp.log"
  awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }' >"$work/vkdp.s"
}
run_torch() {
  echo "== PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'): tests/bench/torch_finetune.py"
  local t0; t0=$(now)
  /usr/bin/python3 "$root/tests/bench/torch_finetune.py" "$data" "$weights" "${schedule[@]}" "${peer_head[@]}" \
    | tee "$work/torch.log"
  awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }' >"$work/torch.s"
}
for side in $order; do "run_$side"; done
/usr/bin/python3 - "$work" "$np" "$from" "${DRAW:-123}" "${peer_head[*]}" <<'PY'
import re, sys
w, np_, frm, draw, peer = sys.argv[1:6]
va = re.findall(r"val_accuracy: ([0-9.]+)", open(f"{w}/vkdp.log").read())
tv = re.search(r"RESULT val_accuracy=([0-9.]+)", open(f"{w}/torch.log").read())
a, b = float(open(f"{w}/vkdp.s").read()), float(open(f"{w}/torch.s").read())
print(f"\n{'job (2 head epochs + 2 from ' + frm + ', --augment, draw ' + draw + ')':<60} {'val_accuracy':>12} {'wall s':>9}")
print(f"{'vkdp mpirun -np ' + np_ + ' (lavapipe)':<60} {va[-1]:>12} {a:>9.1f}")
print(f"{'PyTorch CPU' + (' ' + peer if peer else ''):<60} {tv.group(1):>12} {b:>9.1f}")
print(f"ratio vkdp / PyTorch: {a / b:.2f}; val_accuracy target >= 0.93")
PY
