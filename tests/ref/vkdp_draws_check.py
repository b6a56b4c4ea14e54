#!/usr/bin/python3
"""tests/bench/vkdp_draws.py (the peer's replay of vkdp's random draws, torch_finetune.py
--vkdp-draws) against the C draws, bit for bit: each epoch's order of the training list, the
head's initial kernel, the head's dropout keep bits and the drop-connect scales, as
tests/test_draws_dump prints them. (The augmentation's parameters, the fourth kind the replay
uses, are augment_ref.py's draw(), which augment_vs_numpy checks against the C draws.)
usage: vkdp_draws_check.py TEST_DRAWS_DUMP"""
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
import vkdp_draws as d  # noqa: E402


def dump(exe, *args):
    p = subprocess.run([exe, *map(str, args)], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"FAIL {exe} {' '.join(map(str, args))}: exit status {p.returncode}\n{p.stderr}")
    return p.stdout.split()


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    exe = sys.argv[1]
    fails = 0

    def check(what, same):
        nonlocal fails
        print(f"{'ok' if same else 'FAIL'}   {what}")
        fails += not same

    for seed, epoch, n in ((123, 0, 2936), (123, 3, 2936), (1, 2, 2936), (4294967295, 1, 1000), (7, 0, 1)):
        got = [int(v) for v in dump(exe, "order", seed, epoch, n)]
        check(f"epoch order: seed {seed} epoch {epoch}, {n} items", got == d.epoch_order(n, seed, epoch))
    for seed, f, c in ((123, 1280, 5), (1, 1280, 5), (4294967295, 96, 3)):
        got = np.array([float.fromhex(v) for v in dump(exe, "kernel", seed, f, c)], dtype=np.float32)
        ref = d.head_kernel(seed, f, c).ravel()
        check(f"head kernel: seed {seed}, [{f}, {c}]", np.array_equal(got.view(np.uint32), ref.view(np.uint32)))
    for seed, epoch, pos0, count in ((123, 0, 0, 32), (123, 3, 2904, 32), (1, 2, 2**32 - 5, 10)):
        got = np.array([[ch == "1" for ch in row] for row in dump(exe, "dropout", seed, epoch, pos0, count, 1280)])
        ref = d.head_dropout_mask(np.arange(pos0, pos0 + count, dtype=np.uint64), epoch, seed, 1280) != 0
        check(f"head dropout keep bits: seed {seed} epoch {epoch} positions {pos0}..+{count}, 1280 features",
              got.shape == ref.shape and np.array_equal(got, ref))
    for seed, rate, epoch, block in ((123, 0.2, 2, 12), (123, 0.2, 3, 14), (1, 0.5, 2, 13), (123, 0.2, 2, 0)):
        got = np.array([float.fromhex(v) for v in dump(exe, "dropconnect", seed, rate, epoch, 0, 2936, block)],
                       dtype=np.float32)
        ref = d.drop_connect_scales(np.arange(2936), epoch, seed, block, rate)
        check(f"drop-connect scales: seed {seed} rate {rate} epoch {epoch} block {block}, 2936 positions "
              f"({int((ref == 0).sum())} dropped)", np.array_equal(got.view(np.uint32), ref.view(np.uint32)))
    if fails:
        sys.exit(f"{fails} check(s) failed")
    print("all draws equal")


if __name__ == "__main__":
    main()
