#!/usr/bin/env bash
# Prepares the one-shot GPU check (tests/gpu/check.sh) for a lent GPU machine that reaches no
# package mirror: run HERE (Debian 12, the build machine), then run check.sh THERE with this
# folder carried (the device tool's `carry`, 64 MiB in all with the working tree).
#
#   bash tests/gpu/prepare.sh [--per-class N] [--dir DIR] [--build BUILD] [--selftest]
#
# DIR (default .gpu in the repository root, git-ignored) receives:
#   bin/      Release build of trainer, benchmarks and the op tests (shaders are embedded)
#   debs/     the runtime .debs, fetched with `apt-get download`: Vulkan loader, validation layers,
#             Open MPI (+PMIx, hwloc, UCX, ...), HDF5, libjpeg-turbo and every library they load
#             that is not glibc or the compiler runtime (found with ldd, owners with dpkg -S);
#             check.sh unpacks them with dpkg -x into a private prefix, never into /
#   weights/  efficientnetb0_notop.h5 (a copy: links travel as links)
#   flowers/  the first N photos of each class (copies), N = 50 by default
#   MANIFEST  what is in it and how large
# BUILD (default build-gpu) is the Release build folder used (configured and built if needed).
# --selftest then runs tests/gpu/selftest.sh: check.sh --small here, with the system's copies of
# every carried library hidden, so that a missing one fails here first.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dir="$root/.gpu"
per_class=50
selftest=0
build="$root/build-gpu"
limit_mib=60   # the carry limit is 64 MiB including the working tree
while [ $# -gt 0 ]; do
  case "$1" in
    --per-class) per_class="$2"; shift 2 ;;
    --dir) dir="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
    --build) case "$2" in /*) build="$2" ;; *) build="$PWD/$2" ;; esac; shift 2 ;;
    --selftest) selftest=1; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "prepare.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
shared="${VKDP_SHARED_DIR:-$root/../shared}"
weights="$shared/weights/efficientnetb0_notop.h5"
flowers="$shared/data/flower_photos"
[ -f "$weights" ] || { echo "prepare.sh: no weights at $weights (set VKDP_SHARED_DIR)" >&2; exit 1; }
[ -d "$flowers" ] || { echo "prepare.sh: no flower photos at $flowers (set VKDP_SHARED_DIR)" >&2; exit 1; }
case "$dir" in "$root"/*) ;; *) echo "prepare.sh: note: $dir is outside the repository, carry cannot take it" >&2 ;; esac

# 1. Release build (its own build folder; the binaries are copied into DIR/bin).
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DVKDP_BUILD_TESTS=ON -DVKDP_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j2 --target trainer bench_gemm bench_forward bench_decode test_vk_runtime \
  test_ops test_vk_staging >/dev/null
rm -rf "$dir/bin" "$dir/debs" "$dir/weights" "$dir/flowers"
mkdir -p "$dir/bin" "$dir/debs" "$dir/weights" "$dir/flowers"
bins=(trainer bench_gemm bench_forward bench_decode test_vk_runtime test_ops test_vk_staging)
for b in "${bins[@]}"; do
  cp "$build/$b" "$dir/bin/"
  strip "$dir/bin/$b"
done

# 2. Runtime packages: the owners of every library that the binaries, Open MPI's launcher and
# plugins, PMIx's plugins, the Vulkan loader and the validation layer load, except the core of
# any Debian/Ubuntu system (glibc, the compiler runtime, compression, TLS, ...): those stay the
# target's, newer there, and shadowing them would break the target's own tools.
arch=x86_64-linux-gnu
seeds=(libvulkan1 vulkan-validationlayers openmpi-bin libopenmpi3 openmpi-common libpmix2 libhdf5-103-1
       libturbojpeg0 libjpeg62-turbo
       libglvnd0 libglx0 libegl1 libgl1 libopengl0 libgles2)  # NVIDIA's ICD links GLVND's dispatch
objs=("$dir"/bin/* "$(readlink -f /usr/bin/orterun)" "$(readlink -f /usr/bin/orted)"
      /usr/lib/$arch/libvulkan.so.1 /usr/lib/$arch/libVkLayer_khronos_validation.so)
while IFS= read -r f; do objs+=("$f"); done < <(find /usr/lib/$arch/openmpi /usr/lib/$arch/pmix2 -name '*.so' -type f)
declare -A pkgs=()
for p in "${seeds[@]}"; do pkgs[$p]=1; done
core=(libc6 libgcc-s1 libstdc++6 libatomic1 zlib1g libzstd1 liblzma5 libbz2-1.0 libudev1 libssl3 libgnutls30
      libp11-kit0 libtasn1-6 libnettle8 libhogweed6 libgmp10 libidn2-0 libunistring2 libffi8 libuuid1
      libcom-err2 libkeyutils1 libselinux1 libpcre2-8-0 libcrypt1 libmd0 libbsd0 libsystemd0 libcap2)
mapfile -t libs < <(for o in "${objs[@]}"; do ldd "$o" 2>/dev/null | awk '/=> \//{print $3}'; done | sort -u \
                    | xargs -r readlink -f | sort -u)
other() { local a="${1#/usr}"; [ "$a" = "$1" ] && a="/usr$1"; echo "$a"; }  # merged /usr: dpkg knows one spelling
spellings=()
for l in "${libs[@]}"; do spellings+=("$l" "$(other "$l")"); done
declare -A owner_of=()
while IFS= read -r line; do
  o="${line%%:*}"
  owner_of["${line#*: }"]="${o%%,*}"
done < <(dpkg -S "${spellings[@]}" 2>/dev/null || true)   # one query: dpkg -S reads its whole database
for l in "${libs[@]}"; do
  a="$(other "$l")"
  o="${owner_of[$l]:-${owner_of[$a]:-}}"
  [ -n "$o" ] || { echo "prepare.sh: no package owns $l" >&2; exit 1; }
  pkgs[$o]=1
done
for p in "${core[@]}"; do unset "pkgs[$p]"; done
(cd "$dir/debs" && apt-get download "${!pkgs[@]}" >/dev/null 2>"$dir/debs/apt.log") \
  || { cat "$dir/debs/apt.log" >&2; echo "prepare.sh: apt-get download failed (apt-get update?)" >&2; exit 1; }
rm -f "$dir/debs/apt.log"

# 3. Data: copies, not links.
cp "$weights" "$dir/weights/"
for cdir in "$flowers"/*/; do
  c="$(basename "$cdir")"
  mkdir -p "$dir/flowers/$c"
  mapfile -t files < <(find "$cdir" -maxdepth 1 -type f -iname '*.jp*g' | LC_ALL=C sort)
  cp "${files[@]:0:$per_class}" "$dir/flowers/$c/"
done

# 4. Size: what travels is the working tree plus this folder.
tree_kib=$(cd "$root" && git ls-files -z --cached --others --exclude-standard | du -ck --files0-from=- 2>/dev/null | tail -1 | cut -f1)
dir_kib=$(du -sk "$dir" | cut -f1)
total_mib=$(( (tree_kib + dir_kib + 1023) / 1024 ))
{
  echo "prepared $(date -u +%FT%TZ) from $(git -C "$root" rev-parse --short=12 HEAD) on $(. /etc/os-release; echo "$PRETTY_NAME")"
  echo "bin:     ${bins[*]}"
  echo "debs:    $(ls "$dir/debs" | wc -l) packages, $(du -sh "$dir/debs" | cut -f1)"
  echo "flowers: $per_class per class, $(find "$dir/flowers" -type f | wc -l) images, $(du -sh "$dir/flowers" | cut -f1)"
  echo "weights: $(du -sh "$dir/weights" | cut -f1)"
  echo "total with the working tree: ${total_mib} MiB (limit ${limit_mib})"
} | tee "$dir/MANIFEST"
ls "$dir/debs" >>"$dir/MANIFEST"
if [ "$total_mib" -gt "$limit_mib" ]; then
  echo "prepare.sh: ${total_mib} MiB is over ${limit_mib} MiB: use a smaller --per-class" >&2
  exit 1
fi
rel="${dir#"$root"/}"
echo "carry [\"$rel\"] and run: bash tests/gpu/check.sh --dir $rel"

# 5. Self-test: check.sh --small with the system's copies of the carried libraries hidden.
if [ "$selftest" = 1 ]; then
  OUT="${OUT:-$build/selftest-out}" bash "$here/selftest.sh" "$dir"
fi
