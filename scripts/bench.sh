#!/usr/bin/env bash
# `make bench`: linstory's timings beside the PyTorch reference's, measured in one run with the same
# thread count. The PyTorch side runs only when a Python with torch, numpy and safetensors is found.
set -euo pipefail
bin=.build/release/linstory
shared=${SHARED:-../shared}
threads=${THREADS:-2}
py=${TORCH_PYTHON:-}
if [ -z "$py" ]; then
  for candidate in "$HOME/.venvs/torchref/bin/python" python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import torch, numpy, safetensors' 2>/dev/null; then
      py=$candidate
      break
    fi
  done
fi
ref=$(mktemp)
trap 'rm -f "$ref"' EXIT
if [ -n "$py" ] && [ -f "$shared/bench/torch_reference.py" ]; then
  echo "PyTorch reference: $py ($("$py" -c 'import torch; print(torch.__version__)'))"
  for cfg in default64 paper256; do
    "$py" "$shared/bench/torch_reference.py" --time "$cfg" --threads "$threads" --batch 1,8 --reps 5 >>"$ref"
  done
  "$bin" bench --config default64 paper256 --batch 1,8 --threads "$threads" --reps 5 --reference "$ref"
else
  echo "PyTorch reference: not found (make torch-venv, or TORCH_PYTHON=/path/to/python); linstory alone:"
  "$bin" bench --config default64 paper256 --batch 1,8 --threads "$threads" --reps 5
fi
