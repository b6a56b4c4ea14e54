#!/usr/bin/env bash
# Runs check.sh --small on this machine as the GPU machine would run it: inside a private mount
# namespace (unshare, root) in which every file of the carried .debs that this system also has is
# hidden behind /dev/null, so that only the carried copies can load. A library prepare.sh failed
# to carry fails here, not during the one GPU run.
#   bash tests/gpu/selftest.sh [DIR]     (DIR: the prepared folder, default .gpu; report in $OUT)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dir="$(cd "${1:-$root/.gpu}" && pwd)"
rel="${dir#"$root"/}"
out="${OUT:-$root/gpu-check-out}"
hidden="$(mktemp /tmp/vkdp-hidden.XXXXXX)"
for deb in "$dir"/debs/*.deb; do
  dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\.||' | while IFS= read -r f; do
    case "$f" in *.so|*.so.*|*/bin/*) if [ -f "$f" ] && [ ! -L "$f" ]; then echo "$f"; fi ;; esac
  done
done >"$hidden"
echo "selftest: hiding $(wc -l <"$hidden") system files, running check.sh --small (report in $out)"
mkdir -p "$out"
rc=0
unshare --mount --fork bash -c '
  set -e
  mount --make-rprivate /
  while IFS= read -r f; do mount --bind /dev/null "$f"; done <"$1"
  cd "$2" && OUT="$3" bash tests/gpu/check.sh --small --dir "$4"' \
  selftest "$hidden" "$root" "$out" "$rel" || rc=$?
rm -f "$hidden"
exit "$rc"
