#!/usr/bin/env bash
# Installs Debian's `chromium` package for the status page's browser test
# (tests/it/status_page.rs), unless a `chromium` is on PATH already; then prints
# the version the test will run. Usage: scripts/chromium.sh
#
# Not pinned to an exact version: Debian ships Chromium through bookworm-security and
# keeps only the newest build there (156.0.8078.79-1~deb12u1 in November 2026, 150 in
# the point release before it), so `apt-get install chromium=VERSION` would stop
# working the day Debian publishes the next security update. The test needs nothing
# version-specific (headless mode, --dump-dom, --screenshot), so this installs the
# current package and prints what it got.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  echo "==> chromium already installed: $(chromium --version 2>/dev/null || echo 'version unknown')"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium is not installed and this is not a Debian-like system (no apt-get):" >&2
  echo "install Chromium yourself and put it on PATH, or set OFFHOURS_TEST_CHROMIUM to its path" >&2
  exit 1
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "installing chromium needs root: run as root or install sudo" >&2; exit 1; }
  sudo=(sudo)
fi

echo "==> installing Debian's chromium package for the status page test (apt-get, about 100 MB)"
echo "==> ${sudo[*]:+${sudo[*]} }apt-get update"
"${sudo[@]}" apt-get update -qq
echo "==> ${sudo[*]:+${sudo[*]} }apt-get install -y --no-install-recommends chromium"
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null
echo "==> installed: $(dpkg-query -W -f='chromium ${Version}' chromium) ($(chromium --version 2>/dev/null || echo 'version unknown'))"
