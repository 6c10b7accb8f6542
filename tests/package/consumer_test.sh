#!/usr/bin/env bash
# The engine as another project uses it (issue 23): install the dev component into a temporary
# prefix, configure examples/consumer against it with nothing but CMAKE_PREFIX_PATH, build it with
# warnings as errors, and run it from /. Then the package's own checks: a version it does not
# satisfy and a component it does not have are refused at configure time, and the engine's targets
# name neither SQLite nor libvips nor the bot.
#
#   consumer_test.sh <build dir> <source dir>
set -euo pipefail
build=$1
source=$2
work=$(mktemp -d /tmp/companion-consumer.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "consumer_test: FAIL: $*" >&2; exit 1; }

prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" --component dev > "$work/install.log"
config_dir=$prefix/lib/cmake/companion
for f in companionConfig.cmake companionConfigVersion.cmake companion-engine-targets.cmake companion-net-targets.cmake; do
    [ -f "$config_dir/$f" ] || fail "$config_dir/$f is missing"
done
[ -f "$prefix/include/companion/engine/runtime.hpp" ] || fail "engine headers are not under include/companion/"
[ -f "$prefix/include/companion/net/http_client.hpp" ] || fail "net headers are not under include/companion/"
if grep -qiE "sqlite|vips|companion_(app|pipelines|storage|sim)" "$config_dir"/companion-*-targets*.cmake; then
    fail "the engine or net targets drag in SQLite, libvips or the bot: $(grep -iE "sqlite|vips|companion_(app|pipelines|storage|sim)" "$config_dir"/companion-*-targets*.cmake)"
fi

launcher=()
if command -v ccache > /dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S "$source/examples/consumer" -B "$work/consumer" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CXX_FLAGS="-Wall -Wextra -Wpedantic -Werror" "${launcher[@]}" \
    > "$work/configure.log" 2>&1 || { cat "$work/configure.log"; fail "the consumer does not configure"; }
cmake --build "$work/consumer" > "$work/build.log" 2>&1 || { cat "$work/build.log"; fail "the consumer does not build"; }

out=$(cd / && "$work/consumer/counter_service" 2>/dev/null) || fail "counter_service exited non-zero: $out"
echo "$out"
[[ $out == "consumer: requests=60 in_order=yes balances=yes silent_client_cut_off=yes timed_out="* ]] ||
    fail "unexpected result: $out"

# find_package's checks, each in a project of one line.
refused() { # <find_package arguments> <expected message>
    mkdir -p "$work/probe"
    printf 'cmake_minimum_required(VERSION 3.25)\nproject(probe LANGUAGES CXX)\nfind_package(%s)\n' "$1" \
        > "$work/probe/CMakeLists.txt"
    rm -rf "$work/probe/build"
    if cmake -S "$work/probe" -B "$work/probe/build" -DCMAKE_PREFIX_PATH="$prefix" > "$work/probe.log" 2>&1; then
        fail "find_package($1) was accepted"
    fi
    grep -q "$2" "$work/probe.log" || { cat "$work/probe.log"; fail "find_package($1) did not say '$2'"; }
}
refused "companion 0.3 CONFIG REQUIRED" "version: 0.2.0"
refused "companion 0.1 CONFIG REQUIRED" "version: 0.2.0"
refused "companion 0.2 CONFIG REQUIRED COMPONENTS bot" "no component 'bot'"
echo "consumer_test: ok (installed, configured, built with -Werror and run from /; 0.1, 0.3 and 'bot' refused)"
