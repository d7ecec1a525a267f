#!/usr/bin/env bash
# `make run`: a local stack on the embedded default. Starts nats-server with JetStream on a
# port of its own and the services on SQLite files, all under one data folder, prints where
# everything listens, and stops everything on Ctrl-C.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
data="${XINFANG_DATA_DIR:-$root/.data}"
bin="${XINFANG_BIN_DIR:-$root/target/debug}"
nats_server="${XINFANG_NATS_SERVER:-$root/.tools/venv/bin/nats-server}"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# The usual port when it is free (the CLI's defaults point there), else any free one.
usual_or_free() {
    python3 -c 'import socket,sys
s = socket.socket()
try: s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError: s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' "$1"
}
nats_port="${XINFANG_RUN_NATS_PORT:-$(free_port)}"
monitor_port="${XINFANG_RUN_NATS_MONITOR_PORT:-$(free_port)}"
intake_grpc="127.0.0.1:${XINFANG_RUN_INTAKE_PORT:-$(usual_or_free 50051)}"
routing_grpc="127.0.0.1:${XINFANG_RUN_ROUTING_PORT:-$(usual_or_free 50052)}"
supervision_grpc="127.0.0.1:${XINFANG_RUN_SUPERVISION_PORT:-$(usual_or_free 50053)}"
statistics_grpc="127.0.0.1:${XINFANG_RUN_STATISTICS_PORT:-$(usual_or_free 50054)}"
directory="${XINFANG_ROUTING_DIRECTORY:-$root/services/routing/directory/xingping.toml}"

mkdir -p "$data/jetstream" "$data/logs"
# Development tokens: a random HS256 secret the services verify with, and a token per role.
mkdir -p "$data/auth" "$data/tokens"
secret="$data/auth/hs256.secret"
[ -s "$secret" ] || (umask 077; head -c 32 /dev/urandom | base64 >"$secret")
export XINFANG_AUTH_HS256_SECRET_FILE="$secret"
token() { # file name, subject, then --role/--unit flags
    local name="$1" subject="$2"; shift 2
    "$bin/xinfang" dev token --subject "$subject" "$@" >"$data/tokens/$name.jwt"
}
token registrar clerk-li --role registrar
token supervisor supervisor-zhao --role supervisor
token leader leader-wang --role leader
token analyst analyst-chen --role analyst
token administrator admin-sun --role administrator
# Routing's own identity, for asking supervision where a case stands.
token service-routing routing --role service --valid-for 720h
token zhaocun-handler handler-zhaocun --role unit_handler --unit zhaocun
token dongcheng-handler handler-dongcheng --role unit_handler --unit dongcheng
token zhaocun-registrar registrar-zhaocun --role unit_registrar --unit zhaocun

# A least-privilege NATS user per service, an operator for the CLI, one per unit of the
# directory that reads only its own case events (deploy/departments/), and one per external
# system that submits petitions (the online platform; the provincial bureau's system).
"$bin/xinfang" dev nats-users --dir "$data/nats" --departments-from "$directory" \
    --submitter online-platform=online --submitter provincial-bureau=upstream >/dev/null
# The JetStream store is encrypted (queued submissions hold personal data): its key is a
# secret of its own, given to the server in its environment, never in its configuration.
js_key="$data/auth/jetstream.key"
# It starts with a letter: nats-server parses the variable's value again, and one starting
# like `12e3` would read as a number and fail the configuration.
[ -s "$js_key" ] || (umask 077; echo "k$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" >"$js_key")
cat >"$data/nats.conf" <<CONF
listen: 127.0.0.1:$nats_port
http: 127.0.0.1:$monitor_port
jetstream {
  store_dir: "$data/jetstream"
  # Every acknowledged message is on disk before the acknowledgement (see README).
  sync_interval: always
  cipher: aes
  key: \$XINFANG_JETSTREAM_KEY
}
include "nats/authorization.conf"
CONF

pids=()
stop() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap stop EXIT INT TERM

XINFANG_JETSTREAM_KEY="$(cat "$js_key")" \
    "$nats_server" --config "$data/nats.conf" >"$data/logs/nats-server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$monitor_port/healthz?js-enabled-only=true" >/dev/null 2>&1 && break
    sleep 0.1
done

export XINFANG_NATS_URL="nats://127.0.0.1:$nats_port"
# The operator declares the streams; a service may create a missing one but never change one.
XINFANG_NATS_USER=operator XINFANG_NATS_PASSWORD="$(cat "$data/nats/operator.password")" \
    "$bin/xinfang" streams declare --departments-from "$directory" >/dev/null
start_service() { # name, gRPC address, metrics port
    XINFANG_NATS_USER="$1" XINFANG_NATS_PASSWORD="$(cat "$data/nats/$1.password")" \
        XINFANG_DATABASE_URL="sqlite://$data/$1.db?mode=rwc" XINFANG_GRPC_LISTEN="$2" \
        XINFANG_METRICS_LISTEN="127.0.0.1:$3" \
        XINFANG_ROUTING_DIRECTORY="$directory" \
        XINFANG_SERVICE_TOKEN_FILE="$data/tokens/service-routing.jwt" \
        XINFANG_SUPERVISION_URL="http://$supervision_grpc" \
        XINFANG_INTAKE_IDENTITY_KEYS_FILE="$data/auth/intake-identity.keys" \
        XINFANG_INTAKE_IDENTITY_KEYS_CREATE=true \
        "$bin/xinfang-$1" >"$data/logs/$1.log" 2>&1 &
    pids+=($!)
}
start_service intake "$intake_grpc" "$(usual_or_free 9101)"
start_service routing "$routing_grpc" "$(usual_or_free 9102)"
start_service supervision "$supervision_grpc" "$(usual_or_free 9103)"
start_service statistics "$statistics_grpc" "$(usual_or_free 9104)"

cat <<INFO

Xinfang is running (data in $data, logs in $data/logs):
  nats-server   $XINFANG_NATS_URL   (monitoring http://127.0.0.1:$monitor_port)
  intake        $intake_grpc
  routing       $routing_grpc   (directory $directory)
  supervision   $supervision_grpc
  statistics    $statistics_grpc

External systems submit over NATS (deploy/systems/README.md) as online-platform (online) or
provincial-bureau (upstream), passwords in $data/nats/.

Tokens (valid 12 h) in $data/tokens/: registrar, supervisor, leader, analyst, administrator,
zhaocun-handler (赵村镇), dongcheng-handler (东城街道), zhaocun-registrar (赵村镇's own desk).
Act as one with, e.g.:
  export XINFANG_TOKEN=\$(cat $data/tokens/registrar.jwt)

Metrics: http://127.0.0.1:<9101..9104>/metrics (see the logs for the ports if taken).

For the CLI:
  export XINFANG_NATS_URL=$XINFANG_NATS_URL XINFANG_NATS_USER=operator
  export XINFANG_NATS_PASSWORD=\$(cat $data/nats/operator.password)
  export XINFANG_INTAKE_URL=http://$intake_grpc XINFANG_ROUTING_URL=http://$routing_grpc
  export XINFANG_SUPERVISION_URL=http://$supervision_grpc XINFANG_STATISTICS_URL=http://$statistics_grpc

Follow a petition: see "Following a petition through the system" in README.md. Ctrl-C stops everything.
INFO
wait -n "${pids[@]}"
echo "a process of the stack exited; see $data/logs" >&2
exit 1
