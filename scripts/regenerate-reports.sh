#!/usr/bin/env bash
# Regenerates the bundled models' calibration (models/*/spikestream.json) and reports
# (models/*/report) from data our own tools generate, seeded, so that anyone can reproduce them.
# Weights are not retrained: see docs/models-and-training.md for the training commands. After new
# weights, `scripts/regenerate-reports.sh gesture` is the whole recalibration of that model: α and τ,
# the calibrated confidence (windowed and live), θ of each stop rule by the paper's no-loss rule,
# the windowed report and the live report (docs/dynamic-confidence.md).
#
#   scripts/regenerate-reports.sh [gesture] [saccade-mnist] [saccade-fashion]    (default: all three)
#
# DATA (default $TMPDIR/spikestream-data) holds the generated datasets and frames files; existing ones are reused.
# Heavy jobs run under `nice -n 10` (the development machine is shared). Needs `npm run build` first.
# At the end the docs' generated figure blocks are rewritten from the reports (node dist/scripts/docs-figures.js;
# test/docs/report-figures.test.ts fails when one no longer matches); the docs show the reports' SVGs themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-${TMPDIR:-/tmp}/spikestream-data}
mkdir -p "$DATA"
ss() { nice -n 10 node dist/src/cli/main.js "$@"; }
frames() { # frames OUT DIR ARGS… — only when OUT is missing
  local out=$1; shift
  [ -f "$out" ] || ss frames "$@" --out "$out" --json > /dev/null
}
report() { # report MODEL VAL TEST [--live-val LIVE_STYLE.ssf] — calibrate (θ by the paper's no-loss rule over every θ), then the windowed report
  local model=models/$1 val=$2 test=$3
  shift 3
  # The calibrated confidence is fitted on the validation samples (and live-style ones for live streams);
  # each stop rule's θ is the paper's: the fewest mean steps with no validation accuracy lost against T.
  ss calibrate --model "$model" --val "$val" "$@"
  rm -rf "$model/report"
  ss evaluate --model "$model" --data "$test" --out "$model/report"
}

gesture() {
  [ -d "$DATA/gestures" ] || ss dataset synth-gestures --out "$DATA/gestures" --seed 1 --json > /dev/null
  # The bundled gesture model reads time-ramp frames (src/snn/input-encoding.ts): events of either polarity,
  # and the same weighted by their time in the sample (float32: the weights are fractions).
  local bins=(--bin-us 100000 --steps 16 --downsample 4 --encoding time-ramp)
  frames "$DATA/g-val.ssf" "$DATA/gestures" --split train --users 18-23 "${bins[@]}"
  frames "$DATA/g-test.ssf" "$DATA/gestures" --split test "${bins[@]}"
  # Live-style validation samples for the live calibration: the validation users' whole recordings cut the
  # way a live stream cuts them, each step labelled by the live scoring rule (--min-overlap 0; −1 = no gesture).
  frames "$DATA/g-live-val.ssf" "$DATA/gestures" --split train --users 18-23 --live-style --min-overlap 0 --seed 2 "${bins[@]}"
  report gesture "$DATA/g-val.ssf" "$DATA/g-test.ssf" --live-val "$DATA/g-live-val.ssf"
  # Live test streams: three held-out users generated with another seed, whole recordings.
  [ -d "$DATA/gestures-live" ] || ss dataset synth-gestures --out "$DATA/gestures-live" --seed 7 --subjects 3 --first-user 24 --json > /dev/null
  ss evaluate --live "$DATA/gestures-live" --model models/gesture --out models/gesture/report
  # Each perturbation alone on the test users (renders 13 sets into $DATA/robustness once: ≈ 35 min here; reused after).
  ss evaluate --robustness --model models/gesture --cache "$DATA/robustness" --out models/gesture/report --json > /dev/null
}

saccades() { # saccades MODEL SOURCE TRAIN VAL_SKIP VAL_N
  local model=$1 src=$2 train=$3 skip=$4 nval=$5
  [ -d "$DATA/$src" ] || ss dataset saccades --source "$src" --out "$DATA/$src" --train "$train" --test 2000 --seed 1 --json > /dev/null
  local bins=(--bin-us 25000 --steps 12)
  frames "$DATA/$src-val.ssf" "$DATA/$src" --split train --skip "$skip" --limit "$nval" "${bins[@]}"
  frames "$DATA/$src-test.ssf" "$DATA/$src" --split test "${bins[@]}"
  report "$model" "$DATA/$src-val.ssf" "$DATA/$src-test.ssf"
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(gesture saccade-mnist saccade-fashion)
for t in "${targets[@]}"; do
  case "$t" in
    gesture) gesture ;;
    saccade-mnist) saccades saccade-mnist mnist 20000 18000 2000 ;;
    saccade-fashion) saccades saccade-fashion fashion 12000 11000 1000 ;;
    *) echo "unknown model '$t' (gesture, saccade-mnist, saccade-fashion)" >&2; exit 2 ;;
  esac
done
node dist/scripts/docs-figures.js
