#!/usr/bin/env bash
# Installs the Debian packages linstory needs, only those that are missing.
# Idempotent: when everything is present it only runs `dpkg -s` and exits.
set -euo pipefail

packages=(
  libopenblas0-pthread   # BLAS, opened at run time so the kernel can be chosen first
  libpng-dev             # PNG frames in and out
  zlib1g-dev             # deflate inside .npz and .pt archives
  libncurses-dev         # ncursesw for the terminal UI
  ffmpeg                 # video in and out, as a subprocess
  pkg-config
  # UI tests (../shared/terminal-testing.md): ImageMagick decodes sixel and compares screenshots,
  # tmux drives the UI as text, xterm in VT340 mode under Xvfb shows sixel, xdotool types into it.
  imagemagick
  tmux
  xvfb
  xterm
  xdotool
  fonts-dejavu-core
  # Cluster tests (../shared/slurm-testing.md): a private one-node Slurm cluster and its munge.
  slurm-wlm
  munge
)

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo sh -c "$cmd"
  else
    echo "linstory set-up: missing packages: ${missing[*]}" >&2
    echo "run as root:  $cmd" >&2
    exit 1
  fi
else
  echo "linstory set-up: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  sh -c "$cmd"
fi
