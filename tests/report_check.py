#!/usr/bin/python3
"""report_check.py INDEX.HTML EVAL.LOG CKPT.H5 [EXPECT_IN_GALLERY]: checks `trainer evaluate
--report`'s page against evaluate's printed results and the checkpoint's /metrics.

Self-contained (no script, no external reference, every image a data: URI JPEG of at most 160 px),
the five sections, every name from a file or folder escaped (the names must come back as text
and never as markup), the confusion matrix and per-class scores equal to evaluate's output, the
learning curves drawn from /metrics (one point per epoch and per step, in the right order), and
the gallery holding exactly the misclassified images (up to the page's limit), worst first."""
import base64
import io
import re
import sys
from html.parser import HTMLParser

import h5py
import numpy as np
from PIL import Image

html_path, log_path, ckpt_path = sys.argv[1:4]
expect_in_gallery = sys.argv[4] if len(sys.argv) > 4 else None
raw = open(html_path, encoding="utf-8").read()


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.stack, self.ids = [], [], {}
        self.text = {}          # id of the innermost element with an id -> its text
        self.tables = {}        # table id -> rows of cell texts
        self.figures = []       # dicts: attrs + caption text + img attrs
        self.series = {}        # svg id -> list of (name, n, [points])
        self.svg = None
        self.table = None
        self.cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag not in ("img", "meta", "br", "line", "rect", "circle", "polyline"):
            self.stack.append((tag, a.get("id")))
        if "id" in a:
            self.ids[a["id"]] = tag
            self.text.setdefault(a["id"], "")
        if tag == "svg":
            self.svg = a["id"]
            self.series[self.svg] = []
        if tag == "g" and self.svg and "data-series" in a:
            self.series[self.svg].append([a["data-series"], int(a["data-n"]), []])
        if tag == "polyline" and self.svg:
            pts = [tuple(map(float, p.split(","))) for p in a["points"].split()]
            self.series[self.svg][-1][2].extend(pts)
        if tag == "table":
            self.table = a.get("id")
            self.tables[self.table] = []
        if tag == "tr" and self.table:
            self.tables[self.table].append([])
        if tag in ("td", "th") and self.table:
            self.cell = ""
        if tag == "figure":
            self.figures.append({"attrs": a, "caption": "", "img": None})
        if tag == "img" and self.figures:
            self.figures[-1]["img"] = a

    def handle_endtag(self, tag):
        if tag == "svg":
            self.svg = None
        if tag in ("td", "th") and self.table and self.cell is not None:
            self.tables[self.table][-1].append(self.cell)
            self.cell = None
        if tag == "table":
            self.table = None
        while self.stack and self.stack[-1][0] != tag:
            self.stack.pop()
        if self.stack:
            self.stack.pop()

    def handle_data(self, d):
        for tag, i in reversed(self.stack):
            if i:
                self.text[i] += d
                break
        if self.cell is not None:
            self.cell += d
        if any(t == "figcaption" for t, _ in self.stack) and self.figures:
            self.figures[-1]["caption"] += d


p = Page()
p.feed(raw)
fail = []


def check(cond, what):
    if not cond:
        fail.append(what)


# self-contained, nothing active
for tag, a in p.tags:
    check(tag not in ("script", "link", "iframe", "object", "embed", "base", "form"), f"<{tag}> in the page")
    check(not any(k.startswith("on") for k in a), f"event handler attribute on <{tag}>")
    if tag == "img":
        check(a.get("src", "").startswith("data:image/jpeg;base64,"), f"img src {a.get('src', '')[:40]}")
check(not re.search(r"url\(|@import|https?://(?!www\.w3\.org/2000/svg)", raw), "external reference in the page")
check("Content-Security-Policy" in raw, "no Content-Security-Policy")
for sec in ("summary", "curves", "confusion", "per-class", "misclassified"):
    check(p.ids.get(sec) == "section", f"no <section id={sec}>")

# names from folders and files: text, never markup
f = h5py.File(ckpt_path, "r")
classes = [c.decode() if isinstance(c, bytes) else c for c in f["config"].attrs["class_names"]]
C = len(classes)
ntd = sum(tag == "td" for tag, _ in p.tags)
check(ntd == C * C + 4 * (C + 1) and not any(tag == "o" for tag, _ in p.tags), "markup from a name")
check("<o>" not in raw and "<td>\"" not in raw and "<img src=x" not in raw, "unescaped name in the raw page")

# evaluate's printed results
log = open(log_path).read().split("\n")
m = re.search(r"^loss: ([0-9.]+) - accuracy: ([0-9.]+) \((\d+) images", "\n".join(log), re.M)
check(m and p.text["loss"] == m.group(1) and p.text["accuracy"] == m.group(2), "loss/accuracy differ from evaluate's")
start = next(i for i, l in enumerate(log) if l.startswith("class "))
prf = {l[:16].rstrip(): l.split()[-4:] for l in log[start + 1:start + 1 + C]}
cstart = next(i for i, l in enumerate(log) if l.startswith("confusion matrix"))
conf = np.array([[int(x) for x in l.split()[-C:]] for l in log[cstart + 2:cstart + 2 + C]])
ct = p.tables["confusion-table"]
check([c for c in ct[0][1:]] == classes, f"confusion header {ct[0]} != {classes}")
check([r[0] for r in ct[1:]] == classes, "confusion row names")
check(np.array_equal(np.array([[int(x) for x in r[1:]] for r in ct[1:]]), conf), "confusion matrix differs")
pc = p.tables["per-class-table"]
for r in pc[1:1 + C]:
    check(r[1:] == prf[r[0][:16]], f"per-class row {r} != evaluate's {prf.get(r[0][:16])}")
check(pc[1 + C][0] == "macro average", "no macro average row")

# learning curves: one point per epoch / step, ordered as the values (y grows downwards)
ep, st = f["metrics/epoch"][...], f["metrics/step"][...]
want = {"loss-epoch": [ep["loss"], ep["val_loss"]], "accuracy-epoch": [ep["accuracy"], ep["val_accuracy"]],
        "loss-step": [st["loss"]]}
for sid, cols in want.items():
    got = p.series.get(sid, [])
    check(len(got) == len(cols), f"{sid}: {len(got)} series")
    for (name, n, pts), v in zip(got, cols):
        check(n == len(v) == len(pts), f"{sid}/{name}: {n} / {len(pts)} points for {len(v)} values")
        xs, ys = [q[0] for q in pts], [q[1] for q in pts]
        check(xs == sorted(xs), f"{sid}/{name}: x not increasing")
        for i in range(len(v)):
            for j in range(len(v)):
                if v[i] < v[j] - 1e-9 * abs(v[j]):
                    check(ys[i] > ys[j], f"{sid}/{name}: point {i} drawn at or above point {j}")

# gallery: the misclassified images, worst (lowest probability of the true class) first
total = int(re.search(r'data-total="(\d+)"', raw).group(1))
shown = int(re.search(r'data-shown="(\d+)"', raw).group(1))
check(total == conf.sum() - np.trace(conf), f"{total} misclassified, the confusion matrix says {conf.sum() - np.trace(conf)}")
check(shown == len(p.figures) and shown <= total, f"{len(p.figures)} figures, {shown} shown of {total}")
pt = [float(g["attrs"]["data-p-true"]) for g in p.figures]
check(pt == sorted(pt), f"gallery not worst first: {pt}")
for g in p.figures:
    t, pr = int(g["attrs"]["data-true"]), int(g["attrs"]["data-pred"])
    check(t != pr, "a correct prediction in the gallery")
    cap = g["caption"]
    check(f"true: {classes[t]} (p=" in cap and f"predicted: {classes[pr]} (p=" in cap, f"caption {cap!r}")
    img = g["img"]
    im = Image.open(io.BytesIO(base64.b64decode(img["src"].split(",", 1)[1], validate=True)))
    check(im.format == "JPEG" and max(im.size) <= 160 and im.size == (int(img["width"]), int(img["height"])),
          f"thumbnail {im.format} {im.size}")
    check(img["alt"] in cap, "alt text is not the file's name")
if expect_in_gallery:
    check(any(expect_in_gallery in g["caption"] for g in p.figures), f"{expect_in_gallery!r} not in the gallery")

if fail:
    print("\n".join("FAIL: " + x for x in fail))
    sys.exit(1)
print(f"report ok: {C} classes, {len(ep)} epochs, {len(st)} steps, {shown} of {total} misclassified shown")
