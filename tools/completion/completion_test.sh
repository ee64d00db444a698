#!/usr/bin/env bash
# The bash completions, driven as bash-completion drives them (COMP_WORDS, COMP_CWORD, the
# function), against a real amatad for the names of objects and rules, and held to the tools:
# every command of amatactl's and amatac's --help-all is offered.
#   tools/completion/completion_test.sh COMPLETION_DIR AMATAC AMATACTL AMATAD
set -uo pipefail
export LC_ALL=C  # one sort order for the expectations
dir=$1 amatac=$2 amatactl=$3 amatad=$4
tmp=$(mktemp -d)
daemon=0
cleanup() {
  if ((daemon > 0)); then
    kill -TERM "$daemon" 2>/dev/null
    wait "$daemon" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
# The completions call the tools by name, as an installed system would.
mkdir "$tmp/bin"
ln -s "$(realpath "$amatac")" "$(realpath "$amatactl")" "$(realpath "$amatad")" "$tmp/bin/"
export PATH=$tmp/bin:$PATH

# shellcheck disable=SC1091
source /usr/share/bash-completion/bash_completion
for tool in amatac amatactl amatad; do
  # shellcheck disable=SC1090
  source "$dir/$tool"
done

failed=0
# offered WORD...: what completing the last word offers, sorted, on one line.
offered() {
  COMP_WORDS=("$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMP_LINE="${COMP_WORDS[*]}"
  COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  "_$1" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
  printf '%s\n' "${COMPREPLY[@]}" | sort | paste -sd ' '
}
expect() {
  local want=$1
  shift
  local got
  got=$(offered "$@")
  if [ "$got" != "$want" ]; then
    echo "FAIL '$*': offered '$got', want '$want'"
    failed=$((failed + 1))
  fi
}

cat > "$tmp/completion.amata" <<'POLICY'
policy completion
node self { every 1s }
service web { start "/bin/sleep" "1000" }
discover down(s: service) when not s.alive raise ServiceDown(s)
discover busy when self.load1 > 1000 raise Busy(self)
event Busy(n: node) notify_only
recover ServiceDown(s) { restart s }
POLICY
"$amatad" "$tmp/completion.amata" --state-dir "$tmp/state" --socket "$tmp/sock" \
  --hooks "$tmp/hooks" --log-level warn 2> "$tmp/amatad.log" &
daemon=$!
for _ in $(seq 100); do
  amatactl --socket "$tmp/sock" version > /dev/null 2>&1 && break
  sleep 0.1
done

expect "reload restart" amatactl re
expect "self web" amatactl --socket "$tmp/sock" restart ""
expect "web" amatactl --socket "$tmp/sock" stop w
expect "down down[web]" amatactl --socket "$tmp/sock" explain do
expect "self web" amatactl --socket="$tmp/sock" events --object ""
expect "--cluster --event --follow --help --help-all --json --limit --no-color --object --since --socket --version" \
  amatactl events --
expect "--help --help-all --json --no-color --socket --timeout --version --wait" amatactl restart --
expect "--wait" amatactl stop --w
expect "" amatactl restart --timeout ""
expect "web" amatactl --socket "$tmp/sock" restart --wait --timeout 30 w
expect "--help --help-all --json --no-color --socket --version" amatactl monitor --
expect "maintenance" amatactl mai
expect "self web" amatactl --socket "$tmp/sock" maintenance ""
expect "--end --for --help --help-all --json --no-color --node --reason --socket --version" \
  amatactl maintenance web --
expect "1d 1h" amatactl maintenance web --for 1
expect "" amatactl maintenance web --for 1h --reason ""
expect "" amatactl --socket "$tmp/sock" maintenance web --for 1h ""
expect "objects rules" amatactl names ""
expect "self web" amatactl --socket "$tmp/sock" status self ""
expect "json text" amatac check --format ""
expect "test" amatac te
expect "--emit-llvm" amatac build --e
expect "--check" amatac fmt --c
expect "monit" amatac import mo
expect "--output" amatac import monit --o
expect "interp" amatac eval p.amata --backend i
expect "warn" amatad --log-level w
expect "--leave-running --log-level" amatad --l

# Nothing the tools offer is missing from their completion.
for tool in amatactl amatac; do
  mapfile -t commands < <("$tool" --help-all | sed -n '/^Subcommands:/,$p' | grep -E '^[a-z]+$')
  all=" $(offered "$tool" "") "
  for c in "${commands[@]}"; do
    [[ $all == *" $c "* ]] || { echo "FAIL $tool's completion does not offer $c"; failed=$((failed + 1)); }
  done
done
mapfile -t options < <("$amatad" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u)
all=" $(offered amatad --) "
for o in "${options[@]}"; do
  [[ $all == *" $o "* ]] || { echo "FAIL amatad's completion does not offer $o"; failed=$((failed + 1)); }
done

if ((failed)); then
  echo "amatad's log:"
  cat "$tmp/amatad.log"
  exit 1
fi
echo "completion: all offered as expected"
