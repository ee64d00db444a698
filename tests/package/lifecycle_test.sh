#!/usr/bin/env bash
# The package's life under a real systemd, with dpkg, in a lab (tests/systemd/lab.sh) whose
# /usr, /etc, /var/lib and /var/cache are overlays on a private tmpfs: dpkg installs there,
# never on the host. Install enables and starts amatad (Type=notify: active once ready), the
# man page and the bash completion work, a reload starts the policy's services; an upgrade
# keeps the operator's policy and hands amatad over: a new amatad, the same services, none
# stopped or doubled; remove stops the services and keeps the policy and the state; purge
# removes both. Needs root; skipped (exit 77) where systemd cannot boot in a namespace.
#   tests/package/lifecycle_test.sh PACKAGE.deb
set -uo pipefail
deb=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/systemd/lab.sh
source "$here/../systemd/lab.sh"

if [ "$(id -u)" != 0 ] || [ ! -x /lib/systemd/systemd ]; then
  echo "SKIP: needs root and systemd"
  exit 77
fi
# dpkg writes /lib/systemd/system; the lab overlays /usr, so /lib must be a link into it (a
# merged /usr, as on every Debian 12), or dpkg in the lab would write the host's /lib.
for d in /lib /bin /sbin; do
  if [ ! -L "$d" ]; then
    echo "SKIP: $d is not a link into /usr (no merged /usr): the lab would not hide it"
    exit 77
  fi
done
# Not under /tmp: the lab has its own.
work=$(mktemp -d "$(dirname "$deb")/package-lab.XXXXXX") || exit 1
cleanup() {
  lab_stop
  rm -rf "$work"
}
trap cleanup EXIT
failed=0
fail() { echo "FAIL $*"; failed=$((failed + 1)); }

# The upgrade: the same files under the next version, as a new build would be to dpkg.
version=$(dpkg-deb -f "$deb" Version)
dpkg-deb -R "$deb" "$work/next" || exit 1
sed -i "s/^Version: .*/Version: $version+1/" "$work/next/DEBIAN/control"
dpkg-deb -b "$work/next" "$work/next.deb" > /dev/null || exit 1

# Writable overlays over the system's directories, their upper layers on the lab's tmpfs.
# policy-rc.d (a container image's "start nothing") would keep dpkg from starting amatad.
cat > "$work/setup.sh" <<'SETUP'
for d in /usr /etc /var/lib /var/cache; do
  layer=/run/lab-overlay$d
  mkdir -p "$layer/upper" "$layer/work"
  mount -t overlay overlay -o "lowerdir=$d,upperdir=$layer/upper,workdir=$layer/work" "$d"
done
rm -f /usr/sbin/policy-rc.d
SETUP
if ! LAB_PRIVATE_VAR_LIB=0 lab_boot "$work" "$work/setup.sh"; then
  echo "SKIP: systemd cannot boot in a namespace on this machine"
  exit 77
fi
lab systemctl start systemd-journald.socket systemd-journald.service

copies() { lab pgrep -c -x -f "sleep 1002"; }
pid_of() { cat "$work/$1.pid" 2> /dev/null; }
in_lab() { lab sh -c "$1"; }

# Install: dpkg enables and starts amatad; the default policy watches the node, starts nothing.
lab dpkg -i "$deb" > "$work/install.log" 2>&1 || fail "dpkg -i: $(tail -5 "$work/install.log")"
[ "$(lab systemctl is-enabled amatad.service)" = enabled ] || fail "amatad is not enabled"
wait_until 10 running || fail "amatad is $(prop ActiveState)/$(prop SubState) after install"
lab amatactl status > "$work/status" 2>&1 || fail "amatactl status: $(cat "$work/status")"
# (grep -c, not -q: under pipefail, an early end of the pipe would fail it.)
MANWIDTH=80 lab man amatad 2> /dev/null | grep -c 'amatad - keep' > /dev/null ||
  fail "man amatad shows no page"
MANWIDTH=80 lab man 5 amata.policy 2> /dev/null | grep -c 'amata.policy - ' > /dev/null ||
  fail "man 5 amata.policy shows no page"

# The operator's policy: two services; a reload starts them.
cat > "$work/policy.amata" <<POLICY
policy packaged
service db { start "/bin/sh" "-c" "echo \$\$ > $work/db.pid; exec sleep 1002" }
service web {
  start "/bin/sh" "-c" "echo \$\$ > $work/web.pid; exec sleep 1002"
  depends db
}
discover down(s: service) when not s.alive raise ServiceDown(s)
recover ServiceDown(s) { restart s }
POLICY
in_lab "cp $work/policy.amata /etc/amata/policy.amata"
lab systemctl reload amatad.service || fail "systemctl reload failed"
wait_until 10 test -s "$work/web.pid" || fail "the operator's policy did not start web"
wait_until 10 sh -c "[ \"\$(nsenter -t $lab_pid -m -p -n pgrep -c -x -f 'sleep 1002')\" = 2 ]" ||
  fail "$(copies) services running after the reload, want 2"
db=$(pid_of db) web=$(pid_of web)

# Tab completion from the package's file, with names from the packaged, running amatad.
completion=$(lab bash -c "
  source /usr/share/bash-completion/bash_completion
  source /usr/share/bash-completion/completions/amatactl
  COMP_WORDS=(amatactl restart ''); COMP_CWORD=2; COMP_LINE='amatactl restart '
  COMP_POINT=\${#COMP_LINE}; _amatactl amatactl '' restart
  printf '%s\n' \"\${COMPREPLY[@]}\" | sort | paste -sd ' '")
[ "$completion" = "db web" ] || fail "amatactl restart <TAB> offers '$completion', want 'db web'"

# Upgrade: the operator's policy stays; amatad is handed over, the services are not touched.
main=$(prop MainPID)
lab dpkg -i "$work/next.deb" > "$work/upgrade.log" 2>&1 ||
  fail "dpkg -i (upgrade): $(tail -5 "$work/upgrade.log")"
cmp -s "$work/policy.amata" <(in_lab "cat /etc/amata/policy.amata") ||
  fail "the upgrade replaced the operator's /etc/amata/policy.amata"
wait_until 15 sh -c "m=\$(nsenter -t $lab_pid -m -p -n systemctl show -P MainPID amatad.service);
                      [ \"\$m\" != 0 ] && [ \"\$m\" != $main ]" ||
  fail "amatad was not restarted by the upgrade (MainPID $main -> $(prop MainPID))"
wait_until 10 running || fail "amatad is $(prop ActiveState)/$(prop SubState) after the upgrade"
sleep 1
[ "$(pid_of db)/$(pid_of web)" = "$db/$web" ] ||
  fail "the upgrade restarted services (db $db -> $(pid_of db), web $web -> $(pid_of web))"
lab kill -0 "$db" && lab kill -0 "$web" || fail "a service died in the upgrade"
[ "$(copies)" = 2 ] || fail "$(copies) copies of the services after the upgrade, want 2"
lab journalctl -u amatad --no-pager | grep -c 'adopted web' > /dev/null ||
  fail "the new amatad did not say it adopted the services"

# Remove: amatad stops and stops its services; the policy (a conffile) and the state stay.
lab dpkg -r amata > "$work/remove.log" 2>&1 || fail "dpkg -r: $(tail -5 "$work/remove.log")"
[ "$(copies)" = 0 ] || fail "$(copies) services still running after dpkg -r"
in_lab "test -f /etc/amata/policy.amata" || fail "dpkg -r removed the policy"
in_lab "test -f /var/lib/amata/events.db" || fail "dpkg -r removed amatad's state"
in_lab "test -e /usr/sbin/amatad" && fail "dpkg -r left /usr/sbin/amatad"

# Purge: the policy and the state go too.
lab dpkg -P amata > "$work/purge.log" 2>&1 || fail "dpkg -P: $(tail -5 "$work/purge.log")"
in_lab "test -e /etc/amata" && fail "dpkg -P left /etc/amata"
in_lab "test -e /var/lib/amata" && fail "dpkg -P left /var/lib/amata"

if ((failed)); then
  echo "--- journal of amatad:"
  lab journalctl -u amatad --no-pager | tail -40
  exit 1
fi
echo "package $version: install, man, completion, reload, upgrade (handover), remove, purge"
