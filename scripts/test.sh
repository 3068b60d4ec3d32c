#!/usr/bin/env bash
# The one test command (README and CI): format, lint and types; build; check that the schema has
# no pending migration; then the unit and e2e suites (OpenAPI drift among them) on the real Postgres and Redis,
# made sure of first by scripts/services.sh (the running ones, else installed or started; what this
# run started is stopped at its end).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
trap stop_started_services EXIT
ensure_services
ensure_test_tools
if [ ! -d node_modules ]; then npm ci --no-audit --no-fund; fi
export NODE_OPTIONS="--experimental-vm-modules --disable-warning=ExperimentalWarning ${NODE_OPTIONS:-}"
npm run --silent check
npm run --silent build
bash scripts/migration-check.sh
npx jest --selectProjects unit --ci
npx jest --selectProjects e2e --ci --runInBand
