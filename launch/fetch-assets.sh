#!/usr/bin/env bash
# Puts the flower_photos data set and the Keras EfficientNetB0 ImageNet weights where `trainer`
# looks by default: data/flower_photos/ and weights/efficientnetb0_notop.h5 (under --dest, default
# the current directory).
#
#   bash launch/fetch-assets.sh                 # download from the official URLs (needs internet)
#   bash launch/fetch-assets.sh --from ../shared  # link from a folder laid out as
#                                               #   DIR/data/flower_photos/  DIR/weights/efficientnetb0_notop.h5
#
# Downloaded weights are checked against the MD5 that Keras publishes for efficientnetb0_notop.h5.
# Linked weights are used as they are (a re-exported file with the same tensors has other bytes).
set -euo pipefail

FLOWERS_URL="https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz"
WEIGHTS_URL="https://storage.googleapis.com/keras-applications/efficientnetb0_notop.h5"
WEIGHTS_MD5="50bc09e76180e00e4465e1a485ddc09d"

from=""
dest="."
while [ $# -gt 0 ]; do
  case "$1" in
    --from) from="$2"; shift 2 ;;
    --dest) dest="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fetch-assets: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

mkdir -p "$dest/data" "$dest/weights"
data="$dest/data/flower_photos"
weights="$dest/weights/efficientnetb0_notop.h5"

if [ -n "$from" ]; then
  from="$(cd "$from" && pwd)" || { echo "fetch-assets: --from $from: no such directory" >&2; exit 1; }
  [ -d "$from/data/flower_photos" ] || { echo "fetch-assets: $from/data/flower_photos is missing" >&2; exit 1; }
  [ -f "$from/weights/efficientnetb0_notop.h5" ] || { echo "fetch-assets: $from/weights/efficientnetb0_notop.h5 is missing" >&2; exit 1; }
  [ -e "$data" ] || ln -s "$from/data/flower_photos" "$data"
  [ -e "$weights" ] || ln -s "$from/weights/efficientnetb0_notop.h5" "$weights"
  echo "fetch-assets: linked $data -> $from/data/flower_photos"
  echo "fetch-assets: linked $weights -> $from/weights/efficientnetb0_notop.h5"
  exit 0
fi

command -v curl >/dev/null || { echo "fetch-assets: curl is required (bash launch/install-deps.sh)" >&2; exit 1; }
if [ ! -d "$data" ]; then
  tmp="$(mktemp -d "$dest/data/.fetch.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  echo "fetch-assets: downloading $FLOWERS_URL"
  curl -fL --retry 3 -o "$tmp/flower_photos.tgz" "$FLOWERS_URL"
  tar -xzf "$tmp/flower_photos.tgz" -C "$tmp"
  mv "$tmp/flower_photos" "$data"
  rm -rf "$tmp"; trap - EXIT
fi
if [ ! -f "$weights" ]; then
  echo "fetch-assets: downloading $WEIGHTS_URL"
  curl -fL --retry 3 -o "$weights.part" "$WEIGHTS_URL"
  sum="$(md5sum "$weights.part" | cut -d' ' -f1)"
  if [ "$sum" != "$WEIGHTS_MD5" ]; then
    rm -f "$weights.part"
    echo "fetch-assets: $WEIGHTS_URL has MD5 $sum, expected $WEIGHTS_MD5 (Keras' published hash); refusing it" >&2
    exit 1
  fi
  mv "$weights.part" "$weights"
fi
echo "fetch-assets: data in $data, weights in $weights"
