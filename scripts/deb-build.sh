#!/usr/bin/env bash
# Builds the Debian package with cargo-deb ([package.metadata.deb] in Cargo.toml).
#
#   scripts/deb-build.sh             `make deb`: a release build (`cargo build --release
#                                    --locked`, about 20 to 40 minutes from scratch on 2
#                                    cores), packaged into target/debian/
#   scripts/deb-build.sh --dev DIR   the packaging test's: packages the debug binary
#                                    `cargo test` already built (target/debug/offhours),
#                                    with faster compression, into DIR; builds nothing
#
# Either way the man pages, completions and packaged unit are generated from the very
# binary that is packaged (scripts/deb-assets.sh), and the path of the .deb is the last
# line printed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

mode=release
out=target/debian
if [ "${1:-}" = "--dev" ]; then
  mode=dev
  out=${2:?usage: scripts/deb-build.sh [--dev DIR]}
elif [ $# -gt 0 ]; then
  echo "usage: scripts/deb-build.sh [--dev DIR]" >&2
  exit 2
fi

scripts/deb-tools.sh cargo-deb
# cargo-deb finds the binary where cargo put it, CARGO_TARGET_DIR included.
target_dir=${CARGO_TARGET_DIR:-target}
cargo_deb=(.venv/bin/cargo-deb --no-build --locked --output "$out/")

if [ "$mode" = release ]; then
  echo "==> cargo build --release --locked"
  cargo build --release --locked
  bin=$target_dir/release/offhours
else
  bin=$target_dir/debug/offhours
  [ -x "$bin" ] || { echo "no $bin: run \`cargo test --no-run --locked\` (or \`make test\`) first" >&2; exit 1; }
  # `--profile dev` makes cargo-deb's target/release placeholder mean target/debug. The
  # binary is still stripped (into a copy: target/debug is left as it is).
  cargo_deb+=(--profile dev --fast)
fi

scripts/deb-assets.sh "$bin"
mkdir -p "$out"
echo "==> ${cargo_deb[*]#.venv/bin/}"
[ "$mode" = release ] || echo "    (packaging the debug binary: cargo-deb's warning that the dev profile is unsupported is expected)"
deb=$("${cargo_deb[@]}")
# shellcheck disable=SC2016 # dpkg-deb's own ${Field} format, not the shell's
echo "    $(dpkg-deb -W --showformat='${Package} ${Version} ${Architecture}' "$deb"), $(du -h "$deb" | cut -f1)"
echo "$deb"
