#!/usr/bin/env bash
# maintledger crash trials: SIGKILL at random moments, then check what was left (issue 13, part 3).
#
# Usage, from anywhere in the repository:
#   bash bench/crash-trials.sh                  full mode: 520 trials (15 to 20 min on the 2-core machine)
#   bash bench/crash-trials.sh --short          short mode, what CI runs: 60 trials (about 1 min)
# Options:
#   --trials N        trials in all, split evenly between the scenarios run (default 520, short 60)
#   --bin PATH        the maintledger binary to try (default: `swift build -c release`, then its binary)
#   --seed N          seeds the trials' random choices (kill delays, names, lanes); printed when not given
#   --only LIST       run only these scenarios, comma-separated (simulate,import,export,tick,writers)
#   --plant FAULT     plant one fault, to see a check catch it (the run must then fail): writers-row,
#                     writers-ack, export-dup, export-drop or import-half (see bench/crash_trials.py)
#   --keep            keep the work folder (printed on stderr) instead of removing it
#
# Scenarios, each killed with SIGKILL after a random delay drawn from 0 to 1.15 times an
# uninterrupted run's duration (so most kills land mid-run; the count that did is reported):
#   simulate   `simulate --apps N --days D` on a new ledger. It commits the fleet, then 30 days a
#              transaction: what a kill leaves must be the uninterrupted run's trail cut at one of
#              those commits, hash for hash. Run again, simulate refuses a ledger with entries
#              (exit 1, ledger unchanged) and builds the whole fleet on one without.
#   import     `import` of a large NDJSON file (`history --ndjson` of a simulated fleet): the ledger
#              is exactly as before or exactly as an uninterrupted import leaves it; importing again
#              gives the uninterrupted result.
#   export     `export --to DIR`, every entity in both formats in turn, on a ledger that moves on
#              between exports (new folders for a full export now and then): run again, the union of
#              the folder's files holds every trail entry once, and every maintenance and window row
#              once per export that covers a change to it, as the trail recorded it, with no
#              leftover file. Every third export kill (when a C compiler is there) lands instead at
#              a random fsync or rename call of the export, through an LD_PRELOAD shim, to hit
#              the commit points between data file, manifest and cursor (milliseconds long).
#   tick       `platform:tick` of months of engine work: all or nothing; ticking again gives the
#              uninterrupted result.
#   writers    4 processes each looping single writer commands (apps:create, addons:create,
#              data:maintenances:window:update, maintenance:on|off, platform:maintenances:require,
#              start, complete) on one ledger, logging every command before it runs and every exit;
#              all killed at once. Every command that exited 0 must be in the ledger (rows and trail
#              entry), none more often than started; the ledger then takes a new write.
# After every kill: `maintledger audit:verify` passes, and sqlite3's `PRAGMA integrity_check` is ok.
#
# Needs python3 (standard library) and the sqlite3 CLI. Prints one line per scenario and a total on
# stdout, progress on stderr; exits 1 if any trial failed (each failure is printed with what it
# ran and when it was killed).
set -euo pipefail

BIN=
KEEP=no
ARGS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --short) ARGS+=(--short) ;;
        --trials|--seed|--only|--plant)
            [ $# -ge 2 ] || { echo "crash-trials: $1 needs a value" >&2; exit 64; }
            ARGS+=("$1" "$2"); shift ;;
        --bin)
            [ $# -ge 2 ] || { echo "crash-trials: --bin needs a path" >&2; exit 64; }
            BIN=$2; shift ;;
        --keep) KEEP=yes ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "crash-trials: unknown argument $1 (see --help)" >&2; exit 64 ;;
    esac
    shift
done

cd "$(dirname "$0")/.."
if [ -z "$BIN" ]; then
    echo "crash-trials: building (swift build -c release)" >&2
    swift build -c release >&2
    BIN="$(swift build -c release --show-bin-path)/maintledger"
fi
[ -x "$BIN" ] || { echo "crash-trials: no executable at $BIN" >&2; exit 64; }
command -v sqlite3 >/dev/null || { echo "crash-trials: needs the sqlite3 CLI" >&2; exit 64; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/maintledger-crash.XXXXXX")
if [ "$KEEP" = yes ]; then
    echo "crash-trials: work folder $WORK (kept)" >&2
else
    trap 'rm -rf "$WORK"' EXIT
fi
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ left in bench/
python3 bench/crash_trials.py --bin "$BIN" --work "$WORK" "${ARGS[@]}"
