#!/bin/sh
# Checks that every given file is byte-identical to the first (the np-equivalence outputs).
set -u
[ $# -ge 2 ] || { echo "usage: head_np_cmp.sh FILE FILE..." >&2; exit 2; }
first=$1
shift
status=0
for f in "$@"; do
  if cmp "$first" "$f"; then
    echo "identical: $first $f"
  else
    status=1
  fi
done
[ $status -eq 0 ] && echo "all $(($# + 1)) outputs byte-identical ($(wc -c < "$first") bytes)"
exit $status
