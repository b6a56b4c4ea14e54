#!/usr/bin/env bash
# make_subset.sh SRC DST N: DST/<class>/ holds symlinks to the first N files (sorted) of each
# class folder of SRC, so tests train on real flower photos without copying them.
set -euo pipefail
src="$(cd "$1" && pwd)" dst="$2" n="$3" # absolute: the links must resolve from DST
rm -rf "$dst"
mkdir -p "$dst"
for cdir in "$src"/*/; do
  c="$(basename "$cdir")"
  mkdir -p "$dst/$c"
  mapfile -t files < <(find "$cdir" -maxdepth 1 -type f -iname '*.jp*g' | LC_ALL=C sort)
  for f in "${files[@]:0:$n}"; do
    ln -s "$f" "$dst/$c/$(basename "$f")"
  done
done
