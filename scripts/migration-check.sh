#!/usr/bin/env bash
# Fails when the entities describe a schema the migrations do not create: migrates a scratch
# database, then asks TypeORM to generate a migration; any generated change means one is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
db="broker_migration_check_$$"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/${db}"
cleanup() { psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS ${db}" >/dev/null 2>&1 || true; }
trap cleanup EXIT
node dist/apps/broker/src/database/migrate.js >/dev/null
out=$(npx typeorm migration:generate -d dist/apps/broker/src/database/data-source.js --dr --ch .tmp/PendingChange 2>&1 || true)
if echo "$out" | grep -q "No changes in database schema were found"; then
  echo "migration check: schema and migrations agree"
else
  echo "migration check: the entities need a migration the repository does not have:" >&2
  echo "$out" >&2
  exit 1
fi
