#!/usr/bin/env bash
# Rebuild the published leaderboards in leaderboards/ from real runs on the embedded data, then
# their tables and the site's screenshot. Offline: codecs need nothing, taef2 ships in the
# package, the TokBench-mini judges (rapidocr, dlib) come from PyPI packages.
# Usage: scripts/publish_leaderboards.sh [python]   (default: .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:-.venv/bin/python}"
EK=("$PY" -m evalkit)
OUT="$(mktemp -d)/runs"
rm -f leaderboards/recon.parquet leaderboards/tokbench-mini.parquet
"${EK[@]}" run recon --out "$OUT" --leaderboard-dir leaderboards \
  --model 'identity,resize-x{2,4},jpeg-q{10..90..10},webp-q{10..90..10},taef2'
for res in 256 512 1024; do
  "${EK[@]}" run tokbench-mini --resolution "$res" --out "$OUT" --leaderboard-dir leaderboards \
    --model 'resize,jpeg-q{10,50},resize-x4,taef2'
done
for b in recon tokbench-mini; do
  "${EK[@]}" leaderboard render "$b" --output "leaderboards/$b.md"
done
