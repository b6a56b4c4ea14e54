#!/bin/sh
# `trainer info` prints a good checkpoint fully and fails clearly (exit 1) on bad ones.
# usage: ckpt_info_check.sh TRAINER CHECKPOINT.h5 SCRATCH_DIR
set -u
trainer=$1 ckpt=$2 dir=$3
rm -rf "$dir" && mkdir -p "$dir" || exit 1
fail=0
check() { # check WHAT PATTERN FILE
  if grep -Eq -- "$2" "$3"; then echo "ok   $1"; else echo "FAIL $1: no /$2/ in output:"; cat "$3"; fail=1; fi
}
"$trainer" info --steps 3 "$ckpt" >"$dir/out" 2>&1
rc=$?
[ $rc -eq 0 ] && echo "ok   trainer info exit 0" || { echo "FAIL trainer info exit $rc"; cat "$dir/out"; fail=1; }
check "classes" "classes \(5\): +daisy, dandelion, roses, sunflowers, tulips" "$dir/out"
check "image size" "image_size: +180" "$dir/out"
check "weights sha" "weights_sha256: +0{63}7" "$dir/out"
check "kernel row" "^  pred/pred/kernel:0 +\[1280,5\] +-?[0-9.e-]+ +[0-9.e-]+ +-?[0-9.e-]+ +[0-9.e-]+" "$dir/out"
check "adam slots" "^  m/pred/pred/kernel:0 +\[1280,5\]" "$dir/out"
check "optimizer" "optimizer: Adam, iterations 276" "$dir/out"
check "state" "state: epoch 3 completed, global_step 276, step_in_epoch 0" "$dir/out"
check "epoch rows" "^ +3 +0\.33333 +0\.6200 " "$dir/out"
check "step count" "steps: 276 logged" "$dir/out"
check "last steps" "^ +276 +0\.00725" "$dir/out"
[ "$(grep -Ec '^ +27[0-9] +0\.00' "$dir/out")" -eq 3 ] && echo "ok   --steps 3 prints 3 step rows" || { echo "FAIL --steps 3"; fail=1; }

"$trainer" info --steps 0 "$(dirname "$ckpt")" >"$dir/dir.out" 2>&1
check "directory -> its latest.h5" "checkpoint: .*/latest\.h5" "$dir/dir.out"
[ "$(grep -c '^ *step ' "$dir/dir.out")" -eq 0 ] && echo "ok   --steps 0 prints no step rows" || { echo "FAIL --steps 0"; fail=1; }

printf 'not hdf5\n' >"$dir/bad.h5"
"$trainer" info "$dir/bad.h5" >"$dir/bad.out" 2>&1
rc=$?
[ $rc -eq 1 ] && echo "ok   non-HDF5 file: exit 1" || { echo "FAIL non-HDF5 file: exit $rc"; fail=1; }
check "non-HDF5 message" "error: .*/bad\.h5: not an HDF5 file" "$dir/bad.out"
head -c 4096 "$ckpt" >"$dir/trunc.h5"
"$trainer" info "$dir/trunc.h5" >"$dir/trunc.out" 2>&1
rc=$?
[ $rc -eq 1 ] && echo "ok   truncated file: exit 1" || { echo "FAIL truncated file: exit $rc"; fail=1; }
check "truncated message" "error: .*/trunc\.h5: .*truncated" "$dir/trunc.out"
"$trainer" info "$dir/none.h5" >"$dir/none.out" 2>&1
rc=$?
[ $rc -eq 1 ] && echo "ok   missing file: exit 1" || { echo "FAIL missing file: exit $rc"; fail=1; }
check "missing message" "none\.h5: cannot open checkpoint: No such file" "$dir/none.out"
"$trainer" info --help >"$dir/help.out" 2>&1 && check "--help" "usage: trainer info" "$dir/help.out"
exit $fail
