#!/usr/bin/env bash
# maintledger performance benchmark: the issue's targets, each beside the sqlite3 CLI doing the
# same work on the same file.
#
# Usage, from the repository root:
#   bash bench/run.sh                 full scale (about 25 min on the 2-core machine)
#   bash bench/run.sh --quick         the same at 1/10 scale (about 5 min)
# Options:
#   --history-rows N   maintenances in the history query fixture (default 10,000,000, the issue's
#                      size, which bench/gen_fixture.py builds in about 4.5 min here; quick 200,000)
#   --keep             keep the work folder (printed on stderr) instead of removing it
#
# Needs swift, python3 (3.11+, standard library only), the sqlite3 CLI, cc and SQLite's and
# OpenSSL's headers (libsqlite3-dev, libssl-dev), /usr/bin/time, and about 15 GB free under
# ${TMPDIR:-/tmp} at full scale.
# Prints the table on stdout, progress on stderr. What it does:
#   1. Builds the binary as README.md installs it (`swift build -c release --static-swift-stdlib`,
#      in its own folder .build-static, so that .build/release is left as it is), then runs it.
#   2. Generates the ledger with bench/gen_ledger.py: maintledger creates the file
#      (`apps:create bench-app-0`: schema, first trail entry), Python appends 50k apps, 100k
#      add-ons and 1M maintenances with one trail entry per command, byte for byte as maintledger
#      records them (trail format 2, docs/trail-format.md); `audit:verify` must accept it. It
#      also writes the same fleet as NDJSON for `import`.
#   3. Times export (CSV, NDJSON; peak memory), audit:verify (and with --integrity; beside its
#      floor, bench/verify_floor.c, without and with format 2's row comparison), import
#      (measured on the lines of the first tenth of the add-ons, and extrapolated when the whole
#      file would take over 5 minutes at that rate), simulate (10,000 apps over two years; 1,000 in
#      --quick), beside its floor (bench/simulate_floor.c: its writes made again through SQLite's C
#      API) too, and the size of the ledger it writes per maintenance, rebuild of that ledger from
#      its trail export (beside the same copy of its rows), history with indexed filters
#      (on a separate query fixture without trail entries, bench/gen_fixture.py), and
#      data:maintenances:info in a new process; each beside a sqlite3 command doing the same work
#      on the same file (notes under the table).
# Timings are wall-clock of whole processes; on a shared machine they vary by tens of percent.
# MAINTLEDGER_NOW is fixed at 2026-01-01T00:00:00Z (after all generated data), MAINTLEDGER_ACTOR=bench.
set -euo pipefail

MODE=full
HISTORY_ROWS=
KEEP=no
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) MODE=quick ;;
        --history-rows) HISTORY_ROWS="$2"; shift ;;
        --keep) KEEP=yes ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench: unknown argument $1 (see --help)" >&2; exit 64 ;;
    esac
    shift
done
if [ "$MODE" = quick ]; then
    ADDONS=10000; HISTORY_ROWS=${HISTORY_ROWS:-200000}
else
    ADDONS=100000; HISTORY_ROWS=${HISTORY_ROWS:-10000000}
fi
PER_ADDON=10
IMPORT_BUDGET_S=300

cd "$(dirname "$0")/.."
BENCH=$PWD/bench
START=$(date +%s)
log() { printf '%s bench: %s\n' "$(date +%T)" "$*" >&2; }

# The binary README.md installs: the Swift runtime and Foundation linked in, which a new process
# then need not load and bind (cold data:maintenances:info 8-10 ms instead of 13-15 here). Its
# own build folder: the flag changes every compile command, and would rebuild .build/release.
BUILD=(swift build -c release --static-swift-stdlib --scratch-path .build-static)
log "building (${BUILD[*]})"
"${BUILD[@]}" >&2
BIN="$("${BUILD[@]}" --show-bin-path)/maintledger"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/maintledger-bench.XXXXXX")
if [ "$KEEP" = yes ]; then
    log "work folder: $WORK (kept)"
else
    trap 'rm -rf "$WORK"' EXIT
fi
export MAINTLEDGER_NOW=2026-01-01T00:00:00Z MAINTLEDGER_ACTOR=bench
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ left in bench/
unset MAINTLEDGER_DB MAINTLEDGER_SEED
RESULTS=$WORK/results.jsonl
META=$WORK/meta.tsv
: > "$RESULTS"
: > "$META"
meta() { printf '%s\t%s\n' "$1" "$2" >> "$META"; }
PROBLEMS=0
measure() { python3 "$BENCH/timeit.py" --out "$RESULTS" "$@" || PROBLEMS=$((PROBLEMS + 1)); }
# A new ledger as maintledger makes it: schema migrated, bench-app-0 and its trail entry.
new_ledger() { MAINTLEDGER_SEED=1 "$BIN" apps:create bench-app-0 --db "$1" > /dev/null 2>&1; }
q() { sqlite3 "$1" "$2"; }
# Bytes of a ledger: the file and its WAL, if any.
file_bytes() { stat -c %s "$1" "$1-wal" 2>/dev/null | awk '{ n += $1 } END { print n }'; }

meta mode "$MODE"
meta date "$(date -u +%Y-%m-%dT%H:%MZ)"
meta machine "$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo), sqlite3 $(sqlite3 --version | cut -d' ' -f1)"
meta load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
meta build "${BUILD[*]}"

# --- The ledger -------------------------------------------------------------------------------
L=$WORK/ledger.sqlite
log "generating the ledger: $ADDONS add-ons × $PER_ADDON maintenances"
t0=$(date +%s)
new_ledger "$L"
python3 "$BENCH/gen_ledger.py" "$L" --addons "$ADDONS" --per-addon "$PER_ADDON" --import-out "$WORK/import"
meta ledger_build_s "$(( $(date +%s) - t0 ))"
M=$(q "$L" "SELECT count(*) FROM maintenances")
ENTRIES=$(q "$L" "SELECT max(seq) FROM audit_trail")
meta maintenances "$M"
meta addons "$ADDONS"
meta trail_entries "$ENTRIES"
meta ledger_bytes "$(stat -c %s "$L" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta')"
log "ledger: $M maintenances, $ENTRIES trail entries, $(du -h "$L" | cut -f1)"

# --- audit:verify (first: it also proves the generated ledger is one maintledger accepts) -------
log "audit:verify"
measure --key verify --runs 3 --budget 60 --rss --expect-stdout "^ok: $ENTRIES entries verified, head [0-9a-f]{64}" \
    -- "$BIN" audit:verify --db "$L"
# sqlite3 reading what verify reads: every trail entry in seq order and every row of every ledger
# table, written as CSV to /dev/null (no hashing, no comparing).
READ_ALL="SELECT * FROM audit_trail ORDER BY seq;"
for table in apps addons attachments windows maintenances maintenance_status_changes notices engine_ticks checkpoints maintenance_moves; do
    READ_ALL="$READ_ALL SELECT * FROM $table ORDER BY id;"
done
measure --key verify_sqlite --runs 3 --budget 60 --stdout /dev/null -- sqlite3 -csv "$L" "$READ_ALL"
# The floor of verify's work, bench/verify_floor.c on two connections and threads: SQLite's
# cheapest read of every row, every entry's hash and the Merkle tree, a SHA-256 per table row;
# then "images": the same with the row comparison format 2 makes verify do (every inserted row's
# digest computed from its entry's image, every row's compared with the one its last change
# implies; it fails unless all are equal).
VERIFY_FLOOR=$WORK/verify_floor
cc -O2 -o "$VERIFY_FLOOR" "$BENCH/verify_floor.c" -lsqlite3 -lcrypto -lpthread
measure --key verify_floor --runs 3 --budget 60 --expect-stdout '^thread 1: ' -- "$VERIFY_FLOOR" "$L" 2 0
measure --key verify_floor_images --runs 3 --budget 60 --expect-stdout '\nimages: [^\n]* 0 mismatches' -- "$VERIFY_FLOOR" "$L" 2 0 images
# With --integrity: SQLite's own checks first (one run: they take minutes at full scale).
measure --key verify_integrity --runs 1 --expect-stdout "^ok: $ENTRIES entries verified" -- "$BIN" audit:verify --integrity --db "$L"
measure --key verify_sqlite_integrity --runs 1 --expect-stdout '^ok\n\Z' -- sqlite3 "$L" "PRAGMA integrity_check"

# --- export ----------------------------------------------------------------------------------
# What export writes on a first run (cursor 0): every column of the auditors' view
# maintenance_audit (export format 2), then the head seq, in id order.
EXPORT_SQL="SELECT *, (SELECT seq FROM audit_trail ORDER BY seq DESC LIMIT 1) AS seq FROM maintenance_audit ORDER BY maintenance_id"
EXPORTED="^$WORK/export-%s/maintenances-000000000001-0*$ENTRIES\\.%s\$"
for format in csv ndjson; do
    log "export --format $format"
    measure --key "export_$format" --runs 3 --rss --fresh-dir "$WORK/export-$format" \
        --expect-stdout "$(printf "$EXPORTED" "$format" "$format")" --expect-stderr "Exported $M maintenances rows covering seq 1 to $ENTRIES" \
        -- "$BIN" export --to "$WORK/export-$format" --format "$format" --db "$L"
    if [ "$format" = csv ]; then flag=-csv; else flag=-json; fi
    measure --key "export_${format}_sqlite" --runs 3 --stdout "$WORK/sqlite-export.$format" --fsync-stdout \
        -- sqlite3 $flag -header "$L" "$EXPORT_SQL"
    measure --key "export_${format}_sqlite_nosync" --runs 3 --stdout "$WORK/sqlite-export.$format" \
        -- sqlite3 $flag -header "$L" "$EXPORT_SQL"
    ours=$(ls "$WORK/export-$format"/maintenances-*."$format" 2>/dev/null | head -1)
    if [ -n "$ours" ] && rows=$(python3 "$BENCH/check_export.py" "$format" "$ours" "$WORK/sqlite-export.$format"); then
        log "export --format $format: $rows rows, the same as sqlite3's"
        if [ "$rows" = "$M" ]; then
            meta "export_${format}_check" "same rows and columns as sqlite3's, checked field by field"
        else
            log "PROBLEM: export wrote $rows rows, the ledger holds $M"; PROBLEMS=$((PROBLEMS + 1))
            meta "export_${format}_check" "PROBLEM: export wrote $rows rows, the ledger holds $M"
        fi
    else
        log "PROBLEM: export --format $format does not hold what sqlite3 printed (above)"; PROBLEMS=$((PROBLEMS + 1))
        meta "export_${format}_check" "PROBLEM: the file differs from sqlite3's output (see stderr)"
    fi
    rm -rf "$WORK/export-$format" "$WORK/sqlite-export.$format"
done

# --- cold data:maintenances:info ---------------------------------------------------------------
INFO_ADDON=redis-bench-$(( ADDONS / 4 * 2 ))
VIEW_SQL="SELECT m.*, a.uuid AS addon_uuid, a.name AS addon_name, a.service, a.plan, a.description, a.server_created_at AS addon_server_created_at,
        p.name AS app_name, p.uuid AS app_uuid,
        (SELECT group_concat(t.name, ', ') FROM attachments t WHERE t.addon_id = a.id AND t.detached_at IS NULL) AS attachments,
        (SELECT w.day_of_week || ' ' || w.start_minute FROM windows w WHERE w.addon_id = a.id ORDER BY w.id DESC LIMIT 1) AS addon_window
    FROM maintenances m JOIN addons a ON a.id = m.addon_id JOIN apps p ON p.id = a.app_id"
log "data:maintenances:info $INFO_ADDON"
measure --key info --runs 20 --expect-stdout "addon_name: +$INFO_ADDON\n" -- "$BIN" data:maintenances:info "$INFO_ADDON" --db "$L"
measure --key info_sqlite --runs 20 --expect-stdout "$INFO_ADDON" -- sqlite3 "$L" \
    "$VIEW_SQL WHERE m.addon_id = (SELECT id FROM addons WHERE name = '$INFO_ADDON') ORDER BY m.created_at DESC, m.id DESC LIMIT 1"

# --- import ----------------------------------------------------------------------------------
LINES=$(wc -l < "$WORK/import/import.ndjson")
meta import_full_lines "$LINES"
IMPORTED_TABLES="apps addons attachments windows maintenances maintenance_status_changes"
import_pair() { # KEY N_ADDONS: maintledger import and the sqlite3 baseline on the lines of the first N_ADDONS add-ons
    local key=$1 keep=$2 n table columns
    # The part keeps the whole file's mix: every line of the first add-ons (10 per add-on), in file order.
    python3 "$BENCH/subset.py" "$ADDONS" "$keep" "$WORK/import/import.ndjson" "$WORK/import/lines.ndjson"
    n=$(wc -l < "$WORK/import/lines.ndjson")
    rm -f "$WORK/import-ours.sqlite"* "$WORK/import-sqlite.sqlite"*
    new_ledger "$WORK/import-ours.sqlite"
    log "import of $n lines ($keep add-ons)"
    measure --key "$key" --runs 1 --expect-stderr "Imported $n objects from .*: $n new, 0 progressed, 0 unchanged, 0 refused; [0-9]+ apps, $keep add-ons" \
        -- "$BIN" import "$WORK/import/lines.ndjson" --db "$WORK/import-ours.sqlite"
    # sqlite3 loads the rows import wrote (but bench-app-0, in both files already), table by table:
    # CSV (NULL as an empty field) into a temp table, then INSERT … SELECT into the ledger's own.
    # With the page cache maintledger's batches get (256 MB): with sqlite3's default 2 MB the
    # maintenances' eight indexes thrash it and the load takes half as long again.
    new_ledger "$WORK/import-sqlite.sqlite"
    printf '.bail on\nPRAGMA cache_size = -262144;\nPRAGMA foreign_keys = ON;\nBEGIN IMMEDIATE;\n' > "$WORK/import/import.sql"
    for table in $IMPORTED_TABLES; do
        sqlite3 -csv -header "$WORK/import-ours.sqlite" "SELECT * FROM $table WHERE NOT ('$table' = 'apps' AND id = 1) ORDER BY id" \
            > "$WORK/import/lines-$table.csv"
        [ -s "$WORK/import/lines-$table.csv" ] || continue
        columns=$(q "$WORK/import-ours.sqlite" "SELECT group_concat('NULLIF(\"' || name || '\", '''')', ', ') FROM pragma_table_info('$table')")
        printf '.import --csv --schema temp %s stage_%s\nINSERT INTO %s SELECT %s FROM temp.stage_%s;\n' \
            "$WORK/import/lines-$table.csv" "$table" "$table" "$columns" "$table" >> "$WORK/import/import.sql"
    done
    printf 'COMMIT;\nSELECT count(*) FROM maintenances;\n' >> "$WORK/import/import.sql"
    meta "${key}_rows" "$(q "$WORK/import-ours.sqlite" "SELECT ((SELECT count(*) FROM apps) - 1) || ' apps, '
        || (SELECT count(*) FROM addons) || ' add-ons, ' || (SELECT count(*) FROM attachments) || ' attachments, '
        || (SELECT count(*) FROM windows) || ' windows, ' || (SELECT count(*) FROM maintenance_status_changes) || ' status changes'")"
    measure --key "${key}_sqlite" --runs 1 --expect-stdout "^$n\$" -- sqlite3 "$WORK/import-sqlite.sqlite" ".read $WORK/import/import.sql"
    rm -f "$WORK/import-ours.sqlite"* "$WORK/import-sqlite.sqlite"* "$WORK/import"/lines*
}
PROBE_ADDONS=$(( ADDONS / 10 ))
import_pair import_probe "$PROBE_ADDONS"
probe_s=$(python3 -c "
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r['key'] == 'import_probe' and r['best']: print(r['best'])" "$RESULTS")
if [ -n "$probe_s" ] && python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) * 10 > $IMPORT_BUDGET_S else 1)" "$probe_s"; then
    log "import: 1/10 of the file took ${probe_s} s; all $LINES lines would take over $IMPORT_BUDGET_S s: extrapolating"
    meta import_extrapolated yes
    meta import_measured_lines "$(( PROBE_ADDONS * PER_ADDON ))"
    meta import_addons "$PROBE_ADDONS"
    sed -i 's/"key": "import_probe"/"key": "import"/; s/"key": "import_probe_sqlite"/"key": "import_sqlite"/' "$RESULTS"
else
    meta import_extrapolated no
    meta import_measured_lines "$LINES"
    meta import_addons "$ADDONS"
    import_pair import "$ADDONS"
fi

# --- simulate (the engine issue: 10,000 apps over two years in at most 30 s, at most twice the
# time of sqlite3 writing the same rows) and the size of what it writes per maintenance ----------
# The issue names 10,000 apps: measured at that size, not extrapolated (1,000 in --quick).
if [ "$MODE" = quick ]; then SIM_APPS=1000; else SIM_APPS=10000; fi
S=$WORK/simulate.sqlite
log "simulate --apps $SIM_APPS --days 730"
measure --key simulate --runs 1 --rss --expect-stderr "^Simulated $SIM_APPS apps" \
    -- "$BIN" simulate --apps "$SIM_APPS" --days 730 --start 2022-01-01 --seed 1 --db "$S"
meta simulate_apps "$SIM_APPS"
meta simulate_entries "$(q "$S" "SELECT max(seq) FROM audit_trail")"
meta simulate_maintenances "$(q "$S" "SELECT count(*) FROM maintenances")"
meta simulate_bytes "$(file_bytes "$S")"
# sqlite3 writing the same rows: an empty file with the same schema, then every table copied from
# the simulated ledger in key order (CHECKs, indexes, foreign keys and the trail's triggers on),
# in one transaction, with the page cache simulate gives its batches (256 MB) and WAL. It writes
# each row once; the engine also updates each maintenance as it moves.
C=$WORK/simulate-copy.sqlite
# The schema as stored, statement by statement, in the order it was made. (sqlite3's `.schema`
# appends a comment listing a view's columns to each view, which then becomes part of the view's
# stored SQL, and audit:verify rightly finds the view differs from its migration's.)
schema_of() { q "$1" "SELECT sql || ';' FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid"; }
schema_of "$S" | sqlite3 "$C"
COPIED="schema_migrations apps addons attachments windows maintenances maintenance_status_changes notices engine_ticks maintenance_moves audit_trail
    trail_tree checkpoints"
TABLES=$(q "$S" "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name)")
if [ "$(echo $COPIED | tr ' ' '\n' | LC_ALL=C sort | tr '\n' ' ')" != "$TABLES " ]; then
    log "PROBLEM: the simulated ledger's tables are $TABLES; the sqlite3 copy copies $(echo $COPIED)"; PROBLEMS=$((PROBLEMS + 1))
fi
COPY="PRAGMA journal_mode = WAL; PRAGMA cache_size = -262144; PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; ATTACH '$S' AS s; BEGIN IMMEDIATE;"
for table in $COPIED; do
    if [ "$table" = trail_tree ]; then order="last_seq, level"; else order=rowid; fi  # trail_tree is WITHOUT ROWID
    COPY="$COPY INSERT INTO main.$table SELECT * FROM s.$table ORDER BY $order;"
done
measure --key simulate_sqlite --runs 1 -- sqlite3 "$C" "$COPY COMMIT;"
meta simulate_copy_bytes "$(file_bytes "$C")"
# rebuild (issue 15): the simulated ledger made again from its trail alone, exported first as a
# scheduled job would (one NDJSON file and its manifest); beside the copy above, which writes
# the same rows into the same schema (target: at most twice its time). Each run into a new folder.
SIM_HEAD=$(q "$S" "SELECT lower(hex(hash)) FROM audit_trail ORDER BY seq DESC LIMIT 1")
SIM_ENTRIES=$(q "$S" "SELECT max(seq) FROM audit_trail")
mkdir -p "$WORK/trail-export"
"$BIN" export --to "$WORK/trail-export" --entity trail --db "$S" > /dev/null 2>&1
meta simulate_trail_bytes "$(cat "$WORK/trail-export"/trail-*.ndjson | wc -c)"
log "rebuild from the simulated ledger's trail export"
measure --key simulate_rebuild --runs 3 --budget 60 --rss --fresh-dir "$WORK/rebuilt" \
    --expect-stdout "^rebuilt $WORK/rebuilt/ledger\.sqlite: $SIM_ENTRIES entries from 1 file, head $SIM_HEAD\n\$" \
    -- "$BIN" rebuild --from "$WORK/trail-export" --to "$WORK/rebuilt/ledger.sqlite"
rm -rf "$WORK/trail-export" "$WORK/rebuilt"
# The floor of simulate's work, bench/simulate_floor.c: exactly the writes simulate made (decoded
# from its trail, untimed), made again through SQLite's C API with bound statements, in the same
# transactions and with the same settings, with no reads, rules, encoding, hashing or Swift. It
# prints the seconds of its writes and fails unless the file it wrote then holds the simulated
# ledger's rows. "tables": the tables' rows alone (each maintenance inserted, then updated step
# by step, its status changes and notices, the fleet, the ticks); "trail": the same and the
# trail's own rows, each entry's bytes and the tree nodes it completed as recorded, which
# audit:verify must accept: every byte simulate wrote, the floor of the format.
FLOOR=$WORK/simulate_floor
cc -O2 -o "$FLOOR" "$BENCH/simulate_floor.c" -lsqlite3
for mode in tables trail; do
    P=$WORK/simulate-floor-$mode.sqlite
    schema_of "$S" | sqlite3 "$P"
    log "simulate's floor: its writes made again through SQLite ($mode)"
    measure --key "simulate_floor_$mode" --runs 1 --expect-stdout '^[0-9.]+\s*$' -- "$FLOOR" "$S" "$P" "$mode"
done
measure --key simulate_floor_verify --runs 1 --expect-stdout "^ok: $SIM_ENTRIES entries verified, head $SIM_HEAD\n\$" \
    -- "$BIN" audit:verify --db "$WORK/simulate-floor-trail.sqlite"
rm -f "$S"* "$C"* "$WORK"/simulate-floor-* "$FLOOR"

# --- history on the query fixture ------------------------------------------------------------
F=$WORK/fixture.sqlite
FIXTURE_ADDONS=$(( HISTORY_ROWS / 100 ))
log "building the history query fixture: $FIXTURE_ADDONS add-ons × 100 maintenances, no trail"
t0=$(date +%s)
new_ledger "$F"
python3 "$BENCH/gen_fixture.py" "$F" --addons "$FIXTURE_ADDONS" --per-addon 100
FIXTURE_S=$(( $(date +%s) - t0 ))
meta fixture_rows "$(q "$F" "SELECT count(*) FROM maintenances")"
if [ "$MODE" = quick ]; then
    meta fixture_reason "; built in $FIXTURE_S s (quick mode; the full run builds the issue's 10M)"
elif [ "$HISTORY_ROWS" -ne 10000000 ]; then
    meta fixture_reason "; built in $FIXTURE_S s (--history-rows $HISTORY_ROWS; the issue's size and the default is 10M)"
else
    meta fixture_reason "; built in $FIXTURE_S s"
fi
HISTORY_ADDON=redis-bench-$(( FIXTURE_ADDONS / 4 * 2 ))
ORDER="ORDER BY m.scheduled_for DESC, m.id DESC LIMIT 20"
log "history --addon $HISTORY_ADDON"
measure --key history_addon --runs 5 --expect-stdout '\A(\{[^\n]*"name":"'"$HISTORY_ADDON"'"[^\n]*\}\n){20}\Z' \
    -- "$BIN" history --addon "$HISTORY_ADDON" --limit 20 --ndjson --db "$F"
measure --key history_addon_sqlite --runs 5 --expect-stdout "$HISTORY_ADDON" -- sqlite3 -json "$F" \
    "$VIEW_SQL WHERE m.addon_id = (SELECT id FROM addons WHERE name = '$HISTORY_ADDON') $ORDER"
log "history --status failed"
measure --key history_failed --runs 5 --expect-stdout '(\n [^\n]* failed [^\n]*){20}\n\Z' \
    -- "$BIN" history --status failed --limit 20 --db "$F"
measure --key history_failed_sqlite --runs 5 --expect-stdout "failed" -- sqlite3 "$F" "$VIEW_SQL WHERE m.status = 'failed' $ORDER"

meta load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
meta total_s "$(( $(date +%s) - START ))"
python3 "$BENCH/report.py" "$RESULTS" "$META"
if [ "$PROBLEMS" -gt 0 ]; then
    log "$PROBLEMS problem(s): see PROBLEMS under the table and the lines starting 'bench: PROBLEM' above"
    exit 1
fi
