#!/usr/bin/env bash
# Sharded CAM inference: bash tools/dist_infer_cams.sh CONFIG CHECKPOINT GPUS --out-dir DIR [...]
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
PORT=${PORT:-29501}
PYTHON=${PYTHON:-python}
PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
"$PYTHON" -m torch.distributed.run --nproc_per_node="$GPUS" --master_port="$PORT" \
    "$(dirname "$0")/infer_cams.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "${@:4}"
