#!/usr/bin/env bash
# Checks the Debian package (`make deb`), built from the debug binary `cargo test`
# already built so that no release build is needed (scripts/deb-build.sh --dev):
#   - lintian (Debian's package) reports no error and no warning that the package's
#     lintian-overrides (pkg/debian/offhours.lintian-overrides) does not explain;
#   - /etc/offhours/offhours.toml is a conffile, and every promised file is in it;
#   - extracted into a throwaway root (dpkg -x): `systemd-analyze verify` on the
#     installed unit prints nothing, and the installed binary accepts the installed
#     config the way the unit's ExecStartPre runs it (`offhours check`).
# Installs cargo-deb (pinned, into .venv) and lintian (apt-get) when missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

fail() {
  echo "$1" >&2
  exit 1
}

# cargo-deb: scripts/deb-build.sh below installs it.
scripts/deb-tools.sh lintian
[ -x target/debug/offhours ] || cargo build --locked --quiet
command -v systemd-analyze >/dev/null \
  || fail "systemd-analyze not found: install Debian's systemd package to check the unit"
# systemd-analyze verify runs man for the unit's Documentation= (man-db comes with lintian).
command -v man >/dev/null \
  || fail "man not found: install Debian's man-db package to check the unit's Documentation= pages"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

scripts/deb-build.sh --dev "$tmp/deb"
debs=("$tmp"/deb/*.deb)
[ -f "${debs[0]}" ] || fail "scripts/deb-build.sh made no .deb"
deb=${debs[0]}

# A warning fails here too, until it is fixed or overridden with its reason. Info tags
# are shown, not failed on; overridden tags are shown with their reason. lintian's own
# --fail-on would also count the overridden ones when they are shown, so its output is
# read instead.
echo "==> lintian --display-info --show-overrides $(basename "$deb") (no E: or W: allowed)"
if ! report=$(lintian --fail-on none --display-info --show-overrides "$deb" 2>&1); then
  echo "$report" >&2
  fail "lintian did not run (above)"
fi
report=$(echo "$report" | grep -v 'running with root privileges' || true)
[ -z "$report" ] || echo "$report" | sed 's/^/    /'
if echo "$report" | grep -qE '^[EW]: '; then
  fail "lintian reported the E: or W: tags above: fix the package, or override a tag with its reason in pkg/debian/offhours.lintian-overrides"
fi
echo "    no error, no warning"

echo "==> conffiles and contents"
conffiles=$(dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles 2>/dev/null || true)
echo "$conffiles" | grep -qx /etc/offhours/offhours.toml \
  || fail "/etc/offhours/offhours.toml is not in the package's conffiles (got: ${conffiles:-none}): an upgrade would overwrite the operator's file"
contents=$(dpkg-deb --fsys-tarfile "$deb" | tar -tf - | sed 's#^\./#/#')
for path in \
  /usr/bin/offhours \
  /usr/lib/systemd/system/offhours.service \
  /etc/offhours/offhours.toml \
  /usr/share/man/man1/offhours.1.gz \
  /usr/share/man/man1/offhours-run.1.gz \
  /usr/share/bash-completion/completions/offhours \
  /usr/share/zsh/vendor-completions/_offhours \
  /usr/share/fish/vendor_completions.d/offhours.fish \
  /usr/share/doc/offhours/README.md \
  /usr/share/doc/offhours/copyright \
  /usr/share/doc/offhours/changelog.Debian.gz \
  /usr/share/lintian/overrides/offhours; do
  echo "$contents" | grep -qx "$path" || fail "the package lacks $path"
done
echo "    conffile /etc/offhours/offhours.toml; binary, unit, $(echo "$contents" | grep -c '^/usr/share/man/man1/.*\.1\.gz$') man pages, 3 completions, README, copyright, changelog, lintian overrides"

echo "==> dpkg -x into a throwaway root"
dest="$tmp/root"
dpkg -x "$deb" "$dest"
version=$("$dest/usr/bin/offhours" --version) || fail "the installed binary does not run: $dest/usr/bin/offhours --version failed"
deb_version=$(dpkg-deb -f "$deb" Version)
[ "$version" = "offhours ${deb_version%-*}" ] \
  || fail "the installed binary says '$version', the package is version $deb_version"
echo "    $version"

# The package creates no account: the unit must bring its own user.
grep -qx 'DynamicUser=yes' "$dest/usr/lib/systemd/system/offhours.service" \
  || fail "the packaged unit has no DynamicUser=yes, and the package creates no system user: the service would run as root"

# verify needs ExecStart's binary to exist and resolves the unit's Documentation= man
# pages with man: point both into the throwaway root.
unit="$tmp/offhours.service"
sed "s#/usr/bin/offhours#$dest/usr/bin/offhours#g" "$dest/usr/lib/systemd/system/offhours.service" >"$unit"
echo "==> systemd-analyze verify usr/lib/systemd/system/offhours.service (installed)"
out=$(MANPATH="$dest/usr/share/man" systemd-analyze verify "$unit" 2>&1) || true
if [ -n "$out" ]; then
  echo "$out" >&2
  fail "systemd-analyze verify printed the above about the packaged unit: fix systemd/offhours.service or scripts/deb-assets.sh"
fi
echo "    clean"

# The unit's ExecStartPre: `offhours check --next 1` with OFFHOURS_CONFIG set by the unit.
echo "==> OFFHOURS_CONFIG=etc/offhours/offhours.toml usr/bin/offhours check --next 1 (installed, as ExecStartPre runs it)"
if ! check=$(OFFHOURS_CONFIG="$dest/etc/offhours/offhours.toml" "$dest/usr/bin/offhours" check --next 1 2>&1); then
  echo "$check" >&2
  fail "the installed binary rejects the installed example config: the service would not start"
fi
echo "    $(echo "$check" | head -n 1 | sed "s#$dest/##")"
