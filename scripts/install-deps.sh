#!/usr/bin/env bash
# Installs the Debian packages riskgate needs to build, run and test, when they are missing.
# Called by `make run`, `make test` and `make` alike; safe to run many times. clang: make test builds the
# tree with it too (warnings are errors) and runs the ThreadSanitizer pass with it.
set -euo pipefail
PKGS=(build-essential cmake pkg-config
      libh2o-evloop-dev libjansson-dev libsqlite3-dev libssl-dev
      libcurl4-openssl-dev libcmocka-dev
      clang
      libldns-dev dnsutils
      curl jq sqlite3 procps openssl python3)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
