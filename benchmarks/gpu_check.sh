#!/usr/bin/env bash
# The GPU check, at most 8 minutes on one GPU: the training benchmark of every registered model on CUDA (seconds per
# pass, per evaluation, peak GPU memory), then one AD-DRL toys run in the paper profile for the time that is left.
# Numbers go to $OUT/gpu_check/ (or ./gpu_check/). Nothing in the package needs a GPU; this only measures one.
#   ADDRL_DATA_DIR: the data folder (default ../shared/data, or shared/data beside the checkout on a device copy)
#   ADDRL_CACHE_DIR: where the text features are cached (carry cache/ so that no encoder is downloaded)
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-.}/gpu_check"; mkdir -p "$out"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
export ADDRL_DATA_DIR="${ADDRL_DATA_DIR:-$( [ -d shared/data ] && echo "$PWD/shared/data" || echo "$PWD/../shared/data")}"
py="${PYTHON:-python3}"
start=$(date +%s); budget=${GPU_CHECK_SECONDS:-480}
"$py" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.__version__, torch.cuda.get_device_name(0))" \
  | tee "$out/device.txt" || { echo "gpu_check: torch sees no CUDA GPU here; nothing measured"; exit 1; }
models=$("$py" -c "from addrl_nb.models.interface import all_models; print(','.join(all_models()))")
timeout $((budget * 6 / 10)) "$py" benchmarks/training.py --models "$models" --passes 2 --device cuda 2>&1 | tee "$out/training.txt"
left=$((budget - ($(date +%s) - start) - 20))
if [ "$left" -gt 60 ]; then   # the paper profile (lr 1e-4, batch 1024) for as long as fits; its checkpoint is kept
  timeout "$left" "$py" -c "from addrl_nb.run.cli import main; main()" train --dataset toys --model addrl --profile paper --device cuda \
    --runs-dir "$out/runs" 2>&1 | tail -n 40 | tee "$out/addrl_paper.txt"
fi
echo "gpu_check: $(( $(date +%s) - start )) s; numbers in $out"
