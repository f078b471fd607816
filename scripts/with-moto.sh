#!/usr/bin/env bash
# Runs a command with moto (the AWS emulator, server mode) listening on a free
# loopback port, and stops moto afterwards. The command sees the endpoint as
# OFFHOURS_TEST_ENDPOINT. Usage: scripts/with-moto.sh COMMAND [ARGS...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/venv.sh"
mkdir -p "$root/target"
portfile=$(mktemp)
rm -f "$portfile"
log="$root/target/moto.log"
"$root/.venv/bin/python" "$root/tests/moto/server.py" --port-file "$portfile" >"$log" 2>&1 &
moto_pid=$!
cleanup() {
  kill "$moto_pid" 2>/dev/null || true
  wait "$moto_pid" 2>/dev/null || true
  rm -f "$portfile"
}
trap cleanup EXIT
# Wait (bounded) for the server to write its port.
for _ in $(seq 1 300); do
  [ -s "$portfile" ] && break
  kill -0 "$moto_pid" 2>/dev/null || { echo "moto failed to start; see $log" >&2; cat "$log" >&2; exit 1; }
  sleep 0.1
done
[ -s "$portfile" ] || { echo "moto did not start within 30 s; see $log" >&2; exit 1; }
export OFFHOURS_TEST_ENDPOINT="http://127.0.0.1:$(cat "$portfile")"
# Tests that need a moto of their own (e.g. to move its clock) start it with these.
export OFFHOURS_TEST_PYTHON="$root/.venv/bin/python" OFFHOURS_TEST_MOTO_SERVER="$root/tests/moto/server.py"
echo "==> moto listening on $OFFHOURS_TEST_ENDPOINT (log: target/moto.log)"
echo "==> $*"
"$@"
