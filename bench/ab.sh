#!/usr/bin/env bash
# Compares two builds of maintledger on the same work, side by side: runs A and B alternately,
# N times each, and prints the best wall-clock time of each (the machine is shared and noisy,
# so only the best of alternating runs says anything).
#
# Usage: bash bench/ab.sh OLD_BINARY NEW_BINARY [N]     (N defaults to 5; AB_VERBOSE=1 prints every run)
# Work:  simulate --apps 1000 --days 730 into a new file; then audit:verify of the demo ledger
#        (each binary verifies the demo ledger it built itself).
set -euo pipefail
old=$1 new=$2 runs=${3:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export MAINTLEDGER_NOW=2026-01-01T00:00:00Z MAINTLEDGER_ACTOR=bench

seconds() { # prints the wall-clock seconds of the command, to the millisecond
    local start end
    start=$(date +%s%N); "$@" >/dev/null 2>&1; end=$(date +%s%N)
    local ms=$(((end - start) / 1000000))
    printf '%d.%03d\n' $((ms / 1000)) $((ms % 1000))
}
best() { sort -n | head -1; }

for name in old new; do
    bin=${!name}
    "$bin" demo --db "$work/demo-$name.sqlite" >/dev/null 2>&1
done
cmp <("$old" audit:verify --db "$work/demo-old.sqlite") <("$new" audit:verify --db "$work/demo-new.sqlite") \
    || { echo "the two builds made different demo ledgers" >&2; exit 1; }

: >"$work/simulate-old"; : >"$work/simulate-new"; : >"$work/verify-old"; : >"$work/verify-new"
for ((i = 1; i <= runs; i++)); do
    for name in old new; do
        bin=${!name}
        rm -f "$work/sim.sqlite"*
        seconds "$bin" simulate --apps 1000 --days 730 --seed 1 --db "$work/sim.sqlite" >>"$work/simulate-$name"
        seconds "$bin" audit:verify --db "$work/demo-$name.sqlite" >>"$work/verify-$name"
    done
    echo "round $i of $runs done" >&2
done
if [ -n "${AB_VERBOSE:-}" ]; then
    for file in simulate-old simulate-new verify-old verify-new; do echo "$file: $(tr '\n' ' ' <"$work/$file")"; done
fi
printf '%-40s %10s %10s\n' "best of $runs, seconds" old new
printf '%-40s %10s %10s\n' "simulate --apps 1000 --days 730" "$(best <"$work/simulate-old")" "$(best <"$work/simulate-new")"
printf '%-40s %10s %10s\n' "audit:verify (demo ledger)" "$(best <"$work/verify-old")" "$(best <"$work/verify-new")"
