#!/usr/bin/env bash
# A first look on a fresh machine: Postgres and Redis (scripts/services.sh: the running ones, else
# installed or started), the dependencies when node_modules is missing, the build, a local .env with
# generated keys when there is none, then the provider sandbox (:4000) and the broker (:3000), one
# connection per provider, and a summary ending in a `curl` for a token that answers 200. Ctrl-C
# stops the broker, the sandbox and any Postgres or Redis this run started. Their logs go to
# .first-look/*.log (gitignored), so the terminal shows only the summary. A second run reuses the
# .env, the database, the connections and the client's API key (saved in .first-look/).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

broker_port="${PORT:-3000}"
sandbox_port="${SANDBOX_PORT:-4000}"
for port in "$broker_port" "$sandbox_port"; do
  if port_open "$port"; then
    echo "port $port is taken (another first look still running?): stop what listens there and run again" >&2
    exit 1
  fi
done

pids=()
stop_all() {
  trap - EXIT INT TERM
  if [ ${#pids[@]} -gt 0 ]; then
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
    echo "stopped the broker and the sandbox"
  fi
  stop_started_services
}
trap stop_all EXIT
trap 'stop_all; exit 130' INT TERM

ensure_services

if [ ! -d node_modules ]; then npm ci --no-audit --no-fund; fi
echo "building (npm run build)"
npm run --silent build

if [ ! -f .env ]; then
  node -e '
    const { randomBytes } = require("node:crypto");
    const lines = [
      "# Written by npm run first-look; keep it out of version control.",
      `BROKER_ENCRYPTION_KEYS=k1:${randomBytes(32).toString("base64")}`,
      `BROKER_ADMIN_TOKEN=${randomBytes(32).toString("base64url")}`,
      "BROKER_PUBLIC_URL=http://localhost:3000",
      // A database of its own: what a first look stores is sealed with the key above, so another
      // .env (a new clone, a deleted .env) must not meet it in a shared database.
      `DATABASE_URL=postgres://postgres@127.0.0.1:5432/first_look_${randomBytes(6).toString("hex")}`,
      "REDIS_URL=redis://127.0.0.1:6379",
      "# The sandbox providers listen on 127.0.0.1:4000; a real deployment leaves this false.",
      "BROKER_ALLOW_LOOPBACK_PROVIDER_HOSTS=true",
    ];
    require("node:fs").writeFileSync(".env", lines.join("\n") + "\n", { mode: 0o600 });
  '
  echo "wrote .env with a new encryption key and admin token"
elif ! grep -q '^BROKER_ALLOW_LOOPBACK_PROVIDER_HOSTS=' .env; then
  # A .env from an earlier first look, before loopback provider hosts needed saying.
  printf '%s\n' "# The sandbox providers listen on 127.0.0.1:4000; a real deployment leaves this false." \
    "BROKER_ALLOW_LOOPBACK_PROVIDER_HOSTS=true" >>.env
  echo "added BROKER_ALLOW_LOOPBACK_PROVIDER_HOSTS=true to .env (the sandbox listens on loopback)"
fi
set -a
# shellcheck disable=SC1091
source .env
set +a

logs=.first-look
mkdir -p "$logs"
SANDBOX_PORT="$sandbox_port" node dist/apps/sandbox/src/main.js >"$logs/sandbox.log" 2>&1 &
pids+=($!)
PORT="$broker_port" node dist/apps/broker/src/main.js >"$logs/broker.log" 2>&1 &
broker_pid=$!
pids+=("$broker_pid")

if ! FIRST_LOOK_PUBLIC_URL="http://127.0.0.1:$broker_port" \
  node scripts/first-look-seed.js "http://127.0.0.1:$broker_port" "http://127.0.0.1:$sandbox_port" "$logs"; then
  echo "the last lines of $logs/broker.log:" >&2
  tail -n 20 "$logs/broker.log" >&2
  exit 1
fi
echo "Ctrl-C stops the broker and the sandbox (and the Postgres and Redis this run started)."
echo
wait "$broker_pid"
