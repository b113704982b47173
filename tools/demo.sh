#!/usr/bin/env bash
# README command 1: install everything, then run the demo pipeline on the
# embedded synthetic data (CPU). Extra arguments go to tools/demo.py.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/tools/install.sh"
cd "$ROOT"
exec "${MMWSSS_VENV:-$ROOT/.venv}/bin/python" tools/demo.py "$@"
