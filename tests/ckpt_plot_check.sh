#!/bin/sh
# launch/plot_metrics.py turns a checkpoint's metrics into a PNG; a bad file fails clearly.
# usage: ckpt_plot_check.sh PYTHON plot_metrics.py CHECKPOINT.h5 SCRATCH_DIR
set -u
py=$1 script=$2 ckpt=$3 dir=$4
rm -rf "$dir" && mkdir -p "$dir" || exit 1
fail=0
if ! "$py" -c "import h5py, matplotlib" 2>/dev/null; then
  echo "SKIP: $py lacks h5py or matplotlib (apt-get install python3-h5py python3-matplotlib)"; exit 77
fi
"$py" "$script" "$ckpt" -o "$dir/curves.png" --steps || fail=1
if [ -s "$dir/curves.png" ] && [ "$(head -c 8 "$dir/curves.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ]; then
  size=$(wc -c <"$dir/curves.png")
  # A 1100x420 two-panel plot with curves is far bigger than an empty canvas would compress to.
  if [ "$size" -gt 20000 ]; then echo "ok   PNG written ($size bytes)"; else echo "FAIL PNG only $size bytes"; fail=1; fi
  dims=$("$py" -c "import matplotlib.image as m; print('%dx%d' % m.imread('$dir/curves.png').shape[1::-1])")
  [ "$dims" = "1100x420" ] && echo "ok   PNG is $dims" || { echo "FAIL PNG is $dims, want 1100x420"; fail=1; }
else
  echo "FAIL no PNG at $dir/curves.png"; fail=1
fi
printf 'junk\n' >"$dir/bad.h5"
if "$py" "$script" "$dir/bad.h5" -o "$dir/bad.png" 2>"$dir/bad.err"; then
  echo "FAIL bad file accepted"; fail=1
elif grep -q "bad.h5: cannot open as HDF5" "$dir/bad.err"; then
  echo "ok   bad file: $(cat "$dir/bad.err")"
else
  echo "FAIL bad file message: $(cat "$dir/bad.err")"; fail=1
fi
exit $fail
