#!/usr/bin/env bash
# Sharded random walk: bash tools/dist_infer_rw.sh CONFIG CHECKPOINT NPROC --cam-dir CAMS --out-dir RW [...]
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
PORT=${PORT:-29502}
PYTHON=${PYTHON:-python}
PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
"$PYTHON" -m torch.distributed.run --nproc_per_node="$GPUS" --master_port="$PORT" \
    "$(dirname "$0")/infer_rw.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "${@:4}"
