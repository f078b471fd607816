#!/usr/bin/env bash
# Installs the tools the Debian package needs, pinned, and does nothing for a tool that
# is already there at its pinned version:
#   - cargo-deb (crates registry, built with `cargo install --locked`) into .venv/bin,
#     beside hadolint and cfn-lint (scripts/venv.sh);
#   - Debian's lintian package (apt-get): the version the machine's Debian release
#     ships (2.116.3+deb12u1 on bookworm), printed. Not pinned to an exact version: a
#     point release replaces it in the archive (as with chromium, scripts/chromium.sh),
#     and `apt-get install lintian=VERSION` would then fail.
# Usage: scripts/deb-tools.sh [cargo-deb] [lintian]   (both when none is named)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

cargo_deb_version=3.8.0
wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=(cargo-deb lintian)

install_cargo_deb() {
  local bin="$root/.venv/bin/cargo-deb"
  if [ -x "$bin" ] && [ "$("$bin" --version 2>/dev/null | awk '{print $NF}')" = "$cargo_deb_version" ]; then
    echo "==> cargo-deb $cargo_deb_version already installed in .venv"
    return 0
  fi
  echo "==> cargo install --locked cargo-deb --version $cargo_deb_version --root .venv (a few minutes, once)"
  # Run from / so that no project cargo configuration applies, and in a target dir of
  # its own: the project's target/ is left alone.
  (cd / && cargo install --quiet --locked cargo-deb --version "$cargo_deb_version" \
    --root "$root/.venv" --target-dir "$root/.venv/cargo-deb-build")
  rm -rf "$root/.venv/cargo-deb-build"
  echo "==> installed: $("$bin" --version)"
}

install_lintian() {
  if command -v lintian >/dev/null 2>&1; then
    echo "==> lintian already installed: $(lintian --version 2>/dev/null || echo 'version unknown')"
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "lintian is not installed and this is not a Debian-like system (no apt-get): install lintian yourself" >&2
    exit 1
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "installing lintian needs root: run as root or install sudo" >&2; exit 1; }
    sudo=(sudo)
  fi
  echo "==> installing Debian's lintian package to check the .deb (apt-get)"
  echo "==> ${sudo[*]:+${sudo[*]} }apt-get update"
  "${sudo[@]}" apt-get update -qq
  echo "==> ${sudo[*]:+${sudo[*]} }apt-get install -y --no-install-recommends lintian"
  local out
  if ! out=$(DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends lintian 2>&1); then
    echo "$out" >&2
    echo "apt-get install lintian failed (above)" >&2
    exit 1
  fi
  echo "==> installed: $(dpkg-query -W -f='lintian ${Version}' lintian)"
}

for tool in "${wanted[@]}"; do
  case "$tool" in
    cargo-deb) install_cargo_deb ;;
    lintian) install_lintian ;;
    *) echo "unknown tool: $tool (cargo-deb or lintian)" >&2; exit 2 ;;
  esac
done
