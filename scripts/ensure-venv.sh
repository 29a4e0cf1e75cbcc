#!/usr/bin/env bash
# Create .venv and install Parley (with the test tools when called with "dev"). Idempotent and quick
# when nothing changed: it reinstalls only when pyproject.toml is newer than the last install.
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-}"
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
  .venv/bin/pip install --quiet --upgrade pip
fi
stamp=".venv/.installed${extra:+-$extra}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  if [ "$extra" = "dev" ]; then
    .venv/bin/pip install --quiet -e '.[dev]'
  else
    .venv/bin/pip install --quiet -e .
  fi
  touch "$stamp"
fi
