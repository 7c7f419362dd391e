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
if [ -n "$py" ] && [ -f "$shared/bench/torch_reference.py" ]; then
  echo "PyTorch reference: $py ($("$py" -c 'import torch; print(torch.__version__)')), timed right before linstory on each configuration and batch"
  "$bin" bench --config default64 paper256 --batch 1,8 --threads "$threads" --reps 5 \
    --torch-python "$py" --torch-script "$shared/bench/torch_reference.py"
else
  echo "PyTorch reference: not found (make torch-venv, or TORCH_PYTHON=/path/to/python); linstory alone:"
  "$bin" bench --config default64 paper256 --batch 1,8 --threads "$threads" --reps 5
fi

# Scene detection: `linstory detect` against PySceneDetect's `detect-adaptive`, both as whole commands
# (start-up, decoding and the CSV written included) on the same clip: the sample clip ten times over
# (2,020 frames). Median of 5 runs, in frames per second. PySceneDetect runs only when `scenedetect`
# is on the PATH (or SCENEDETECT names it); it is never a dependency of linstory (README: Speed).
detect_dir=$(mktemp -d)
trap 'rm -rf "$detect_dir"' EXIT
for _ in 1 2 3 4 5 6 7 8 9 10; do echo "file '$PWD/assets/bbb-cuts.mp4'"; done >"$detect_dir/list.txt"
ffmpeg -nostdin -v error -f concat -safe 0 -i "$detect_dir/list.txt" -c copy "$detect_dir/long.mp4"
detect_frames=$(ffprobe -v error -select_streams v:0 -show_entries stream=nb_frames -of csv=p=0 "$detect_dir/long.mp4")
# Median wall time of 5 runs of the command given, in seconds.
median_seconds() {
  for _ in 1 2 3 4 5; do
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f\n", b - a }'
  done | sort -n | sed -n 3p
}
fps_of() { awk -v n="$detect_frames" -v s="$1" 'BEGIN { printf "%.0f", n / s }'; }
echo
echo "Scene detection, $detect_frames frames of 640x360 H.264 (assets/bbb-cuts.mp4 x10), median of 5 whole runs:"
linstory_s=$(median_seconds "$bin" detect "$detect_dir/long.mp4" --quiet --format csv -o "$detect_dir/linstory.csv")
linstory_cuts=$("$bin" detect "$detect_dir/long.mp4" --quiet --format json | grep -c '"frame"' || true)
printf '  %-50s %6s frames/s  (%s cuts)\n' "linstory detect" "$(fps_of "$linstory_s")" "$linstory_cuts"
scenedetect=${SCENEDETECT:-scenedetect}
if command -v "$scenedetect" >/dev/null 2>&1; then
  sd_s=$(median_seconds "$scenedetect" -q -i "$detect_dir/long.mp4" -o "$detect_dir" detect-adaptive list-scenes -f sd.csv)
  sd_cuts=$(($(wc -l <"$detect_dir/sd.csv") - 3))
  printf '  %-50s %6s frames/s  (%s cuts)\n' "PySceneDetect $("$scenedetect" version 2>/dev/null | grep -o 'PySceneDetect [0-9.]*' | head -1 | cut -d' ' -f2) detect-adaptive list-scenes" \
    "$(fps_of "$sd_s")" "$sd_cuts"
  awk -v a="$sd_s" -v b="$linstory_s" 'BEGIN { printf "  linstory is %.2fx as fast\n", a / b }'
else
  echo "  PySceneDetect: not found (pip install scenedetect opencv-python-headless in a throw-away venv, then SCENEDETECT=/path/to/scenedetect)"
fi

# A film's one decode at 1080p: the sample clip five times over, scaled to 1920x1080 here (never
# committed); a bare ffmpeg decode, detection, and detection filling the frame store at 256 px.
echo
head -5 "$detect_dir/list.txt" >"$detect_dir/list5.txt"
ffmpeg -nostdin -v error -f concat -safe 0 -i "$detect_dir/list5.txt" -vf scale=1920:1080 -c:v libx264 -preset veryfast -crf 20 "$detect_dir/film1080.mp4"
echo "The film's one decode (1080p H.264):"
if command -v "$scenedetect" >/dev/null 2>&1; then
  "$bin" bench --decode "$detect_dir/film1080.mp4" --resolution 256 --reps 3 --scenedetect "$(command -v "$scenedetect")"
else
  "$bin" bench --decode "$detect_dir/film1080.mp4" --resolution 256 --reps 3
fi

# The sequential method in real time: frames per second within scenes and over the clip, and its
# PSNR against naive at naive's default budget (naive on every 10th frame).
echo
"$bin" bench --sequential --warm-steps 2,2.5,2.75,3,4 --first-steps 500 --threads "$threads"

# Memory against the video's length (issue 16): peak RSS of invert (every method) and of the UI on
# 1,000 / 5,000 / 20,000-frame 1080p videos with a 256 px model. Hours on 2 cores: MEMORY_LENGTHS and
# MEMORY_METHODS choose less (see scripts/bench-memory.sh); MEMORY_LENGTHS=none skips it.
echo
if [ "${MEMORY_LENGTHS:-}" != none ]; then BIN="$bin" bash scripts/bench-memory.sh; fi
