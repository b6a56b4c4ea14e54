#!/usr/bin/env bash
# The one-shot GPU check (issue 10): at most 5 minutes on a lent GPU machine, ONE report file.
# Prepare here with `bash tests/gpu/prepare.sh` (builds, fetches the runtime .debs, copies the
# weights and a flower subset into .gpu), then on the GPU machine, from the repository root:
#
#   device tool: run  command "bash tests/gpu/check.sh"  carry [".gpu"]  timeout_s 420
#
# Steps, each timed, none stopping the others: the machine (nvidia-smi), `trainer devices`, the op
# tests under synchronization validation, bench_gemm (shared-memory and register-blocked GEMMs),
# bench_decode on the subset, bench_forward at
# batch 32 and 256 (fp32; mixed precision where the build has it), and the flowers job on the
# subset with one rank and with one rank per GPU (2 epochs, --profile). The report, $OUT/
# gpu-check.txt (OUT as the device tool sets it, else ./gpu-check-out), ends with a summary:
# images/s, backbone vs decode time per image, what failed.
#
#   --small   lavapipe-sized run (tiny batches, 3 photos per class at 96x96, VKDP_FORCE_STAGING
#             so the GPU's staged memory path runs): how check.sh itself is tested here
#   --dir D   the prepared folder (default .gpu)
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dir=.gpu
small=0
while [ $# -gt 0 ]; do
  case "$1" in
    --small) small=1; shift ;;
    --dir) dir="$2"; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "check.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
cd "$root" || exit 1
[ -x "$dir/bin/trainer" ] || { echo "check.sh: $dir/bin/trainer missing: run tests/gpu/prepare.sh first" >&2; exit 1; }
OUT="${OUT:-$root/gpu-check-out}"
mkdir -p "$OUT"
report="$OUT/gpu-check.txt"
: >"$report"
work="$(mktemp -d /tmp/vkdp-gpu.XXXXXX)"
t0=$(date +%s)
budget=285   # seconds for all steps (unpacking included): the check must end within 5 minutes
[ "$small" = 1 ] && budget=1500   # lavapipe on 2 cores: the same steps take minutes
failed=()

say() { echo "$*" | tee -a "$report"; }
elapsed() { echo $(( $(date +%s) - t0 )); }

# ---- runtime: the carried .debs, unpacked into a private prefix (never into /)
rt="$work/rt"
mkdir -p "$rt"
for d in "$dir"/debs/*.deb; do dpkg -x "$d" "$rt" || { echo "check.sh: dpkg -x $d failed" >&2; exit 1; }; done
# what dpkg's maintainer scripts would have done: libpsm-infinipath1's update-alternatives link
for f in "$rt"/usr/lib/libpsm1/libpsm_infinipath.so.1.*; do
  [ -f "$f" ] && ln -sf "../libpsm1/$(basename "$f")" "$rt/usr/lib/x86_64-linux-gnu/libpsm_infinipath.so.1"
done
libdirs="$(find "$rt" -name '*.so*' \( -type f -o -type l \) -printf '%h\n' | sort -u | tr '\n' ':')"
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do [ -d "$d" ] && libdirs="$libdirs$d:"; done
if [ -z "${VK_DRIVER_FILES:-}" ]; then
  if [ "$small" = 1 ] && [ -f /usr/share/vulkan/icd.d/lvp_icd.x86_64.json ]; then
    export VK_DRIVER_FILES=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json
  elif [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  fi
fi
# Only our programs see the carried libraries; Open MPI and PMIx are told where they now live.
RUN=(env "LD_LIBRARY_PATH=${libdirs}${LD_LIBRARY_PATH:-}" "PATH=$rt/usr/bin:$PATH" "OPAL_PREFIX=$rt/usr"
     "PMIX_INSTALL_PREFIX=$rt/usr/lib/x86_64-linux-gnu/pmix2"
     "PMIX_MCA_mca_base_component_path=$rt/usr/lib/x86_64-linux-gnu/pmix2/lib/pmix"
     "VK_LAYER_PATH=$rt/usr/share/vulkan/explicit_layer.d"
     OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1)
[ "$small" = 1 ] && RUN+=(VKDP_FORCE_STAGING=1)
SYNC=(VKDP_VALIDATION=1
      VK_LAYER_ENABLES=VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT:VALIDATION_CHECK_ENABLE_SYNCHRONIZATION_VALIDATION_QUEUE_SUBMIT)
MPIRUN=("$rt/usr/bin/mpirun.openmpi" --bind-to none)
bin="$dir/bin"
W="$dir/weights/efficientnetb0_notop.h5"

# step NAME LIMIT_S CMD... : runs with the carried runtime, appends rc, wall time and the log.
step() {
  local name="$1" limit="$2"
  shift 2
  local left=$(( budget - $(elapsed) ))
  if [ "$left" -lt 10 ]; then
    say "== $name: SKIPPED (time budget spent)"
    failed+=("$name (skipped)")
    return 1
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  local log="$work/$name.log" a b rc
  a=$(date +%s.%N)
  timeout --kill-after=5 "$limit" "${RUN[@]}" "$@" >"$log" 2>&1
  rc=$?
  b=$(date +%s.%N)
  local wall
  wall=$(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.2f", b-a}')
  echo "$name $wall" >>"$work/walls"
  {
    echo
    echo "== $name: rc=$rc wall=${wall}s$([ $rc = 124 ] && echo " TIMED OUT after ${limit}s")"
    echo "\$ $*"
    if [ "$(wc -l <"$log")" -gt 160 ]; then head -n 60 "$log"; echo "[... $(( $(wc -l <"$log") - 160 )) lines ...]"; tail -n 100 "$log"; else cat "$log"; fi
  } >>"$report"
  echo "== $name: rc=$rc wall=${wall}s"
  [ "$rc" = 0 ] || failed+=("$name (rc=$rc)")
  return "$rc"
}

if [ "$small" = 1 ]; then
  reps=1; fwd_s=0.5; fwd_batches=(1 2); per_class=3; size=96; batch=8; dec_n=15
else
  reps=5; fwd_s=3; fwd_batches=(32 256); per_class=0; size=224; batch=32; dec_n=100000
fi
data="$dir/flowers"
if [ "$per_class" -gt 0 ]; then   # a smaller subset of the carried one
  data="$work/flowers"
  for c in "$dir"/flowers/*/; do
    mkdir -p "$data/$(basename "$c")"
    mapfile -t files < <(find "$c" -type f | LC_ALL=C sort)
    for f in "${files[@]:0:$per_class}"; do ln -s "$(readlink -f "$f")" "$data/$(basename "$c")/"; done
  done
fi
nimg=$(find "$data" -type f -o -type l | wc -l)

say "vkdp GPU check ($([ $small = 1 ] && echo small || echo full)) $(date -u +%FT%TZ)"
say "commit: $(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo unknown); prepared: $(head -1 "$dir/MANIFEST" 2>/dev/null)"
say "host: $(uname -srm), $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-?}")"
say "VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}; data: $nimg images at ${size}x${size}"
ngpu=0
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi -L >"$work/smi" 2>&1 && ngpu=$(grep -c '^GPU ' "$work/smi")
  { echo; echo "== nvidia-smi"; cat "$work/smi";
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem,pcie.link.gen.max,pcie.link.width.max --format=csv 2>&1; } >>"$report"
fi
say "GPUs (nvidia-smi): $ngpu; unpacked $(ls "$dir"/debs/*.deb | wc -l) packages in $(elapsed) s"

step devices 30 "$bin/trainer" devices
# Op tests under synchronization validation (within and across submissions): 0 hazards.
plan=staged   # discrete GPUs, and lavapipe under VKDP_FORCE_STAGING in --small
for t in test_vk_runtime test_ops "test_vk_staging $plan"; do
  read -r -a cmd <<<"$t"
  step "sync_${cmd[0]#test_}" 120 "${SYNC[@]}" "$bin/${cmd[0]}" "${cmd[@]:1}"
done
grep -h "SYNC-HAZARD" "$work"/sync_*.log >/dev/null 2>&1 && failed+=("synchronization hazards reported")
step bench_gemm 90 "$bin/bench_gemm" "$reps"   # the GPU row: the shared-memory tiled GEMM
step bench_gemm_regs 60 VKDP_TUNE=gemm_smem=0 "$bin/bench_gemm" "$reps"   # the register-blocked one
step bench_decode 60 "$bin/bench_decode" "$data" "$dec_n" "$(nproc)" "$size"
step bench_forward 150 "$bin/bench_forward" "$W" "$fwd_s" "${fwd_batches[@]}"
if "$bin/bench_forward" 2>&1 | grep -q -- '--precision'; then
  step bench_forward_mixed 120 "$bin/bench_forward" "$W" --precision mixed "$fwd_s" "${fwd_batches[@]}"
else
  say "== bench_forward_mixed: not run: this build has no mixed-precision path (issue 10 item 3)"
fi
train() { # train NAME NP
  step "$1" 150 "${MPIRUN[@]}" -np "$2" "$bin/trainer" train --data "$data" --weights "$W" --epochs 2 \
    --batch "$batch" --image-size "$size" --out "$work/ck-$1" --profile --log-interval 5
}
train train_np1 1
nranks=$ngpu
[ "$small" = 1 ] && nranks=2   # lavapipe: exercise the multi-rank path anyway
if [ "$nranks" -gt 1 ]; then train "train_np$nranks" "$nranks"; else say "== one rank per GPU: 1 GPU, same as train_np1"; fi

# ---- summary
{
  echo
  echo "== summary"
  echo "wall times (s):"; sed 's/^/  /' "$work/walls"
  grep -h "^ours batch=" "$work/bench_forward.log" 2>/dev/null | sed 's/^/  forward: /'
  grep -h "^loader, " "$work/bench_decode.log" 2>/dev/null | tail -1 | sed 's/^/  decode: /'
  fwd=$(grep -h "^ours batch=${fwd_batches[0]} " "$work/bench_forward.log" 2>/dev/null | sed 's/.*images_per_s=\([0-9.]*\).*/\1/')
  # the loader's steady rate (after restart): the cold first pass would flatter "decode-bound"
  dec=$(grep -h "^loader, " "$work/bench_decode.log" 2>/dev/null | tail -1 | sed 's/.*, \([0-9.]*\) img\/s after restart.*/\1/')
  if [ -n "$fwd" ] && [ -n "$dec" ]; then
    awk -v f="$fwd" -v d="$dec" -v b="${fwd_batches[0]}" 'BEGIN{
      printf "  backbone %.3f ms/image (batch %s) vs decode %.3f ms/image (all cores): %s\n", 1000/f, b, 1000/d,
        (1000/f < 1000/d) ? "decode-bound" : "backbone-bound" }'
  fi
  for t in "$work"/train_np*.log; do
    [ -f "$t" ] || continue
    echo "  $(basename "$t" .log):"
    grep -E '^[0-9]+/[0-9]+ \[.*val_accuracy' "$t" | sed 's/^/    epoch end: /'   # epoch 1: decode + backbone + head
    grep -E '^total +' "$t" | sed 's/^/    backbone device time (ms): /'
  done
  echo "elapsed: $(elapsed) s"
  if [ ${#failed[@]} -eq 0 ]; then echo "RESULT: all steps passed"; else echo "RESULT: FAILED: ${failed[*]}"; fi
} | tee -a "$report"
rm -rf "$work"
[ ${#failed[@]} -eq 0 ]
