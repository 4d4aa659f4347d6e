#!/usr/bin/env bash
# Builds and runs maintledger's fuzzers (issue 13); see fuzz/README.md.
#
#   fuzz/run.sh [SECONDS] [TARGET...]      TARGET: json timestamp import trail cli (default: all five)
#
# SECONDS is each libFuzzer target's -max_total_time (default 300); `cli` runs CLI_CASES cases
# (default 3000) of fuzz/cli_fuzz.py instead. Everything it makes goes under FUZZ_WORK:
# the growing corpora (kept between runs, so each run starts where the last stopped), the
# findings (crash-*, timeout-*, oom-* files; cli/findings/*/repro.sh) and the logs.
#
#   FUZZ_WORK      default /tmp/maintledger-fuzz
#   FUZZ_SCRATCH   SwiftPM scratch path of the libFuzzer build (default $FUZZ_WORK/build)
#   TRAIL_SCRATCH  the same for fuzz/trail, the package of the trail target (default $FUZZ_WORK/build-trail)
#   CLI_SCRATCH    scratch path of the debug build of the CLI (default $FUZZ_WORK/build-cli);
#                  never the main checkout's .build, which `swift build` in it uses
#   CLI_BIN        a built maintledger to fuzz instead of building one
#   CLI_SEED       cli_fuzz.py's seed (default 1)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
seconds=${1:-300}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(json timestamp import trail cli)
work=${FUZZ_WORK:-/tmp/maintledger-fuzz}
scratch=${FUZZ_SCRATCH:-$work/build}
trail_scratch=${TRAIL_SCRATCH:-$work/build-trail}
mkdir -p "$work"

# The Swift runtime's backtracer and AddressSanitizer both catch a crash and get in each other's
# way; leaks are not what these targets look for (the import target keeps its ledger open).
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}

needs_libfuzzer=no
needs_trail=no
for target in "${targets[@]}"; do
    case $target in
        cli) ;;
        trail) needs_trail=yes ;;
        *) needs_libfuzzer=yes ;;
    esac
done
if [ $needs_libfuzzer = yes ]; then
    echo "== building the libFuzzer targets (release, -sanitize=fuzzer,address) in $scratch"
    swift build --package-path "$here" --scratch-path "$scratch" -c release -Xswiftc -sanitize=fuzzer,address
    bin=$(swift build --package-path "$here" --scratch-path "$scratch" -c release -Xswiftc -sanitize=fuzzer,address --show-bin-path)
fi
# fuzz/trail is a package of its own (its Package.swift says why), with no dependency to build.
if [ $needs_trail = yes ]; then
    echo "== building the trail target (release, -sanitize=fuzzer,address) in $trail_scratch"
    swift build --package-path "$here/trail" --scratch-path "$trail_scratch" -c release -Xswiftc -sanitize=fuzzer,address
    trail_bin=$(swift build --package-path "$here/trail" --scratch-path "$trail_scratch" -c release -Xswiftc -sanitize=fuzzer,address --show-bin-path)
fi

run_libfuzzer() { # name, binary's path, max_len, dictionary file, seed folders...
    local name=$1 binary=$2 max_len=$3 dict=$4
    shift 4
    mkdir -p "$work/$name/corpus" "$work/$name/findings"
    echo "== $name: $seconds s (log: $work/$name/log)"
    # -timeout: one input running longer is a hang (libFuzzer writes it as timeout-*).
    if "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len="$max_len" -dict="$dict" \
        -print_final_stats=1 -artifact_prefix="$work/$name/findings/" "$work/$name/corpus" "$@" > "$work/$name/log" 2>&1; then
        grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^Done" "$work/$name/log" || true
    else
        echo "!! $name stopped on a finding:"
        grep -E "^Fuzz[A-Za-z]+: |^==.*ERROR|Fatal error|Test unit written" "$work/$name/log" | head -5
        failed=yes
    fi
}

failed=no
for target in "${targets[@]}"; do
    case $target in
        json) run_libfuzzer json "$bin/FuzzJSON" 65536 "$here/dict/json.dict" "$here/seeds/json" "$here/seeds/import" ;;
        timestamp) run_libfuzzer timestamp "$bin/FuzzTimestamp" 256 "$here/dict/timestamp.dict" "$here/seeds/timestamp" ;;
        import)
            # -dict takes one file: the JSON tokens and the import's field names together.
            cat "$here/dict/json.dict" "$here/dict/import.dict" > "$work/import.dict"
            run_libfuzzer import "$bin/FuzzImport" 65536 "$work/import.dict" "$here/seeds/import" ;;
        trail) run_libfuzzer trail "$trail_bin/FuzzTrailPayload" 16384 "$here/dict/trail.dict" "$here/seeds/trail" ;;
        cli)
            cli_bin=${CLI_BIN:-}
            if [ -z "$cli_bin" ]; then
                cli_scratch=${CLI_SCRATCH:-$work/build-cli}
                echo "== building maintledger (debug) in $cli_scratch"
                swift build --package-path "$root" --scratch-path "$cli_scratch" --product maintledger
                cli_bin=$(swift build --package-path "$root" --scratch-path "$cli_scratch" --show-bin-path)/maintledger
            fi
            echo "== cli: ${CLI_CASES:-3000} cases (log: $work/cli.log)"
            if python3 "$here/cli_fuzz.py" --bin "$cli_bin" --cases "${CLI_CASES:-3000}" --seed "${CLI_SEED:-1}" --out "$work/cli" > "$work/cli.log" 2>&1; then
                tail -n 30 "$work/cli.log"
            else
                echo "!! cli: findings in $work/cli/findings (each with repro.sh); summary:"
                tail -n 30 "$work/cli.log"
                failed=yes
            fi ;;
        *) echo "unknown target $target (json, timestamp, import, trail, cli)" >&2; exit 64 ;;
    esac
done
[ $failed = no ]
