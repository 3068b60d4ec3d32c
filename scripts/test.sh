#!/usr/bin/env bash
# The one test command (README and CI): build, check that the schema and the OpenAPI document have
# not drifted, then run the unit and e2e suites against the real Postgres and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_OPTIONS="--experimental-vm-modules --disable-warning=ExperimentalWarning ${NODE_OPTIONS:-}"
npm run --silent build
bash scripts/migration-check.sh
npx jest --selectProjects unit --ci
npx jest --selectProjects e2e --ci --runInBand
