#!/usr/bin/env bash
# The backbone's layer list that --fine-tune-from and --trainable-top count on must be the weights
# file's layer_names attribute (Keras' model.layers order), name for name.
# usage: finetune_layer_names.sh TEST_FINETUNE_PLAN PYTHON WEIGHTS.h5
set -euo pipefail
ours=$("$1" names)
keras=$("$2" -c 'import h5py, sys
print("\n".join(n.decode() for n in h5py.File(sys.argv[1], "r").attrs["layer_names"]))' "$3")
if ! diff <(echo "$ours") <(echo "$keras"); then
  echo "FAIL: layer names differ from $3's layer_names (< ours, > the file)" >&2
  exit 1
fi
echo "ok: $(echo "$ours" | wc -l) layer names equal $3's layer_names"
