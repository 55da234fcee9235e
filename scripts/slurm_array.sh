#!/usr/bin/env bash
# One evalkit run split over a Slurm job array: task K of N runs shard K/N, and a last job that
# depends on the whole array merges the shards into rows (and is the only one that appends to
# the leaderboard). Every task writes into the same run folder, so --out must be on a filesystem
# all nodes share. A task that dies is resubmitted as is: it resumes its own shard.
#
#   sbatch scripts/slurm_array.sh                      # 8 shards of the example below
#   BENCH=imagenet-rfid MODEL=taef2 ARGS="-O data=/data/imagenet/val" sbatch --array=0-15 \
#       scripts/slurm_array.sh
#
#SBATCH --job-name=evalkit-shard
#SBATCH --array=0-7
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=8
#SBATCH --time=01:00:00
#SBATCH --output=slurm-%A_%a.out
set -euo pipefail
BENCH="${BENCH:-imagenet-rfid}"
MODEL="${MODEL:-taef2}"
ARGS="${ARGS:--O data=/path/to/imagenet/val}"
OUT="${OUT:-$PWD/evalkit-results}"
BATCH="${BATCH:-64}"                      # every shard of a split must use the same batch size
N="${SLURM_ARRAY_TASK_COUNT:?run through sbatch --array}"
K="$SLURM_ARRAY_TASK_ID"
[[ "${SLURM_ARRAY_TASK_MIN:-0}" == 0 ]] || { echo "use --array=0-(N-1)" >&2; exit 2; }

LOG="$(mktemp)"
# shellcheck disable=SC2086  # ARGS holds several words on purpose
evalkit run "$BENCH" --model "$MODEL" $ARGS --batch-size "$BATCH" --out "$OUT" --shard "$K/$N" \
  2>&1 | tee "$LOG"

# The last task submits the merge, to start once every task of the array has succeeded.
if [[ "$K" == "$((N - 1))" ]]; then
  RUN_DIR="$(sed -n 's/^when every shard is done: evalkit merge //p' "$LOG")"
  sbatch --dependency="afterok:${SLURM_ARRAY_JOB_ID}" --job-name=evalkit-merge \
         --gres=gpu:0 --wrap="evalkit merge '$RUN_DIR'"
fi
rm -f "$LOG"
