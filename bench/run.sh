#!/usr/bin/env bash
# Castellan load benchmark: one command, from anywhere.
#
#   bench/run.sh
#
# Builds the release binary, then for each backend (SQLite, and Postgres when
# a local server is reachable) starts Castellan on a free loopback port,
# registers a client_credentials service client through the admin API, and
# drives three endpoints with wrk:
#
#   token       POST /oauth2/token       grant_type=client_credentials (Basic auth)
#   token-res   POST /oauth2/token       the same with resource=<a registered
#                                        resource> (RFC 8707): aud is the resource
#   token-pkjwt POST /oauth2/token       grant_type=client_credentials, the client
#                                        authenticated with private_key_jwt
#                                        (RFC 7523): each request a new ES256
#                                        assertion with its own jti, made ahead
#                                        by bench/assertions.py; the server
#                                        verifies it and records the jti
#   introspect  POST /oauth2/introspect  token=<valid access token>    (Basic auth)
#   jwks        GET  /oauth2/jwks
#
# Then the browser flows: it registers a first-party confidential client and
# a user, signs the user in once (bench/oidc.py), and measures
#
#   authorize   GET  /oauth2/authorize   with the session cookie (single
#                                        sign-on): a 303 back with a new code
#   code        POST /oauth2/token       grant_type=authorization_code, each
#                                        code once (scope openid
#                                        offline_access: access, ID (RS256,
#                                        or BENCH_ID_TOKEN_ALG) and
#                                        refresh token)
#   refresh     POST /oauth2/token       grant_type=refresh_token, each token
#                                        once: every answer's rotated token is
#                                        queued for a later request
#
# Before those, the sign-ins: BENCH_SIGNINS (1000) password sign-ins from
# BENCH_SIGNIN_CONCURRENCY (32) browsers at once, each as its own user with a
# fresh session (bench/oidc.py signins; a 429 is waited out and retried),
# recording sign-ins/s, how many were refused with 429, the server's peak RSS
# during them (sampled every 20 ms) and its RSS 10 s after.
#
# The authorize run writes its codes to one file per wrk thread, and the code
# run, right after it, redeems them (codes live 60 s: keep BENCH_DURATION at
# 25 or less). The refresh run starts from BENCH_REFRESH_FAMILIES fresh token
# families per wrk thread. bench/flow.lua checks every answer; anything but
# the expected one counts as an error.
#
# It records requests/s, p50/p99 latency and error counts per endpoint, idle
# RSS after start-up and peak RSS (VmHWM) after the load, checks that SIGTERM
# stops the server cleanly, and prints a table with the targets beside it.
# Nothing is written to the repository except the cargo build output.
#
# Environment (all optional):
#   BENCH_DURATION        seconds per measured run (default 10)
#   BENCH_WARMUP          seconds of warm-up before each run, 0 for none (default 2)
#   BENCH_CONNECTIONS     wrk connections (default 32)
#   BENCH_THREADS         wrk threads (default 2)
#   BENCH_BACKENDS        which backends, space-separated (default "sqlite postgres")
#   BENCH_REFRESH_FAMILIES  refresh-token families per wrk thread (default 64)
#   BENCH_ID_TOKEN_ALG    the bench client's id_token_signed_response_alg,
#                         RS256 (default, as for any client that names none) or ES256
#   BENCH_PERF_DIR        profile the server during each measured run:
#                         perf record -e cpu-clock -g into
#                         $BENCH_PERF_DIR/<backend>-<endpoint>.perf.data, and
#                         the Postgres backends of the bench database into
#                         <backend>-<endpoint>.db.perf.data
#   BENCH_PERF_ONLY       with BENCH_PERF_DIR: only these endpoints
#                         (space-separated, e.g. "code refresh")
#   BENCH_SIGNINS         password sign-ins in the sign-in run (default 1000)
#   BENCH_SIGNIN_CONCURRENCY  browsers signing in at once (default 32)
#   BENCH_SIGNINS_ONLY    1 to run only the sign-ins (no wrk runs)
#   BENCH_WRK_ONLY        1 to run only token, token-res, token-pkjwt, introspect and jwks
#                         (no sign-ins, no browser flows)
#   BENCH_FLOWS_ONLY      1 to run only the browser flows: authorize, code, refresh
#                         (no sign-ins, no token, introspect or jwks runs)
#   BENCH_RESOURCE        0 to skip token-res (for a build without resources)
#   BENCH_PKJWT           0 to skip token-pkjwt
#   BENCH_ASSERTION_RATE  the highest req/s token-pkjwt can measure: this many
#                         assertions per second of each run are signed ahead
#                         (default 20000; about 30 us of CPU each). Signing
#                         and the run must fit in the assertions' 290 s.
#   BENCH_SKIP_BUILD      1 to use the existing target/release/castellan as is
#   BENCH_PORT            the loopback port the server listens on (default: a
#                         free one, chosen at each start)
#   BENCH_POSTGRES_DATABASE  the name of the bench database, created at the
#                         start and dropped at the end; it must not exist
#                         (default castellan_bench_<pid>_<random>)
#   CASTELLAN_BENCH_POSTGRES_URL
#                         admin connection used to create and drop the bench
#                         database (default postgres://postgres@127.0.0.1:5432/postgres)
#
# Exit status: 0 when every run completed with no failed request and every
# server stopped cleanly on SIGTERM; 1 otherwise. Missing a performance target
# is reported in the table but does not fail the script.

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
MAIN_PID=$BASHPID

DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-2}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-2}
BACKENDS=${BENCH_BACKENDS:-sqlite postgres}
SKIP_BUILD=${BENCH_SKIP_BUILD:-0}
SIGNINS=${BENCH_SIGNINS:-1000}
SIGNIN_CONCURRENCY=${BENCH_SIGNIN_CONCURRENCY:-32}
SIGNINS_ONLY=${BENCH_SIGNINS_ONLY:-0}
WRK_ONLY=${BENCH_WRK_ONLY:-0}
FLOWS_ONLY=${BENCH_FLOWS_ONLY:-0}
RESOURCE=${BENCH_RESOURCE:-1}
PKJWT=${BENCH_PKJWT:-1}
ASSERTION_RATE=${BENCH_ASSERTION_RATE:-20000}
REFRESH_FAMILIES=${BENCH_REFRESH_FAMILIES:-64}
ID_TOKEN_ALG=${BENCH_ID_TOKEN_ALG:-RS256}
PERF_DIR=${BENCH_PERF_DIR:-}
PERF_ONLY=${BENCH_PERF_ONLY:-}
PG_ADMIN_URL=${CASTELLAN_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}

# Targets (see the table at the end).
TARGET_TOKEN_RPS=20000
TARGET_PKJWT_RPS=5000
TARGET_INTROSPECT_RPS=15000
TARGET_CODE_RPS=3000
TARGET_REFRESH_RPS=3000
TARGET_P99_US=5000
# The grants that write: code exchange and refresh.
TARGET_GRANT_P99_US=20000
TARGET_IDLE_RSS_KB=$((30 * 1024))
TARGET_PEAK_RSS_KB=$((100 * 1024))
TARGET_SIGNIN_PEAK_RSS_KB=$((100 * 1024))
TARGET_SIGNIN_AFTER_RSS_KB=$((40 * 1024))

ADMIN_ID=bench-admin
ADMIN_SECRET=bench-admin-secret-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')

log() { printf '[bench] %s\n' "$*" >&2; }
die() {
    printf '\n[bench] ERROR: %s\n' "$*" >&2
    exit 1
}

for value in "$DURATION" "$WARMUP" "$CONNECTIONS" "$THREADS" "$REFRESH_FAMILIES" "$SIGNINS" "$SIGNIN_CONCURRENCY" "$ASSERTION_RATE"; do
    [[ $value =~ ^[0-9]+$ ]] || die "BENCH_DURATION, BENCH_WARMUP, BENCH_CONNECTIONS, BENCH_THREADS, BENCH_REFRESH_FAMILIES, BENCH_SIGNINS, BENCH_SIGNIN_CONCURRENCY and BENCH_ASSERTION_RATE must be whole numbers (got '$value')"
done
((SIGNIN_CONCURRENCY >= 1)) || die "BENCH_SIGNIN_CONCURRENCY must be at least 1"
((DURATION >= 1)) || die "BENCH_DURATION must be at least 1"
((DURATION <= 25)) || log "WARNING: BENCH_DURATION > 25: authorization codes (60 s) may expire before the code run uses them"
if [[ -n $PERF_DIR ]]; then
    command -v perf >/dev/null || die "BENCH_PERF_DIR is set but perf is not installed"
    mkdir -p "$PERF_DIR" && PERF_DIR=$(cd "$PERF_DIR" && pwd)
fi
[[ $ID_TOKEN_ALG == RS256 || $ID_TOKEN_ALG == ES256 ]] || die "BENCH_ID_TOKEN_ALG must be RS256 or ES256"
((REFRESH_FAMILIES * THREADS >= CONNECTIONS)) ||
    die "BENCH_REFRESH_FAMILIES x BENCH_THREADS must be at least BENCH_CONNECTIONS (one token per connection in flight)"
((THREADS >= 1 && CONNECTIONS >= THREADS)) || die "need BENCH_CONNECTIONS >= BENCH_THREADS >= 1"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/castellan-bench.XXXXXX")
SERVER_PID=""
SERVER_LOG=""
PG_DB=""
FAILURES=()

# Stops a running server (quietly) and drops the Postgres bench database.
# Runs on every exit of the main shell, never in subshells.
cleanup() {
    local rc=$?
    [[ $BASHPID == "$MAIN_PID" ]] || return 0
    trap - EXIT INT TERM
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        if ((rc != 0)) && [[ -s $SERVER_LOG ]]; then
            log "last lines of the server log ($SERVER_LOG):"
            tail -n 20 "$SERVER_LOG" >&2 || true
        fi
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    drop_pg_db
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- tools

need_apt() {
    local package=$1
    command -v apt-get >/dev/null || die "$package is missing and apt-get is not available to install it"
    if [[ -z ${APT_UPDATED:-} ]]; then
        log "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        APT_UPDATED=1
    fi
    log "installing $package"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
}

ensure_tools() {
    command -v wrk >/dev/null || need_apt wrk
    command -v curl >/dev/null || need_apt curl
    command -v python3 >/dev/null || need_apt python3
    command -v wrk >/dev/null || die "wrk is still missing after installing it"
    if [[ $PKJWT == 1 ]] && ! python3 -c 'import cryptography' 2>/dev/null; then
        need_apt python3-cryptography
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# json_get KEY < json  — prints the value (Python's str() for non-strings).
json_get() {
    python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# basic_auth ID SECRET — the Authorization value of RFC 6749 §2.3.1.
basic_auth() {
    python3 - "$1" "$2" <<'EOF'
import base64, sys, urllib.parse
q = lambda s: urllib.parse.quote(s, safe="")
print("Basic " + base64.b64encode(f"{q(sys.argv[1])}:{q(sys.argv[2])}".encode()).decode())
EOF
}

# http EXPECTED_STATUS CURL_ARGS... — prints the body; dies on any other status.
http() {
    local expected=$1 status
    shift
    status=$(curl -sS -o "$TMP/body" -w '%{http_code}' "$@") || die "curl failed: ${*: -1}"
    [[ $status == "$expected" ]] ||
        die "HTTP $status (expected $expected) from ${*: -1}: $(head -c 500 "$TMP/body")"
    cat "$TMP/body"
}

# proc_kb PID FIELD — a /proc/PID/status field (VmRSS, VmHWM) in kB.
proc_kb() {
    awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# cpu_ticks PID — user + system CPU time of the process so far, in clock ticks.
cpu_ticks() {
    local stat
    stat=$(<"/proc/$1/stat")
    stat=${stat##*) } # drop "pid (comm) ": field 14 (utime) becomes the 12th
    # shellcheck disable=SC2086
    set -- $stat
    echo $((${12} + ${13}))
}
CLK_TCK=$(getconf CLK_TCK)

# db_ticks — "pid ticks" for each Postgres backend serving the bench database,
# when Postgres runs on this machine (nothing for SQLite, or a remote server).
db_ticks() {
    [[ -n $PG_DB ]] || return 0
    local pid
    for pid in $(psql "$PG_ADMIN_URL" -Atqc "SELECT pid FROM pg_stat_activity WHERE datname = '$PG_DB'" 2>/dev/null); do
        [[ -r /proc/$pid/stat ]] && echo "$pid $(cpu_ticks "$pid" 2>/dev/null || echo 0)"
    done
    return 0
}

# db_ticks_since BEFORE AFTER — the CPU ticks the backends used in between
# (a backend absent from BEFORE started during the run, from zero).
db_ticks_since() {
    awk 'NR == FNR { before[$1] = $2; next } { total += $2 - ($1 in before ? before[$1] : 0) } END { print total + 0 }' \
        <(echo "$1") <(echo "$2")
}

mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'; }
ms() { awk -v u="$1" 'BEGIN { printf "%.2f ms", u / 1000 }'; }

# ---------------------------------------------------------------- build

build() {
    local target_dir=${CARGO_TARGET_DIR:-target}
    [[ $target_dir == /* ]] || target_dir=$ROOT/$target_dir
    BIN=$target_dir/release/castellan
    if [[ $SKIP_BUILD == 1 ]]; then
        log "BENCH_SKIP_BUILD=1: using $BIN as is"
    else
        log "cargo build --release (this can take several minutes)"
        (cd "$ROOT" && cargo build --release) || die "cargo build --release failed"
    fi
    [[ -x $BIN ]] || die "no binary at $BIN"
}

# ---------------------------------------------------------------- postgres

pg_reachable() { psql "$PG_ADMIN_URL" -Atqc 'select 1' >/dev/null 2>&1; }

drop_pg_db() {
    [[ -n $PG_DB ]] || return 0
    psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 ||
        psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $PG_DB" >/dev/null 2>&1 ||
        log "WARNING: could not drop the Postgres database $PG_DB"
    PG_DB=""
}

# Creates a fresh database and sets PG_URL to it; returns 1 to skip Postgres.
setup_postgres() {
    if ! command -v psql >/dev/null; then
        log "SKIPPING Postgres: psql is not installed"
        return 1
    fi
    if ! pg_reachable && command -v pg_ctlcluster >/dev/null && [[ -d /etc/postgresql ]]; then
        log "Postgres is not reachable at $PG_ADMIN_URL: starting the local cluster"
        local version
        for version in /etc/postgresql/*/; do
            version=$(basename "$version")
            pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
        done
        for _ in $(seq 30); do pg_reachable && break; sleep 0.5; done
    fi
    if ! pg_reachable; then
        log "SKIPPING Postgres: cannot connect to $PG_ADMIN_URL (set CASTELLAN_BENCH_POSTGRES_URL)"
        return 1
    fi
    PG_DB=${BENCH_POSTGRES_DATABASE:-castellan_bench_$$_$RANDOM}
    [[ $PG_DB =~ ^[a-z_][a-z0-9_]{0,62}$ ]] ||
        { PG_DB=""; die "BENCH_POSTGRES_DATABASE must be a lower-case SQL name"; }
    if [[ -n $(psql "$PG_ADMIN_URL" -Atqc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'") ]]; then
        local existing=$PG_DB
        PG_DB=""  # not ours: never dropped
        die "the database $existing exists; the bench creates and drops its own"
    fi
    psql "$PG_ADMIN_URL" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $PG_DB" >/dev/null ||
        { PG_DB=""; die "could not create the Postgres database"; }
    PG_URL=$(python3 - "$PG_ADMIN_URL" "$PG_DB" <<'EOF'
import sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
# A local server over loopback: no TLS unless the admin URL asks for it, as
# for an instance next to its database (sqlx would otherwise prefer TLS).
query = u.query if "sslmode=" in u.query else "&".join(filter(None, [u.query, "sslmode=disable"]))
print(urllib.parse.urlunsplit(u._replace(path="/" + sys.argv[2], query=query)))
EOF
)
}

# ---------------------------------------------------------------- server

start_server() {
    local backend=$1 database_url=$2 started
    PORT=${BENCH_PORT:-$(free_port)}
    BASE=http://127.0.0.1:$PORT
    SERVER_LOG=$TMP/server-$backend.log
    log "$backend: starting castellan on $BASE"
    started=$(date +%s%N)
    CASTELLAN_LISTEN=127.0.0.1:$PORT \
        CASTELLAN_ISSUER=$BASE \
        DATABASE_URL=$database_url \
        CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_ID=$ADMIN_ID \
        CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_SECRET=$ADMIN_SECRET \
        RUST_LOG=warn \
        "$BIN" serve >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 600); do
        kill -0 "$SERVER_PID" 2>/dev/null || {
            cat "$SERVER_LOG" >&2
            SERVER_PID=""
            die "$backend: the server exited during start-up (log above)"
        }
        curl -fs -o /dev/null "$BASE/readyz" && break
        sleep 0.1
    done
    curl -fs -o /dev/null "$BASE/readyz" || die "$backend: /readyz did not answer 200 within 60 s"
    STARTUP_MS=$((($(date +%s%N) - started) / 1000000))
}

# Sends SIGTERM and checks that the server exits, and exits with status 0.
stop_server() {
    local backend=$1 status
    kill -TERM "$SERVER_PID"
    for _ in $(seq 150); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
        FAILURES+=("$backend: the server did not exit within 15 s of SIGTERM")
        SHUTDOWN="NO EXIT"
        return
    fi
    if wait "$SERVER_PID"; then status=0; else status=$?; fi
    SERVER_PID=""
    if ((status == 0)); then
        SHUTDOWN="clean"
    else
        FAILURES+=("$backend: the server exited with status $status after SIGTERM")
        SHUTDOWN="status $status"
    fi
}

# ---------------------------------------------------------------- load

# check_pg_sessions WHAT — after a wrk run, with no request in flight: a pooled
# connection of the bench database still "idle in transaction" has a
# transaction nobody will end (a request cancelled mid-BEGIN when wrk closed
# its connections: sqlx's Postgres begin() is not cancel-safe). Later
# requests on it run inside that transaction — their writes invisible to the
# other connections, their row locks held. Counted as a failure, then those
# sessions are terminated so that the next runs measure the server, not that.
check_pg_sessions() {
    local what=$1 stuck
    [[ -n $PG_DB ]] || return 0
    sleep 1
    stuck=$(psql "$PG_ADMIN_URL" -Atqc "SELECT pid, round(extract(epoch FROM now() - xact_start)::numeric, 1), \
        left(regexp_replace(query, '\s+', ' ', 'g'), 100) FROM pg_stat_activity \
        WHERE datname = '$PG_DB' AND state LIKE 'idle in transaction%' AND now() - state_change > interval '900 milliseconds'" 2>/dev/null) ||
        return 0
    [[ -n $stuck ]] || return 0
    FAILURES+=("$what: $(wc -l <<<"$stuck") pooled Postgres connection(s) left idle in a transaction after the run (cancelled requests; see the log)")
    log "$what: pooled connections left idle in a transaction (pid | transaction age s | last statement):"
    sed 's/^/[bench]     /' <<<"$stuck" >&2
    psql "$PG_ADMIN_URL" -Atqc "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$PG_DB' \
        AND state LIKE 'idle in transaction%' AND now() - state_change > interval '900 milliseconds'" >/dev/null 2>&1 || true
}

# warm SCRIPT URL — a warm-up run (BENCH_WARMUP seconds), its results discarded.
warm() {
    local script=$1 url=$2
    ((WARMUP > 0)) || return 0
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$script" "$url" >/dev/null ||
        die "wrk warm-up failed ($script $url)"
    check_pg_sessions "postgres warm-up of ${url#"$BASE"}"
}

# measure BACKEND NAME SCRIPT URL DESCRIPTION — one measured run; the caller
# exports the BENCH_* variables the script reads. Appends one result row and
# sets LAST_LEFT (codes or tokens unused) and LAST_WRITTEN (codes written by
# the authorize flow).
measure() {
    local backend=$1 name=$2 script=$3 url=$4 description=$5
    local out=$TMP/wrk-$backend-$name.txt line kv
    local requests=0 rps=0 p50=0 p99=0 status_errors=0 socket_errors=0 bad=0 exhausted=0 left=0 written=0
    local ticks cpu_us errors
    log "$backend: $name ($description) for ${DURATION}s, $CONNECTIONS connections, $THREADS threads"
    local log_lines db_before db_delta="" db_cpu=-
    log_lines=$(wc -l <"$SERVER_LOG")
    db_before=$(db_ticks)
    local perf_pids=()
    if [[ -n $PERF_DIR ]] && { [[ -z $PERF_ONLY ]] || [[ " $PERF_ONLY " == *" $name "* ]]; }; then
        perf record -q -e cpu-clock -F 999 -g -p "$SERVER_PID" -o "$PERF_DIR/$backend-$name.perf.data" \
            -- sleep "$DURATION" >/dev/null 2>&1 &
        perf_pids+=($!)
        if [[ -n $db_before ]]; then
            perf record -q -e cpu-clock -F 999 -g -p "$(awk '{ print $1 }' <<<"$db_before" | paste -sd,)" \
                -o "$PERF_DIR/$backend-$name.db.perf.data" -- sleep "$DURATION" >/dev/null 2>&1 &
            perf_pids+=($!)
        fi
    fi
    ticks=$(cpu_ticks "$SERVER_PID")
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$script" "$url" >"$out" ||
        { cat "$out" >&2; die "$backend $name: wrk failed"; }
    ticks=$(($(cpu_ticks "$SERVER_PID") - ticks))
    ((${#perf_pids[@]} == 0)) || wait "${perf_pids[@]}" || log "$backend $name: perf record failed"
    [[ -z $db_before ]] || db_delta=$(db_ticks_since "$db_before" "$(db_ticks)")
    check_pg_sessions "$backend $name"
    local new_warnings
    new_warnings=$(tail -n +"$((log_lines + 1))" "$SERVER_LOG" | grep -Eci 'warn|error' || true)
    ((new_warnings == 0)) || log "$backend $name: the server logged $new_warnings warning/error line(s) during this run"
    line=$(grep '^BENCH_RESULT' "$out") || { cat "$out" >&2; die "$backend $name: no result line from wrk"; }
    for kv in $line; do
        case $kv in
            requests=*) requests=${kv#*=} ;;
            rps=*) rps=${kv#*=} ;;
            p50_us=*) p50=${kv#*=} ;;
            p99_us=*) p99=${kv#*=} ;;
            status_errors=*) status_errors=${kv#*=} ;;
            socket_errors=*) socket_errors=${kv#*=} ;;
            bad=*) bad=${kv#*=} ;;
            exhausted=*) exhausted=${kv#*=} ;;
            left=*) left=${kv#*=} ;;
            written=*) written=${kv#*=} ;;
        esac
    done
    LAST_LEFT=$left LAST_WRITTEN=$written
    errors=$((status_errors + socket_errors + bad))
    # wrk's own text, as a cross-check of the Lua summary.
    if grep -q 'Non-2xx or 3xx responses' "$out"; then
        log "$backend $name: wrk reports $(grep 'Non-2xx or 3xx responses' "$out" | xargs)"
    fi
    if ((requests == 0)); then
        FAILURES+=("$backend $name: no request completed")
    fi
    if ((errors > 0)); then
        FAILURES+=("$backend $name: $status_errors responses >= 400, $bad unexpected answers and $socket_errors socket errors out of $requests")
        log "$backend $name: FAILED REQUESTS — wrk output:"
        cat "$out" >&2
    fi
    if ((exhausted > 0)); then
        FAILURES+=("$backend $name: $exhausted wrk thread(s) ran out of codes or tokens and stopped early: req/s is understated")
    fi
    # Server CPU time per request: unlike req/s, barely affected by wrk or
    # anything else sharing the CPUs.
    cpu_us=$(awk -v t="$ticks" -v hz="$CLK_TCK" -v n="$requests" 'BEGIN { printf "%.0f", n ? t / hz * 1e6 / n : 0 }')
    # The same for the Postgres backends serving the bench database, when
    # they run on this machine (for SQLite it is part of cpu/req).
    if [[ -n $db_delta ]]; then
        db_cpu="$(awk -v t="$db_delta" -v hz="$CLK_TCK" -v n="$requests" 'BEGIN { printf "%.0f", n ? t / hz * 1e6 / n : 0 }') us"
    fi
    local target_rps="" verdict=ok
    case $name in
        token | token-res) target_rps=$TARGET_TOKEN_RPS ;;
        token-pkjwt) target_rps=$TARGET_PKJWT_RPS ;;
        introspect) target_rps=$TARGET_INTROSPECT_RPS ;;
        code) target_rps=$TARGET_CODE_RPS ;;
        refresh) target_rps=$TARGET_REFRESH_RPS ;;
    esac
    if [[ -n $target_rps ]] && awk -v r="$rps" -v t="$target_rps" 'BEGIN { exit !(r < t) }'; then
        verdict=MISS
    fi
    # The p99 target is for the single-round-trip endpoints; the browser
    # flows have req/s targets only.
    case $name in
        token | token-res | introspect | jwks) ((p99 < TARGET_P99_US)) || verdict=MISS ;;
        code | refresh) ((p99 < TARGET_GRANT_P99_US)) || verdict=MISS ;;
    esac
    ((exhausted == 0)) || verdict=SHORT
    ((errors == 0)) || verdict=ERRORS
    ROWS+=("$(printf '%-9s %-11s %10.0f %10s %10s %8s %10s %10s  %s' "$backend" "$name" "$rps" "$(ms "$p50")" "$(ms "$p99")" \
        "$errors" "$cpu_us us" "$db_cpu" "$verdict")")
}

# run_wrk BACKEND NAME METHOD PATH BODY AUTH — one fixed request (request.lua):
# a warm-up, then the measured run.
run_wrk() {
    local backend=$1 name=$2 method=$3 path=$4 body=$5 auth=$6
    export BENCH_METHOD=$method BENCH_BODY=$body BENCH_AUTH=$auth
    warm "$BENCH_DIR/request.lua" "$BASE$path"
    measure "$backend" "$name" "$BENCH_DIR/request.lua" "$BASE$path" "$method $path"
    unset BENCH_METHOD BENCH_BODY BENCH_AUTH
}

# thread_files PREFIX — the per-thread files flow.lua uses: PREFIX-1 .. PREFIX-THREADS.
thread_files() {
    local i
    for ((i = 1; i <= THREADS; i++)); do echo "$1-$i"; done
}

# The browser flows (see the top): authorize, code, refresh.
bench_browser_flows() {
    local backend=$1 admin_token=$2
    local redirect_uri=http://127.0.0.1:9/cb created client_id client_secret auth cookie authorize_url
    created=$(http 201 -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
        -d "{\"client_name\":\"bench\",\"redirect_uris\":[\"$redirect_uri\"],\"grant_types\":[\"authorization_code\",\"refresh_token\"],\"first_party\":true,\"id_token_signed_response_alg\":\"$ID_TOKEN_ALG\"}" \
        "$BASE/admin/clients")
    client_id=$(json_get client_id <<<"$created")
    client_secret=$(json_get client_secret <<<"$created")
    auth=$(basic_auth "$client_id" "$client_secret")
    http 201 -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
        -d '{"username":"bench","password":"bench-password"}' "$BASE/admin/users" >/dev/null
    cookie=$(python3 "$BENCH_DIR/oidc.py" signin "$BASE" "$client_id" bench bench-password) ||
        die "$backend: signing the bench user in failed"
    authorize_url=$BASE$(python3 -c '
import sys, urllib.parse
print("/oauth2/authorize?" + urllib.parse.urlencode({"response_type": "code", "client_id": sys.argv[1],
    "redirect_uri": sys.argv[2], "scope": "openid offline_access", "state": "s", "nonce": "n"},
    quote_via=urllib.parse.quote))
' "$client_id" "$redirect_uri")

    # authorize: the measured run also makes the codes of the code run (and
    # the warm-up, those of the code warm-up).
    export BENCH_FLOW=authorize BENCH_COOKIE=$cookie BENCH_REDIRECT_URI=$redirect_uri
    BENCH_FILES=$TMP/codes-warm warm "$BENCH_DIR/flow.lua" "$authorize_url"
    export BENCH_FILES=$TMP/codes-$backend
    measure "$backend" authorize "$BENCH_DIR/flow.lua" "$authorize_url" "GET /oauth2/authorize, signed in: 303 with a code"
    local minted=$LAST_WRITTEN

    # code: each code once, oldest first; they were made seconds ago.
    export BENCH_FLOW=code BENCH_AUTH=$auth
    unset BENCH_COOKIE
    BENCH_FILES=$TMP/codes-warm warm "$BENCH_DIR/flow.lua" "$BASE/oauth2/token"
    export BENCH_FILES=$TMP/codes-$backend
    measure "$backend" code "$BENCH_DIR/flow.lua" "$BASE/oauth2/token" \
        "POST /oauth2/token grant_type=authorization_code, from $minted codes"
    log "$backend: $LAST_LEFT of the $minted codes were left unused"

    # refresh: fresh families for the warm-up and for the measured run.
    local files
    files=$(
        thread_files "$TMP/refresh-$backend"
        ((WARMUP == 0)) || thread_files "$TMP/refresh-warm"
    )
    log "$backend: starting $(wc -w <<<"$files") x $REFRESH_FAMILIES refresh-token families"
    # shellcheck disable=SC2086
    python3 "$BENCH_DIR/oidc.py" families "$BASE" "$client_id" "$client_secret" "$cookie" "$REFRESH_FAMILIES" $files ||
        die "$backend: making refresh tokens failed"
    export BENCH_FLOW=refresh
    BENCH_FILES=$TMP/refresh-warm warm "$BENCH_DIR/flow.lua" "$BASE/oauth2/token"
    export BENCH_FILES=$TMP/refresh-$backend
    measure "$backend" refresh "$BENCH_DIR/flow.lua" "$BASE/oauth2/token" \
        "POST /oauth2/token grant_type=refresh_token, $((REFRESH_FAMILIES * THREADS)) families"
    unset BENCH_FLOW BENCH_FILES BENCH_AUTH BENCH_REDIRECT_URI
}

# bench_signins BACKEND ADMIN_TOKEN — the sign-in run (see the top).
bench_signins() {
    local backend=$1 admin_token=$2 redirect_uri=http://127.0.0.1:9/cb created client_id i line kv
    local signed=0 rate=0 refused=0 peak_kb=0 after_kb
    ((SIGNINS > 0)) || return 0
    created=$(http 201 -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
        -d "{\"client_name\":\"bench sign-in\",\"redirect_uris\":[\"$redirect_uri\"],\"grant_types\":[\"authorization_code\"],\"first_party\":true}" \
        "$BASE/admin/clients")
    client_id=$(json_get client_id <<<"$created")
    for ((i = 0; i < SIGNIN_CONCURRENCY; i++)); do
        http 201 -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
            -d "{\"username\":\"signin$i\",\"password\":\"bench-password\"}" "$BASE/admin/users" >/dev/null
    done
    log "$backend: signins ($SIGNINS password sign-ins, $SIGNIN_CONCURRENCY at once)"
    line=$(python3 "$BENCH_DIR/oidc.py" signins "$BASE" "$client_id" signin bench-password "$SIGNINS" \
        "$SIGNIN_CONCURRENCY" "$SERVER_PID") || die "$backend: the sign-in run failed"
    for kv in $line; do
        case $kv in
            signins=*) signed=${kv#*=} ;;
            rate=*) rate=${kv#*=} ;;
            refused=*) refused=${kv#*=} ;;
            peak_rss_kb=*) peak_kb=${kv#*=} ;;
        esac
    done
    sleep 10
    after_kb=$(proc_kb "$SERVER_PID" VmRSS)
    local peak_verdict=ok after_verdict=ok
    ((peak_kb < TARGET_SIGNIN_PEAK_RSS_KB)) || peak_verdict=MISS
    ((after_kb < TARGET_SIGNIN_AFTER_RSS_KB)) || after_verdict=MISS
    SIGNIN_ROWS+=("$(printf '%-9s %9s %12s %10s %14s %-4s %14s %-4s' "$backend" "$signed" "$rate" "$refused" \
        "$(mb "$peak_kb")" "$peak_verdict" "$(mb "$after_kb")" "$after_verdict")")
}

# bench_token_for_a_resource BACKEND ADMIN_TOKEN — client_credentials naming
# a registered resource (RFC 8707), which becomes the token's aud.
bench_token_for_a_resource() {
    local backend=$1 admin_token=$2 resource=https://api.bench.example created auth
    http 201 -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
        -d "{\"identifier\":\"$resource\",\"name\":\"bench API\",\"scopes\":[\"read\",\"write\"]}" \
        "$BASE/admin/resources" >/dev/null
    created=$(http 201 -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
        -d "{\"grant_types\":[\"client_credentials\"],\"redirect_uris\":[],\"response_types\":[],\"scope\":\"read write\",\"resources\":[\"$resource\"]}" \
        "$BASE/admin/clients")
    auth=$(basic_auth "$(json_get client_id <<<"$created")" "$(json_get client_secret <<<"$created")")
    run_wrk "$backend" token-res POST /oauth2/token \
        "grant_type=client_credentials&resource=https%3A%2F%2Fapi.bench.example" "$auth"
}

# bench_token_pkjwt BACKEND ADMIN_TOKEN — client_credentials by a
# private_key_jwt client: every request a new assertion (its own jti), signed
# ahead, since a client signs its own; the server verifies the ES256
# signature and records the jti (its one database write).
bench_token_pkjwt() {
    local backend=$1 admin_token=$2 key=$TMP/pkjwt-$backend.pem jwks created client_id
    local count=$((ASSERTION_RATE * DURATION / THREADS + 1000)) warm_count=$((ASSERTION_RATE * WARMUP / THREADS + 1000))
    jwks=$(python3 "$BENCH_DIR/assertions.py" keygen "$key") || die "$backend: making the bench client's key failed"
    created=$(http 201 -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
        -d "{\"grant_types\":[\"client_credentials\"],\"redirect_uris\":[],\"response_types\":[],\"scope\":\"read write\",\"token_endpoint_auth_method\":\"private_key_jwt\",\"jwks\":$jwks}" \
        "$BASE/admin/clients")
    client_id=$(json_get client_id <<<"$created")
    log "$backend: signing $(((count + warm_count) * THREADS)) client assertions"
    if ((WARMUP > 0)); then
        # shellcheck disable=SC2046
        python3 "$BENCH_DIR/assertions.py" sign "$key" "$client_id" "$BASE/oauth2/token" "$warm_count" \
            $(thread_files "$TMP/assertions-warm-$backend") || die "$backend: signing assertions failed"
    fi
    # shellcheck disable=SC2046
    python3 "$BENCH_DIR/assertions.py" sign "$key" "$client_id" "$BASE/oauth2/token" "$count" \
        $(thread_files "$TMP/assertions-$backend") || die "$backend: signing assertions failed"
    export BENCH_FLOW=assertion
    BENCH_FILES=$TMP/assertions-warm-$backend warm "$BENCH_DIR/flow.lua" "$BASE/oauth2/token"
    export BENCH_FILES=$TMP/assertions-$backend
    measure "$backend" token-pkjwt "$BENCH_DIR/flow.lua" "$BASE/oauth2/token" \
        "POST /oauth2/token grant_type=client_credentials, private_key_jwt ES256, each assertion once"
    log "$backend: $LAST_LEFT of the $((count * THREADS)) assertions were left unused"
    unset BENCH_FLOW BENCH_FILES
}

bench_backend() {
    local backend=$1 database_url=$2
    start_server "$backend" "$database_url"

    # Setup through the admin API: an admin token, a service client, its token.
    local admin_token created client_id client_secret auth token active
    admin_token=$(http 200 -u "$ADMIN_ID:$ADMIN_SECRET" -d grant_type=client_credentials -d scope=admin \
        "$BASE/oauth2/token" | json_get access_token)
    created=$(http 201 -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
        -d '{"grant_types":["client_credentials"],"redirect_uris":[],"response_types":[],"scope":"read write"}' \
        "$BASE/admin/clients")
    client_id=$(json_get client_id <<<"$created")
    client_secret=$(json_get client_secret <<<"$created")
    auth=$(basic_auth "$client_id" "$client_secret")
    token=$(http 200 -H "Authorization: $auth" -d grant_type=client_credentials "$BASE/oauth2/token" |
        json_get access_token)
    active=$(http 200 -H "Authorization: $auth" --data-urlencode "token=$token" "$BASE/oauth2/introspect" |
        json_get active)
    [[ $active == True ]] || die "$backend: the service client's fresh token introspects as inactive"
    http 200 "$BASE/oauth2/jwks" >/dev/null

    sleep 1
    local idle_kb peak_kb after_kb
    idle_kb=$(proc_kb "$SERVER_PID" VmRSS)

    [[ $WRK_ONLY == 1 || $FLOWS_ONLY == 1 ]] || bench_signins "$backend" "$admin_token"
    if [[ $FLOWS_ONLY == 1 ]]; then
        bench_browser_flows "$backend" "$admin_token"
    elif [[ $SIGNINS_ONLY != 1 ]]; then
        run_wrk "$backend" token POST /oauth2/token "grant_type=client_credentials" "$auth"
        [[ $RESOURCE != 1 ]] || bench_token_for_a_resource "$backend" "$admin_token"
        [[ $PKJWT != 1 ]] || bench_token_pkjwt "$backend" "$admin_token"
        run_wrk "$backend" introspect POST /oauth2/introspect "token=$token" "$auth"
        run_wrk "$backend" jwks GET /oauth2/jwks "" ""
        [[ $WRK_ONLY == 1 ]] || bench_browser_flows "$backend" "$admin_token"
    fi

    peak_kb=$(proc_kb "$SERVER_PID" VmHWM)
    after_kb=$(proc_kb "$SERVER_PID" VmRSS)
    local log_problems
    log_problems=$(grep -Eci 'warn|error' "$SERVER_LOG" || true)
    ((log_problems == 0)) || log "$backend: the server logged $log_problems warning/error line(s); see below"
    ((log_problems == 0)) || grep -Ei 'warn|error' "$SERVER_LOG" | head -n 10 >&2

    stop_server "$backend"
    local idle_verdict=ok peak_verdict=ok
    ((idle_kb < TARGET_IDLE_RSS_KB)) || idle_verdict=MISS
    ((peak_kb < TARGET_PEAK_RSS_KB)) || peak_verdict=MISS
    MEM_ROWS+=("$(printf '%-9s %14s %-4s %14s %-4s %14s %8s ms  %s' "$backend" "$(mb "$idle_kb")" "$idle_verdict" \
        "$(mb "$peak_kb")" "$peak_verdict" "$(mb "$after_kb")" "$STARTUP_MS" "$SHUTDOWN")")
}

# ---------------------------------------------------------------- main

ROWS=()
MEM_ROWS=()
SIGNIN_ROWS=()
ensure_tools
build

for backend in $BACKENDS; do
    case $backend in
        sqlite)
            bench_backend sqlite "sqlite://$TMP/bench.db"
            ;;
        postgres)
            if setup_postgres; then
                bench_backend postgres "$PG_URL"
                drop_pg_db
            else
                MEM_ROWS+=("$(printf '%-9s %s' postgres 'skipped: no reachable Postgres')")
            fi
            ;;
        *) die "unknown backend '$backend' in BENCH_BACKENDS (sqlite, postgres)" ;;
    esac
done

echo
echo "Castellan benchmark — $(nproc) CPU(s), wrk -t$THREADS -c$CONNECTIONS, ${DURATION}s per run (+${WARMUP}s warm-up); wrk shares the CPUs with the server"
echo
printf '%-9s %-11s %10s %10s %10s %8s %10s %10s  %s\n' backend endpoint 'req/s' p50 p99 errors 'cpu/req' 'db cpu/req' target
printf '%-9s %-11s %10s %10s %10s %8s %10s %10s  %s\n' --------- ----------- ---------- ---------- ---------- -------- ---------- ---------- ------
for row in "${ROWS[@]}"; do echo "$row"; done
echo
printf '%-9s %19s %19s %14s %11s  %s\n' backend 'idle RSS' 'peak RSS (VmHWM)' 'RSS after' 'start-up' 'SIGTERM'
printf '%-9s %19s %19s %14s %11s  %s\n' --------- ------------------- ------------------- -------------- ----------- -------
for row in "${MEM_ROWS[@]}"; do echo "$row"; done
if ((${#SIGNIN_ROWS[@]} > 0)); then
    echo
    printf '%-9s %9s %12s %10s %19s %19s\n' backend sign-ins 'sign-ins/s' '429s' 'peak RSS during' 'RSS 10 s after'
    printf '%-9s %9s %12s %10s %19s %19s\n' --------- --------- ------------ ---------- ------------------- -------------------
    for row in "${SIGNIN_ROWS[@]}"; do echo "$row"; done
fi
echo
echo "Targets: token >= $TARGET_TOKEN_RPS req/s, token-pkjwt >= $TARGET_PKJWT_RPS req/s, introspect >= $TARGET_INTROSPECT_RPS req/s, p99 < $((TARGET_P99_US / 1000)) ms (token, introspect, jwks)," \
    "code >= $TARGET_CODE_RPS req/s, refresh >= $TARGET_REFRESH_RPS req/s, p99 < $((TARGET_GRANT_P99_US / 1000)) ms (code, refresh)," \
    "idle RSS < $((TARGET_IDLE_RSS_KB / 1024)) MB, peak RSS < $((TARGET_PEAK_RSS_KB / 1024)) MB under load;" \
    "sign-ins ($SIGNINS, $SIGNIN_CONCURRENCY at once): peak RSS < $((TARGET_SIGNIN_PEAK_RSS_KB / 1024)) MB, RSS 10 s after < $((TARGET_SIGNIN_AFTER_RSS_KB / 1024)) MB"
echo "authorize: GET /oauth2/authorize with a signed-in session (a code per request); code: authorization_code grant" \
    "(access + $ID_TOKEN_ALG ID + refresh token); refresh: refresh_token grant with rotation, each token used once"
echo "cpu/req: the server's CPU time (user+system) per request; alone on this machine it could serve at most $(nproc) x 1e6 / cpu/req req/s"
echo "db cpu/req: the same for the Postgres backends of the bench database (local Postgres only; SQLite's is in cpu/req)." \
    "The server and its database together: at most $(nproc) x 1e6 / (cpu/req + db cpu/req) req/s"

if ((${#FAILURES[@]} > 0)); then
    echo
    echo "FAILED:"
    for failure in "${FAILURES[@]}"; do echo "  - $failure"; done
    exit 1
fi
