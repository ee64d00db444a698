# A real systemd as PID 1 of new PID + mount + network namespaces, with amata's files made
# visible only inside. Sourced by the tests of this folder and of tests/package; needs root.
#
# SAFETY: the namespaces share the host's filesystems. Everything systemd, amatad or dpkg could
# write is private inside: a tmpfs (/run, /tmp, /var/tmp, /var/log and, unless the setup
# overlays it, /var/lib) or an overlay whose upper layer is on that tmpfs. The early units that
# touch shared state (tmpfiles would empty the host's /tmp, sysctl would set the host kernel's)
# are masked; only lab.target boots; the network is a namespace with only lo. The host's /usr,
# /etc and /var/lib are never written.

# lab_boot WORK SETUP: boots the lab (log in WORK/systemd.log) after running the shell file
# SETUP inside, between the private mounts and systemd (it puts amata's files in place); sets
# lab_pid, the host pid of its systemd. WORK must not be under /tmp, /var/tmp or /run (private
# inside). LAB_PRIVATE_VAR_LIB=0 leaves /var/lib to the setup (to overlay it).
lab_boot() {
  local work=$1 setup=$2 private="/run /tmp /var/tmp /var/log"
  [ "${LAB_PRIVATE_VAR_LIB:-1}" = 0 ] || private+=" /var/lib"
  cat > "$work/inner.sh" <<INNER
set -e
for d in $private; do mount -t tmpfs tmpfs \$d; done
mkdir -p /run/systemd/system
for u in systemd-tmpfiles-setup.service systemd-tmpfiles-setup-dev.service \\
         systemd-tmpfiles-clean.timer systemd-sysctl.service systemd-remount-fs.service \\
         systemd-modules-load.service systemd-sysusers.service systemd-journal-flush.service \\
         systemd-udevd.service systemd-udev-trigger.service systemd-random-seed.service \\
         systemd-update-utmp.service systemd-firstboot.service \\
         systemd-machine-id-commit.service getty.target console-getty.service; do
  ln -sf /dev/null /run/systemd/system/\$u
done
printf '[Unit]\nDescription=amata test lab\nAllowIsolate=yes\n' > /run/systemd/system/lab.target
. $setup
ip link set lo up
exec /lib/systemd/systemd --system --unit=lab.target --log-target=kmsg
INNER
  unshare --pid --fork --mount --propagation private --net --mount-proc \
    bash "$work/inner.sh" > "$work/systemd.log" 2>&1 < /dev/null &
  local unshare_pid=$! deadline=$((SECONDS + 30))
  lab_pid=""
  while ((SECONDS < deadline)); do
    # systemd is the one child of unshare (bash exec'd it).
    lab_pid=$(cat "/proc/$unshare_pid/task/$unshare_pid/children" 2>/dev/null | tr -d ' ')
    if [ -n "$lab_pid" ] && [ "$(cat "/proc/$lab_pid/comm" 2>/dev/null)" = systemd ]; then
      # Booted once it says so; "degraded" (a unit of the host's failed) is booted too.
      local state
      state=$(timeout 5 nsenter -t "$lab_pid" -m -p -n systemctl is-system-running --wait 2>&1)
      [[ $state == running || $state == degraded ]] && return 0
    fi
    sleep 0.1
  done
  echo "systemd did not boot in the lab:"
  cat "$work/systemd.log"
  return 1
}

# lab COMMAND...: runs COMMAND inside the lab, for at most a minute (the test, not ctest's
# timeout, must be the one to end, so that lab_stop runs).
lab() {
  timeout 60 nsenter -t "$lab_pid" -m -p -n "$@"
}

# lab_stop: systemd stops its units and exits; its namespaces, mounts and processes go with it.
lab_stop() {
  [ -n "${lab_pid:-}" ] || return 0
  lab systemctl exit > /dev/null 2>&1 || kill -TERM "$lab_pid" 2> /dev/null
  local i
  for i in $(seq 100); do
    [ -d "/proc/$lab_pid" ] || { lab_pid=""; return 0; }
    sleep 0.1
  done
  kill -KILL "$lab_pid" 2> /dev/null
  lab_pid=""
}

# prop NAME: a property of amatad.service in the lab (MainPID, ActiveState, NRestarts, ...).
prop() { lab systemctl show -P "$1" amatad.service; }
# running: amatad.service is active (running): for Type=notify, once amatad said READY=1.
running() { [ "$(prop ActiveState)/$(prop SubState)" = active/running ]; }
# wait_until SECONDS COMMAND...: true once COMMAND succeeds, false after SECONDS.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" > /dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}
