#!/usr/bin/env bash
# `make bench`, last part: peak memory against the video's length. 1080p videos of 1,000, 5,000 and
# 20,000 frames (the bundled clip five times over, scaled and encoded once, then stream-copied end to
# end; made here, never committed), a 256 px model with random weights (narrow256: every tensor a frame
# brings, 14 ws of 512 and noise maps up to 256x256, with narrow channels so the 20,000-frame runs take
# minutes), `invert` at budget 1 for every method in one session per length (the first run also
# decodes the video once and fills the frame store), then `open` on the finished session in tmux.
# Peak RSS from GNU time (invert) and from /proc/PID/status VmHWM (the UI). Memory flat in the length
# means the 20,000-frame row within a few MB of the 1,000-frame row.
#
#   MEMORY_LENGTHS="1000 5000 20000"  MEMORY_METHODS="naive sequential scene smooth"  MEMORY_DIR=/tmp
set -euo pipefail
bin=${BIN:-.build/release/linstory}
lengths=${MEMORY_LENGTHS:-1000 5000 20000}
methods=${MEMORY_METHODS:-naive sequential scene smooth}
work=$(mktemp -d "${MEMORY_DIR:-/tmp}/linstory-memory.XXXXXX")
tmux_name=linstory-memory-$$
trap 'tmux kill-session -t "$tmux_name" 2>/dev/null || true; rm -rf "$work"' EXIT

"$bin" bench --config narrow256 --write-model "$work/model.safetensors" >/dev/null
for _ in 1 2 3 4 5; do echo "file '$PWD/assets/bbb-cuts.mp4'"; done >"$work/list5.txt"
ffmpeg -nostdin -v error -f concat -safe 0 -i "$work/list5.txt" -vf scale=1920:1080 -c:v libx264 -preset veryfast -crf 23 "$work/base.mp4"
base_frames=$(ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$work/base.mp4")

mb() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
header="frames"
for m in $methods; do header="$header|invert $m"; done
header="$header|open (UI)"
rows=()
echo "Peak RSS (MB) against the video's length: 1080p H.264, narrow256 model (random weights), budget 1, batch 8"
for n in $lengths; do
  copies=$(((n + base_frames - 1) / base_frames))
  for _ in $(seq "$copies"); do echo "file '$work/base.mp4'"; done >"$work/list.txt"
  ffmpeg -nostdin -v error -f concat -safe 0 -i "$work/list.txt" -c copy -frames:v "$n" "$work/video.mp4"
  frames=$(ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$work/video.mp4")
  row="$frames"
  for m in $methods; do
    start=$(date +%s)
    LINSTORY_PROGRESS_INTERVAL=60 /usr/bin/time -f %M -o "$work/rss" "$bin" invert "$work/video.mp4" --model "$work/model.safetensors" \
      --method "$m" --budget 1 --out "$work/session" >"$work/invert.out" 2>"$work/invert.log" || {
      echo "invert --method $m on $frames frames failed:"
      tail -5 "$work/invert.log"
      exit 1
    }
    rss=$(tail -1 "$work/rss")
    echo "  $frames frames, invert $m: $(mb "$rss") MB peak, $(($(date +%s) - start)) s"
    row="$row|$(mb "$rss")"
  done
  # The UI on the finished session: shown, then the cursor sent to the last frame and back, then q.
  tmux kill-session -t "$tmux_name" 2>/dev/null || true
  tmux new-session -d -s "$tmux_name" -x 160 -y 48 "$bin open $work/session; sleep 30"
  ui_pid=
  for _ in $(seq 600); do
    ui_pid=$(pgrep -f "^$bin open $work/session" | head -1 || true)
    if [ -n "$ui_pid" ] && tmux capture-pane -p -t "$tmux_name" | grep -q "frame 0 of $frames"; then break; fi
    sleep 0.2
  done
  tmux send-keys -t "$tmux_name" End
  sleep 3
  tmux send-keys -t "$tmux_name" Home
  sleep 3
  hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$ui_pid/status" 2>/dev/null || echo 0)
  tmux send-keys -t "$tmux_name" q
  sleep 1
  tmux kill-session -t "$tmux_name" 2>/dev/null || true
  echo "  $frames frames, open: $(mb "$hwm") MB peak"
  row="$row|$(mb "$hwm")"
  rows+=("$row")
  rm -rf "$work/session" "$work/video.mp4"
done
echo
printf '%s\n' "$header" "${rows[@]}" | column -t -s '|'
first=${rows[0]}
last=${rows[${#rows[@]} - 1]}
awk -v a="$first" -v b="$last" 'BEGIN {
  n = split(a, x, "|"); split(b, y, "|")
  s = "growth from " x[1] " to " y[1] " frames (MB):"
  for (i = 2; i <= n; i++) s = s " " (y[i] - x[i])
  print s
}'
