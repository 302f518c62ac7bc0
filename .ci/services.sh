#!/usr/bin/env bash
# Starts PostgreSQL and Redis on loopback in a temporary directory, for tests and benchmarks.
#   source .ci/services.sh && services_start   -> exports DATABASE_URL and REDIS_URL
#   services_stop                              -> stops both and removes the directory
# Installs what the machine lacks from Debian's packages (postgresql, redis-server).

services_install() {
  local missing=()
  services_pg_bindir >/dev/null || missing+=(postgresql)
  command -v redis-server >/dev/null || missing+=(redis-server)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

services_pg_bindir() {
  local candidate
  for candidate in /usr/lib/postgresql/*/bin \
    "$(dirname "$(readlink -f "$(command -v initdb 2>/dev/null || echo /nonexistent/x)")")"; do
    if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ] && [ -x "$candidate/createdb" ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

services_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

services_start() {
  services_install
  SERVICES_DIR=$(mktemp -d /tmp/amazon-channel-services.XXXXXX)
  export SERVICES_DIR
  local pg_bin pg_port redis_port run_as=()
  pg_bin=$(services_pg_bindir)
  pg_port=$(services_free_port)
  redis_port=$(services_free_port)
  # PostgreSQL refuses to run as root: run it as the postgres user when we are root.
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$SERVICES_DIR"
    chmod 755 "$SERVICES_DIR"
    run_as=(runuser -u postgres --)
  fi
  "${run_as[@]}" "$pg_bin/initdb" -D "$SERVICES_DIR/pg" -U postgres --auth=trust -E UTF8 >"$SERVICES_DIR/initdb.log" 2>&1 \
    || { cat "$SERVICES_DIR/initdb.log"; return 1; }
  "${run_as[@]}" "$pg_bin/pg_ctl" -D "$SERVICES_DIR/pg" -l "$SERVICES_DIR/pg.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $SERVICES_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    >/dev/null || { cat "$SERVICES_DIR/pg.log"; return 1; }
  "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres amazon_channel
  redis-server --port "$redis_port" --bind 127.0.0.1 --daemonize yes --dir "$SERVICES_DIR" \
    --save '' --appendonly no --pidfile "$SERVICES_DIR/redis.pid" --logfile "$SERVICES_DIR/redis.log"
  for _ in $(seq 50); do
    redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  export SERVICES_PG_BIN="$pg_bin" SERVICES_RUN_AS="${run_as[*]}"
  export DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/amazon_channel"
  export REDIS_URL="redis://127.0.0.1:$redis_port/0"
  echo "PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port ($SERVICES_DIR)"
}

services_stop() {
  [ -n "${SERVICES_DIR:-}" ] || return 0
  if [ -f "$SERVICES_DIR/redis.pid" ]; then
    kill "$(cat "$SERVICES_DIR/redis.pid")" 2>/dev/null || true
  fi
  # shellcheck disable=SC2086
  $SERVICES_RUN_AS "$SERVICES_PG_BIN/pg_ctl" -D "$SERVICES_DIR/pg" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$SERVICES_DIR"
}
