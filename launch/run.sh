#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine: installs dependencies, builds, fetches (or links)
# the flower_photos data and the EfficientNetB0 weights, and runs `mpirun -np 4 trainer`.
#   bash launch/run.sh [trainer train options...]
# Environment: NP (ranks, default 4), VKDP_ASSETS_FROM (folder with data/ and weights/; default
# ../shared when it exists, else the assets are downloaded).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
np="${NP:-4}"

bash launch/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target trainer

from="${VKDP_ASSETS_FROM:-}"
if [ -z "$from" ] && [ -d "$root/../shared/data/flower_photos" ]; then from="$root/../shared"; fi
if [ -n "$from" ]; then bash launch/fetch-assets.sh --from "$from"; else bash launch/fetch-assets.sh; fi

# ranks' stdout is a pseudo-terminal under mpirun: tell them whether ours is a terminal
if [ -t 1 ]; then export VKDP_PROGRESS="${VKDP_PROGRESS:-bar}"; else export VKDP_PROGRESS="${VKDP_PROGRESS:-lines}"; fi
mpi_flags=(--oversubscribe -x VKDP_PROGRESS)
if [ "$(id -u)" -eq 0 ]; then mpi_flags+=(--allow-run-as-root); fi
exec mpirun "${mpi_flags[@]}" -np "$np" build/trainer "$@"
