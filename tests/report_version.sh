#!/usr/bin/env bash
# `trainer --version` against independent tools: vulkaninfo (loader version, driverName and
# driverInfo of the picked device), mpirun --version, h5dump --version, OpenSSL as Python's ssl
# module links it, and the commit against the source repository.
set -euo pipefail
: "${TRAINER:?}" "${SRC:?}"
fail() { echo "FAIL: $*" >&2; exit 1; }
out="$("$TRAINER" --version)" || fail "trainer --version exited $?"
echo "$out"
line() { printf '%s\n' "$out" | grep -E "^$1" | head -1 | sed -E "s/^$1 *//"; }

first="$(printf '%s\n' "$out" | head -1)"
[[ "$first" =~ ^vkdp\ [0-9]+\.[0-9]+\.[0-9]+\ \(([0-9a-f]{12}|unknown)\)$ ]] || fail "first line '$first'"
commit="${BASH_REMATCH[1]}"
if [ "$commit" != unknown ] && git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
  git -C "$SRC" cat-file -e "$commit^{commit}" || fail "commit $commit is not in $SRC"
fi

vi="$(vulkaninfo --summary 2>/dev/null)" || fail "vulkaninfo --summary failed (install vulkan-tools)"
want_loader="$(printf '%s\n' "$vi" | sed -nE 's/^Vulkan Instance Version: *//p' | head -1)"
[ "$(line 'Vulkan loader:')" = "$want_loader" ] || fail "loader '$(line 'Vulkan loader:')', vulkaninfo says '$want_loader'"
# the device we pick is device N; vulkaninfo lists GPU0, GPU1, ... in the same enumeration order
drv="$(line 'Vulkan driver:')"
[[ "$drv" =~ \(device\ ([0-9]+):\  ]] || fail "no device index in '$drv'"
dev="${BASH_REMATCH[1]}"
block="$(printf '%s\n' "$vi" | awk -v g="GPU$dev:" '$1 == g {on = 1; next} /^GPU[0-9]+:/ {on = 0} on')"
name="$(printf '%s\n' "$block" | sed -nE 's/^\s*driverName *= *//p')"
info="$(printf '%s\n' "$block" | sed -nE 's/^\s*driverInfo *= *//p')"
[ -n "$name" ] || fail "vulkaninfo shows no driverName for GPU$dev"
[[ "$drv" == "$name $info ("* ]] || fail "driver '$drv', vulkaninfo says '$name $info'"

mpi_v="$(mpirun --version | sed -nE 's/^mpirun \(Open MPI\) //p')"
[[ "$(line 'MPI:')" == "Open MPI v$mpi_v,"* ]] || fail "MPI '$(line 'MPI:')', mpirun says $mpi_v"

h5_v="$(h5dump --version | sed -nE 's/^h5dump: Version //p')"
[ "$(line 'HDF5:')" = "$h5_v" ] || fail "HDF5 '$(line 'HDF5:')', h5dump says '$h5_v'"

ssl_v="$(/usr/bin/python3 -c 'import ssl; print(ssl.OPENSSL_VERSION)')"
[ "$(line 'OpenSSL:')" = "$ssl_v" ] || fail "OpenSSL '$(line 'OpenSSL:')', Python's ssl says '$ssl_v'"
echo "report_version: ok"
