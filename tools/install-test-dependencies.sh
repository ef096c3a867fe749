#!/usr/bin/env bash
# Installs the real BitTorrent software the interop tests run against (Debian packages) and the npm fixtures.
# Idempotent and quick when everything is present; installs only as root (CI and these dev machines are root).
set -u
cd "$(dirname "$0")/.."
need_apt=()
for cmd in opentracker aria2c transmission-daemon transmission-cli qbittorrent-nox mktorrent; do
  command -v "$cmd" >/dev/null 2>&1 || need_apt+=("$cmd")
done
/usr/bin/python3 -c 'import libtorrent' >/dev/null 2>&1 || need_apt+=("python3-libtorrent")
[ -x /usr/bin/time ] || need_apt+=("time")
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-dependencies: missing ${need_apt[*]} and not root; install them with apt-get." >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq opentracker aria2 transmission-cli transmission-daemon qbittorrent-nox \
    python3-libtorrent mktorrent time >/dev/null || exit 1
fi
if [ ! -d tests/node/node_modules/webtorrent-fixtures ] || [ ! -d tests/node/node_modules/parse-torrent ]; then
  (cd tests/node && npm install --no-audit --no-fund --loglevel=error) || exit 1
fi
echo "install-test-dependencies: ready."
