#!/usr/bin/env bash
# Sets up a machine from nothing, builds everything, then shows Weir working:
#   with a display: opens the workbench on a sample job;
#   without one:    runs that sample job with `weir run` and says where its output is.
# Usage: ./run.sh [JOB]   (default samples/bid-stats.weir.json)
set -euo pipefail
cd "$(dirname "$0")"
job="${1:-samples/bid-stats.weir.json}"
./scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release

if [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" && -x build/bin/weir-workbench ]]; then
  exec build/bin/weir-workbench "$job"
fi

echo "No display found: running $job with the command-line runner instead."
build/bin/weir run "$job" --parallelism 2
