#!/usr/bin/env bash
# amatad.service as installed, under a real systemd (lab.sh): Type=notify reaches running with
# amatad's STATUS line; `systemctl reload` takes a good policy and keeps the old one over a
# broken one, whose diagnostic journald has at priority err; kill -9 of amatad (the file
# still broken: it runs the last policy that loaded) and a watchdog timeout (SIGSTOP) each end
# in a restart by systemd that adopts the service, never doubles it; `systemctl restart` hands the services to the next amatad, untouched; `systemctl stop`
# stops them, dependants first. Needs root; skipped (exit 77) where systemd cannot boot in a
# namespace, never passed silently.
#   tests/systemd/unit_test.sh BUILD_DIR       the files `cmake --install` of BUILD_DIR puts
#   tests/systemd/unit_test.sh PACKAGE.deb     the files of the package (dpkg-deb -x)
set -uo pipefail
from=$(realpath "$1")
build=$from
[[ $from == *.deb ]] && build=$(dirname "$from")
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/systemd/lab.sh
source "$here/lab.sh"

if [ "$(id -u)" != 0 ] || [ ! -x /lib/systemd/systemd ]; then
  echo "SKIP: needs root and systemd"
  exit 77
fi
# Not under /tmp: the lab has its own.
work=$(mktemp -d "$build/systemd-lab.XXXXXX") || exit 1
cleanup() {
  lab_stop
  rm -rf "$work"
}
trap cleanup EXIT
root=$work/root
failed=0
fail() { echo "FAIL $*"; failed=$((failed + 1)); }

if [[ $from == *.deb ]]; then
  dpkg-deb -x "$from" "$root" || { echo "FAIL dpkg-deb -x $from"; exit 1; }
else
  DESTDIR=$root cmake --install "$build" > "$work/install.log" 2>&1 || { cat "$work/install.log"; exit 1; }
fi
unit=$(find "$root" -path '*/systemd/system/amatad.service' | head -1)
[ -n "$unit" ] || { echo "FAIL no amatad.service installed"; exit 1; }
amatactl=$(find "$root" -path '*/bin/amatactl' | head -1)
# A service that records its pid (the lab's pid namespace) and, when stopped, the time.
service() {
  local name=$1 extra=${2:-}
  cat <<POLICY
service $name {
  start "/bin/sh" "-c" "echo \$\$ > $work/$name.pid; sleep 1001 & trap 'kill \$!; date +%s%N > $work/$name.stopped; exit 0' TERM; wait"
  stop TERM then KILL after 2s
  $extra
}
POLICY
}
rules='discover down(s: service) when not s.alive raise ServiceDown(s)
recover ServiceDown(s) { restart s }'
{ echo "policy lab"; service db; service web "depends db"; echo "$rules"; } \
  > "$root/etc/amata/policy.amata"

# The installed files among the system's, read-only; /etc/amata itself read-write (the test
# changes the policy).
cat > "$work/setup.sh" <<SETUP
mount -t overlay overlay -o lowerdir=$root/usr/sbin:/usr/sbin /usr/sbin
mount -t overlay overlay -o lowerdir=$root/etc:/etc /etc
mount --bind $root/etc/amata /etc/amata
cp $unit /run/systemd/system/amatad.service
SETUP
if ! lab_boot "$work" "$work/setup.sh"; then
  echo "SKIP: systemd cannot boot in a namespace on this machine"
  exit 77
fi
lab systemctl start systemd-journald.socket systemd-journald.service

# signal_main SIG: signals amatad's main process; never pid 0 (that would be our own group).
signal_main() {
  local main
  main=$(prop MainPID)
  if [ -z "$main" ] || [ "$main" = 0 ]; then
    fail "amatad has no main process to send SIG$1 to ($(prop ActiveState)/$(prop SubState))"
    return 1
  fi
  lab kill "-$1" "$main"
}
alive() { lab kill -0 "$1"; }
copies() { lab pgrep -c -x -f "sleep 1001"; }
pid_of() { cat "$work/$1.pid" 2> /dev/null; }

# Type=notify: active only once amatad has said READY=1; its STATUS= line in systemctl status.
lab systemctl start amatad.service || fail "systemctl start amatad failed"
running || fail "amatad is $(prop ActiveState)/$(prop SubState) after start, want active/running"
wait_until 10 test -s "$work/web.pid" || fail "web was not started"
wait_until 10 sh -c "nsenter -t $lab_pid -m -p -n systemctl status amatad.service | grep -q 'Status: \"2/2 services running'" ||
  fail "systemctl status shows no STATUS line: $(lab systemctl status amatad.service | head -5)"
db=$(pid_of db) web=$(pid_of web)

# The services share amatad.service's cpu cgroup (CPUWeight= has systemd enable the cpu
# controller there), where --priority-boost orders them behind amatad; in the root group
# each would be an autogroup of its own (every service leads its own session).
cpu_group() {  # the cpu controller's cgroup of pid $1 (cgroup v1's cpu line, else v2's)
  local groups
  groups=$(lab cat "/proc/$1/cgroup")
  grep -E '^[0-9]+:([^:]*,)?cpu(,[^:]*)?:' <<< "$groups" | cut -d: -f3 ||
    grep '^0::' <<< "$groups" | cut -d: -f3
}
amatad_group=$(cpu_group "$(prop MainPID)")
[[ $amatad_group == */amatad.service ]] ||
  fail "amatad is in cpu cgroup '$amatad_group', want amatad.service's"
[ "$(cpu_group "$db")" = "$amatad_group" ] ||
  fail "db is in cpu cgroup '$(cpu_group "$db")', want amatad's ($amatad_group)"
if ! lab grep -q ':cpu' "/proc/$db/cgroup"; then  # cgroup v2: is the controller on there?
  lab grep -qw cpu "/sys/fs/cgroup${amatad_group%/*}/cgroup.subtree_control" ||
    fail "the cpu controller is off for amatad.service"
fi

# Reload, good: a third service appears and the first two are untouched.
{ echo "policy lab"; service db; service web "depends db"; service cache; echo "$rules"; } \
  > "$root/etc/amata/policy.amata"
lab systemctl reload amatad.service || fail "systemctl reload (good policy) failed"
wait_until 10 test -s "$work/cache.pid" || fail "the reloaded policy's new service did not start"
[ "$(pid_of web)" = "$web" ] || fail "a reload restarted web"
# Reload, broken: the old policy stays, the diagnostic is in the journal at priority err.
echo "service broken { start }" >> "$root/etc/amata/policy.amata"
lab systemctl reload amatad.service
wait_until 10 sh -c "nsenter -t $lab_pid -m -p -n journalctl -u amatad -p err --no-pager | grep -q 'E0'" ||
  fail "no diagnostic at priority err: $(lab journalctl -u amatad --no-pager | tail -5)"
running || fail "amatad is not running after a broken reload"
cache=$(pid_of cache)

# kill -9 of amatad: systemd restarts it, it adopts the three services, starts none again;
# the policy file is still the broken one, so it runs the last policy that loaded.
signal_main KILL
wait_until 10 sh -c "[ \"\$(nsenter -t $lab_pid -m -p -n systemctl show -P NRestarts amatad.service)\" = 1 ]" ||
  fail "systemd did not restart amatad after kill -9 (NRestarts=$(prop NRestarts))"
wait_until 10 running || fail "amatad did not come back after kill -9"
sleep 1
for name in db web cache; do
  pid=${!name}
  [ "$(pid_of "$name")" = "$pid" ] && alive "$pid" || fail "$name was not adopted after kill -9 (pid $pid -> $(pid_of "$name"))"
done
[ "$(copies)" = 3 ] || fail "$(copies) copies of the services after kill -9, want 3"
lab journalctl -u amatad --no-pager | grep -c 'running the last policy that loaded' > /dev/null ||
  fail "amatad did not say it runs the last policy that loaded"
# The operator fixes the file (a reload, or the next start, reads it).
{ echo "policy lab"; service db; service web "depends db"; service cache; echo "$rules"; } \
  > "$root/etc/amata/policy.amata"

# SIGSTOP: the watchdog fires (WatchdogSec), systemd restarts amatad, which adopts again.
signal_main STOP
wait_until 40 sh -c "[ \"\$(nsenter -t $lab_pid -m -p -n systemctl show -P NRestarts amatad.service)\" = 2 ]" ||
  fail "the watchdog did not restart a stopped amatad (NRestarts=$(prop NRestarts))"
wait_until 10 running || fail "amatad did not come back after the watchdog"
sleep 1
[ "$(copies)" = 3 ] || fail "$(copies) copies of the services after the watchdog, want 3"
[ "$(pid_of web)" = "$web" ] || fail "web was started again after the watchdog"

# systemctl restart: a new amatad, to which the old one handed the services over; none of
# them is stopped or started again.
main=$(prop MainPID)
lab systemctl restart amatad.service || fail "systemctl restart amatad failed"
wait_until 10 running || fail "amatad is $(prop ActiveState)/$(prop SubState) after systemctl restart"
[ "$(prop MainPID)" != "$main" ] || fail "systemctl restart left the same amatad ($main)"
sleep 1
for name in db web cache; do
  pid=${!name}
  [ "$(pid_of "$name")" = "$pid" ] && alive "$pid" ||
    fail "systemctl restart restarted $name (pid $pid -> $(pid_of "$name"))"
done
[ "$(copies)" = 3 ] || fail "$(copies) copies of the services after systemctl restart, want 3"
# (grep -q would end the pipe early: under pipefail, journalctl's SIGPIPE fails it.)
lab journalctl -u amatad --no-pager | grep -c 'systemctl restart: handing the services over' > /dev/null ||
  fail "amatad did not say it handed its services over for the restart"

# Stop: every service stopped, web (which depends on db) before db.
lab systemctl stop amatad.service
for name in db web cache; do
  [ -s "$work/$name.stopped" ] || fail "$name was not stopped by systemctl stop"
done
[ "$(copies)" = 0 ] || fail "$(copies) services still running after systemctl stop"
if [ -s "$work/web.stopped" ] && [ -s "$work/db.stopped" ] &&
   (($(cat "$work/web.stopped") > $(cat "$work/db.stopped"))); then
  fail "db was stopped before web, which depends on it"
fi

if ((failed)); then
  echo "--- journal of amatad:"
  lab journalctl -u amatad --no-pager | tail -40
  exit 1
fi
echo "systemd: start, status, reload, kill -9, watchdog, restart, stop: all as expected"
