#!/usr/bin/env bash
# A Docker host that is not this machine's engine, reached only over SSH, for the tests of
# `meeshy:dockerHost: ssh://...`:
#   tools/test-host.sh up     start it (idempotent); prints MEESHY_TEST_DOCKER_HOST=ssh://... and
#                             MEESHY_TEST_SSH_KEY=... (and MEESHY_TEST_SSH_KNOWN_HOSTS=...)
#   tools/test-host.sh down   remove everything it made (processes, namespace, user, data)
#   tools/test-host.sh env    print the three lines again (exit 1 when it is not up)
# The host is a network namespace joined to this machine by a veth pair on the /30 below (the
# only addresses it ever uses), with a mount namespace of its own: a private /run (so its engine
# socket is /var/run/docker.sock, as on a real server, and no other engine's containerd is seen)
# and a private /srv (the server's disk: backups written there are not on this machine's /srv).
# In it: a dockerd with its own data root, exec root, pid file and socket, and an sshd (key
# authentication only, a host key pinned in a known_hosts file, one non-root user in the
# `docker` group). The stack's local images are loaded onto it, since nothing can be pulled.
#   MEESHY_TEST_HOST_DIR   where its state lives (default /var/lib/meeshy-test-host; not under
#                          /root, which the ssh user could not read)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
# ip, useradd, sshd and iptables live in the sbin directories, which a caller's PATH may lack.
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

state="${MEESHY_TEST_HOST_DIR:-/var/lib/meeshy-test-host}"
netns=meeshy-testhost
veth_host=mth0
veth_ns=mth1
addr_host=169.254.213.1
addr_ns=169.254.213.2
user=meeshy-ops
# A second login whose docker CLI finds no engine: "no Docker on the remote", for the tests.
user_without_docker=meeshy-nodocker
wait_seconds="${MEESHY_TEST_HOST_WAIT:-60}"
log_file="$MEESHY_LOGS/test-host.log"

print_env() {
  echo "MEESHY_TEST_DOCKER_HOST=ssh://$user@$addr_ns"
  echo "MEESHY_TEST_SSH_KEY=$state/client_key"
  echo "MEESHY_TEST_SSH_KNOWN_HOSTS=$state/known_hosts"
  echo "MEESHY_TEST_NO_DOCKER_HOST=ssh://$user_without_docker@$addr_ns"
}

ssh_opts=(-i "$state/client_key" -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=5
          -o "UserKnownHostsFile=$state/known_hosts" -o StrictHostKeyChecking=yes)
remote() { ssh "${ssh_opts[@]}" "$user@$addr_ns" "$@"; }

install_debian_packages() {
  local missing=()
  command -v sshd >/dev/null || [[ -x /usr/sbin/sshd ]] || missing+=(openssh-server)
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v iptables >/dev/null || missing+=(iptables)
  command -v nsenter >/dev/null || missing+=(util-linux)
  ((${#missing[@]})) || return 0
  log "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >>"$log_file" 2>&1 || die "apt-get update failed (see $log_file)"
  apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}" \
    >>"$log_file" 2>&1 || die "apt-get install ${missing[*]} failed (see $log_file)"
}

make_keys_and_user() {
  mkdir -p "$state/home" "$state/srv" "$state/docker" "$state/authorized_keys"
  chmod 755 "$state" "$state/authorized_keys"
  [[ -f "$state/ssh_host_ed25519_key" ]] \
    || ssh-keygen -q -t ed25519 -N '' -C meeshy-test-host -f "$state/ssh_host_ed25519_key"
  [[ -f "$state/client_key" ]] || ssh-keygen -q -t ed25519 -N '' -C meeshy-test -f "$state/client_key"
  echo "$addr_ns $(cut -d' ' -f1,2 "$state/ssh_host_ed25519_key.pub")" >"$state/known_hosts"
  getent group docker >/dev/null || groupadd --system docker
  id "$user" >/dev/null 2>&1 \
    || useradd --system --home-dir "$state/home" --shell /bin/sh --groups docker "$user"
  id "$user_without_docker" >/dev/null 2>&1 \
    || useradd --system --home-dir "$state/home" --shell /bin/sh "$user_without_docker"
  # No password, yet not locked: sshd refuses a locked account's key.
  usermod -p '*' "$user" && usermod -p '*' "$user_without_docker"
  chown "$user" "$state/home"
  install -m 644 "$state/client_key.pub" "$state/authorized_keys/$user"
  install -m 644 "$state/client_key.pub" "$state/authorized_keys/$user_without_docker"
  cat >"$state/sshd_config" <<EOF
ListenAddress $addr_ns
Port 22
HostKey $state/ssh_host_ed25519_key
PidFile /run/sshd.pid
AuthorizedKeysFile $state/authorized_keys/%u
AuthenticationMethods publickey
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AllowUsers $user $user_without_docker
UsePAM no
X11Forwarding no
AllowAgentForwarding no
AllowTcpForwarding no
PrintMotd no
Match User $user_without_docker
  SetEnv DOCKER_HOST=unix:///run/no-engine.sock
EOF
}

make_network() {
  ip netns add "$netns"
  ip link add "$veth_host" type veth peer name "$veth_ns"
  ip link set "$veth_ns" netns "$netns"
  ip addr add "$addr_host/30" dev "$veth_host"
  ip link set "$veth_host" up
  ip -n "$netns" addr add "$addr_ns/30" dev "$veth_ns"
  ip -n "$netns" link set "$veth_ns" up
  ip -n "$netns" link set lo up
}

# Runs inside both namespaces (see `up`): private mounts, then dockerd and sshd, until killed.
inside() {
  mount -t tmpfs -o mode=755 meeshy-test-host-run /run
  mkdir -p /run/sshd && chmod 755 /run/sshd
  mount --bind "$state/srv" /srv
  dockerd --data-root "$state/docker" --exec-root /run/docker --pidfile /run/docker.pid \
    -H unix:///run/docker.sock --cgroup-parent /meeshy-test-host --group docker \
    >>"$state/dockerd.log" 2>&1 </dev/null &
  echo $! >"$state/dockerd.pid"
  /usr/sbin/sshd -D -f "$state/sshd_config" -E "$state/sshd.log" </dev/null &
  echo $! >"$state/sshd.pid"
  wait
}

is_up() {
  [[ -f "$state/known_hosts" && -e "/run/netns/$netns" ]] \
    && timeout 20 ssh "${ssh_opts[@]}" "$user@$addr_ns" docker info --format '{{.ServerVersion}}' \
       >/dev/null 2>&1
}

load_images() {
  local refs listed
  listed="$(docker image ls --format '{{.Repository}}:{{.Tag}}' 'meeshy-local/*')" \
    || die "this machine's engine does not answer; its meeshy-local/* images are what the test host runs"
  mapfile -t refs < <(grep -v '<none>' <<<"$listed" | grep . | sort)
  ((${#refs[@]})) || die "no meeshy-local/* image on this engine: tools/bootstrap.sh test builds them"
  local have missing=()
  have="$(remote docker image ls --format '{{.Repository}}:{{.Tag}}@{{.ID}}' || true)"
  for ref in "${refs[@]}"; do
    grep -qx "$ref@$(docker image inspect --format '{{.Id}}' "$ref" | cut -c8-19)" <<<"$have" \
      || missing+=("$ref")
  done
  ((${#missing[@]})) || { log "the ${#refs[@]} local images are already on the test host"; return 0; }
  log "loading ${#missing[@]} images onto the test host"
  docker save "${missing[@]}" | remote docker load >>"$log_file" 2>&1 \
    || die "docker load on the test host failed (see $log_file)"
}

# A container on the remote engine publishes a port; it must answer at the namespace's address.
check_published_port() {
  local tools name=meeshy-test-host-probe port
  tools="$(remote docker image ls --format '{{.Repository}}:{{.Tag}}' 'meeshy-local/*tools')"
  tools="${tools%%$'\n'*}"
  [[ -n "$tools" ]] || die "no meeshy-local tools image on the test host to probe a published port with"
  remote docker rm -f "$name" >/dev/null 2>&1 || true
  remote docker run -d --name "$name" -p "$addr_ns::8000" "$tools" \
    python -m http.server 8000 >>"$log_file" 2>&1 || die "cannot run a container on the test host"
  port="$(remote docker port "$name" 8000/tcp)"
  port="${port%%$'\n'*}" && port="${port##*:}"
  for _ in $(seq 1 40); do
    if python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" \
         "http://$addr_ns:$port/" 2>/dev/null; then
      remote docker rm -f "$name" >/dev/null
      log "a published port of the test host answers at $addr_ns:$port"
      return 0
    fi
    sleep 0.5
  done
  remote docker rm -f "$name" >/dev/null 2>&1 || true
  die "a container's published port on the test host does not answer at $addr_ns:$port"
}

up() {
  [[ "$(id -u)" == 0 ]] || die "only root can make namespaces and start dockerd"
  if is_up; then
    log "test host already up"
  else
    down quiet
    install_debian_packages
    make_keys_and_user
    make_network
    log "starting dockerd and sshd in namespace $netns (logs: $state/*.log)"
    setsid nsenter --net="/run/netns/$netns" unshare --mount --propagation private \
      "$here/test-host.sh" _inside </dev/null >>"$log_file" 2>&1 &
    echo $! >"$state/holder.pid"
    local waited
    for ((waited = 0; waited < wait_seconds; waited++)); do
      is_up && break
      kill -0 "$(cat "$state/holder.pid")" 2>/dev/null \
        || die "the test host stopped while starting; see $state/dockerd.log and $log_file"
      sleep 1
    done
    is_up || die "the test host did not answer over ssh within ${wait_seconds}s (see $state/*.log)"
    log "test host answering after ${waited}s"
  fi
  load_images
  check_published_port
  print_env
}

stop_pid() {  # FILE: the process whose pid it holds, SIGTERM then SIGKILL after 20 s
  local pid
  [[ -f "$1" ]] || return 0
  pid="$(cat "$1")"
  kill "$pid" 2>/dev/null || { rm -f "$1"; return 0; }
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$1"
}

down() {
  [[ "$(id -u)" == 0 ]] || die "only root can remove the namespace"
  if is_up; then  # containers first, so no shim outlives its engine
    remote 'ids=$(docker ps -aq); [ -z "$ids" ] || docker rm -f $ids >/dev/null' || true
  fi
  stop_pid "$state/sshd.pid"
  stop_pid "$state/dockerd.pid"
  stop_pid "$state/holder.pid"
  # Containers' processes die with the namespace's dockerd/containerd; any straggler still in
  # the namespace is ended by pid, never by name.
  if [[ -e "/run/netns/$netns" ]]; then
    for pid in $(ip netns pids "$netns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns delete "$netns"
  fi
  ip link delete "$veth_host" 2>/dev/null || true
  for login in "$user" "$user_without_docker"; do
    if id "$login" >/dev/null 2>&1; then userdel "$login"; fi
  done
  rm -rf "$state"
  [[ "${1:-}" == quiet ]] || log "test host removed"
}

case "${1:-}" in
  up) up;;
  down) down;;
  env) is_up && print_env;;
  _inside) inside;;
  *) die "usage: tools/test-host.sh up|down|env";;
esac
