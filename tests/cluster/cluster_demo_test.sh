#!/bin/bash
# tools/cluster-demo.sh as a user runs it: up brings three nodes to one copy of the demo
# service with the others on standby, status shows them, down leaves nothing behind.
#   cluster_demo_test.sh AMATAD AMATACTL        (needs root and corosync; exit 77 = skipped)
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 77; }
command -v corosync > /dev/null || { echo "no corosync"; exit 77; }
command -v python3 > /dev/null || { echo "no python3"; exit 77; }
export AMATAD=$1 AMATACTL=$2
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEMO=$ROOT/tools/cluster-demo.sh
TMP=$(mktemp -d /tmp/amata-demo-test-XXXXXX)
export AMATA_DEMO_DIR=$TMP/demo AMATA_DEMO_PREFIX=amdt$$
trap '"$DEMO" down > /dev/null 2>&1 || true; rm -rf "$TMP"' EXIT

"$DEMO" up
running() {  # the nodes whose amatad runs web
  for i in 1 2 3; do
    "$AMATACTL" --json --socket "$AMATA_DEMO_DIR/n$i/amatad.sock" status 2> /dev/null |
      python3 -c 'import json,sys; o={x["name"]:x for x in json.load(sys.stdin)["objects"]}; sys.exit(o["web"]["state"]!="running")' &&
      echo "n$i"
  done
}
for t in $(seq 1 150); do
  [ "$(running | wc -l)" = 1 ] && break
  [ "$t" = 150 ] && { echo "FAIL: not exactly one copy after 30 s: $(running)"; "$DEMO" status; exit 1; }
  sleep 0.2
done
out=$("$DEMO" status)
echo "$out"
[ "$(grep -c '^web  *service  *running' <<< "$out")" = 1 ] || { echo "FAIL: one running"; exit 1; }
[ "$(grep -c '^web  *service  *standby  ' <<< "$out")" = 2 ] || { echo "FAIL: two on standby"; exit 1; }

"$DEMO" down
for n in b n1 n2 n3; do
  [ ! -e "/run/netns/$AMATA_DEMO_PREFIX-$n" ] || { echo "FAIL: $AMATA_DEMO_PREFIX-$n left"; exit 1; }
done
[ ! -e "$AMATA_DEMO_DIR" ] || { echo "FAIL: $AMATA_DEMO_DIR left"; exit 1; }
echo "PASS"
