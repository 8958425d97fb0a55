#!/usr/bin/env bash
# Run by `npm test` before the suite: provides what the whole suite needs on a fresh Debian machine.
#  - nats-server (the broker tests) and Chromium (the viewer tests): Debian's packages, installed
#    here when run as root; otherwise one line with the exact command, and exit 1.
#  - python3 with numpy (faery's UDP encoder, the live-input tests' partner): Debian's python3-numpy.
#  - the real AEStream binary (the live-input tests' UDP partner), built from ../shared/peers by its
#    own script (about 20 s once; it installs g++ flatbuffers-compiler libflatbuffers-dev liblz4-dev as
#    root) into ${TMPDIR:-/tmp}/spikestream-aestream-peer, where test/helpers/live-partners.ts finds it.
#  - ../shared/recordings (real recordings made by others): only said when missing; the tests that
#    read real files then fail, the rest run.
# `npm run test:unit` needs none of these.
set -uo pipefail
shared="${SPIKESTREAM_SHARED:-$(dirname "$0")/../../shared}"
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"

missing=()
command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)
[ -x "$chromium" ] || command -v chromium >/dev/null 2>&1 || missing+=(chromium)
python3 -c 'import numpy' >/dev/null 2>&1 || missing+=(python3-numpy)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "npm test: installing ${missing[*]} (Debian packages) for the broker, viewer and live-input tests" >&2
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
      echo "npm test: apt-get install ${missing[*]} failed; the broker, viewer and live-input tests need them" >&2
      exit 1
    fi
  else
    echo "npm test: the broker, viewer and live-input tests need ${missing[*]}: run  sudo apt-get install -y ${missing[*]}  (or npm run test:unit for the tests that need none)" >&2
    exit 1
  fi
fi

if [ -f "$shared/peers/build-aestream.sh" ]; then
  if ! out=$("$BASH" "$shared/peers/build-aestream.sh" "${TMPDIR:-/tmp}/spikestream-aestream-peer" 2>&1); then
    echo "npm test: building the AEStream test partner failed (bash $shared/peers/build-aestream.sh): ${out##*$'\n'}; the live-input tests will fail" >&2
  fi
fi

if [ ! -d "$shared/recordings" ]; then
  echo "npm test: ../shared/recordings is missing: it holds real DVS recordings made by others (AEDAT 2.0/3.1/4.0, N-MNIST, Prophesee DAT/EVT); only the tests that read real files need it, and they will fail; the rest run" >&2
fi
exit 0
