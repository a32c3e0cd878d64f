#!/usr/bin/env bash
# Runs the fault scenarios against gatehouse built from this tree:
#   bash bench/faults.sh [scenario...]
#
# Scenarios: sigterm-flood, db-outage, db-down-at-start, smtp-outage,
# kill9-reset (default: all, in that order). Each gets a fresh gatehouse on
# a fresh schema of the PostgreSQL database at PGHOST/PGPORT/PGUSER/
# PGDATABASE (127.0.0.1, 5432, postgres, test); the load generator starts
# the server, the database proxy and the SMTP sink itself and prints a
# report per scenario with PASS or FAIL against its targets. FAULT_FLAGS
# passes further flags to it, e.g. FAULT_FLAGS="-smtp-outage 30s".
# Exits non-zero if any scenario failed; the server logs are then kept.
set -euo pipefail

PGHOST="${PGHOST:-127.0.0.1}"
PGPORT="${PGPORT:-5432}"
PGUSER="${PGUSER:-postgres}"
PGDATABASE="${PGDATABASE:-test}"

scenarios="all"
if [[ $# -gt 0 ]]; then
	scenarios="$(
		IFS=,
		echo "$*"
	)"
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-faults-bin.XXXXXX")"
trap 'rm -rf "$work"' EXIT

cd "$root"
echo "building gatehouse and bench"
nice -n 10 go build -o "$work/gatehouse" ./cmd/gatehouse
nice -n 10 go build -o "$work/bench" ./bench

echo "== faults on $(nproc) CPUs shared by server, PostgreSQL and load; load average $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%dT%H:%MZ) =="
# shellcheck disable=SC2086 # FAULT_FLAGS is split into flags on purpose
"$work/bench" -fault "$scenarios" -gatehouse "$work/gatehouse" \
	-postgres "postgres://$PGUSER@$PGHOST:$PGPORT/$PGDATABASE?sslmode=disable" ${FAULT_FLAGS:-}
