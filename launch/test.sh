#!/usr/bin/env bash
# Builds vkdp twice and runs the test suite: a Release build (every test), then an
# AddressSanitizer + UndefinedBehaviorSanitizer Debug build with Vulkan validation layers (every
# test not labelled "nosan": the ones that only repeat a sanitized test at full size), then the
# Release tests once more with every device transfer through a discrete GPU's memory path
# (VKDP_FORCE_STAGING=1: staging ring, host-cached readback, a 256 MiB emulated BAR heap).
# Usage: bash launch/test.sh [extra ctest args]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
jobs="$(nproc)"
export VK_DRIVER_FILES="${VK_DRIVER_FILES:-/usr/share/vulkan/icd.d/lvp_icd.x86_64.json}"

echo "== Release build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"

echo "== Sanitizer build (ASan + UBSan, Debug, validation layers)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DVKDP_SANITIZE=ON -DVKDP_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j"$jobs"

echo "== Tests: sanitizer build"
ctest --test-dir build-asan --output-on-failure -LE nosan "$@"
echo "== Tests: Release build"
ctest --test-dir build --output-on-failure "$@"
# Not again: the `staged` twins (staged already), `radv` (compiles for RADV without a device) and
# `multihost` (the same trainer; what they test is the network between hosts).
echo "== Tests: Release build, staged memory path (VKDP_FORCE_STAGING=1)"
VKDP_FORCE_STAGING=1 ctest --test-dir build --output-on-failure -LE 'staged|radv|multihost' "$@"
