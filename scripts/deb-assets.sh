#!/usr/bin/env bash
# Generates the files of the Debian package that come from the binary itself, into
# target/deb-assets/ (the paths [package.metadata.deb] in Cargo.toml names):
#   man/*.1.gz           `offhours man`, compressed as Debian wants (gzip -9n: no name
#                        or time stamp, so the same binary gives the same bytes)
#   completions/         `offhours completions bash|zsh|fish`
#   systemd/offhours.service
#                        systemd/offhours.service with the packaged binary's path,
#                        /usr/bin/offhours (the unit in systemd/ is for a from-source
#                        install in /usr/local/bin), and a Documentation= line
# Usage: scripts/deb-assets.sh BINARY
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:?usage: scripts/deb-assets.sh BINARY}
[ -x "$bin" ] || { echo "no executable at $bin" >&2; exit 1; }
out="$root/target/deb-assets"

echo "==> generating man pages, completions and the packaged unit from $bin into target/deb-assets/"
rm -rf "$out"
mkdir -p "$out/man" "$out/completions" "$out/systemd"

"$bin" man "$out/man" >/dev/null
pages=("$out"/man/*.1)
[ -e "${pages[0]}" ] || { echo "offhours man wrote no page into $out/man" >&2; exit 1; }
gzip -9n "${pages[@]}"

"$bin" completions bash >"$out/completions/offhours.bash"
"$bin" completions zsh >"$out/completions/_offhours"
"$bin" completions fish >"$out/completions/offhours.fish"
for f in "$out"/completions/*; do
  [ -s "$f" ] || { echo "offhours completions wrote nothing into $f" >&2; exit 1; }
done

# The package ships the man pages, so its unit can point `systemctl help offhours` at them.
sed -e 's#/usr/local/bin/offhours#/usr/bin/offhours#g' \
  -e '/^Description=/a Documentation=man:offhours-run(1) man:offhours(1)' \
  "$root/systemd/offhours.service" >"$out/systemd/offhours.service"
if grep -q /usr/local "$out/systemd/offhours.service"; then
  echo "the packaged unit still names /usr/local: update the sed in scripts/deb-assets.sh" >&2
  exit 1
fi
echo "    ${#pages[@]} man pages, 3 completion scripts, systemd/offhours.service"
