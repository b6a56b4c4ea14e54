#!/usr/bin/env bash
# Installs every Debian 12 package that vkdp's build, tests and launch scripts need.
# Idempotent: packages already present are skipped, and apt-get update runs at most once.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config git
  libvulkan-dev mesa-vulkan-drivers vulkan-tools vulkan-validationlayers glslc spirv-tools
  libopenmpi-dev openmpi-bin
  libhdf5-dev hdf5-tools
  libturbojpeg0-dev libssl-dev
  python3 python3-numpy python3-h5py python3-torch python3-matplotlib python3-pil
  slurm-wlm munge
  iproute2 procps gdb
  chromium
  curl ca-certificates
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps: done"
