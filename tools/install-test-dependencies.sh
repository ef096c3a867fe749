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
# Real proxies for tests/Pester/Proxy.Tests.ps1 (the tests start their own on loopback with their own configs).
[ -x /usr/sbin/danted ] || need_apt+=("dante-server")
[ -x /usr/bin/tinyproxy ] || need_apt+=("tinyproxy")
# Network namespaces and bridges for tests/Pester/LocalDiscovery.Tests.ps1 (ip netns, ip link ... type bridge).
command -v ip >/dev/null 2>&1 || need_apt+=("iproute2")
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-dependencies: missing ${need_apt[*]} and not root; install them with apt-get." >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Packages must not start their daemons (tinyproxy's default config listens on every interface): when no
  # policy-rc.d forbids it already, forbid it for this install only.
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && made_policy=1
  fi
  apt-get install -y -qq opentracker aria2 transmission-cli transmission-daemon qbittorrent-nox \
    python3-libtorrent mktorrent time dante-server tinyproxy iproute2 >/dev/null
  status=$?
  [ "$made_policy" -eq 1 ] && rm -f /usr/sbin/policy-rc.d
  [ "$status" -eq 0 ] || exit 1
fi
if [ ! -d tests/node/node_modules/webtorrent-fixtures ] || [ ! -d tests/node/node_modules/parse-torrent ] \
   || [ ! -d tests/node/node_modules/webtorrent ]; then
  # --ignore-scripts: none of these needs an install script, and two of webtorrent's dependencies have ones that fail
  # here (ip-set insists on pnpm; node-datachannel, WebRTC, downloads a prebuilt binary). WebRTC is never used:
  # tests/node/webtorrent-seed.mjs swaps it out.
  (cd tests/node && npm install --no-audit --no-fund --loglevel=error --ignore-scripts) || exit 1
fi
echo "install-test-dependencies: ready."
