#!/usr/bin/env bash
# The one test command (README and CI): format, lint and types; build; check that the schema has
# no pending migration; then the unit and e2e suites (OpenAPI drift among them) on the real Postgres and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_OPTIONS="--experimental-vm-modules --disable-warning=ExperimentalWarning ${NODE_OPTIONS:-}"
npm run --silent check
npm run --silent build
bash scripts/migration-check.sh
npx jest --selectProjects unit --ci
npx jest --selectProjects e2e --ci --runInBand
