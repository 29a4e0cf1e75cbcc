#!/usr/bin/env bash
# Create .venv and install Parley (with the test tools when called with "dev"), then compile the
# hot path's modules (scripts/build_native.py). Idempotent and quick when nothing changed: it
# reinstalls only when pyproject.toml is newer than the last install, and recompiles only when a
# compiled module's source changed.
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
    .venv/bin/pip install --quiet -e '.[dev,native]'
  else
    .venv/bin/pip install --quiet -e '.[native]'
  fi
  touch "$stamp"
fi
if ! .venv/bin/python scripts/build_native.py; then
  # Without a compiler Parley still runs, as pure Python; the checks insist on the compiled build.
  if [ "$extra" = "dev" ]; then exit 1; fi
fi
