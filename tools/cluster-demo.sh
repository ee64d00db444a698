#!/bin/bash
# A three-node amata cluster on one machine, for trying it out (docs/operations.md, "Trying it
# on one machine"). Needs root, corosync (3.x, knet), python3 and a built amatad.
#
#   tools/cluster-demo.sh up       # namespaces, corosync and amatad on n1, n2, n3
#   tools/cluster-demo.sh status   # amatactl status on every node
#   tools/cluster-demo.sh down     # stops everything it started, removes everything it made
#
# One network namespace per node ($PREFIX-n1..n3, eth0 = 10.250.0.i/24, a veth into a
# bridge that lives in its own namespace $PREFIX-b): nothing is added to the host's network
# namespace. Each node runs the corosync.conf of docs/operations.md (the block marked
# `<!-- corosync.conf: -->`, with the demo's addresses and key file) in a private mount
# namespace (corosync's pid file is hard-coded under /run), and amatad with a demo policy: a
# clustered web server (python3 -m http.server on port 8080) preferring n1, then n2, n3.
# Everything lives in $AMATA_DEMO_DIR; `down` kills only the processes it started (by the
# pids it recorded) and what runs in the namespaces it made.
#
# Environment: AMATA_DEMO_DIR (default /tmp/amata-demo), AMATA_DEMO_PREFIX (default amdemo),
# AMATAD and AMATACTL (default: build/dev's, else the ones on PATH).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${AMATA_DEMO_DIR:-/tmp/amata-demo}
PREFIX=${AMATA_DEMO_PREFIX:-amdemo}
N=3
MARKER=.amata-cluster-demo
AMATAD=${AMATAD:-$ROOT/build/dev/tools/amatad/amatad}
AMATACTL=${AMATACTL:-$ROOT/build/dev/tools/amatactl/amatactl}
[ -x "$AMATAD" ] || AMATAD=$(command -v amatad || true)
[ -x "$AMATACTL" ] || AMATACTL=$(command -v amatactl || true)

die() { echo "cluster-demo: $*" >&2; exit 1; }
ns() { echo "$PREFIX-n$1"; }

# The documented corosync.conf, for node $1 of this demo.
corosync_conf() {
  local d=$DIR/n$1
  awk '/^<!-- corosync.conf:/ { m = 1; next }
       m == 1 && /^```/ { m = 2; next }
       m == 2 && /^```/ { exit }
       m == 2 { print }' "$ROOT/docs/operations.md" |
    sed -e 's/ring0_addr: 10\.0\.0\./ring0_addr: 10.250.0./' \
        -e "s|keyfile: /etc/corosync/authkey|keyfile: $DIR/authkey|"
  printf 'logging {\n  to_stderr: no\n  to_logfile: yes\n  logfile: %s/corosync.log\n  to_syslog: no\n}\n' "$d"
  printf 'system {\n  state_dir: %s/lib\n}\n' "$d"
}

demo_policy() {
  cat <<'EOF'
policy cluster_demo
cluster demo { group "amata-demo"; on_quorum_loss stop }
peer n1 { node_id 1 }
peer n2 { node_id 2 }
peer n3 { node_id 3 }
service web {
  start "/usr/bin/python3" "-m" "http.server" "--bind" "0.0.0.0" "8080"
  stop TERM then KILL after 2s
  clustered
  prefer n1 n2 n3
}
discover lost(p: peer) when not p.member for 2s raise PeerLost(p)
event PeerLost(p: peer) notify_only
EOF
}

# Sends TERM to pid $1 if it is still the program named $2, then KILL after $3 tenths of a second.
stop_pid() {
  local pid=$1 comm=$2 tenths=$3 t
  [ -n "$pid" ] && [ -d "/proc/$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((t = 0; t < tenths; t++)); do [ -d "/proc/$pid" ] || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

up() {
  [ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
  for c in corosync corosync-keygen corosync-quorumtool ip unshare python3; do
    command -v "$c" >/dev/null || die "$c not found"
  done
  [ -x "$AMATAD" ] || die "no amatad (build it, or set AMATAD)"
  [ -e "$DIR" ] && die "$DIR exists: already up? ('$0 down' removes it)"
  mkdir -p "$DIR"
  touch "$DIR/$MARKER"
  # Any failure from here on undoes what was made.
  trap 'if [ $? != 0 ]; then echo "cluster-demo: up failed; cleaning up" >&2; down; fi' EXIT
  demo_policy > "$DIR/demo.amata"
  corosync-keygen -k "$DIR/authkey" >/dev/null

  echo "$PREFIX-b" >> "$DIR/netns"
  ip netns add "$PREFIX-b"
  ip -n "$PREFIX-b" link set lo up
  ip -n "$PREFIX-b" link add br0 type bridge
  ip -n "$PREFIX-b" link set br0 up
  for i in $(seq 1 $N); do
    ns "$i" >> "$DIR/netns"
    ip netns add "$(ns "$i")"
    ip -n "$(ns "$i")" link set lo up
    ip -n "$PREFIX-b" link add "cb$i" type veth peer name eth0 netns "$(ns "$i")"
    ip -n "$PREFIX-b" link set "cb$i" master br0
    ip -n "$PREFIX-b" link set "cb$i" up
    ip -n "$(ns "$i")" addr add "10.250.0.$i/24" dev eth0
    ip -n "$(ns "$i")" link set eth0 up
    mkdir -p "$DIR/n$i/run" "$DIR/n$i/lib" "$DIR/n$i/amatad"
    corosync_conf "$i" > "$DIR/n$i/corosync.conf"
    ip netns exec "$(ns "$i")" corosync -t -c "$DIR/n$i/corosync.conf" > /dev/null
  done
  # ip netns exec -> unshare -> sh -> exec corosync: $! is corosync's pid.
  for i in $(seq 1 $N); do
    nohup ip netns exec "$(ns "$i")" unshare -m --propagation private \
      sh -c "mount --bind $DIR/n$i/run /run && exec corosync -f -c $DIR/n$i/corosync.conf" \
      > "$DIR/n$i/corosync.stdout" 2>&1 < /dev/null &
    echo $! > "$DIR/n$i/corosync.pid"
  done
  echo "corosync started; waiting for quorum"
  for t in $(seq 1 100); do
    ip netns exec "$(ns 1)" corosync-quorumtool -s 2>/dev/null | grep -q 'Quorate: *Yes' && break
    [ "$t" = 100 ] && die "no quorum after 20 s; see $DIR/n*/corosync.log"
    sleep 0.2
  done
  for i in $(seq 1 $N); do
    nohup ip netns exec "$(ns "$i")" "$AMATAD" "$DIR/demo.amata" --state-dir "$DIR/n$i/amatad" \
      --socket "$DIR/n$i/amatad.sock" --hooks "$DIR/n$i/no-hooks" \
      > "$DIR/n$i/amatad.log" 2>&1 < /dev/null &
    echo $! > "$DIR/n$i/amatad.pid"
  done
  for i in $(seq 1 $N); do
    for t in $(seq 1 100); do
      [ -S "$DIR/n$i/amatad.sock" ] && break
      [ "$t" = 100 ] && die "amatad on n$i did not start; see $DIR/n$i/amatad.log"
      sleep 0.2
    done
  done
  trap - EXIT
  cat <<EOF
up: n1 n2 n3 (10.250.0.1-3), files in $DIR
  $0 status
  $AMATACTL --socket $DIR/n1/amatad.sock status
  ip netns exec $(ns 1) curl -s http://10.250.0.1:8080/ | head -3   # on the node that runs web
  $0 down
EOF
}

status() {
  [ -f "$DIR/$MARKER" ] || die "not up ($DIR)"
  for i in $(seq 1 $N); do
    echo "== n$i"
    "$AMATACTL" --no-color --socket "$DIR/n$i/amatad.sock" status || true
  done
}

down() {
  [ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
  if [ ! -e "$DIR" ]; then echo "not up ($DIR)"; return 0; fi
  [ -f "$DIR/$MARKER" ] || die "$DIR was not made by this script; not touching it"
  # amatad first: on TERM it stops the service it runs.
  for i in $(seq 1 $N); do stop_pid "$(cat "$DIR/n$i/amatad.pid" 2>/dev/null)" amatad 100; done
  # Whatever still runs in the demo's namespaces was started there by this demo.
  if [ -f "$DIR/netns" ]; then
    while read -r n; do
      case "$n" in "$PREFIX"-*) ;; *) continue ;; esac
      [ -e "/run/netns/$n" ] || continue
      for p in $(ip netns pids "$n" 2>/dev/null); do
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = corosync ] || kill -KILL "$p" 2>/dev/null || true
      done
    done < "$DIR/netns"
  fi
  local pids=()
  for i in $(seq 1 $N); do
    p=$(cat "$DIR/n$i/corosync.pid" 2>/dev/null || true)
    [ -n "$p" ] && pids+=("$p")
    stop_pid "$p" corosync 50
  done
  if [ -f "$DIR/netns" ]; then
    while read -r n; do
      case "$n" in "$PREFIX"-*) ip netns del "$n" 2>/dev/null || true ;; esac
    done < "$DIR/netns"
  fi
  # A corosync that had to be killed leaves its libqb ring buffers, named after its pid.
  for p in "${pids[@]}"; do
    [ -d "/proc/$p" ] && continue
    rm -rf /dev/shm/qb-"$p"-* /dev/shm/qb-corosync-"$p"-*
  done
  rm -rf -- "$DIR"
  echo "down: removed $PREFIX-* and $DIR"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|status|down" >&2; exit 2 ;;
esac
