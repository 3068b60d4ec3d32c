#!/usr/bin/env bash
# Makes sure Postgres (127.0.0.1:5432, role postgres, trust on loopback) and Redis (127.0.0.1:6379)
# answer, and says in one line how. In this order:
#   1. the ones already listening;
#   2. on Debian or Ubuntu, the postgresql and redis-server packages: installed with apt when
#      missing (as root, or with sudo when it asks no password), configured so that role postgres
#      connects from loopback without a password, and started;
#   3. `docker compose up -d postgres redis` (docker-compose.yml) when Docker answers;
#   4. otherwise one message naming what to install here, and exit status 1.
# Sourced by first-look.sh, test.sh and .ci/run, which call ensure_services, and stop_started_services
# when they end: it stops what ensure_services started (never what was already running).
# `bash scripts/services.sh` runs it alone (`sudo bash scripts/services.sh` where sudo asks a password).

SERVICES_STARTED=()
SERVICES_HOW=()
SERVICES_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Plain bash probes: on a bare machine pg_isready and redis-cli are not there yet.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
redis_answers() {
  local reply
  reply=$( (exec 3<>/dev/tcp/127.0.0.1/6379 && printf 'PING\r\n' >&3 && read -r -t 2 line <&3 && echo "$line") 2>/dev/null)
  [[ $reply == +PONG* ]]
}
postgres_answers() {
  port_open 5432 || return 1
  # pg_isready says whether it accepts connections (not starting up, not shutting down).
  if command -v pg_isready >/dev/null; then pg_isready -h 127.0.0.1 -p 5432 -q; fi
}
wait_for() {
  for _ in $(seq 1 60); do "$@" && return 0; sleep 1; done
  return 1
}

# How to run a command as root here: empty as root, `sudo -n` when sudo needs no password.
as_root_prefix() {
  if [ "$(id -u)" = 0 ]; then
    echo ""
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    echo "sudo -n"
  else
    return 1
  fi
}

is_debian_like() {
  [ -r /etc/os-release ] && command -v apt-get >/dev/null &&
    grep -Eqi '^(ID|ID_LIKE)=.*(debian|ubuntu)' /etc/os-release
}

postgres_cluster_version() { ls /etc/postgresql 2>/dev/null | sort -V | tail -n1; }

# Role postgres from loopback without a password (the README's and the tests' DATABASE_URL), ahead
# of the packaged scram-sha-256 lines. Only on loopback: other hosts keep the packaged rules.
allow_postgres_on_loopback() {
  local root=$1 hba
  hba="/etc/postgresql/$(postgres_cluster_version)/main/pg_hba.conf"
  if ! $root grep -q '^host all postgres 127.0.0.1/32 trust' "$hba"; then
    $root sed -i '1i host all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust' "$hba"
  fi
}

start_postgres() {
  local root=$1 version
  version=$(postgres_cluster_version)
  if [ -d /run/systemd/system ]; then
    $root systemctl start "postgresql@$version-main"
  else
    $root pg_ctlcluster --skip-systemctl-redirect "$version" main start
  fi
  SERVICES_STARTED+=(postgres)
}

start_redis() {
  local root=$1
  if [ -d /run/systemd/system ] && [ -f /lib/systemd/system/redis-server.service ]; then
    $root systemctl start redis-server
  elif [ -f /etc/redis/redis.conf ]; then
    # The packaged configuration (loopback only, port 6379), as its own user.
    $root install -d -o redis -g redis /run/redis /var/log/redis
    $root runuser -u redis -- redis-server /etc/redis/redis.conf --daemonize yes
  else
    $root mkdir -p /var/lib/redis /var/log/redis
    $root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/redis-server.log
  fi
  SERVICES_STARTED+=(redis)
}

# Step 2. Appends what it did to SERVICES_HOW; returns 1 when it cannot install or start what is missing.
ensure_with_packages() {
  local root=$1 need_pg=$2 need_redis=$3 packages=()
  [ "$need_pg" = 1 ] && ! command -v pg_ctlcluster >/dev/null && packages+=(postgresql)
  [ "$need_redis" = 1 ] && ! command -v redis-server >/dev/null && packages+=(redis-server)
  if [ ${#packages[@]} -gt 0 ]; then
    echo "installing ${packages[*]} with apt-get (this once: later runs start them)"
    # Explicit: callers run this in an `||` list, where set -e does not stop at a failure.
    $root apt-get update -qq || return 1
    $root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null ||
      return 1
    SERVICES_HOW+=("installed ${packages[*]} with apt")
  fi
  if [ "$need_pg" = 1 ]; then
    [ -n "$(postgres_cluster_version)" ] || { echo "no Postgres cluster in /etc/postgresql" >&2; return 1; }
    allow_postgres_on_loopback "$root"
    # The package's scripts may have started it already (systemd, or a chroot's init scripts).
    if postgres_answers; then
      $root pg_ctlcluster --skip-systemctl-redirect "$(postgres_cluster_version)" main reload
    else
      start_postgres "$root"
    fi
    wait_for postgres_answers || { echo "Postgres did not start" >&2; return 1; }
    SERVICES_HOW+=("Postgres $(postgres_cluster_version) of the system")
  fi
  if [ "$need_redis" = 1 ]; then
    redis_answers || start_redis "$root"
    wait_for redis_answers || { echo "Redis did not start" >&2; return 1; }
    SERVICES_HOW+=("Redis of the system")
  fi
}

# Step 3: the compose file's postgres and redis, published on this machine's loopback ports.
ensure_with_docker() {
  local want=()
  [ "$1" = 1 ] && want+=(postgres)
  [ "$2" = 1 ] && want+=(redis)
  POSTGRES_PUBLISH=127.0.0.1:5432:5432 REDIS_PUBLISH=127.0.0.1:6379:6379 \
    docker compose --project-directory "$SERVICES_ROOT" up -d --wait "${want[@]}" || return 1
  SERVICES_STARTED+=("docker:${want[*]}")
  SERVICES_HOW+=("docker compose up -d ${want[*]} (docker-compose.yml)")
}

what_to_install() {
  echo "Postgres (127.0.0.1:5432) and Redis (127.0.0.1:6379) are needed and could not be set up here." >&2
  if [ "$(uname -s)" = Darwin ]; then
    cat >&2 <<'EOF'
Install them with Homebrew, start them, and create the role postgres:
  brew install postgresql@16 redis
  brew services start postgresql@16 && brew services start redis
  "$(brew --prefix postgresql@16)/bin/createuser" -s postgres
(or install Docker Desktop: the commands then start them with docker compose).
EOF
  elif is_debian_like; then
    cat >&2 <<'EOF'
Installing and starting them needs root (or sudo without a password). Run once:
  sudo bash scripts/services.sh
(it installs postgresql and redis-server with apt, lets role postgres connect on loopback, and
starts them), or install Docker: the commands then start them with docker compose.
EOF
  else
    cat >&2 <<'EOF'
Install PostgreSQL 16 and Redis 7 with this system's package manager, listening on 127.0.0.1:5432
(role postgres, trust on loopback in pg_hba.conf) and 127.0.0.1:6379, or install Docker: the
commands then start them with docker compose.
EOF
  fi
}

docker_answers() { command -v docker >/dev/null && docker compose version >/dev/null 2>&1 && docker info >/dev/null 2>&1; }

ensure_services() {
  local need_pg=0 need_redis=0 root
  SERVICES_HOW=()
  postgres_answers || need_pg=1
  redis_answers || need_redis=1
  if [ $need_pg = 0 ] && [ $need_redis = 0 ]; then
    echo "Postgres and Redis: the ones already listening on 127.0.0.1:5432 and 127.0.0.1:6379"
    return 0
  fi
  [ $need_pg = 0 ] && SERVICES_HOW+=("Postgres already listening")
  [ $need_redis = 0 ] && SERVICES_HOW+=("Redis already listening")
  if is_debian_like && root=$(as_root_prefix); then
    ensure_with_packages "$root" $need_pg $need_redis || {
      echo "setting up the Debian packages postgresql and redis-server failed (see above)" >&2
      return 1
    }
  elif docker_answers; then
    ensure_with_docker $need_pg $need_redis || {
      echo "docker compose could not start postgres and redis (see above)" >&2
      return 1
    }
  else
    what_to_install
    return 1
  fi
  local IFS=';'
  echo "Postgres and Redis: ${SERVICES_HOW[*]}" | sed 's/;/; /g'
}

# What the suites need besides Postgres and Redis: Chromium (the Swagger UI browser check) and
# promtool (the alerting rules). Installed with apt on Debian or Ubuntu as root or with sudo -n;
# elsewhere one message naming them. CHROMIUM_PATH and PROMTOOL name binaries installed elsewhere.
ensure_test_tools() {
  local missing=() root
  [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing+=(chromium)
  command -v "${PROMTOOL:-promtool}" >/dev/null || missing+=(prometheus)
  [ ${#missing[@]} -eq 0 ] && return 0
  if is_debian_like && root=$(as_root_prefix); then
    echo "installing ${missing[*]} with apt-get for the suites (this once)"
    $root apt-get update -qq || return 1
    $root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
      return 1
    return 0
  fi
  echo "the suites need ${missing[*]/prometheus/promtool}: install them (Debian: apt-get install ${missing[*]};" \
    "macOS: brew install --cask chromium and brew install prometheus), and set CHROMIUM_PATH or PROMTOOL" \
    "when they are not /usr/bin/chromium and promtool on the PATH" >&2
  return 1
}

# Stops what ensure_services started, in this shell (first-look on Ctrl-C, test.sh and CI at exit).
stop_started_services() {
  local root service
  root=$(as_root_prefix 2>/dev/null) || root=""
  for service in "${SERVICES_STARTED[@]}"; do
    case $service in
      postgres)
        if [ -d /run/systemd/system ]; then
          $root systemctl stop "postgresql@$(postgres_cluster_version)-main"
        else
          $root pg_ctlcluster --skip-systemctl-redirect "$(postgres_cluster_version)" main stop
        fi
        ;;
      redis)
        if [ -d /run/systemd/system ] && [ -f /lib/systemd/system/redis-server.service ]; then
          $root systemctl stop redis-server
        else
          (exec 3<>/dev/tcp/127.0.0.1/6379 && printf 'SHUTDOWN NOSAVE\r\n' >&3) 2>/dev/null || true
        fi
        ;;
      docker:*)
        # shellcheck disable=SC2086
        docker compose --project-directory "$SERVICES_ROOT" stop ${service#docker:}
        ;;
    esac
  done
  [ ${#SERVICES_STARTED[@]} -eq 0 ] || echo "stopped the Postgres and Redis this run started (${SERVICES_STARTED[*]})"
  SERVICES_STARTED=()
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  ensure_services
fi
