#!/usr/bin/env bash
# Debian packages the lab needs: proxies, DNS, redis, nginx, curl, openssl, iproute2, script (a pseudo-TTY).
set -euo pipefail
need=()
for pair in tinyproxy:tinyproxy microsocks:microsocks dnsmasq:dnsmasq redis-server:redis-server \
            nginx:nginx-light curl:curl openssl:openssl ip:iproute2 gsettings:libglib2.0-bin script:bsdutils; do
  bin=${pair%%:*}; pkg=${pair#*:}
  command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] || need+=("$pkg")
done
# gsettings needs the GNOME proxy schemas to read org.gnome.system.proxy.
[ -f /usr/share/glib-2.0/schemas/org.gnome.system.proxy.gschema.xml ] || need+=(gsettings-desktop-schemas)
if ((${#need[@]})); then
  echo "installing: ${need[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
