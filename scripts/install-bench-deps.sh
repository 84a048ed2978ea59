#!/usr/bin/env bash
# Installs the Debian packages `make bench` needs (bench/README.md) when they are missing:
# the load generators (wrk for HTTP, dnsperf for DNS), the references (nginx, unbound),
# python3 (the report), jq, curl, taskset (util-linux) and ps (procps).
# Runs `apt-get update` once, and only when something is missing. Safe to run many times.
set -euo pipefail
PKGS=(wrk nginx dnsperf unbound python3 jq curl util-linux procps)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "install-bench-deps: missing packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "install-bench-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# nginx and unbound would start system services; the bench starts its own on loopback
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d.bench && chmod +x /usr/sbin/policy-rc.d.bench
if [ ! -e /usr/sbin/policy-rc.d ]; then
  mv /usr/sbin/policy-rc.d.bench /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
else
  rm -f /usr/sbin/policy-rc.d.bench
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
