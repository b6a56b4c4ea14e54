#!/usr/bin/python3
"""Training curves from a vkdp checkpoint: loss and accuracy per epoch, training vs validation
(the two plots of the Keras transfer-learning tutorial).

usage: /usr/bin/python3 launch/plot_metrics.py CHECKPOINT.h5 [-o curves.png] [--steps]

Reads /metrics/epoch (and, with --steps, /metrics/step as a faint per-step training curve).
Needs Debian's python3-h5py and python3-matplotlib (launch/install-deps.sh); renders without a
display (Agg backend)."""
import argparse
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import h5py  # noqa: E402
import numpy as np  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint", help="checkpoint .h5 written by `trainer train` (or latest.h5)")
    ap.add_argument("-o", "--output", default="curves.png", help="PNG to write (default curves.png)")
    ap.add_argument("--steps", action="store_true", help="also draw per-step training loss/accuracy")
    args = ap.parse_args()

    try:
        f = h5py.File(args.checkpoint, "r")
    except OSError as e:
        sys.exit("plot_metrics: %s: cannot open as HDF5: %s" % (args.checkpoint, e))
    with f:
        if "metrics/epoch" not in f:
            sys.exit("plot_metrics: %s: no /metrics/epoch table (not a vkdp checkpoint?)" % args.checkpoint)
        ep = f["metrics/epoch"][()]
        steps = f["metrics/step"][()] if args.steps and "metrics/step" in f else None
        spe = int(f["state"].attrs["steps_per_epoch"]) if "state" in f else 0
        classes = [str(c) for c in f["config"].attrs.get("class_names", [])] if "config" in f else []
    if len(ep) == 0:
        sys.exit("plot_metrics: %s: /metrics/epoch is empty (no epoch completed yet)" % args.checkpoint)

    x = ep["epoch"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, key, title in ((axes[0], "accuracy", "Accuracy"), (axes[1], "loss", "Loss")):
        if steps is not None and len(steps) and spe > 0:
            ax.plot(steps["step"] / spe, steps[key], color="tab:blue", alpha=0.25, lw=0.8,
                    label="Training (per step)")
        ax.plot(x, ep[key], "o-", color="tab:blue", label="Training " + key)
        val = ep["val_" + key]
        if np.isfinite(val).any():
            ax.plot(x, val, "s-", color="tab:orange", label="Validation " + key)
        ax.set_title("Training and Validation " + title)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right" if key == "accuracy" else "upper right")
    if classes:
        fig.suptitle("%s (%d classes)" % (args.checkpoint, len(classes)), fontsize=9)
    fig.tight_layout()
    fig.savefig(args.output, dpi=100)
    print("plot_metrics: wrote %s (%d epochs)" % (args.output, len(ep)))


if __name__ == "__main__":
    main()
