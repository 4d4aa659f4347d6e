#!/usr/bin/env bash
# Prints a transcript of every maintledger command on a fresh, reproducible ledger
# (fixed clock and seed). docs/commands.md shows this script's output (examples/check_docs.py checks it).
# Usage: bash examples/tour.sh
set -uo pipefail
cd "$(dirname "$0")/.."
swift build --product maintledger >/dev/null 2>&1 || { echo "build failed" >&2; exit 1; }
bin=$(swift build --show-bin-path)/maintledger
folder=$(mktemp -d); trap 'rm -rf "$folder"' EXIT
export MAINTLEDGER_DB=$folder/ledger.sqlite MAINTLEDGER_ACTOR=alice MAINTLEDGER_SEED=42

# Shows a command as typed, then what it printed (stderr folded in) and a non-zero exit.
show() {
    local now=$1; shift
    local shown=() word
    for word in "$@"; do [[ $word == *" "* ]] && shown+=("\"$word\"") || shown+=("$word"); done
    echo "\$ maintledger ${shown[*]}"
    MAINTLEDGER_NOW=$now "$bin" "$@" 2>&1
    local code=$?
    [ $code -ne 0 ] && echo "(exit $code)"
    echo
}

echo '## Inventory'
show 2022-12-26T08:30:37.872Z apps:create example-app
show 2022-12-26T08:30:37.872Z addons:create heroku-redis:premium-0 -a example-app --name redis-lively-12345 --description "premium HA" --server-created-at 2022-12-26T08:30:37.872Z
show 2022-12-26T09:00:00Z addons:create heroku-postgresql:essential-0 -a example-app
show 2022-12-26T09:00:00Z apps:create reporting-app
show 2022-12-26T09:00:00Z addons:attach redis-lively-12345 -a reporting-app --as CACHE
show 2022-12-26T09:00:00Z addons
show 2022-12-26T09:00:00Z addons:detach CACHE -a reporting-app
show 2022-12-26T09:00:00Z redis:info -a example-app

echo '## Windows'
show 2023-01-02T10:00:00Z data:maintenances:window REDIS_URL -a example-app
show 2023-01-02T10:00:00Z data:maintenances:window:update REDIS_URL Fridays 6:00PM -a example-app
show 2023-01-02T10:00:00Z data:maintenances:window:update DATABASE_URL sunday 14:30 -a example-app

echo '## The platform records a maintenance'
show 2023-04-24T09:00:00Z platform:maintenances:require REDIS_URL -a example-app --required-by 2023-05-03T08:54:02.518Z
show 2023-04-24T09:05:00Z redis:info -a example-app
show 2023-04-24T09:05:00Z data:maintenances -a example-app
show 2023-04-24T09:05:00Z data:maintenances:schedule REDIS_URL -a example-app --weeks 1
show 2023-04-24T09:05:00Z data:maintenances:schedule REDIS_URL -a example-app --week 2023-04-24
show 2023-04-28T17:55:00Z platform:maintenances:prepare redis-lively-12345
show 2023-04-28T17:59:00Z platform:maintenances:ready redis-lively-12345
show 2023-04-28T18:01:14.191Z platform:maintenances:start redis-lively-12345
show 2023-04-28T18:02:00Z data:maintenances:wait redis-lively-12345 --timeout 1
show 2023-04-28T18:04:21.141Z platform:maintenances:complete redis-lively-12345
show 2023-04-28T18:10:00Z data:maintenances:info REDIS_URL -a example-app
show 2023-04-28T18:10:00Z data:maintenances:info REDIS_URL -a example-app --json

echo '## Customers run maintenance themselves'
show 2023-05-02T12:00:00Z data:maintenances:run REDIS_URL -a example-app
show 2023-05-02T12:00:00Z data:maintenances:run REDIS_URL -a example-app --confirm example-app
show 2023-05-02T12:03:00Z platform:maintenances:complete REDIS_URL -a example-app
show 2023-05-09T12:00:00Z maintenance:on -a example-app
show 2023-05-09T12:00:00Z maintenance -a example-app
show 2023-05-09T12:00:00Z data:maintenances:run REDIS_URL -a example-app
show 2023-05-09T12:05:00Z platform:maintenances:fail REDIS_URL -a example-app
show 2023-05-09T12:10:00Z maintenance:off -a example-app
show 2023-05-09T12:10:00Z data:maintenances:run DATABASE_URL -a example-app --confirm example-app
show 2023-05-09T12:10:00Z data:maintenances:history REDIS_URL -a example-app --all
show 2023-05-09T12:10:00Z data:maintenances:history REDIS_URL -a example-app -n 2 --csv
show 2023-05-09T12:10:00Z data:maintenances -a example-app -x

echo '## Engine'
show 2023-08-01T00:00:00Z platform:tick --seed 1
show 2023-08-01T00:00:00Z platform:tick --seed 1
show 2023-08-01T00:00:00Z notices --since-seq 1
show 2023-08-01T00:00:00Z data:maintenances -a example-app -x
show 2023-08-01T00:00:00Z platform:tick --until 2023-07-01T00:00:00Z

echo '## Reports'
show 2023-08-01T00:00:00Z history --limit 4
show 2023-08-01T00:00:00Z history --kind redis --status completed --time completed --since 2023-04-01T00:00:00Z --csv
show 2023-08-01T00:00:00Z data:maintenances:info redis-lively-12345 --as-of 2023-04-28T18:02:00Z
show 2023-08-01T00:00:00Z audit:windows --addon redis-lively-12345
show 2023-08-01T00:00:00Z audit:overdue
show 2023-08-01T00:00:00Z audit:compliance --by kind
show 2023-08-01T00:00:00Z audit:compliance --by quarter --csv
show 2023-08-01T00:00:00Z sql "SELECT addon, status, scheduled_window, started_in_window, ended_at, ended_by, deadline_met FROM maintenance_audit ORDER BY maintenance_id"
show 2023-08-01T00:00:00Z sql "SELECT addon, previous_window_text, window_text, day_name, start_time, set_by FROM window_changes WHERE addon = 'redis-lively-12345'"
(cd "$folder" && show 2023-08-01T00:00:00Z audit:report --to report.html --since 2023-01-01T00:00:00Z \
    && show 2023-08-01T00:00:00Z audit:report --to report.html --since 2023-01-01T00:00:00Z \
    && show 2023-08-01T00:00:00Z audit:report --to audit.html --since 2023-08-01T00:00:00Z --until 2023-01-01T00:00:00Z \
    && rm report.html)
show 2023-08-01T00:00:00Z sql "SELECT status, count(*) AS maintenances FROM maintenances GROUP BY status ORDER BY 2 DESC"
show 2023-08-01T00:00:00Z sql "DELETE FROM maintenances"

echo '## Exports'
cd "$folder"
mkdir exports
show 2023-08-01T00:00:00Z export --to exports --format csv
show 2023-08-01T00:00:00Z export --to exports --format csv
echo '$ ls -A exports'
ls -A exports
echo
echo '$ head -n 2 exports/*.csv'
head -n 2 exports/*.csv
echo
echo '$ cat exports/*.manifest.json'
cat exports/*.manifest.json
echo
MAINTLEDGER_NOW=2023-08-01T00:00:00Z "$bin" history --ndjson >maintenances.ndjson
echo '$ maintledger history --ndjson > maintenances.ndjson'
echo
show 2023-08-01T00:00:00Z import maintenances.ndjson --db copy.sqlite
show 2023-08-01T00:00:00Z import maintenances.ndjson --db copy.sqlite

echo '## Rebuild'
mkdir trail-exports
show 2023-08-01T00:00:00Z export --to trail-exports --entity trail
show 2023-08-01T00:00:00Z rebuild --from trail-exports --to rebuilt.sqlite
show 2023-08-01T00:00:00Z audit:verify --db rebuilt.sqlite
echo '$ cmp <(maintledger history --csv) <(maintledger history --csv --db rebuilt.sqlite) && echo same'
cmp <(MAINTLEDGER_NOW=2023-08-01T00:00:00Z "$bin" history --csv) <(MAINTLEDGER_NOW=2023-08-01T00:00:00Z "$bin" history --csv --db rebuilt.sqlite) && echo same
echo
show 2023-08-01T00:00:00Z rebuild --from trail-exports --to rebuilt.sqlite
MAINTLEDGER_NOW=2023-08-01T00:00:00Z "$bin" audit:trail --ndjson | sed 7d >gap.ndjson
echo '$ maintledger audit:trail --ndjson | sed 7d > gap.ndjson'
echo
show 2023-08-01T00:00:00Z rebuild --from gap.ndjson --to other.sqlite
cd - >/dev/null

echo '## Backup'
cd "$folder"
mkdir backups
show 2023-08-01T00:00:00Z backup --to backups/ledger-2023-08-01.sqlite --db ledger.sqlite
show 2023-08-01T00:00:00Z backup --to backups/ledger-2023-08-01.sqlite --db ledger.sqlite
show 2023-08-01T00:00:00Z backup --to backups --db ledger.sqlite
echo "\$ ls -A backups; stat -c '%A %n' backups/*"
ls -A backups; stat -c '%A %n' backups/*
echo
show 2023-08-01T00:00:00Z audit:verify --db backups/ledger-2023-08-01.sqlite
cd - >/dev/null

echo '## Audit'
show 2023-08-01T00:00:00Z audit:trail --since-seq 12
echo '$ maintledger audit:trail --since-seq 17 --ndjson | head -1'
MAINTLEDGER_NOW=2023-08-01T00:00:00Z "$bin" audit:trail --since-seq 17 --ndjson | head -1
echo
show 2023-08-01T00:00:00Z audit:verify
sqlite3 "$MAINTLEDGER_DB" "DROP TRIGGER audit_trail_append_only_update; UPDATE maintenances SET completed_at = '2023-04-28T18:03:00.000Z' WHERE id = 1;"
echo '$ sqlite3 ledger.sqlite "DROP TRIGGER audit_trail_append_only_update; UPDATE maintenances SET completed_at = ... WHERE id = 1;"'
echo
show 2023-08-01T00:00:00Z audit:verify
show 2023-08-01T00:00:00Z addons:destroy redis-lively-12345 -a example-app --confirm example-app
