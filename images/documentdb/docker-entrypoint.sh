#!/bin/bash
# The DocumentDB image's entrypoint: PostgreSQL on loopback inside the container, the DocumentDB
# gateway in front of it on the MongoDB port.
#   first start    initdb in $PGDATA, DocumentDB's settings, a self-signed certificate the
#                  gateway's release build requires even for plaintext (/data/configdb)
#   every start    CREATE EXTENSION documentdb CASCADE (once), the login role from
#                  DOCUMENTDB_USERNAME and DOCUMENTDB_PASSWORD (or DOCUMENTDB_PASSWORD_FILE) made or
#                  given that password, then the gateway; either process exiting stops both
# Nothing secret is baked into the image or written to a log: the password reaches psql through
# its environment (\getenv), never a command line.
set -euo pipefail

PG_PORT=9712                                   # loopback only: clients go through the gateway
GATEWAY_PORT="${DOCUMENTDB_PORT:-27017}"
CONFIG_DIR=/data/configdb

say() { printf '[documentdb] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

if [[ -n "${DOCUMENTDB_PASSWORD_FILE:-}" ]]; then
  [[ -r "$DOCUMENTDB_PASSWORD_FILE" ]] || die "DOCUMENTDB_PASSWORD_FILE=$DOCUMENTDB_PASSWORD_FILE is not readable"
  DOCUMENTDB_PASSWORD="$(<"$DOCUMENTDB_PASSWORD_FILE")"
fi
[[ -n "${DOCUMENTDB_USERNAME:-}" ]] || die "DOCUMENTDB_USERNAME is not set (the login clients use)"
[[ -n "${DOCUMENTDB_PASSWORD:-}" ]] || die "DOCUMENTDB_PASSWORD (or DOCUMENTDB_PASSWORD_FILE) is not set"
[[ "$DOCUMENTDB_USERNAME" =~ ^[A-Za-z][A-Za-z0-9_]{0,62}$ ]] \
  || die "DOCUMENTDB_USERNAME must be a letter then letters, digits or _ (at most 63)"
# The gateway refuses logins whose role name starts with one of these (BlockedRolePrefixes).
[[ "$DOCUMENTDB_USERNAME" =~ ^(documentdb|citus|pg|internal_role) ]] \
  && die "DOCUMENTDB_USERNAME may not start with documentdb, citus, pg or internal_role"
export DOCUMENTDB_PASSWORD

init_cluster() {
  say "first start: initdb in $PGDATA"
  mkdir -p "$PGDATA" && chmod 0700 "$PGDATA"
  # Trust on loopback and the socket only: PostgreSQL never listens outside the container, and
  # clients authenticate to the gateway (SCRAM-SHA-256 against the role's password).
  initdb -D "$PGDATA" --username=postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  cat >>"$PGDATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '/var/run/postgresql'
shared_preload_libraries = 'pg_cron, pg_documentdb_core, pg_documentdb'
cron.database_name = 'postgres'
cron.log_run = off
cron.log_statement = off
documentdb.enableBackgroundWorker = true
# createIndexes on a collection that exists waits for a pg_cron job building queued indexes;
# it runs every 2 s unless told otherwise, 1 s is the least it takes.
documentdb.indexBuildScheduleInSec = 1
documentdb.enableUserCrud = true
documentdb.enableLetAndCollationForQueryMatch = true
documentdb.enableNowSystemVariable = true
documentdb.enableSortbyIdPushDownToPrimaryKey = true
password_encryption = 'scram-sha-256'
CONF
}

make_certificate() {
  [[ -s "$CONFIG_DIR/gateway-key.pem" && -s "$CONFIG_DIR/gateway-cert.pem" ]] && return 0
  say "first start: a self-signed certificate for the gateway"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=localhost" \
    -keyout "$CONFIG_DIR/gateway-key.pem" -out "$CONFIG_DIR/gateway-cert.pem" 2>/dev/null
  chmod 0600 "$CONFIG_DIR/gateway-key.pem"
}

write_gateway_config() {
  cat >"$CONFIG_DIR/gateway.json" <<JSON
{
  "NodeHostName": "localhost",
  "BlockedRolePrefixes": ["documentdb", "citus", "pg", "internal_role"],
  "PostgresPort": $PG_PORT,
  "GatewayListenPort": $GATEWAY_PORT,
  "EnforceSslTcp": false,
  "UseLocalHost": false,
  "TransactionTimeoutSecs": 30,
  "CursorTimeoutSecs": 600,
  "CertificateOptions": {"CertType": "PemFile", "FilePath": "$CONFIG_DIR/gateway-cert.pem",
                         "KeyFilePath": "$CONFIG_DIR/gateway-key.pem"}
}
JSON
}

setup_sql() {
  psql -X -q -v ON_ERROR_STOP=1 -h /var/run/postgresql -p "$PG_PORT" -U postgres -d postgres <<'SQL'
CREATE EXTENSION IF NOT EXISTS documentdb CASCADE;
\getenv login DOCUMENTDB_USERNAME
\getenv secret DOCUMENTDB_PASSWORD
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'login') AS missing \gset
\if :missing
CREATE ROLE :"login" WITH LOGIN INHERIT CREATEROLE IN ROLE documentdb_admin_role;
GRANT :"login" TO postgres WITH ADMIN OPTION;
\endif
ALTER ROLE :"login" WITH LOGIN PASSWORD :'secret';
SQL
}

stop_all() {
  [[ -n "${gateway_pid:-}" ]] && kill -TERM "$gateway_pid" 2>/dev/null || true
  [[ -n "${postgres_pid:-}" ]] && kill -INT "$postgres_pid" 2>/dev/null || true   # fast shutdown
  wait 2>/dev/null || true
}
trap 'stop_all; exit 0' TERM INT

mkdir -p "$CONFIG_DIR"
[[ -s "$PGDATA/PG_VERSION" ]] || init_cluster
make_certificate
write_gateway_config
postgres -D "$PGDATA" &
postgres_pid=$!
for _ in $(seq 1 120); do
  pg_isready -q -h /var/run/postgresql -p "$PG_PORT" && break
  kill -0 "$postgres_pid" 2>/dev/null || die "PostgreSQL exited at start (its log is above)"
  sleep 0.5
done
pg_isready -q -h /var/run/postgresql -p "$PG_PORT" || die "PostgreSQL did not accept connections in 60s"
setup_sql || { stop_all; die "creating the extension or the login role failed (see above)"; }
say "PostgreSQL ready; gateway on port $GATEWAY_PORT for login '$DOCUMENTDB_USERNAME'"
pg_documentdb_gw "$CONFIG_DIR/gateway.json" &
gateway_pid=$!
set +e
wait -n "$postgres_pid" "$gateway_pid"
code=$?
say "a process exited (code $code); stopping"
stop_all
exit "$code"
