#!/usr/bin/env bash
# A first look on a fresh machine: builds the broker, writes a local .env with generated keys when
# there is none, starts the provider sandbox and the broker, creates one connection per provider,
# and prints the admin token, the Swagger URL and a token request to try. Ctrl-C stops both. Their
# logs go to .first-look/*.log (gitignored), so the terminal shows only the summary.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
ensure_services

if [ ! -d node_modules ]; then npm ci --no-audit --no-fund; fi
npm run --silent build

if [ ! -f .env ]; then
  node -e '
    const { randomBytes } = require("node:crypto");
    const lines = [
      "# Written by npm run first-look; keep it out of version control.",
      `BROKER_ENCRYPTION_KEYS=k1:${randomBytes(32).toString("base64")}`,
      `BROKER_ADMIN_TOKEN=${randomBytes(32).toString("base64url")}`,
      "BROKER_PUBLIC_URL=http://localhost:3000",
      "DATABASE_URL=postgres://postgres@127.0.0.1:5432/broker",
      "REDIS_URL=redis://127.0.0.1:6379",
    ];
    require("node:fs").writeFileSync(".env", lines.join("\n") + "\n", { mode: 0o600 });
  '
  echo "wrote .env with a new encryption key and admin token"
fi
set -a
# shellcheck disable=SC1091
source .env
set +a

logs=.first-look
mkdir -p "$logs"
SANDBOX_PORT="${SANDBOX_PORT:-4000}" node dist/apps/sandbox/src/main.js >"$logs/sandbox.log" 2>&1 &
sandbox_pid=$!
# The sandbox listens on loopback, which production refuses as a provider host.
BROKER_ALLOW_LOOPBACK_PROVIDER_HOSTS=true node dist/apps/broker/src/main.js >"$logs/broker.log" 2>&1 &
broker_pid=$!
trap 'kill $broker_pid $sandbox_pid 2>/dev/null; wait 2>/dev/null' EXIT INT TERM

if ! node scripts/first-look-seed.js "http://127.0.0.1:${PORT:-3000}" "http://127.0.0.1:${SANDBOX_PORT:-4000}" \
  "$logs"; then
  echo "the last lines of $logs/broker.log:" >&2
  tail -n 20 "$logs/broker.log" >&2
  exit 1
fi
wait $broker_pid
