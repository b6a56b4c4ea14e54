#!/usr/bin/env bash
# The report of tests/report_e2e.sh rendered by headless Chromium (Debian's chromium, offline, a
# fresh profile): the DOM it builds has every section, chart and the gallery, and the screenshot
# is not blank. Exit 77 (skipped) when chromium is not installed.
set -euo pipefail
: "${WORK:?}" "${PAGE:?}"
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -f "$PAGE" ] || fail "no $PAGE (tests/report_e2e.sh makes it)"
page="$(readlink -f "$PAGE")"
browser="$(command -v chromium || true)"
if [ -z "$browser" ]; then
  echo "SKIP: chromium is not installed (apt-get install chromium; launch/install-deps.sh does)"
  exit 77
fi
rm -rf "$WORK"
mkdir -p "$WORK"
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
  --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$WORK/profile")
timeout 180 "$browser" "${flags[@]}" --dump-dom "file://$page" >"$WORK/dom.html" 2>"$WORK/dom.err" \
  || { cat "$WORK/dom.err"; fail "chromium --dump-dom failed"; }
rm -rf "$WORK/profile"
timeout 180 "$browser" "${flags[@]}" --window-size=1280,2600 --screenshot="$WORK/shot.png" "file://$page" \
  >"$WORK/shot.log" 2>&1 || { cat "$WORK/shot.log"; fail "chromium --screenshot failed"; }
/usr/bin/python3 - "$WORK/dom.html" "$WORK/shot.png" <<'PY' || fail "rendered report"
import sys
import numpy as np
from PIL import Image
dom = open(sys.argv[1], encoding="utf-8").read()
for i in ("summary", "curves", "confusion", "per-class", "misclassified", "loss-epoch", "accuracy-epoch",
          "loss-step", "confusion-table", "per-class-table"):
    assert f'id="{i}"' in dom, f"no id={i} in the DOM chromium built"
assert dom.count("<figure") >= 1 and dom.count("<polyline") >= 5, "gallery or curves missing from the DOM"
assert "<script" not in dom and "<o>" not in dom, "markup from a file name in the DOM"
im = np.asarray(Image.open(sys.argv[2]).convert("RGB")).astype(np.float64)
assert im.shape[:2] == (2600, 1280), im.shape
grey = im.mean(axis=2)
inked = (grey < 200).mean()
colour = (np.abs(im[..., 0] - im[..., 2]) > 60).mean()  # the heat map, curves and photos
assert grey.std() > 20 and inked > 0.02 and colour > 0.005, (grey.std(), inked, colour)
print(f"rendered ok: std {grey.std():.1f}, {100 * inked:.1f}% dark pixels, {100 * colour:.2f}% coloured")
PY
echo "report_render: ok"
