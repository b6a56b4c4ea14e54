#!/usr/bin/python3
"""py_repr_check.py FILE: every line "<hex bits of a double> <text>" (test_py_repr's output) must
have text == Python's repr() of that double, the format Keras' CSVLogger writes."""
import struct
import sys

bad = 0
lines = open(sys.argv[1]).read().split("\n")[:-1]
for line in lines:
    bits, got = line.split(" ")
    want = repr(struct.unpack(">d", bytes.fromhex(bits))[0])
    if got != want:
        bad += 1
        if bad < 10:
            print(f"repr mismatch: {bits}: ours {got}, Python {want}")
print(f"{len(lines)} values, {bad} mismatches")
sys.exit(1 if bad or len(lines) < 60000 else 0)
