#!/usr/bin/env bash
# PNG previews of the bundled models' report figures for the README (GitHub renders PNG inline;
# the SVGs stay the reports' originals). Needs rsvg-convert (Debian: apt-get install librsvg2-bin);
# the PNGs are committed, so CI and users do not need it.
#
#   scripts/readme-figures.sh        → models/<model>/report/png/<figure>.png
set -euo pipefail
cd "$(dirname "$0")/.."
command -v rsvg-convert > /dev/null || { echo 'rsvg-convert not found (apt-get install librsvg2-bin)' >&2; exit 1; }
png() { # png MODEL FIGURE… (figure file names without .svg)
  local dir=models/$1/report
  shift
  mkdir -p "$dir/png"
  for f in "$@"; do
    [ -f "$dir/$f.svg" ] || { echo "missing $dir/$f.svg" >&2; exit 1; }
    rsvg-convert --width 760 --keep-aspect-ratio "$dir/$f.svg" -o "$dir/png/$f.png"
  done
}
png gesture qcfs-T16-fig1-accuracy-steps qcfs-T16-fig2-accuracy-confidence qcfs-T16-fig3-theta-grid qffs-T4-fig1-accuracy-steps qffs-T4-fig3-theta-grid live-timeline
png saccade-mnist qcfs-T12-fig1-accuracy-steps qffs-T4-fig3-theta-grid
png saccade-fashion qcfs-T12-fig1-accuracy-steps qffs-T4-fig3-theta-grid
