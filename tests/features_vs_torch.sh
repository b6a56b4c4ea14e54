#!/usr/bin/env bash
# `trainer features` (Vulkan backbone, 2 ranks) against the independent PyTorch reference
# (tests/ref/effnet_torch.py, float64, unfolded BN, Keras padding) on 8 real flower photos with
# the same pixels: relative L2 error <= 1e-4.
source "$(dirname "$0")/train_common.sh"
subset 2 "$WORK/data"
"${MPIRUN[@]}" -np 2 "$TRAINER" features --data "$WORK/data" --weights "$WEIGHTS" --out "$WORK/f.h5" --limit 8 \
  --batch 4 --profile >"$WORK/features.log" 2>&1 || { cat "$WORK/features.log"; fail "trainer features failed"; }
expect_grep '^wrote .*f.h5: 8 images x 1280 features' "$WORK/features.log"
expect_grep '^conv1x1_expand +[0-9]+ ' "$WORK/features.log"   # --profile's per-op table
"$DUMP" "$WORK/data" 8 224 "$WORK/in.f32" >/dev/null
"$PY" "$here/ref/effnet_torch.py" "$WEIGHTS" "$WORK/in.f32" 8 224 224 "$WORK/torch.f32" >/dev/null
"$PY" - "$WORK/f.h5" "$WORK/torch.f32" <<'PY'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
ours = f["features"][...].astype(np.float64)
ref = np.fromfile(sys.argv[2], dtype=np.float32).reshape(8, 1280).astype(np.float64)
assert f["labels"][...].tolist() == [0, 0, 1, 1, 2, 2, 3, 3], f["labels"][...]
assert len(f["paths"]) == 8 and list(f.attrs["class_names"])[0] in ("daisy", b"daisy")
rel = np.linalg.norm(ours - ref) / np.linalg.norm(ref)
print(f"trainer features vs PyTorch: rel L2 {rel:.3e}, max abs {np.abs(ours - ref).max():.3e} (limit 1e-4)")
sys.exit(0 if rel <= 1e-4 else 1)
PY
