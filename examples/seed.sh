#!/usr/bin/env bash
# Records the Heroku article's example on a fresh ledger and prints what an auditor sees.
# Usage: bash examples/seed.sh [LEDGER]   (default: a new temp file, removed afterwards)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product maintledger >&2
ml=$(swift build --show-bin-path)/maintledger
if [ $# -gt 0 ]; then ledger=$1; else
    folder=$(mktemp -d); trap 'rm -rf "$folder"' EXIT; ledger=$folder/ledger.sqlite
fi
export MAINTLEDGER_DB=$ledger MAINTLEDGER_ACTOR=${MAINTLEDGER_ACTOR:-platform}
at() { MAINTLEDGER_NOW=$1 "${@:2}"; }

at 2022-12-26T08:30:37.872Z $ml apps:create example-app
at 2022-12-26T08:30:37.872Z $ml addons:create heroku-redis:premium-0 -a example-app --name redis-lively-12345 \
    --description "premium HA" --server-created-at 2022-12-26T08:30:37.872Z >/dev/null
at 2023-01-02T10:00:00Z $ml data:maintenances:window:update REDIS_URL Fridays 18:00 -a example-app >/dev/null
at 2023-04-24T09:00:00Z $ml platform:maintenances:require REDIS_URL -a example-app --required-by 2023-05-03T08:54:02.518Z >/dev/null
at 2023-04-28T18:01:14.191Z $ml platform:maintenances:start redis-lively-12345
at 2023-04-28T18:04:21.141Z $ml platform:maintenances:complete redis-lively-12345

echo "\$ maintledger data:maintenances:info REDIS_URL -a example-app"
$ml data:maintenances:info REDIS_URL -a example-app
echo
echo "\$ maintledger audit:verify"
$ml audit:verify
