#!/usr/bin/env bash
# On the GPU machine (see prepare_minilm.sh): fine-tunes MiniLM on TREC-6 with the documented recipe
# (AdamW 5e-5, batch 16, 2 epochs, warm-up 0.1, seed 1), tagkit first, then Flair 0.15.1, each in
# its own process; each prints one JSON line (epoch seconds, test accuracy, prediction rate, peak
# GPU memory) into $OUT/minilm-gpu.jsonl. Exit status: tagkit's.
set -uo pipefail
G=$PWD/.gpu-minilm
OUT=${OUT:-/tmp}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__, 'cuda', torch.cuda.is_available())"
python3 - "$G/minilm" <<'PY'
import sys
from pathlib import Path
import torch
from safetensors.torch import load_file, save_file
folder = Path(sys.argv[1])
tensors = {k: v.to(torch.float32) if v.is_floating_point() else v
           for k, v in load_file(folder / "model.f16.safetensors").items()}
save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
(folder / "model.f16.safetensors").unlink()
PY
editable=(-e .)
for plugin in tagkit_plugins/*/; do editable+=(-e "$plugin"); done
python3 -m pip install -q --no-deps --no-build-isolation "${editable[@]}" 2>&1 | grep -v WARNING
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site "$G"/whl/*.whl 2>&1 | grep -v WARNING
python3 "$G/patch_flair.py" /tmp/site
# transformers 5 dropped add_special_tokens' replace_additional_special_tokens (Flair 0.15.1 passes
# False, which is what 5 does anyway).
# And in transformers 5 LayoutLMTokenizer is BertTokenizer, so Flair's isinstance test took MiniLM
# for a LayoutLM model that needs OCR boxes; test the class name instead.
sed -i -e 's/, replace_additional_special_tokens=False//' \
  -e 's/self.needs_manual_ocr = isinstance(self.tokenizer, (LayoutLMTokenizer, LayoutLMTokenizerFast))/self.needs_manual_ocr = type(self.tokenizer).__name__.startswith("LayoutLM")/' \
  /tmp/site/flair/embeddings/transformer.py
export TAGKIT_MINILM_DIR=$G/minilm TAGKIT_DATASETS_MIRROR=$G/datasets TAGKIT_CACHE_DIR=/tmp/tagkit-cache PYTHONUNBUFFERED=1
status=0
if [ -z "${SKIP_TAGKIT:-}" ]; then  # SKIP_TAGKIT=1: Flair's run only
  python3 benchmarks/trec_tagkit.py --recipe minilm --warmup-fraction 0.1 --out /tmp/tk-minilm 2>&1 \
    | tee "$OUT/tagkit.log" | grep -E '^epoch|^done|Error|error' ; status=${PIPESTATUS[0]}
  tail -1 "$OUT/tagkit.log" >> "$OUT/minilm-gpu.jsonl"
fi
PYTHONPATH=/tmp/site:$G/stubs FLAIR_CACHE_ROOT=$G/flaircache \
  python3 benchmarks/trec_flair.py --recipe minilm --warmup-fraction 0.1 --out /tmp/flair-minilm 2>&1 \
  | tee "$OUT/flair.log" | grep -E 'EPOCH|Error|error' | tail -8
tail -1 "$OUT/flair.log" >> "$OUT/minilm-gpu.jsonl"
python3 -m pytest -q -p no:cacheprovider tagkit_plugins/storage/tests/test_gpu_storage.py tagkit_plugins/transformers/tests/test_cls_only.py 2>&1 | tail -3
cat "$OUT/minilm-gpu.jsonl"
exit "$status"
