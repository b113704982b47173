#!/usr/bin/env bash
# README command 2: install everything (with test requirements), then run
# the test suite. Extra arguments go to pytest.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/tools/install.sh" --tests
cd "$ROOT"
# One OpenMP thread per process: the tests' tiny models gain nothing from
# more, and competing threads (pytest, tool subprocesses, data workers) on a
# 2-core machine cost 5-20x. Override by exporting OMP_NUM_THREADS.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
exec "${MMWSSS_VENV:-$ROOT/.venv}/bin/python" -m pytest tests "$@"
