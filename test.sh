#!/usr/bin/env bash
# Sets up a machine from nothing, builds everything and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")"
./scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release
ctest --preset release
