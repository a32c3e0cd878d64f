#!/usr/bin/env bash
# Reproduces the load figures (the fault scenarios are in faults.sh):
#   bash bench/run.sh [sqlite|postgres|both] [throughput|login-flood|logins]
#
# For each database it starts a fresh gatehouse on a free loopback port.
# throughput (the default) creates a client_credentials client, runs the
# four closed-loop scenarios and prints a table. login-flood registers
# USERS accounts, signs them all in at once through the hosted login form
# while probing discovery, and prints the outcome with the server's peak
# memory. logins measures whole sign-ins per second through the
# authorization code flow, password only and password plus authenticator
# app. Environment: DURATION (10s), WARMUP (2s), CONCURRENCY (64),
# TOKENS (1000), USERS (200), LOGIN_CONCURRENCY (8), LOGIN_USERS (600),
# PGHOST/PGPORT/PGUSER/PGDATABASE for
# PostgreSQL (127.0.0.1, 5432, postgres, test). Exits non-zero if any
# scenario saw an error answer (login-flood: an answer other than success
# or 503, or one slower than 5s).
set -euo pipefail

DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-2s}"
CONCURRENCY="${CONCURRENCY:-64}"
TOKENS="${TOKENS:-1000}"
USERS="${USERS:-200}"
LOGIN_CONCURRENCY="${LOGIN_CONCURRENCY:-8}"
LOGIN_USERS="${LOGIN_USERS:-600}"
PGHOST="${PGHOST:-127.0.0.1}"
PGPORT="${PGPORT:-5432}"
PGUSER="${PGUSER:-postgres}"
PGDATABASE="${PGDATABASE:-test}"
export PGHOST PGPORT PGUSER PGDATABASE

SCENARIOS=(discovery jwks client_credentials introspect)

usage="usage: bash bench/run.sh [sqlite|postgres|both] [throughput|login-flood|logins]"
which_db="${1:-both}"
case "$which_db" in
sqlite) databases=(sqlite) ;;
postgres) databases=(postgres) ;;
both) databases=(sqlite postgres) ;;
*)
	echo "$usage" >&2
	exit 2
	;;
esac
suite="${2:-throughput}"
case "$suite" in
throughput | login-flood | logins) ;;
*)
	echo "$usage" >&2
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

# start_server starts a fresh server on database $1 with its files in $2
# and sets url, log and server_pid.
start_server() {
	local db="$1" dir="$2" port admin_port database_url
	mkdir -p "$dir"
	port="$(free_port)"
	# The admin listener (/metrics) gets its own free port, never the
	# fixed default, so that runs side by side do not collide.
	admin_port="$(free_port)"
	while [ "$admin_port" = "$port" ]; do admin_port="$(free_port)"; done
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
	export GATEHOUSE_ADMIN_LISTEN="127.0.0.1:$admin_port"
	export GATEHOUSE_DATABASE_URL="$database_url"
	export GATEHOUSE_DATA_DIR="$dir"
	export GATEHOUSE_LOG_LEVEL=warn
	# The load comes from one client on one address: lift the per-client
	# and per-address limits, which would otherwise be what is measured.
	export GATEHOUSE_RATE_LIMITS_TOKEN_PER_CLIENT=1000000/1s GATEHOUSE_RATE_LIMITS_TOKEN_PER_IP=1000000/1s
	export GATEHOUSE_RATE_LIMITS_LOGIN_PER_IP=1000000/1s GATEHOUSE_RATE_LIMITS_REGISTRATION_PER_IP=1000000/1s
	# The flood's accounts are registered through the hosted page, which
	# would otherwise ask the load generator to solve a proof of work.
	export GATEHOUSE_CAPTCHA_PROVIDER=off
	GATEHOUSE_MASTER_KEY="$(head -c 32 /dev/urandom | base64)"
	export GATEHOUSE_MASTER_KEY

	"$work/gatehouse" serve >"$log" 2>&1 &
	server_pid="$!"
	wait_ready "$url" "$log"
}

# create_client runs `gatehouse clients create` with the arguments given
# and sets client_id and client_secret (empty for a public client).
create_client() {
	local out
	out="$("$work/gatehouse" clients create "$@")"
	client_id="$(awk '$1 == "client_id:" { print $2 }' <<<"$out")"
	client_secret="$(awk '$1 == "client_secret:" { print $2 }' <<<"$out")"
	if [[ -z "$client_id" ]]; then
		echo "run.sh: could not read the client ID from 'gatehouse clients create'" >&2
		return 1
	fi
}

# throughput runs the four closed-loop scenarios against the server.
throughput() {
	local db="$1" s
	create_client --name bench --grant-type client_credentials --scope openid
	if [[ -z "$client_secret" ]]; then
		echo "run.sh: could not read the client secret from 'gatehouse clients create'" >&2
		return 1
	fi
	echo
	echo "== $db: concurrency $CONCURRENCY, warmup $WARMUP, $DURATION per scenario, $(nproc) CPUs shared by server, database and load =="
	"$work/bench" -header
	for s in "${SCENARIOS[@]}"; do
		if ! BENCH_CLIENT_SECRET="$client_secret" "$work/bench" -url "$url" -scenario "$s" \
			-client-id "$client_id" -duration "$DURATION" -warmup "$WARMUP" \
			-concurrency "$CONCURRENCY" -tokens "$TOKENS"; then
			failed=1
		fi
	done
}

# memory prints a line of /proc/PID/status of the server, in MiB, or "?"
# when the server is gone.
memory() {
	awk -v key="$1:" '$1 == key { printf "%.0f", $2 / 1024 }' "/proc/$server_pid/status" 2>/dev/null || printf '?'
}

# check_alive reports a server that exited during the run, with the end
# of its log.
check_alive() {
	if ! kill -0 "$server_pid" 2>/dev/null; then
		wait "$server_pid" 2>/dev/null && status=0 || status=$?
		echo "run.sh: gatehouse exited during the run (status $status); the end of its log:"
		grep -vE 'DEVELOPMENT DELIVERY' "$log" | tail -n 20
		server_pid=""
		failed=1
		return 1
	fi
}

# login_flood signs USERS accounts in at once and reports the server's
# memory: its peak (VmHWM), right after and 10 seconds after the flood.
login_flood() {
	local db="$1" redirect="http://127.0.0.1:9/callback"
	create_client --name flood --redirect-uri "$redirect" --scope openid --first-party
	echo
	echo "== $db: login-flood, $USERS users, $(nproc) CPUs shared by server, database and load (load average $(cut -d' ' -f1-3 /proc/loadavg)) =="
	if ! "$work/bench" -url "$url" -scenario login-flood -users "$USERS" \
		-client-id "$client_id" -redirect-uri "$redirect"; then
		failed=1
	fi
	check_alive || return 0
	local peak now
	peak="$(memory VmHWM)" now="$(memory VmRSS)"
	sleep 10
	echo "  server RSS   peak $peak MiB, $now MiB right after, $(memory VmRSS) MiB 10s later"
}

# logins measures whole sign-ins through the authorization code flow, with
# the password alone and with password plus authenticator-app code; each
# scenario registers its own LOGIN_USERS accounts first.
logins() {
	local db="$1" redirect="http://127.0.0.1:9/callback" s
	create_client --name signins --redirect-uri "$redirect" --scope openid --first-party
	echo
	echo "== $db: whole sign-ins, concurrency $LOGIN_CONCURRENCY, warmup $WARMUP, $DURATION per scenario, $(nproc) CPUs shared by server, database and load =="
	"$work/bench" -header
	for s in login login-mfa; do
		if ! BENCH_CLIENT_SECRET="$client_secret" "$work/bench" -url "$url" -scenario "$s" \
			-client-id "$client_id" -redirect-uri "$redirect" -users "$LOGIN_USERS" \
			-duration "$DURATION" -warmup "$WARMUP" -concurrency "$LOGIN_CONCURRENCY"; then
			failed=1
		fi
	done
}

# bench_db runs the suite against a fresh server on database $1.
bench_db() {
	local db="$1"
	start_server "$db" "$work/$db"
	case "$suite" in
	throughput) throughput "$db" ;;
	login-flood) login_flood "$db" ;;
	logins) logins "$db" ;;
	esac

	stop_server
	drop_schema
	# At log level warn every structured line is worth a look, but for the
	# e-mails of the development setup (registration sends one each).
	local noisy
	noisy="$(grep -E '"level":"(WARN|ERROR)"|level=(WARN|ERROR)|panic' "$log" |
		grep -vE 'DEVELOPMENT DELIVERY|no SMTP server configured|no SMS provider configured' || true)"
	if [[ -n "$noisy" ]]; then
		echo "server log: $(wc -l <<<"$noisy") lines at warn or above, by message:"
		sed -E 's/.*"msg":"([^"]*)".*/\1/' <<<"$noisy" | sort | uniq -c | sort -rn | head -n 10
	fi
}

cd "$root"
echo "building gatehouse and bench"
nice -n 10 go build -o "$work/gatehouse" ./cmd/gatehouse
nice -n 10 go build -o "$work/bench" ./bench

for db in "${databases[@]}"; do
	bench_db "$db"
done
exit "$failed"
