#!/usr/bin/env bash
# Installs what `make fuzz` needs beyond scripts/install-deps.sh (fuzz/README.md) when it is missing:
# clang, whose Debian package carries libFuzzer and the sanitizer runtimes (-fsanitize=fuzzer). install-deps.sh
# installs it too now (make test builds with clang); this stays so `make fuzz` says what it needs.
# Runs `apt-get update` once, and only when something is missing. Safe to run many times.
set -euo pipefail
PKGS=(clang)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "install-fuzz-deps: missing packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "install-fuzz-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
