#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine: install what amata needs, build, then run.
#   tools/setup.sh demo    build, then run amatad in the foreground on dsl-examples/demo.amata
#   tools/setup.sh package the Debian package, in build/package (tools/package/build.sh)
#   tools/setup.sh test    the format check, the dev build, clang-tidy on what changed since
#                          the last clean mark, the whole test suite (ctest) with the package
#                          and the fuzzers building beside it, the package's tests, the fuzzers
#   tools/setup.sh asan    the test suite under ASan + UBSan
#   tools/setup.sh build   install and build only
# Idempotent and quiet when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-build}

# What building amatad, amatac and amatactl needs (the dev preset builds the unit tests and
# benchmarks too, hence GoogleTest and Google Benchmark), and what the demo runs.
build_packages=(
  g++ cmake ninja-build pkg-config
  tao-pegtl-dev llvm-19-dev libzstd-dev nlohmann-json3-dev libcli11-dev libfmt-dev libspdlog-dev
  libsqlite3-dev libcurl4-openssl-dev libsystemd-dev libcpp-httplib-dev libre2-dev libssl-dev
  libnl-3-dev libnl-route-3-dev libnl-genl-3-dev libnl-idiag-3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcpg-dev libquorum-dev libvotequorum-dev libcorosync-common-dev libcmap-dev
  git python3 procps
  # the man pages (tools/man) are Markdown made into roff
  pandoc
)
# What building the Debian package needs beyond that (debian/control's Build-Depends are the
# build's own packages).
package_packages=(build-essential debhelper dpkg-dev)
# What only the tests, the checks and the benchmarks need: the fuzzers' and the checks'
# toolchain, and the programs they drive for real. Installing some of these (corosync,
# monit, supervisor, prometheus) enables their services on a machine with systemd, which is
# why the demo does not.
test_packages=(
  clang-14 libclang-rt-14-dev clang-format clang-tidy
  man-db bash-completion lintian corosync iproute2 sqlite3 monitoring-plugins-basic monitoring-plugins-standard
  stress-ng monit supervisor
  # TLS certificates for the https health check's test
  openssl
  # the editors' syntax files are tested in a real Vim, the language server in Neovim's client
  vim neovim
  # plots of bench/compare (run with /usr/bin/python3: Debian's matplotlib)
  python3-matplotlib
  # promtool, the strict checker of the /metrics exposition in engine/metrics/metrics_test
  prometheus
  # the Alertmanager the alert channel is delivered to in tests/integration/notify_test
  prometheus-alertmanager
  # smartctl, which the disk probe runs (its tests run it on this machine's disk)
  smartmontools
  # the systemd lab of tests/systemd: a real systemd as PID 1 of namespaces, with dbus for
  # the unit probe and UnitControl
  systemd dbus
  # the web view's browser test and screenshots (tests/web, tools/web-screenshots.py): headless Chromium
  chromium chromium-driver python3-selenium
)
packages=("${build_packages[@]}")
case "$mode" in
  package) packages+=("${package_packages[@]}") ;;
  test) packages+=("${package_packages[@]}" "${test_packages[@]}") ;;
  asan) packages+=("${test_packages[@]}") ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

jobs=$(nproc)
build() {
  local preset=$1
  [ -f "build/$preset/CMakeCache.txt" ] || cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
}

case "$mode" in
  build) build dev ;;
  demo)
    # The optimised build, as the package ships it: what the demo shows is what users run.
    build release
    state=${AMATA_STATE_DIR:-/tmp/amata-demo}
    mkdir -p "$state"
    cat <<HINT
amatad runs dsl-examples/demo.amata in the foreground (Ctrl-C stops it and its service).
In another terminal:
  build/release/tools/amatactl/amatactl --socket $state/amatad.sock status
  kill -9 \$(pgrep -f "http.server 8765")   # and watch amatad restart it
HINT
    exec build/release/tools/amatad/amatad dsl-examples/demo.amata --state-dir "$state" \
      --socket "$state/amatad.sock" --hooks "${AMATA_HOOKS_DIR:-$state/hooks}" ;;
  package) tools/package/build.sh ;;
  test)
    # Each stage says how long it took: CI has a time budget, and this is where it goes.
    timed() {
      local start=$SECONDS
      "$@"
      echo "setup: $* took $((SECONDS - start)) s"
    }
    timed tools/checks/format.sh
    timed build dev
    timed tools/checks/tidy.sh build/dev --since "$(cat tools/checks/tidy-clean)"
    # The package the package_ tests install (without its -dbgsym: xz over the debug
    # information would take minutes, and no test reads it) and the fuzzers build in the
    # background at the lowest priority while the suite runs: its tests mostly wait (for
    # services, timers, namespaces), and the two compiles take the CPU they leave instead of
    # adding their own minutes to the run.
    mkdir -p build
    (
      start=$SECONDS
      DEB_BUILD_OPTIONS="noddebs ${DEB_BUILD_OPTIONS:-}" nice -n 19 tools/package/build.sh
      [ -f build/fuzz/CMakeCache.txt ] || cmake --preset fuzz >/dev/null
      nice -n 19 cmake --build --preset fuzz --target fuzzers -j "$jobs" >/dev/null
      echo "setup: the package and the fuzzers built in the background in $((SECONDS - start)) s"
    ) > build/background-builds.log 2>&1 &
    background=$!
    timed ctest --preset dev -j "$jobs" -E '^package_'
    if ! wait "$background"; then
      tail -40 build/background-builds.log
      echo "setup: building the package or the fuzzers failed (build/background-builds.log)" >&2
      exit 1
    fi
    tail -1 build/background-builds.log
    timed ctest --preset dev -R '^package_'
    # The corpora in the tree carry what earlier runs found; `tests/fuzz/run.sh --long` is the
    # bar before a release.
    timed tests/fuzz/run.sh --no-build "${AMATA_FUZZ_SECONDS:-10}" ;;
  asan)
    build asan
    ctest --preset asan -j "$jobs" ;;
  *) echo "usage: tools/setup.sh build|demo|package|test|asan" >&2; exit 2 ;;
esac
