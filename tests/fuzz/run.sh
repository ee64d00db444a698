#!/usr/bin/env bash
# Runs every libFuzzer target for a bounded time (argument: seconds per target).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
targets=()
if ((${#targets[@]} == 0)); then echo "fuzz: no targets yet"; exit 0; fi
