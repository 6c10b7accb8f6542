#!/usr/bin/env bash
# The Debian package (issue 23): cpack builds it from the build tree; its metadata and file list
# are checked with dpkg-deb; it is unpacked into a temporary root (dpkg -x), the systemd unit is
# verified by systemd-analyze, and the unpacked binary runs the demo from / and reads the
# package's own configuration.
#
#   deb_test.sh <build dir>
set -euo pipefail
build=$1
work=$(mktemp -d /tmp/companion-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "deb_test: FAIL: $*" >&2; exit 1; }

cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/out" > "$work/cpack.log" 2>&1 ||
    { cat "$work/cpack.log"; fail "cpack failed"; }
deb=$(ls "$work"/out/companion_*_amd64.deb)
echo "deb_test: built $(basename "$deb") ($(stat -c %s "$deb") bytes)"

# Metadata: name, version, the runtime libraries by their Debian names, the conffiles.
info=$(dpkg-deb -I "$deb")
for want in "Package: companion" "Version: 0.2.0" "Section: net" "ca-certificates" "libssl3" \
    "libsqlite3-0" "libvips42" "libspdlog1.10"; do
    grep -qF "$want" <<< "$info" || fail "control lacks '$want'"
done
conffiles=$(dpkg-deb -f "$deb" Package > /dev/null && dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)
[ "$conffiles" = $'/etc/companion/companion.toml\n/etc/companion/secrets.env' ] || fail "conffiles: $conffiles"

# Contents: the binaries, the data, /etc and the unit; nothing of the dev component.
contents=$(dpkg-deb -c "$deb")
for want in "./usr/bin/companion-bot" "./usr/bin/companion-sim" "./usr/share/companion/personas.json" \
    "./usr/share/companion/locales/tr.json" "./usr/share/companion/locales/ru.json" \
    "./usr/share/companion/locales/en.json" "./usr/share/companion/companion.example.toml" \
    "./etc/companion/companion.toml" "./lib/systemd/system/companion.service"; do
    grep -qF " $want" <<< "$contents" || fail "the package lacks $want"
done
# The image module the bot loads on its first image (pipelines/detail/media_module.hpp).
grep -qE ' \./usr/lib/(.*/)?companion/libcompanion-media\.so$' <<< "$contents" || fail "the package lacks the image module"
grep -qE '^-rw------- root/root .* \./etc/companion/secrets\.env$' <<< "$contents" ||
    fail "secrets.env is not root's with mode 0600: $(grep secrets <<< "$contents")"
if grep -qE '\.a$|/include/|\.cmake$' <<< "$contents"; then
    fail "the package carries the dev component: $(grep -E '\.a$|/include/|\.cmake$' <<< "$contents")"
fi

root=$work/root
dpkg -x "$deb" "$root"

# The unit: its hardening, and systemd's own verification (ExecStart pointed at the unpacked copy).
unit=$root/lib/systemd/system/companion.service
for want in "DynamicUser=yes" "StateDirectory=companion" "EnvironmentFile=/etc/companion/secrets.env" \
    "Restart=on-failure" "KillSignal=SIGTERM" "NoNewPrivileges=yes" "ProtectSystem=strict" \
    "ProtectHome=yes" "PrivateTmp=yes" "ReadWritePaths=" "ExecStart=/usr/bin/companion-bot --config /etc/companion/companion.toml"; do
    grep -qF "$want" "$unit" || fail "the unit lacks $want"
done
if command -v systemd-analyze > /dev/null; then
    mkdir -p "$work/units"
    sed "s#/usr/bin/companion-bot#$root/usr/bin/companion-bot#" "$unit" > "$work/units/companion.service"
    verify=$(systemd-analyze verify "$work/units/companion.service" 2>&1) || { echo "$verify"; fail "systemd-analyze verify"; }
    [ -z "$verify" ] || { echo "$verify"; fail "systemd-analyze verify complained"; }
    echo "deb_test: systemd-analyze verify: clean"
fi

bot=$root/usr/bin/companion-bot
export HOME=$work/home
# From /, the unpacked binary finds the data beside it.
printed=$(cd / && "$bot" --print-config) || fail "--print-config from /"
grep -qF "personas = \"$root/usr/share/companion/personas.json\"" <<< "$printed" ||
    fail "the unpacked binary did not find its data: $(grep personas <<< "$printed")"
# The package's configuration: refused without a token (exit 2, no restart loop), read with one.
set +e
refusal=$(cd / && env -u TELEGRAM_BOT_TOKEN "$bot" --config "$root/etc/companion/companion.toml" 2>&1)
rc=$?
set -e
[ $rc -eq 2 ] || fail "the package's config without a token exited $rc: $refusal"
grep -qF "TELEGRAM_BOT_TOKEN is not set" <<< "$refusal" || fail "no word of the token: $refusal"
live=$(cd / && TELEGRAM_BOT_TOKEN=123456:AAHtest-token-0123456789 "$bot" --config "$root/etc/companion/companion.toml" --print-config) ||
    fail "the package's config does not parse"
grep -qF 'data_dir = "/var/lib/companion"' <<< "$live" || fail "data_dir is not the StateDirectory"
grep -qF 'format = "json"' <<< "$live" || fail "the journal does not get JSON lines"

# The demo, from /.
# The loader's record (LD_DEBUG) shows which image module its selfies loaded.
demo=$(cd / && LD_DEBUG=files LD_DEBUG_OUTPUT="$work/ld" "$bot" --script demo 2>&1) ||
    { echo "$demo" | tail -20; fail "the demo failed"; }
grep -qF "demo finished: every step answered" <<< "$demo" || { echo "$demo" | tail -20; fail "the demo did not finish"; }
# Its selfies went through the package's own image module, not the build tree's.
loaded=$(cat "$work"/ld.* | grep -F 'libcompanion-media.so' | grep -F 'dynamically loaded' || true)
grep -qF "file=$root/usr/lib/" <<< "$loaded" || fail "the demo did not load the package's image module: $loaded"
echo "deb_test: ok (metadata, $(grep -c . <<< "$contents") entries, unit verified, demo from / passed)"
