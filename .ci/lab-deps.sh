#!/usr/bin/env bash
# Debian packages the lab (test/lab) starts or calls. Installs only when one is missing.
set -euo pipefail
missing=0
for bin in tinyproxy microsocks nginx dnsmasq redis-server curl openssl ip; do
  command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] || [ -x "/sbin/$bin" ] || missing=1
done
if [ "$missing" = 1 ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends \
    tinyproxy microsocks nginx-light dnsmasq redis-server curl openssl iproute2
fi
