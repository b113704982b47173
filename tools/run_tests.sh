#!/usr/bin/env bash
# README command 2: install everything (with test requirements), then run
# the test suite. Extra arguments go to pytest.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/tools/install.sh" --tests
cd "$ROOT"
exec "${MMWSSS_VENV:-$ROOT/.venv}/bin/python" -m pytest tests "$@"
