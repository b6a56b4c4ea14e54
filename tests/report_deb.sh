#!/usr/bin/env bash
# Packaging: `cmake --install` into a prefix, and `cpack -G DEB` -> vkdp_<version>_<arch>.deb whose
# Depends name the package of every library the binary links (dpkg -S) plus a Vulkan driver and
# mpirun; the package holds the binary, the man page (made from --help; it renders without
# warnings), the Slurm template and the plot script; unpacked into a scratch root (dpkg -x, the
# system is not touched) its trainer runs `--version` and `devices`; apt-get accepts it (simulated).
set -euo pipefail
: "${BUILD:?}" "${WORK:?}" "${VERSION:?}"
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$WORK"
mkdir -p "$WORK"

# ---- cmake --install into a prefix
cmake --install "$BUILD" --prefix "$WORK/prefix" >"$WORK/install.log" 2>&1 || { cat "$WORK/install.log"; fail "cmake --install"; }
for f in bin/trainer share/man/man1/trainer.1.gz share/vkdp/train.sbatch share/vkdp/plot_metrics.py; do
  [ -f "$WORK/prefix/$f" ] || fail "cmake --install did not install $f"
done
[ -x "$WORK/prefix/share/vkdp/plot_metrics.py" ] || fail "plot_metrics.py is not executable"
"$WORK/prefix/bin/trainer" --version | head -1 | grep -q "^vkdp $VERSION " || fail "installed trainer --version"

# ---- the man page: every subcommand, renders cleanly
man="$WORK/prefix/share/man/man1/trainer.1.gz"
zcat "$man" >"$WORK/trainer.1"
for sub in train evaluate predict features devices dataset info; do
  grep -q "^\.SS trainer $sub$" "$WORK/trainer.1" || fail "man page has no section for $sub"
done
grep -q 'csv\\-log' "$WORK/trainer.1" || fail "man page lacks train's --csv-log (not generated from --help?)"
if command -v groff >/dev/null; then
  groff -man -ww -z -Tutf8 "$WORK/trainer.1" 2>"$WORK/groff.log" || fail "groff failed on the man page"
  [ ! -s "$WORK/groff.log" ] || { cat "$WORK/groff.log"; fail "groff warnings on the man page"; }
fi

# ---- the .deb
(cd "$BUILD" && cpack -G DEB -B "$WORK/pkg") >"$WORK/cpack.log" 2>&1 || { cat "$WORK/cpack.log"; fail "cpack -G DEB"; }
deb="$WORK/pkg/vkdp_${VERSION}_$(dpkg --print-architecture).deb"
[ -f "$deb" ] || { ls "$WORK/pkg"; fail "no $deb"; }
depends="$(dpkg-deb -f "$deb" Depends)"
echo "Depends: $depends"
has_dep() { printf '%s\n' "$depends" | tr ',|' '\n\n' | sed -E 's/^ *//; s/ .*//' | grep -qx "$1"; }
need=(libvulkan1 mesa-vulkan-drivers openmpi-bin libopenmpi3 libhdf5-103-1 libturbojpeg0 libssl3 libc6)
# and the package of every library the binary itself links, as dpkg knows it
bin="$WORK/prefix/bin/trainer"
for lib in $(readelf -d "$bin" | sed -nE 's/.*\(NEEDED\).*\[(.*)\]/\1/p'); do
  path="$(ldd "$bin" | awk -v l="$lib" '$1 == l {print $3}')"
  [ -n "$path" ] || fail "ldd cannot resolve $lib"
  pkg="$(dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "$path")" || fail "no package owns $path"
  need+=("${pkg%%:*}")
done
for p in "${need[@]}"; do has_dep "$p" || fail "Depends lacks $p"; done
dpkg-deb -c "$deb" >"$WORK/contents"
for f in ./usr/bin/trainer ./usr/share/man/man1/trainer.1.gz ./usr/share/vkdp/train.sbatch ./usr/share/vkdp/plot_metrics.py; do
  grep -q " $f$" "$WORK/contents" || { cat "$WORK/contents"; fail "the package lacks $f"; }
done
dpkg-deb -x "$deb" "$WORK/root"
"$WORK/root/usr/bin/trainer" --version >"$WORK/version.log" || fail "packaged trainer --version"
grep -q "^vkdp $VERSION " "$WORK/version.log" || fail "packaged trainer: $(head -1 "$WORK/version.log")"
grep -q "^Vulkan driver: " "$WORK/version.log" || fail "packaged trainer --version has no driver line"
"$WORK/root/usr/bin/trainer" devices >"$WORK/devices.log" || fail "packaged trainer devices"
grep -q maxStorageBufferRange "$WORK/devices.log" || fail "packaged trainer devices: no device listed"
if command -v apt-get >/dev/null; then
  apt-get install --simulate "$deb" >"$WORK/apt.log" 2>&1 || { cat "$WORK/apt.log"; fail "apt-get refuses the package"; }
  grep -q "^Inst vkdp " "$WORK/apt.log" || { cat "$WORK/apt.log"; fail "apt-get would not install vkdp"; }
fi
echo "report_deb: ok ($(stat -c %s "$deb") bytes)"
