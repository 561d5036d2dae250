#!/usr/bin/env bash
# Runs every local image once, wired as a stack wires them, and checks from the host what the
# stack relies on: health endpoints, real reads and writes, backups by `docker exec`, routing
# through Traefik's docker provider. Ports are published on 127.0.0.1 only; every container,
# the network and the anonymous volumes are removed at exit, whatever happened.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/../tools/lib.sh"

declare -A REF
while read -r key ref; do REF[$key]="$ref"; done < <("$here/../tools/build-images.sh" --list)
for key in traefik mongo redis static translator gateway web gateway@unhealthy; do
  docker image inspect "${REF[$key]}" >/dev/null 2>&1 \
    || die "${REF[$key]} is not built (run tools/build-images.sh)"
done

prefix="meeshy-imgcheck-$$"
started=()
uploads="$(mktemp -d)"
cleanup() {
  ((${#started[@]})) && docker rm -f -v "${started[@]}" >/dev/null 2>&1
  docker network rm "$prefix" >/dev/null 2>&1
  rm -rf "$uploads"
}
trap cleanup EXIT
failures=0
check() {  # WHAT EXPECTED GOT
  if [[ "$2" == "$3" ]]; then log "ok   $1"; else log "FAIL $1: expected $2, got $3"; failures=$((failures + 1)); fi
}

docker network create "$prefix" >/dev/null
run() {  # ALIAS IMAGE [docker run options...] -- [args...]
  local alias="$1" image="$2"; shift 2
  local opts=() id
  while (($#)) && [[ "$1" != "--" ]]; do opts+=("$1"); shift; done
  (($#)) && shift
  id="$(docker run -d --name "$prefix-$alias" --network "$prefix" --network-alias "$alias" \
        "${opts[@]}" "$image" "$@")"
  started+=("$id")
}
host_port() { docker port "$prefix-$1" "$2" | sed -n 's/^127\.0\.0\.1://p' | head -n1; }
wait_healthy() {  # ALIAS: bounded by the image's own healthcheck retries, at most 90 s
  local state start=$SECONDS
  while ((SECONDS - start < 90)); do
    state="$(docker inspect --format '{{.State.Health.Status}}' "$prefix-$1")"
    [[ "$state" == healthy ]] && { log "$1 healthy after $((SECONDS - start))s"; return 0; }
    [[ "$(docker inspect --format '{{.State.Running}}' "$prefix-$1")" == true ]] || break
    sleep 1
  done
  docker logs --tail 30 "$prefix-$1" >&2
  die "$1 did not become healthy (state: ${state:-unknown})"
}
status() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" || true; }

# Database first: the services need it.
run database "${REF[mongo]}" -p 127.0.0.1::27017
wait_healthy database
db_port="$(host_port database 27017)"
ids="$("$MEESHY_VENV/bin/python" - "$db_port" <<'EOF'
import sys, datetime as dt
import pymongo
from bson import ObjectId
db = pymongo.MongoClient(f"mongodb://127.0.0.1:{sys.argv[1]}/meeshy",
                         serverSelectionTimeoutMS=5000).get_default_database()
conv, user = ObjectId(), ObjectId()
db.Conversation.insert_one({"_id": conv, "title": "check", "type": "group"})
db.Participant.insert_one({"conversationId": conv, "type": "user", "userId": user,
                           "displayName": "check", "isActive": True,
                           "permissions": {"canSendMessages": True}})
print(conv, user)
EOF
)"
read -r conv user <<<"$ids"
check "database: backup with mongodump by docker exec" 0 "$(docker exec "$prefix-database" \
  mongodump --quiet --uri mongodb://127.0.0.1:27017/meeshy --archive=/backup/check.archive; echo $?)"
check "database: restore with mongorestore into another database" 0 "$(docker exec "$prefix-database" \
  mongorestore --quiet --uri mongodb://127.0.0.1:27017 --archive=/backup/check.archive \
  --nsFrom 'meeshy.*' --nsTo 'restored.*'; echo $?)"

run redis "${REF[redis]}" -p 127.0.0.1::6379
run static "${REF[static]}" -p 127.0.0.1::80 -v "$uploads:/usr/share/nginx/html/uploads:ro"
printf 'attachment\n' >"$uploads/file.txt" && chmod -R a+rX "$uploads"
db_url="mongodb://database:27017/meeshy"
# The stand-in gateway, like the real one, is unhealthy without a JWT secret (a check-only value).
jwt="verify-only-jwt-secret-0123456789abcdef"
run translator "${REF[translator]}" -p 127.0.0.1::8000 -e DATABASE_URL="$db_url"
run gateway "${REF[gateway]}" -p 127.0.0.1::3000 -e DATABASE_URL="$db_url" -e JWT_SECRET="$jwt" \
  -e TRANSLATOR_URL=http://translator:8000 \
  --label traefik.enable=true --label 'traefik.http.routers.gw.rule=Host(`gate.rehearsal.test`)' \
  --label traefik.http.routers.gw.entrypoints=web \
  --label traefik.http.services.gw.loadbalancer.server.port=3000
run web "${REF[web]}" -p 127.0.0.1::3100 -e INTERNAL_BACKEND_URL=http://gateway:3000
run broken "${REF[gateway@unhealthy]}" -p 127.0.0.1::3000 -e DATABASE_URL="$db_url" -e JWT_SECRET="$jwt" \
  -e TRANSLATOR_URL=http://translator:8000
run traefik "${REF[traefik]}" -p 127.0.0.1::80 -v /var/run/docker.sock:/var/run/docker.sock:ro -- \
  --providers.docker=true --providers.docker.exposedbydefault=false \
  --providers.docker.network="$prefix" --entrypoints.web.address=:80 --ping=true
for alias in redis static translator gateway web traefik; do wait_healthy "$alias"; done

check "redis: PING from the host" "+PONG" "$("$MEESHY_VENV/bin/python" - "$(host_port redis 6379)" <<'EOF'
import socket, sys
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5) as s:
    s.sendall(b"PING\r\n"); print(s.recv(64).decode().strip())
EOF
)"
check "redis: append-only file on" "yes" "$(docker exec "$prefix-redis" redis-cli config get appendonly | tail -n1)"
sp="$(host_port static 80)"
check "static: GET /health" 200 "$(status "http://127.0.0.1:$sp/health")"
check "static: GET an upload" "attachment" "$(curl -s --max-time 5 "http://127.0.0.1:$sp/uploads/file.txt")"
check "static: PUT refused" 403 "$(status -X PUT --data x "http://127.0.0.1:$sp/uploads/file.txt")"
tp="$(host_port translator 8000)"
for path in /live /ready /health; do check "translator: GET $path" 200 "$(status "http://127.0.0.1:$tp$path")"; done
gp="$(host_port gateway 3000)"
check "gateway: GET /health" 200 "$(status "http://127.0.0.1:$gp/health")"
check "gateway: POST a message as a Participant" 201 "$(status -X POST -H 'Content-Type: application/json' \
  --data "{\"userId\":\"$user\",\"content\":\"hello from the check\"}" \
  "http://127.0.0.1:$gp/api/v1/conversations/$conv/messages")"
check "gateway: the message reads back" "hello from the check" "$(curl -s --max-time 5 \
  "http://127.0.0.1:$gp/api/v1/conversations/$conv/messages" | "$MEESHY_VENV/bin/python" -c \
  'import json,sys; print(json.load(sys.stdin)["data"][0]["content"])')"
check "web: GET /api/health through the gateway" 200 "$(status "http://127.0.0.1:$(host_port web 3100)/api/health")"
check "unhealthy gateway variant: GET /health" 503 "$(status "http://127.0.0.1:$(host_port broken 3000)/health")"
rp="$(host_port traefik 80)"
routed=000
for _ in $(seq 1 20); do   # the docker provider picks the router up within a few seconds
  routed="$(status -H 'Host: gate.rehearsal.test' "http://127.0.0.1:$rp/health")"
  [[ "$routed" == 200 ]] && break
  sleep 1
done
check "traefik: routes Host(gate.rehearsal.test) to the gateway" 200 "$routed"

# The probes the components put in each container's healthcheck, built by the same function
# (commands/services.py), run inside these images: a missing curl or wget shows up here.
for pair in gateway:gateway translator:translator web:web static:static; do
  probe="$(cd "$MEESHY_REPO_ROOT" && "$MEESHY_VENV/bin/python" -c \
    'import json, sys; from commands import services as commands; print(json.dumps(commands.service_probe(sys.argv[1])))' \
    "${pair#*:}")" || die "cannot build the components' probe for ${pair#*:}"
  mapfile -t argv < <("$MEESHY_VENV/bin/python" -c 'import json, sys; print("\n".join(json.loads(sys.argv[1])))' "$probe")
  check "${pair%%:*}: the components' probe (${argv[0]}) passes" 0 \
    "$(docker exec "$prefix-${pair%%:*}" "${argv[@]}" >/dev/null 2>&1; echo $?)"
done
check "database: the rehearsal healthcheck (mongo-ping) passes" 0 \
  "$(docker exec "$prefix-database" mongo-ping >/dev/null 2>&1; echo $?)"

# Stop times count in a switch's unavailability window: every process must honour SIGTERM
# (or its STOPSIGNAL) instead of waiting for the engine's SIGKILL.
for alias in gateway web translator static redis database traefik; do
  start=$(date +%s%N)
  docker stop -t 10 "$prefix-$alias" >/dev/null
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  check "$alias: stops in under 5 s (${ms} ms)" yes "$( ((ms < 5000)) && echo yes || echo no)"
done

((failures == 0)) || die "$failures image check(s) failed"
log "every image checked"
