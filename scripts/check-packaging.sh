#!/usr/bin/env bash
# Checks the packaging: the systemd unit (systemd-analyze verify, and its exposure
# score), the Dockerfile (hadolint), the CloudFormation templates in deploy/ (cfn-lint;
# both pinned in tests/packaging-requirements.txt), and the two-replica recipes in
# deploy/ (scripts/check-deploy.py: the ECS task definition against botocore's service
# model, the Kubernetes manifests parsed and their ConfigMap's file through
# `offhours check`; offline).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/venv.sh"

echo "==> hadolint Dockerfile"
.venv/bin/hadolint Dockerfile
echo "    clean"

# cfn-lint exits non-zero on any error or warning (informational findings are off).
# deploy/kubernetes.yaml is no template: check-deploy.py reads it.
for template in deploy/member-role.yaml deploy/state-table.yaml; do
  echo "==> cfn-lint $template"
  if ! .venv/bin/cfn-lint -- "$template"; then
    echo "cfn-lint found the above in $template: fix the template" >&2
    exit 1
  fi
  echo "    clean"
done

# check-deploy.py runs `offhours check` on the Kubernetes ConfigMap's file; the
# systemd check below needs the binary too.
[ -x target/debug/offhours ] || cargo build --locked --quiet
.venv/bin/python scripts/check-deploy.py --offhours target/debug/offhours

if ! command -v systemd-analyze >/dev/null; then
  echo "systemd-analyze not found: install Debian's systemd package to check the unit" >&2
  exit 1
fi
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
