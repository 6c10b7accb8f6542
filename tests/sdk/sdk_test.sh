#!/usr/bin/env bash
# The official SDKs against the simulators (issue 17): @fal-ai/client (queue submit, status,
# result, subscribe, a content-checker refusal, cancel) and @openrouter/sdk (video models, create,
# poll, content, a moderated job) run unchanged against one companion-sim with ephemeral ports and
# keys it enforces. The SDKs come from tests/sdk/package-lock.json, installed with `npm ci` into
# <build dir>/sdk (again only when the lock changed), so a fresh clone needs only node and npm.
#
#   sdk_test.sh <build dir> <source dir> <companion-sim>
set -euo pipefail
build=$1
source=$2
sim=$3
here=$source/tests/sdk
fail() { echo "sdk_test: FAIL: $*" >&2; exit 1; }

# No node is a failure, never a skip: the check would silently stop guarding the simulators.
command -v node > /dev/null || fail "node is not installed; scripts/setup installs it (Debian package nodejs)"
command -v npm > /dev/null || fail "npm is not installed (NodeSource's nodejs ships it; Debian's needs the npm package)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 18 ] || fail "node $(node --version) is too old: both SDKs need 18 or later (global fetch)"
[ -x "$sim" ] || fail "$sim is missing; build the companion-sim target"

sdk=$build/sdk
mkdir -p "$sdk"
if [ ! -d "$sdk/node_modules" ] || ! cmp -s "$here/package-lock.json" "$sdk/installed-lock.json"; then
    echo "sdk_test: installing the SDKs (npm ci into $sdk)"
    rm -f "$sdk/installed-lock.json"
    cp "$here/package.json" "$here/package-lock.json" "$sdk/"
    # No install scripts: the SDKs need none to run (@openrouter/sdk's only checks its typings).
    npm ci --prefix "$sdk" --ignore-scripts --no-audit --no-fund --loglevel=error ||
        fail "npm ci from tests/sdk/package-lock.json failed"
    cp "$here/package-lock.json" "$sdk/installed-lock.json"
fi
# Beside their node_modules, so the scripts' imports resolve to the installed SDKs.
cp "$here"/*.mjs "$sdk/"

work=$(mktemp -d /tmp/companion-sdk.XXXXXX)
sim_pid=
cleanup() {
    if [ -n "$sim_pid" ]; then
        kill "$sim_pid" 2> /dev/null || true
        wait "$sim_pid" 2> /dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# Short phases (the SDKs poll every 100 to 500 ms) that still leave each status visible.
export FAL_KEY=sdk-test-fal-key OPENROUTER_API_KEY=sdk-test-openrouter-key
"$sim" -q --fal-key "$FAL_KEY" --openrouter-key "$OPENROUTER_API_KEY" \
    --video-queue-ms 400 --video-render-ms 1200 > "$work/sim.out" 2> "$work/sim.err" &
sim_pid=$!
for _ in $(seq 100); do
    [ "$(grep -c . "$work/sim.out")" -ge 5 ] && break
    kill -0 "$sim_pid" 2> /dev/null || fail "companion-sim exited at start: $(cat "$work/sim.err")"
    sleep 0.1
done
fal_url=$(awk '$1 == "fal" { print $2 }' "$work/sim.out")
openrouter_url=$(awk '$1 == "openrouter" { print $2 }' "$work/sim.out")
[ -n "$fal_url" ] && [ -n "$openrouter_url" ] ||
    fail "companion-sim did not print the fal and openrouter base URLs: $(cat "$work/sim.out" "$work/sim.err")"

# Both at once (separate simulators in the one process); each prints its own summary or failure.
node "$sdk/fal_sdk.mjs" "$fal_url" > "$work/fal.log" 2>&1 &
fal_pid=$!
node "$sdk/openrouter_sdk.mjs" "$openrouter_url" > "$work/openrouter.log" 2>&1 &
openrouter_pid=$!
failed=0
wait "$fal_pid" || failed=1
cat "$work/fal.log"
wait "$openrouter_pid" || failed=1
cat "$work/openrouter.log"

# The simulator stops on SIGTERM with exit code 0, as the benchmarks stop it.
kill -TERM "$sim_pid"
sim_rc=0
wait "$sim_pid" || sim_rc=$?
sim_pid=
[ "$sim_rc" -eq 0 ] || fail "companion-sim exited with $sim_rc after SIGTERM: $(cat "$work/sim.err")"
[ "$failed" -eq 0 ] || fail "an SDK did not work against the simulator (its line above says why)"
echo "sdk_test: ok (@fal-ai/client $(node -p "require('$sdk/node_modules/@fal-ai/client/package.json').version"), @openrouter/sdk $(node -p "require('$sdk/node_modules/@openrouter/sdk/package.json').version"), node $(node --version))"
