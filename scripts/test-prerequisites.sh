#!/usr/bin/env bash
# Run by `npm test` before the suite: provides what the whole suite needs on a fresh Debian machine.
#  - nats-server (the broker tests) and Chromium (the viewer tests): Debian's packages, installed
#    here when run as root; otherwise one line with the exact command, and exit 1.
#  - ../shared/recordings (real recordings made by others): only said when missing; the tests that
#    read real files then fail, the rest run.
# `npm run test:unit` needs none of these.
set -uo pipefail
shared="${SPIKESTREAM_SHARED:-$(dirname "$0")/../../shared}"
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"

missing=()
command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)
[ -x "$chromium" ] || command -v chromium >/dev/null 2>&1 || missing+=(chromium)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "npm test: installing ${missing[*]} (Debian packages) for the broker and viewer tests" >&2
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
      echo "npm test: apt-get install ${missing[*]} failed; the broker and viewer tests need them" >&2
      exit 1
    fi
  else
    echo "npm test: the broker and viewer tests need ${missing[*]}: run  sudo apt-get install -y ${missing[*]}  (or npm run test:unit for the tests that need neither)" >&2
    exit 1
  fi
fi

if [ ! -d "$shared/recordings" ]; then
  echo "npm test: ../shared/recordings is missing: it holds real DVS recordings made by others (AEDAT 2.0/3.1/4.0, N-MNIST, Prophesee DAT/EVT); only the tests that read real files need it, and they will fail; the rest run" >&2
fi
exit 0
