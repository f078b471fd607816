#!/usr/bin/env bash
# Creates .venv with the pinned AWS emulator (moto, server mode) the tests and the
# demo run against. Idempotent: does nothing when the pinned set is already there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
req="$root/tests/moto/requirements.txt"
tools="$root/tests/packaging-requirements.txt"
stamp="$venv/.installed-$(cat "$req" "$tools" | sha256sum | cut -c1-16)"
if [ -f "$stamp" ]; then
  exit 0
fi
echo "==> creating $venv: moto $(grep -i '^moto==' "$req" | cut -d= -f3) (tests/moto/requirements.txt), hadolint, cfn-lint and parliament (tests/packaging-requirements.txt)"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" -r "$tools"
touch "$stamp"
echo "==> $venv ready"
