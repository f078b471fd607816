#!/usr/bin/env bash
# Checks the packaging: the systemd unit (systemd-analyze verify, and its exposure
# score), the Dockerfile (hadolint) and the CloudFormation templates in deploy/
# (cfn-lint; both pinned in tests/packaging-requirements.txt).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/venv.sh"

echo "==> hadolint Dockerfile"
.venv/bin/hadolint Dockerfile
echo "    clean"

# cfn-lint exits non-zero on any error or warning (informational findings are off).
for template in deploy/*.yaml; do
  echo "==> cfn-lint $template"
  if ! .venv/bin/cfn-lint -- "$template"; then
    echo "cfn-lint found the above in $template: fix the template" >&2
    exit 1
  fi
  echo "    clean"
done

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
# verify exits 0 even when it ignores a setting it cannot parse: any output is a failure.
out=$(systemd-analyze verify "$tmp/offhours.service" 2>&1)
if [ -n "$out" ]; then
  echo "$out" >&2
  echo "systemd-analyze verify printed the above: fix the unit" >&2
  exit 1
fi
echo "    clean"
echo "==> systemd-analyze security --offline=true systemd/offhours.service (at most 1.2)"
score=$(systemd-analyze security --offline=true "$tmp/offhours.service" | tail -n 1)
echo "    $score"
value=$(echo "$score" | grep -oE '[0-9]+\.[0-9]+' | head -n 1)
if ! awk -v v="$value" 'BEGIN { exit !(v <= 1.2) }'; then
  echo "exposure $value is above 1.2: harden the unit" >&2
  exit 1
fi
