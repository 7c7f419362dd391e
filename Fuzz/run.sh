#!/bin/bash
# Runs both fuzz targets for $1 seconds each (default 300), side by side, from copies of seeds/.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-300}
bin=.build/release
mkdir -p work/pickle work/safetensors artifacts
cp -n seeds/pickle/* work/pickle/ 2>/dev/null || true
cp -n seeds/safetensors/* work/safetensors/ 2>/dev/null || true
"$bin/PickleFuzz" work/pickle -max_total_time="$seconds" -max_len=16384 -rss_limit_mb=3072 -timeout=10 \
    -artifact_prefix=artifacts/pickle- -print_final_stats=1 > pickle.log 2>&1 &
"$bin/SafeTensorsFuzz" work/safetensors -max_total_time="$seconds" -max_len=8192 -rss_limit_mb=3072 -timeout=10 \
    -artifact_prefix=artifacts/safetensors- -print_final_stats=1 > safetensors.log 2>&1 &
wait
tail -n 12 pickle.log safetensors.log
