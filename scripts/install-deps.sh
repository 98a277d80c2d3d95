#!/usr/bin/env bash
# Installs the local cloud's system packages on Debian/Ubuntu (and GNU time for the benchmarks, Chromium for the browser tests): Ceph RGW (S3) needs a monitor
# and an OSD (Debian bookworm's Ceph 16 has no standalone store); DynamoDB Local needs Java 17+.
# Idempotent: already installed packages are left alone.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

packages=()
# GNU time measures the benchmark's per-tool CPU and peak RSS (npm run bench). Chromium runs the
# browser tests (test/e2e/browser*.test.ts, playwright-core pinned to its major: 156 -> 1.64.1).
for bin in radosgw:radosgw ceph-mon:ceph-mon ceph-osd:ceph-osd /usr/bin/time:time /usr/bin/chromium:chromium; do
  command -v "${bin%%:*}" >/dev/null 2>&1 || packages+=("${bin##*:}")
done
java_major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1 || true)
if [ -z "${java_major}" ] || [ "${java_major}" -lt 17 ]; then packages+=(openjdk-17-jre-headless); fi

if [ "${#packages[@]}" -eq 0 ]; then
  echo "install-deps: radosgw, ceph-mon, ceph-osd, time, chromium and Java ${java_major} are present"
  exit 0
fi
echo "install-deps: installing ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
echo "install-deps: done"
