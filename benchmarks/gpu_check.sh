#!/usr/bin/env bash
# The GPU check (issue 18): one script that, on a machine with one CUDA GPU,
# installs what it needs from wheels carried with the tree, runs every CUDA
# test (`pytest -m cuda`) and every benchmark on CUDA, and prints one
# table. Sized to finish in under 8 minutes on one H100.
#
#   bash benchmarks/gpu_check.sh            # CUDA when available, else CPU
#   bash benchmarks/gpu_check.sh --cpu      # the CPU fallback (small sizes)
#
# Wheels: put them in `.whl/` at the repository root (the device tool's
# README says how to download them for Python 3.12); they are installed
# with `pip --no-index --target /tmp/site` and put first on PYTHONPATH.
# Logs of every step go to $OUT (the device tool's output folder) or
# /tmp/gpu_check, beside `table.md`.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PY=${PYTHON:-python3}
LOGS=${OUT:-/tmp/gpu_check}
mkdir -p "$LOGS"
FORCE_CPU=0
[ "${1:-}" = "--cpu" ] && FORCE_CPU=1

if ls .whl/*.whl >/dev/null 2>&1; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
    --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH="/tmp/site:$ROOT${PYTHONPATH:+:$PYTHONPATH}"
else
  export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONUNBUFFERED=1

DEVICE=cpu
if [ $FORCE_CPU = 0 ] && "$PY" -c 'import torch, sys; sys.exit(not torch.cuda.is_available())' 2>/dev/null; then
  DEVICE=cuda
fi
CARD=$("$PY" -c 'import torch; print(torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU")' 2>/dev/null || echo "no torch")

TABLE="$LOGS/table.md"
printf '| step | s | exit | result (last line of its output) |\n|---|---|---|---|\n' > "$TABLE"
FAILED=0

# step NAME TIMEOUT CMD...: run, log, add a table row.
step() {
  local name=$1 limit=$2; shift 2
  local log="$LOGS/$name.log" start rc last
  start=$(date +%s)
  echo "=== $name: $*" | tee "$log"
  timeout "$limit" "$@" >>"$log" 2>&1
  rc=$?
  last=$(grep -v '^\s*$' "$log" | tail -n 1 | tr '|' '/' | cut -c1-160)
  [ $rc = 0 ] || FAILED=$((FAILED + 1))
  printf '| %s | %d | %d | %s |\n' "$name" $(( $(date +%s) - start )) "$rc" "$last" >> "$TABLE"
  tail -n 3 "$log"
}

if [ $DEVICE = cuda ]; then
  step cuda-tests 150 "$PY" -m pytest tests -m cuda -q -p no:cacheprovider
  for cfg in configs/cam/cam_r50_voc.py configs/pnoc/pnoc_rs269_voc.py; do
    tag=$(basename "$cfg" .py)
    for batch in 8 16; do
      step "train-$tag-b$batch-fp32" 60 "$PY" benchmarks/train_step.py \
        --config "$cfg" --batch $batch --crop 512 --steps 5 --repeats 1 --device cuda
      step "train-$tag-b$batch-amp" 60 "$PY" benchmarks/train_step.py \
        --config "$cfg" --batch $batch --crop 512 --steps 5 --repeats 1 --device cuda --amp --channels-last
    done
  done
  # W-OoD stage 1 (ResNet-50 IRN): 16 ID + 16 OoD images at 512
  step train-woods-r50-b16+16-fp32 60 "$PY" benchmarks/woods_step.py \
    --config configs/woods/woods_r50_voc.py --batch 16 --ood-batch 16 \
    --crop 512 --steps 5 --device cuda
  step train-woods-r50-b16+16-amp 60 "$PY" benchmarks/woods_step.py \
    --config configs/woods/woods_r50_voc.py --batch 16 --ood-batch 16 \
    --crop 512 --steps 5 --device cuda --amp --channels-last
  step crf-500x375 90 "$PY" benchmarks/crf.py --height 375 --width 500 \
    --labels 21 --images 2 --devices cpu cuda
  step rw-512x384-1024x768 90 "$PY" benchmarks/random_walk.py \
    --sizes 512x384 1024x768 --images 2 --device cuda
  step tta-cam-rs269 60 "$PY" benchmarks/cam_inference.py \
    --config configs/cam/cam_rs269_voc.py --images 4 --device cuda
  step tta-cam-rs269-amp 60 "$PY" benchmarks/cam_inference.py \
    --config configs/cam/cam_rs269_voc.py --images 4 --device cuda --amp
else
  # The CPU fallback: the same scripts at sizes a 2-core machine runs in a
  # few minutes (figures not comparable with the CUDA ones).
  step cuda-tests 120 "$PY" -m pytest tests -m cuda -q -p no:cacheprovider
  step train-pnoc-tiny-b8 120 "$PY" benchmarks/train_step.py \
    --config configs/pnoc/pnoc_tiny_synthetic.py --batch 8 --crop 64 \
    --steps 2 --repeats 1 --device cpu
  step train-woods-tiny-b8+8 120 "$PY" benchmarks/woods_step.py \
    --config configs/woods/woods_tiny_synthetic.py --batch 8 --ood-batch 8 \
    --crop 64 --steps 2 --device cpu
  step crf-188x250 120 "$PY" benchmarks/crf.py --height 188 --width 250 \
    --labels 21 --images 1 --devices cpu
  step rw-128x96 120 "$PY" benchmarks/random_walk.py --sizes 128x96 \
    --images 1 --device cpu
  step tta-cam-tiny 120 "$PY" benchmarks/cam_inference.py \
    --config configs/cam/cam_tiny_synthetic.py --height 96 --width 128 \
    --images 2 --device cpu
fi

echo
echo "GPU check on: $CARD (device $DEVICE), $(date -u +%Y-%m-%dT%H:%MZ)"
cat "$TABLE"
exit $(( FAILED > 0 ))
