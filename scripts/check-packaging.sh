#!/usr/bin/env bash
# Checks the packaging: the systemd unit (systemd-analyze verify, and its exposure
# score) and the Dockerfile (hadolint, pinned in tests/packaging-requirements.txt).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/venv.sh"

echo "==> hadolint Dockerfile"
.venv/bin/hadolint Dockerfile
echo "    clean"

if ! command -v systemd-analyze >/dev/null; then
  echo "systemd-analyze not found: install Debian's systemd package to check the unit" >&2
  exit 1
fi
[ -x target/debug/offhours ] || cargo build --locked --quiet
# verify needs the ExecStart binary to exist: check a copy pointing at the build.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s#/usr/local/bin/offhours#$root/target/debug/offhours#g" systemd/offhours.service >"$tmp/offhours.service"
echo "==> systemd-analyze verify systemd/offhours.service"
systemd-analyze verify "$tmp/offhours.service"
echo "    clean"
echo "==> systemd-analyze security --offline=true systemd/offhours.service"
systemd-analyze security --offline=true "$tmp/offhours.service" | tail -n 1
