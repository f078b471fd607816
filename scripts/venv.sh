#!/usr/bin/env bash
# Creates .venv with the pinned AWS emulator (moto, server mode) the tests and the
# demo run against. Idempotent: does nothing when the pinned set is already there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
req="$root/tests/moto/requirements.txt"
stamp="$venv/.installed-$(sha256sum "$req" | cut -c1-16)"
if [ -f "$stamp" ]; then
  exit 0
fi
echo "==> creating $venv with moto $(grep -i '^moto==' "$req" | cut -d= -f3) (pinned in tests/moto/requirements.txt)"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
touch "$stamp"
echo "==> $venv ready"
