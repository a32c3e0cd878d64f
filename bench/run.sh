#!/usr/bin/env bash
# Reproduces the load figures: bash bench/run.sh [sqlite|postgres|both]
# and the fault figures:          bash bench/run.sh smtp-outage [sqlite|postgres|both]
#
# For each database it starts a fresh gatehouse on a free loopback port,
# creates a client_credentials client, runs the four scenarios and prints a
# table. Environment: DURATION (10s), WARMUP (2s), CONCURRENCY (64),
# TOKENS (1000), PGHOST/PGPORT/PGUSER/PGDATABASE for PostgreSQL
# (127.0.0.1, 5432, postgres, test). Exits non-zero if any scenario saw an
# error answer.
#
# smtp-outage instead starts the server with an SMTP server that is down
# for OUTAGE (2m), asks for USERS (40) password resets meanwhile, and
# prints how long after the SMTP server's return the mail arrived.
set -euo pipefail

DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-2s}"
CONCURRENCY="${CONCURRENCY:-64}"
TOKENS="${TOKENS:-1000}"
PGHOST="${PGHOST:-127.0.0.1}"
PGPORT="${PGPORT:-5432}"
PGUSER="${PGUSER:-postgres}"
PGDATABASE="${PGDATABASE:-test}"
export PGHOST PGPORT PGUSER PGDATABASE

SCENARIOS=(discovery jwks client_credentials introspect)
OUTAGE="${OUTAGE:-2m}"
USERS="${USERS:-40}"

mode=load
if [[ "${1:-}" == smtp-outage ]]; then
	mode=smtp-outage
	shift
fi
which_db="${1:-both}"
case "$which_db" in
sqlite) databases=(sqlite) ;;
postgres) databases=(postgres) ;;
both) databases=(sqlite postgres) ;;
*)
	echo "usage: bash bench/run.sh [smtp-outage] [sqlite|postgres|both]" >&2
	exit 2
	;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-bench.XXXXXX")"
server_pid=""
schema=""
failed=0

stop_server() {
	if [[ -n "$server_pid" ]]; then
		kill -TERM "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
		server_pid=""
	fi
}

drop_schema() {
	if [[ -n "$schema" ]]; then
		PGOPTIONS="-c client_min_messages=warning" psql -q -v ON_ERROR_STOP=1 -c "DROP SCHEMA IF EXISTS \"$schema\" CASCADE" >/dev/null || true
		schema=""
	fi
}

cleanup() {
	stop_server
	drop_schema
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port prints a loopback port nothing listens on. Another process may
# take it before the server binds; the readiness check then fails loudly.
free_port() {
	local port
	for _ in $(seq 1 50); do
		port="$((20000 + RANDOM % 40000))"
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	echo "run.sh: no free port found" >&2
	return 1
}

# wait_ready polls /readyz until it answers 200, for at most 30 seconds.
wait_ready() {
	local url="$1" log="$2"
	for _ in $(seq 1 300); do
		if curl -fsS -o /dev/null --max-time 2 "$url/readyz" 2>/dev/null; then
			return 0
		fi
		if ! kill -0 "$server_pid" 2>/dev/null; then
			echo "run.sh: gatehouse exited before it was ready; its log:" >&2
			cat "$log" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "run.sh: gatehouse not ready after 30s; its log:" >&2
	cat "$log" >&2
	return 1
}

# start_server starts a fresh server on database $1 in $dir, setting url
# and log.
start_server() {
	local db="$1" port database_url
	mkdir -p "$dir"
	port="$(free_port)"
	url="http://127.0.0.1:$port"
	log="$dir/server.log"
	case "$db" in
	sqlite) database_url="sqlite:$dir/gatehouse.db" ;;
	postgres)
		schema="bench_$$_$RANDOM"
		psql -q -v ON_ERROR_STOP=1 -c "CREATE SCHEMA \"$schema\"" >/dev/null
		database_url="postgres://$PGUSER@$PGHOST:$PGPORT/$PGDATABASE?sslmode=disable&search_path=$schema"
		;;
	esac

	export GATEHOUSE_ISSUER="$url"
	export GATEHOUSE_LISTEN="127.0.0.1:$port"
	export GATEHOUSE_DATABASE_URL="$database_url"
	export GATEHOUSE_DATA_DIR="$dir"
	export GATEHOUSE_LOG_LEVEL=warn
	# The load comes from one client on one address: lift the per-client
	# and per-address token limits, which would otherwise be what is measured.
	export GATEHOUSE_RATE_LIMITS_TOKEN_PER_CLIENT=1000000/1s GATEHOUSE_RATE_LIMITS_TOKEN_PER_IP=1000000/1s
	GATEHOUSE_MASTER_KEY="$(head -c 32 /dev/urandom | base64)"
	export GATEHOUSE_MASTER_KEY

	"$work/gatehouse" serve >"$log" 2>&1 &
	server_pid="$!"
	wait_ready "$url" "$log"
}

# bench_db runs every scenario against a fresh server on database $1.
bench_db() {
	local db="$1" dir="$work/$1" url log out client_id client_secret
	start_server "$db"

	out="$("$work/gatehouse" clients create --name bench --grant-type client_credentials --scope openid)"
	client_id="$(awk '$1 == "client_id:" { print $2 }' <<<"$out")"
	client_secret="$(awk '$1 == "client_secret:" { print $2 }' <<<"$out")"
	if [[ -z "$client_id" || -z "$client_secret" ]]; then
		echo "run.sh: could not read the client ID and secret from 'gatehouse clients create'" >&2
		return 1
	fi

	echo
	echo "== $db: concurrency $CONCURRENCY, warmup $WARMUP, $DURATION per scenario, $(nproc) CPUs shared by server, database and load =="
	"$work/bench" -header
	local s
	for s in "${SCENARIOS[@]}"; do
		if ! BENCH_CLIENT_SECRET="$client_secret" "$work/bench" -url "$url" -scenario "$s" \
			-client-id "$client_id" -duration "$DURATION" -warmup "$WARMUP" \
			-concurrency "$CONCURRENCY" -tokens "$TOKENS"; then
			failed=1
		fi
	done

	stop_server
	drop_schema
	show_noise "$log"
}

# show_noise prints the first server log lines at warn or above: at log
# level warn every structured line is worth a look.
show_noise() {
	local noisy
	noisy="$(grep -cE '"level":"(WARN|ERROR)"|level=(WARN|ERROR)|panic' "$1" || true)"
	if [[ "$noisy" -gt 0 ]]; then
		echo "server log: $noisy lines at warn or above; the first ones:"
		grep -E '"level":"(WARN|ERROR)"|level=(WARN|ERROR)|panic' "$1" | head -n 10
	fi
}

# outage_db runs the smtp-outage fault scenario against a fresh server on
# database $1 whose SMTP server is down for OUTAGE.
outage_db() {
	local db="$1" dir="$work/$1" url log smtp_port i pw
	smtp_port="$(free_port)"
	export GATEHOUSE_SMTP_URL="smtp://127.0.0.1:$smtp_port" GATEHOUSE_EMAIL_FROM="bench@bench.test"
	# Every reset comes from this one address.
	export GATEHOUSE_RATE_LIMITS_PASSWORD_RESET_PER_IP=1000000/1s
	start_server "$db"
	pw="$(head -c 18 /dev/urandom | base64)"
	for i in $(seq 0 $((USERS - 1))); do
		printf '%s\n' "$pw" | "$work/gatehouse" users create --username "bench-user-$i" --email "bench-user-$i@bench.test" >/dev/null
	done

	echo
	echo "== $db: SMTP server down for $OUTAGE, $USERS password resets meanwhile =="
	if ! "$work/bench" -url "$url" -scenario smtp-outage -smtp-listen "127.0.0.1:$smtp_port" \
		-outage "$OUTAGE" -users "$USERS" -user-prefix bench-user-; then
		failed=1
	fi
	stop_server
	drop_schema
	# Failed attempts during the outage are expected warnings; show the rest.
	grep -vE '"message delivery failed; will retry"|no SMS provider configured' "$log" >"$log.rest" || true
	show_noise "$log.rest"
	unset GATEHOUSE_SMTP_URL GATEHOUSE_EMAIL_FROM GATEHOUSE_RATE_LIMITS_PASSWORD_RESET_PER_IP
}

cd "$root"
echo "building gatehouse and bench"
go build -o "$work/gatehouse" ./cmd/gatehouse
go build -o "$work/bench" ./bench

for db in "${databases[@]}"; do
	if [[ "$mode" == smtp-outage ]]; then
		outage_db "$db"
	else
		bench_db "$db"
	fi
done
exit "$failed"
