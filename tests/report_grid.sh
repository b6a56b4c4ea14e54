#!/usr/bin/env bash
# trainer dataset --grid: one row per class, the first 9 training images of each (in
# `--list training` order) as centred square crops that match a numpy area average of PIL's
# decode of the same files, labels in the strip under each image (equal within a class, different
# between classes), empty cells for a class with fewer images, an undecodable file skipped; bad flags.
source "$(dirname "$0")/train_common.sh"
subset 9 "$WORK/data"
ls "$WORK/data/tulips/"* | tail -n +4 | xargs rm -f   # tulips: 3 images for 9 cells
src="$(ls "$WORK/data/roses/"* | head -1)"
head -c 6000 "$(readlink -f "$src")" >"$WORK/data/roses/000_truncated.jpg"  # listed first, fails to decode
args=(--data "$WORK/data" --validation-split 0)
"$TRAINER" dataset "${args[@]}" --grid "$WORK/grid.jpg" --grid-cell 96 >"$WORK/grid.log" 2>&1 \
  || { cat "$WORK/grid.log"; fail "dataset --grid failed"; }
expect_grep 'grid: .*000_truncated.jpg skipped' "$WORK/grid.log"
expect_grep 'grid: class tulips has 3 image\(s\) for 9 cell\(s\)' "$WORK/grid.log"
"$TRAINER" dataset "${args[@]}" --list training >"$WORK/order.txt" 2>/dev/null || fail "--list training failed"
"$PY" - "$WORK/grid.jpg" "$WORK/order.txt" <<'PY' || fail "grid content"
import io, sys
import numpy as np
from PIL import Image
cell, lab, pad, per = 96, 32, 4, 9
classes = ["daisy", "dandelion", "roses", "sunflowers", "tulips"]
g = np.asarray(Image.open(sys.argv[1]).convert("RGB")).astype(np.int32)
assert g.shape == (5 * (cell + lab), per * cell, 3), g.shape
order = open(sys.argv[2]).read().split("\n")[:-1]
strips, worst = {}, -99.0

def area_matrix(span, n):
    """Exact area average: output o covers source [o*span/n, (o+1)*span/n), partial pixels weighted."""
    m = np.zeros((n, span))
    sc = span / n
    for o in range(n):
        lo, hi = o * sc, (o + 1) * sc
        for i in range(int(np.floor(lo)), min(span, int(np.ceil(hi)))):
            m[o, i] = (min(i + 1, hi) - max(i, lo)) / sc
    return m

for k, cname in enumerate(classes):
    files = []
    for p in order:
        if p.split("/")[-2] != cname or len(files) == per:
            continue
        try:
            im = Image.open(p).convert("RGB")
        except OSError:
            continue  # the truncated file: skipped by the grid too
        files.append(im)
    for j in range(per):
        y0, x0 = k * (cell + lab), j * cell
        tile = g[y0 + pad:y0 + cell - pad, x0 + pad:x0 + cell - pad]
        strip = g[y0 + cell:y0 + cell + lab, x0:x0 + cell]
        if j >= len(files):
            assert tile.min() >= 245 and strip.min() >= 245, (cname, j, "empty cell is not white")
            continue
        im = files[j]
        w, h = im.size
        s = min(w, h)
        crop = np.asarray(im).astype(np.float64)[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
        m = area_matrix(s, cell - 2 * pad)
        ref = np.clip(np.einsum("oy,yxc->oxc", m, np.einsum("px,yxc->ypc", m, crop)) + 0.5, 0, 255).astype(np.uint8)
        # JPEG's own loss on this tile (same quality, 4:4:4) is the yardstick: the resize may add little
        buf = io.BytesIO()
        Image.fromarray(ref).save(buf, "JPEG", quality=90, subsampling=0)
        ref = ref.astype(np.int32)
        jpeg_loss = np.abs(np.asarray(Image.open(buf)).astype(np.int32) - ref).mean()
        mae = np.abs(tile - ref).mean()
        worst = max(worst, mae - jpeg_loss)
        assert mae < jpeg_loss + 1.0, (cname, j, "tile differs from the area average", mae, jpeg_loss)
        assert (strip < 100).all(axis=2).sum() > 30, (cname, j, "no text in the label strip")
        if j == 0:
            strips[cname] = strip
        else:
            assert (strip == strips[cname]).all(), (cname, j, "label differs within the class")
names = list(strips)
for a in range(len(names)):
    for b in range(a):
        assert (strips[names[a]] != strips[names[b]]).any(), ("same label", names[a], names[b])
print(f"grid ok: {len(strips)} classes; tile error - JPEG's own error: at most {worst:.2f} (limit 1.0)")
PY
set +e
"$TRAINER" dataset "${args[@]}" --grid "$WORK/x.jpg" --grid-cell 100 >"$WORK/bad1.log" 2>&1; rc1=$?
"$TRAINER" dataset "${args[@]}" --grid "$WORK/no-such-dir/x.jpg" >"$WORK/bad2.log" 2>&1; rc2=$?
set -e
[ $rc1 = 2 ] || fail "--grid-cell 100: exit $rc1"
expect_grep 'trainer dataset: --grid-cell 100 is not a multiple of 16' "$WORK/bad1.log"
[ $rc2 = 1 ] || fail "unwritable grid: exit $rc2"
expect_grep 'error: grid: .*no-such-dir/x.jpg: cannot create' "$WORK/bad2.log"
echo "dataset_grid: ok"
