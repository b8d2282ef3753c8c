#!/usr/bin/env bash
# Debian packages the lab needs: proxies, DNS, redis, nginx, curl, openssl, iproute2, script (a pseudo-TTY);
# Debian's chromium for the operator page's browser test (test/ui.test.ts, driven by puppeteer-core);
# and Python for the client's tests.
set -euo pipefail
need=()
for pair in tinyproxy:tinyproxy microsocks:microsocks dnsmasq:dnsmasq redis-server:redis-server \
            nginx:nginx-light curl:curl openssl:openssl ip:iproute2 gsettings:libglib2.0-bin script:bsdutils \
            chromium:chromium; do
  bin=${pair%%:*}; pkg=${pair#*:}
  command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] || need+=("$pkg")
done
# The Python client's tests (clients/python): Debian's interpreter and packages, nothing from PyPI.
/usr/bin/python3 -c 'import httpx' >/dev/null 2>&1 || need+=(python3-httpx)
/usr/bin/python3 -c 'import pytest' >/dev/null 2>&1 || need+=(python3-pytest)
/usr/bin/python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)
/usr/bin/python3 -m pip --version >/dev/null 2>&1 || need+=(python3-pip)
/usr/bin/python3 -c 'import setuptools' >/dev/null 2>&1 || need+=(python3-setuptools)
# gsettings needs the GNOME proxy schemas to read org.gnome.system.proxy.
[ -f /usr/share/glib-2.0/schemas/org.gnome.system.proxy.gschema.xml ] || need+=(gsettings-desktop-schemas)
if ((${#need[@]})); then
  echo "installing: ${need[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
