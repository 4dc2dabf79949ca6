#!/usr/bin/env bash
# Install portabench and the three frameworks on a fresh CPU machine (idempotent).
#   scripts/install.sh          frameworks + portabench
#   scripts/install.sh --test   also the test tools and Debian's chromium for the browser test
# On a machine whose Python already has a framework build (e.g. CUDA torch), run only
# `pip install -e .` instead (it adds the small modules torch's test metadata needs: expecttest,
# hypothesis): this script installs torch 2.13.0 from PyPI. Every install step is printed with pip's output.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# Not --quiet: the frameworks are multi-GB downloads; pip's own progress shows what is being fetched.
pip_install() {
  echo "install.sh: pip install $*" >&2
  "$PY" -m pip install --disable-pip-version-check --root-user-action=ignore "$@"
}

# torch first: the CPU wheel; anything installed before it could pull multi-GB CUDA builds.
"$PY" -c "import torch" 2>/dev/null || pip_install "torch==2.13.0"
"$PY" -c "import jax" 2>/dev/null || pip_install jax jaxlib
"$PY" -c "import tensorflow" 2>/dev/null || pip_install tensorflow-cpu
if [[ "${1:-}" == "--test" ]]; then
  pip_install -e ".[torch,jax,tensorflow,parquet,test]"
  if ! command -v chromium >/dev/null && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "install.sh: apt-get install chromium chromium-driver (for the browser test)" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
      || echo "install.sh: chromium could not be installed; the browser test will be skipped" >&2
  fi
else
  pip_install -e ".[torch,jax,tensorflow,parquet]"
fi
