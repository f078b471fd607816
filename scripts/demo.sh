#!/usr/bin/env bash
# `make demo`: offhours' main job against a local AWS emulator (moto) over a seeded
# demo fleet. Needs only Rust and Python 3.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ -z "${OFFHOURS_TEST_ENDPOINT:-}" ]; then
  echo "==> cargo build"
  cargo build --locked --quiet
  exec scripts/with-moto.sh "$0"
fi
bin="$root/target/debug/offhours"
export AWS_ENDPOINT_URL="$OFFHOURS_TEST_ENDPOINT" AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo
export AWS_REGION=eu-west-1 AWS_EC2_METADATA_DISABLED=true
export OFFHOURS_CONFIG="$root/config/demo.toml"
echo "==> seeding a demo fleet (scripts/demo_seed.py)"
.venv/bin/python scripts/demo_seed.py
echo
echo "==> offhours check --next 2     # validate, show the next fires"
"$bin" check --next 2
echo
echo "==> offhours plan --at 2026-11-23T19:30:00+01:00     # read-only: what the last fire (Monday's 19:00 stop) would do"
"$bin" plan --at 2026-11-23T19:30:00+01:00
echo
echo "==> offhours apply office-hours stop     # act now; the action log goes to stderr"
"$bin" apply office-hours stop
echo
echo "==> offhours apply office-hours start --output json"
"$bin" apply office-hours start --output json
