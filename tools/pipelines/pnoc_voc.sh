#!/usr/bin/env bash
# The whole P-NOC pipeline on Pascal VOC 2012 + SBD (configs/pipelines/pnoc_voc.py):
#   bash tools/pipelines/pnoc_voc.sh DATA_ROOT WORK_DIR GPUS [run_pipeline.py options]
# e.g. bash tools/pipelines/pnoc_voc.sh data/VOCdevkit/VOC2012 work_dirs/pnoc_voc 8
# Finished stages are skipped; --from STAGE reruns from a stage on; --list
# shows the stages; --dry-run prints the commands.
set -euo pipefail
if [ $# -lt 3 ]; then
    sed -n '2,7p' "$0" >&2
    exit 2
fi
DATA_ROOT=$1
WORK_DIR=$2
GPUS=$3
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PYTHON=${PYTHON:-python}
cd "$ROOT"
exec "$PYTHON" tools/run_pipeline.py configs/pipelines/pnoc_voc.py \
    --data-root "$DATA_ROOT" --work-dir "$WORK_DIR" --gpus "$GPUS" "${@:4}"
