#!/usr/bin/python3
"""Checks vkdp's index + split against Keras' algorithm, replicated here with numpy.

Keras (keras/src/utils/dataset_utils.py, image_dataset_from_directory):
  index_directory: class names = sorted non-hidden subfolders (or the given list, in its order);
  per class, tf.io.gfile.walk sorted by root, file names sorted, kept if name.lower() ends with
  one of .bmp .gif .jpeg .jpg .png; classes concatenated in order; then
  np.random.RandomState(seed).shuffle(file_paths) and a fresh RandomState(seed).shuffle(labels);
  get_training_or_validation_split: num_val = int(split * n); training = [:-num_val],
  validation = [-num_val:].
Also checks raw MT19937 draws and RandomState.shuffle of range(n) for several seeds and sizes.
With TRAINER, also checks `trainer dataset` (summary lines, --list training/validation, and a
clear error with a non-zero exit for a missing folder).
usage: data_split_ref.py EXE DATA_DIR [TRAINER]
"""
import os
import subprocess
import sys

import numpy as np

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


def keras_index(directory, class_names=None):
    """index_directory before its shuffle: (file paths, labels) in class, then file name order."""
    subdirs = []
    for subdir in sorted(os.listdir(directory)):
        if os.path.isdir(os.path.join(directory, subdir)) and not subdir.startswith("."):
            subdirs.append(subdir)
    if class_names is not None:
        assert set(class_names).issubset(set(subdirs))
        subdirs = class_names
    class_indices = dict(zip(subdirs, range(len(subdirs))))
    filenames, labels_list = [], []
    for subdir in subdirs:
        dirpath = os.path.join(directory, subdir)
        part = []
        for root, _, files in sorted(os.walk(dirpath, followlinks=True), key=lambda x: x[0]):
            for fname in sorted(files):
                if fname.lower().endswith(ALLOWLIST_FORMATS):
                    rel = os.path.relpath(os.path.join(root, fname), dirpath)
                    part.append(os.path.join(subdir, rel))
        filenames += part
        labels_list.append([class_indices[subdir]] * len(part))
    labels = np.zeros((len(filenames),), dtype="int32")
    i = 0
    for part in labels_list:
        labels[i:i + len(part)] = part
        i += len(part)
    return [os.path.join(directory, f) for f in filenames], labels


def keras_split(directory, seed, validation_split, class_names=None):
    file_paths, labels = keras_index(directory, class_names)
    rng = np.random.RandomState(seed)
    rng.shuffle(file_paths)
    rng = np.random.RandomState(seed)
    rng.shuffle(labels)
    num_val = int(validation_split * len(file_paths))
    n_train = len(file_paths) - num_val
    train = list(zip(file_paths[:n_train], labels[:n_train].tolist()))
    val = list(zip(file_paths[n_train:], labels[n_train:].tolist()))
    return train, val


def run(exe, *args):
    p = subprocess.run([exe, *map(str, args)], capture_output=True, text=True)
    if p.returncode != 0:
        print(p.stderr)
        raise SystemExit(f"FAIL {exe} {' '.join(map(str, args))}: exit status {p.returncode}")
    return p.stdout.split("\n")[:-1]


def main():
    exe, data = sys.argv[1], sys.argv[2].rstrip("/")
    fails = 0
    for seed in (0, 1, 123, 4294967295):
        got = [int(v) for v in run(exe, "mt", seed, 1300)]
        ref = np.random.RandomState(seed).randint(0, 2**32, size=1300, dtype=np.uint64).tolist()
        ok = got == ref
        fails += not ok
        print(f"{'ok' if ok else 'FAIL'} raw MT19937 draws seed={seed} n=1300")
    for seed, n in ((123, 0), (123, 1), (123, 2), (7, 3), (123, 100), (42, 1000), (123, 3670),
                    (99, 65537)):
        got = [int(v) for v in run(exe, "shuffle", seed, n)]
        ref = list(range(n))
        np.random.RandomState(seed).shuffle(ref)
        ok = got == ref
        fails += not ok
        print(f"{'ok' if ok else 'FAIL'} RandomState({seed}).shuffle(list(range({n})))")
    cases = [(123, 0.2, None), (1, 0.5, None), (123, 0.2, ["tulips", "daisy", "roses"])]
    for seed, frac, classes in cases:
        args = ["split", data, seed, frac] + ([",".join(classes)] if classes else [])
        lines = run(exe, *args)
        got_t = [(l.split(" ")[1], int(l.split(" ")[2])) for l in lines if l.startswith("train ")]
        got_v = [(l.split(" ")[1], int(l.split(" ")[2])) for l in lines if l.startswith("val ")]
        ref_t, ref_v = keras_split(data, seed, frac, classes)
        ok = got_t == ref_t and got_v == ref_v
        fails += not ok
        print(f"{'ok' if ok else 'FAIL'} split seed={seed} validation_split={frac} classes={classes}: "
              f"training {len(got_t)} (keras {len(ref_t)}), validation {len(got_v)} "
              f"(keras {len(ref_v)})")
        if not ok:
            for i, (g, r) in enumerate(zip(got_t + got_v, ref_t + ref_v)):
                if g != r:
                    print(f"     first difference at {i}: got {g} keras {r}")
                    break
        if seed == 123 and frac == 0.2 and classes is None and os.path.basename(data) == "flower_photos":
            want = (2936, 734)
            ok = (len(got_t), len(got_v)) == want
            fails += not ok
            print(f"{'ok' if ok else 'FAIL'} flower_photos tutorial split is {want}")
    if len(sys.argv) > 3:
        fails += check_cli(sys.argv[3], data)
    sys.exit(1 if fails else 0)


def check_cli(trainer, data):
    fails = 0
    ref_t, ref_v = keras_split(data, 123, 0.2)
    for subset, ref in (("training", ref_t), ("validation", ref_v)):
        p = subprocess.run([trainer, "dataset", "--data", data, "--seed", "123", "--validation-split",
                            "0.2", "--list", subset], capture_output=True, text=True)
        got = p.stdout.split("\n")[:-1]
        ok = p.returncode == 0 and got == [path for path, _ in ref]
        summary = p.stderr
        ok &= f"Found {len(ref_t) + len(ref_v)} files belonging to" in summary
        ok &= f"Using {len(ref_t)} files for training." in summary
        ok &= f"Using {len(ref_v)} files for validation." in summary
        fails += not ok
        print(f"{'ok' if ok else 'FAIL'} trainer dataset --list {subset}: {len(got)} paths, Keras order")
    p = subprocess.run([trainer, "dataset", "--data", data + "/does-not-exist"], capture_output=True,
                       text=True)
    ok = p.returncode != 0 and "does-not-exist" in p.stderr and "No such file" in p.stderr
    fails += not ok
    print(f"{'ok' if ok else 'FAIL'} trainer dataset on a missing folder: exit {p.returncode}, "
          f"{p.stderr.strip()}")
    return fails


if __name__ == "__main__":
    main()
