#!/usr/bin/env bash
# `make demo`: the offhours daemon against a local AWS emulator (moto) over a seeded
# demo fleet: instances stop and start, the file is reloaded, the daemon stops
# cleanly. Needs only Rust and Python 3; takes about a minute after `make test`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ -z "${OFFHOURS_TEST_ENDPOINT:-}" ]; then
  # The binary as `make test` builds it (the dev-dependencies' features unified in):
  # after `make test` nothing is compiled again, where `cargo build` would rebuild 58
  # crates with other features (6.5 min on 2 cores).
  echo "==> cargo test --locked --no-run (builds target/debug/offhours as make test does)"
  cargo test --locked --no-run --quiet
  exec scripts/with-moto.sh "$0"
fi
bin="$root/target/debug/offhours"
demo="$root/target/demo"
rm -rf "$demo" && mkdir -p "$demo/state"
cp config/demo.toml "$demo/offhours.toml"
export AWS_ENDPOINT_URL="$OFFHOURS_TEST_ENDPOINT" AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo
export AWS_REGION=eu-west-1 AWS_EC2_METADATA_DISABLED=true
export OFFHOURS_CONFIG="$demo/offhours.toml"

echo "==> seeding a demo fleet (scripts/demo_seed.py)"
.venv/bin/python scripts/demo_seed.py
echo
echo "==> offhours check --next 2          # validate the file, show the next fires"
"$bin" check --next 2
echo
echo "==> offhours plan                    # read-only: what each schedule governs"
"$bin" plan
echo
echo "==> offhours run --state-dir $demo/state &      # the daemon; its action log follows"
"$bin" run --state-dir "$demo/state" &
daemon=$!
trap 'kill $daemon 2>/dev/null || true' EXIT
sleep 25
echo
echo "==> editing the file: office-hours becomes stop-only; kill -HUP (what systemctl reload does)"
sed -i 's/^start = .*/# start removed by the demo/' "$demo/offhours.toml"
"$bin" check --next 1 >/dev/null && kill -HUP "$daemon"
sleep 15
echo
echo "==> kill -TERM: in-flight actions finish, then exit 0"
kill -TERM "$daemon"
wait "$daemon" && echo "==> daemon exited with status 0"
trap - EXIT
echo
echo "==> offhours plan                    # after the reload: everything stopped"
"$bin" plan
