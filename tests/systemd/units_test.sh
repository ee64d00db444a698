#!/usr/bin/env bash
# Kind `unit` against a real systemd (lab.sh): boots the lab with dbus, writes test units into
# its /run/systemd/system, and runs probes_unit_test and unit_control_test inside it, where
# the system bus is the lab's. Covers: properties read at start, a SIGKILLed main process seen
# through PropertiesChanged (left active, result signal, restarted), a start limit hit,
# restart/stop/start/reload through the manager, a failing start, a missing unit, a job
# outliving the timeout, and a dbus restart (the probe reconnects and reads again).
# Needs root; skipped (exit 77) where systemd cannot boot in a namespace.
#   tests/systemd/units_test.sh BUILD_DIR [BENCH_RUNS]
# BENCH_RUNS (default 10): kills timed from kill(2) to the probe's changed(), p50/p99 printed.
set -uo pipefail
build=$(realpath "$1")
runs=${2:-10}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/systemd/lab.sh
source "$here/lab.sh"

if [ "$(id -u)" != 0 ] || [ ! -x /lib/systemd/systemd ]; then
  echo "SKIP: needs root and systemd"
  exit 77
fi
probe_test=$build/probes/probes_unit_test
control_test=$build/engine/unit_control_test
for t in "$probe_test" "$control_test"; do
  [ -x "$t" ] || { echo "FAIL: $t is not built"; exit 1; }
done
# Not under /tmp: the lab has its own.
work=$(mktemp -d "$build/units-lab.XXXXXX") || exit 1
cleanup() {
  lab_stop
  rm -rf "$work"
}
trap cleanup EXIT
failed=0
fail() { echo "FAIL $*"; failed=$((failed + 1)); }

printf ': nothing to add before systemd\n' > "$work/setup.sh"
if ! lab_boot "$work" "$work/setup.sh"; then
  echo "SKIP: systemd cannot boot in a namespace on this machine"
  exit 77
fi
lab systemctl start dbus.socket dbus.service || { echo "FAIL: dbus does not start in the lab"; exit 1; }

# The test units, inside (the lab's /run is its own tmpfs). DefaultDependencies=no: nothing
# but the unit itself starts, never sysinit.target and what hangs on it.
unit() {
  local name=$1
  shift
  printf '%s\n' "[Unit]" "DefaultDependencies=no" "$@" |
    lab sh -c "cat > /run/systemd/system/$name"
}
unit amata-sleep.service "StartLimitIntervalSec=0" "[Service]" "Type=simple" \
  "ExecStart=/bin/sleep infinity" "ExecReload=/bin/true" "Restart=on-failure" "RestartSec=200ms"
# Exits 0, not 1: systemd keeps a service's first failure as its Result, so one that exits 1
# and then hits the limit stays "exit-code"; after clean exits the limit's own result shows.
unit amata-limit.service "StartLimitIntervalSec=60" "StartLimitBurst=2" "[Service]" \
  "ExecStart=/bin/true" "Restart=always" "RestartSec=100ms"
unit amata-fail.service "[Service]" "Type=oneshot" "ExecStart=/bin/false"
unit amata-slow.service "[Service]" "Type=oneshot" "ExecStart=/bin/sleep 30" "TimeoutStartSec=60"
lab systemctl daemon-reload || fail "daemon-reload"

units=(AMATA_UNIT_SLEEP=amata-sleep.service AMATA_UNIT_LIMIT=amata-limit.service
       AMATA_UNIT_FAIL=amata-fail.service AMATA_UNIT_SLOW=amata-slow.service)
# Each binary must report every case passed and none skipped: a skip here means the lab's bus
# was not reachable, which is a failure of this test, not a reason to pass.
run_test() {
  local out
  out=$(lab env "${units[@]}" "$@" 2>&1)
  local rc=$?
  echo "$out" | grep -E '^\[ *(FAILED|SKIPPED|PASSED) *\]|^kill -> changed|Failure|error' || true
  ((rc == 0)) || { fail "$1 exited $rc"; echo "$out" | tail -40; return; }
  if echo "$out" | grep -q '^\[  SKIPPED \]'; then
    fail "$1 skipped cases inside the lab"
  fi
}
run_test "$control_test"
run_test "$probe_test" --gtest_filter=-*KillToChangedLatency*:*Reconnects*
# Last: it restarts dbus.
run_test env AMATA_TEST_DBUS_RESTART=1 "$probe_test" --gtest_filter=*Reconnects*
run_test env AMATA_UNIT_BENCH_RUNS="$runs" "$probe_test" --gtest_filter=*KillToChangedLatency*

# amatad end to end: a policy that restarts a failed unit. The unit is killed; systemd (which
# would not restart it: Restart=no) marks it failed; amatad sees that through D-Bus and asks
# systemd to restart it. The new main process is systemd's child, never amatad's.
unit amata-e2e.service "[Service]" "Type=simple" "ExecStart=/bin/sleep infinity" "Restart=no"
unit amata-e2e-limit.service "StartLimitIntervalSec=60" "StartLimitBurst=2" "[Service]" \
  "ExecStart=/bin/true" "Restart=always" "RestartSec=100ms"
lab systemctl daemon-reload || fail "daemon-reload"
lab systemctl start amata-e2e.service || fail "start amata-e2e"
cat > "$work/e2e.amata" <<'POLICY'
policy units_e2e
unit sleeper { unit "amata-e2e.service" }
discover unit_failed when sleeper.active_state == failed raise UnitFailed(sleeper)
recover UnitFailed(u) { restart u }
unit limited { unit "amata-e2e-limit.service" }
discover gave_up when limited.active_state == failed and limited.result == "start-limit-hit" raise UnitGaveUp(limited)
event UnitGaveUp(u: unit) notify_only
POLICY
mkdir -p "$work/state" "$work/hooks"
timeout 60 nsenter -t "$lab_pid" -m -p -n "$build/tools/amatad/amatad" --state-dir "$work/state" \
  --socket "$work/amatad.sock" --hooks "$work/hooks" "$work/e2e.amata" > "$work/amatad.log" 2>&1 &
amatad_pid=$!
ctl() { lab "$build/tools/amatactl/amatactl" --socket "$work/amatad.sock" "$@"; }
active() { [ "$(lab systemctl show -P ActiveState amata-e2e.service)" = active ]; }
main_pid() { lab systemctl show -P MainPID amata-e2e.service; }
if ! wait_until 20 ctl status sleeper; then
  fail "amatad did not come up"
  cat "$work/amatad.log"
else
  before=$(main_pid)
  lab systemctl kill -s KILL amata-e2e.service
  if wait_until 20 sh -c "[ \"\$(nsenter -t $lab_pid -m -p -n systemctl show -P MainPID amata-e2e.service)\" != $before ] && \
      [ \"\$(nsenter -t $lab_pid -m -p -n systemctl show -P MainPID amata-e2e.service)\" != 0 ]" && active; then
    after=$(main_pid)
    parent=$(lab ps -o ppid= -p "$after" | tr -d ' ')
    [ "$parent" = 1 ] || fail "the restarted unit's process is a child of $parent, not of systemd"
    events=$(ctl events 2>&1)
    echo "$events" | grep -q "UnitFailed" || fail "no UnitFailed event: $events"
    echo "$events" | grep -q "restart" || fail "no restart action: $events"
    echo "amatad: killed amata-e2e (pid $before), systemd left it failed, amatad had systemd restart it (pid $after)"
    # The operator's restart takes the same path: a job of systemd's, a new main process.
    out=$(ctl restart sleeper 2>&1) || fail "amatactl restart sleeper: $out"
    if wait_until 20 sh -c "[ \"\$(nsenter -t $lab_pid -m -p -n systemctl show -P MainPID amata-e2e.service)\" != $after ]" && active; then
      echo "amatactl restart sleeper: systemd restarted it (pid $(main_pid))"
    else
      fail "amatactl restart of a unit did not restart it: $out"
    fi
  else
    fail "amatad did not have systemd restart the failed unit"
    lab systemctl status amata-e2e.service --no-pager 2>&1 | tail -5
    cat "$work/amatad.log"
  fi
fi
# A unit systemd itself gives up on (its start limit) raises the event.
if ctl status limited > /dev/null 2>&1; then
  lab systemctl start amata-e2e-limit.service
  if wait_until 20 sh -c "'$build/tools/amatactl/amatactl' --socket '$work/amatad.sock' events 2>&1 | grep -q UnitGaveUp"; then
    echo "amatad: systemd gave up on amata-e2e-limit (start-limit-hit) and UnitGaveUp was raised"
  else
    fail "no UnitGaveUp after the start limit: $(ctl events 2>&1 | tail -5)"
    lab systemctl show -P Result amata-e2e-limit.service
  fi
fi
kill -TERM "$amatad_pid" 2> /dev/null
wait "$amatad_pid" 2> /dev/null

if ((failed)); then
  echo "--- systemd in the lab:"
  lab systemctl --no-pager list-units 'amata-*' 2>&1 | tail -10
  exit 1
fi
echo "systemd units: probe and control against a real systemd: all as expected"
