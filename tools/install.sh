#!/usr/bin/env bash
# Install mmwsss and its pinned OpenMMLab stack into a virtual environment.
#
#   bash tools/install.sh            # runtime only
#   bash tools/install.sh --tests    # runtime + test requirements
#
# Idempotent: a second run checks a stamp and returns in seconds.
# Environment:
#   MMWSSS_VENV       venv folder            (default: <repo>/.venv)
#   MMWSSS_WHEELHOUSE cache of built wheels  (default: ~/.cache/mmwsss/wheels)
#   PYTHON            interpreter for the venv (default: python3)
#   FORCE_CUDA=1      build mmcv's CUDA ops too (needs nvcc; GPU machines)
#
# Order matters: torch first, then mmcv 2.1.0 compiled from its sdist with its
# ops (no prebuilt wheel exists for this torch; mmseg 1.2.2 needs mmcv<2.2 and
# mmcv._ext), then the rest of the stack, then mmwsss itself (editable).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${MMWSSS_VENV:-$ROOT/.venv}
WHEELHOUSE=${MMWSSS_WHEELHOUSE:-$HOME/.cache/mmwsss/wheels}
PYTHON=${PYTHON:-python3}
TORCH_VERSION=2.14.1
TORCHVISION_VERSION=0.29.1
MMCV_VERSION=2.1.0
WITH_TESTS=0
for arg in "$@"; do
  case "$arg" in
    --tests) WITH_TESTS=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument '$arg' (use --tests or --help)" >&2; exit 2 ;;
  esac
done

log() { printf '[install] %s\n' "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
  log "creating virtual environment $VENV"
  "$PYTHON" -m venv "$VENV"
fi
VPY="$VENV/bin/python"
CONSTRAINTS="$ROOT/requirements/constraints.txt"
# -q hides progress; grep drops the local mirror's noise about absent folders.
pipi() {
  "$VPY" -m pip install --disable-pip-version-check -q -c "$CONSTRAINTS" "$@" 2>&1 \
    | { grep -v "is ignored: it is neither a file nor a directory" || true; }
  return "${PIPESTATUS[0]}"
}

# Stamp: hash of everything that decides the environment's content.
stamp_file="$VENV/.mmwsss-install-stamp"
stamp=$(cat "$ROOT/requirements/"*.txt "$ROOT/setup.py" "$0" | sha256sum | cut -c1-16)-tests$WITH_TESTS
if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp" ] \
   && "$VPY" -c "import mmcv._ext, mmseg.models, mmpretrain.models, mmwsss" >/dev/null 2>&1; then
  log "environment up to date ($VENV)"
  exit 0
fi
rm -f "$stamp_file"

log "build tools"
pipi -r "$ROOT/requirements/build.txt"

log "torch $TORCH_VERSION + torchvision $TORCHVISION_VERSION"
pipi "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"

have_mmcv_ops() {
  "$VPY" - <<EOF >/dev/null 2>&1
import mmcv, mmcv._ext
assert mmcv.__version__ == '$MMCV_VERSION'
EOF
}

if have_mmcv_ops; then
  log "mmcv $MMCV_VERSION with ops already installed"
else
  # mmcv's runtime deps (installed --no-deps below, so list them here).
  pipi addict packaging pyyaml yapf pillow "numpy<2.5" opencv-python-headless "mmengine==0.10.7"
  cuda_tag=cpu
  [ "${FORCE_CUDA:-0}" = "1" ] && cuda_tag=cuda
  cache="$WHEELHOUSE/torch-$TORCH_VERSION-$cuda_tag-$("$VPY" -c 'import sys;print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"
  wheel=$(ls "$cache"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n1 || true)
  if [ -z "$wheel" ]; then
    log "compiling mmcv $MMCV_VERSION with ops from source (about 11 min on 2 cores; cached afterwards in $cache)"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    "$VPY" -m pip download --disable-pip-version-check -q --no-deps --no-binary :all: \
      --no-build-isolation -d "$work" "mmcv==$MMCV_VERSION" 2>&1 \
      | { grep -v "is ignored: it is neither a file nor a directory" || true; }
    tar -xzf "$work"/mmcv-"$MMCV_VERSION".tar.gz -C "$work"
    src="$work/mmcv-$MMCV_VERSION"
    # torch >= 2.14 headers need C++20; mmcv 2.1.0 hard-codes -std=c++17.
    sed -i 's/-std=c++17/-std=c++20/g' "$src/setup.py"
    mkdir -p "$cache"
    (cd "$src" && MMCV_WITH_OPS=1 FORCE_CUDA="${FORCE_CUDA:-0}" MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
      "$VPY" -m pip wheel --disable-pip-version-check -q --no-build-isolation --no-deps -w "$work/dist" .)
    cp "$work"/dist/mmcv-*.whl "$cache/"
    wheel=$(ls "$cache"/mmcv-"$MMCV_VERSION"-*.whl | head -n1)
  fi
  log "installing $wheel"
  pipi --no-deps --force-reinstall "$wheel"
  have_mmcv_ops || { echo "install.sh: mmcv $MMCV_VERSION installed but 'import mmcv._ext' fails" >&2; exit 1; }
fi

log "OpenMMLab stack and runtime requirements"
pipi -r "$ROOT/requirements/runtime.txt"
if [ "$WITH_TESTS" = "1" ]; then
  log "test requirements"
  pipi -r "$ROOT/requirements/tests.txt"
fi

log "mmwsss (editable)"
pipi --no-build-isolation --no-deps -e "$ROOT"

"$VPY" - <<'EOF'
import mmcv, mmcv._ext, mmengine, mmseg, mmseg.models, mmpretrain, torch, mmwsss
print(f'[install] ok: torch {torch.__version__}, mmcv {mmcv.__version__} (ops), '
      f'mmengine {mmengine.__version__}, mmseg {mmseg.__version__}, '
      f'mmpretrain {mmpretrain.__version__}, mmwsss {mmwsss.__version__}')
EOF
echo "$stamp" > "$stamp_file"
