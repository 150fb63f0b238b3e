#!/usr/bin/env bash
# Regenerates the pictures in docs/images from the real workbench, rendered offscreen (no
# display needed). The running-job pictures start the embedded local cluster (real
# weir-jobmanager and weir-taskmanager processes) and are taken a few seconds into the run.
#
#   scripts/screenshots.sh            # after ./test.sh or a build into build/
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/bin/weir-workbench
export QT_QPA_PLATFORM=offscreen

shot() {  # FILE ARGS...
  local out=$1; shift
  "$bin" "$@" --screenshot "$out"
  echo "wrote $out"
}

shot docs/images/workbench.png samples/bid-stats.weir.json --select euros
# A running job: the slow sink is busy, the map before it and the source are backpressured.
shot docs/images/workbench-running.png samples/backpressure-demo.weir.json --select euros --run \
  --screenshot-delay 9000
# The data preview of an edge (the job run here on the first records, nothing written).
shot docs/images/workbench-preview.png samples/bid-stats.weir.json --select 'pricey>euros' --preview \
  --screenshot-delay 2500
# A failed job: bid-stats with on_bad_record "fail" stops at the CSV's first malformed row;
# the source turns red with its exception (its input copied to a scratch folder).
failed=$(mktemp -d)
trap 'rm -rf "$failed"' EXIT
mkdir -p "$failed/data"
cp samples/data/bids.csv "$failed/data/"
sed 's/"mode": "streaming",/"mode": "streaming", "on_bad_record": "fail",/' samples/bid-stats.weir.json \
  > "$failed/bid-stats.weir.json"
shot docs/images/workbench-failed.png "$failed/bid-stats.weir.json" --run --screenshot-delay 7000
# A running checkpointed job: backpressure-demo at a pace its slow sink keeps up with,
# checkpointed every second; the Checkpoints tab under the graph and each card's part of the
# latest checkpoint.
sed -e 's/"parallelism": 2,/"parallelism": 2,\n  "checkpoint": {"interval_ms": 1000},/' -e 's/"rate": 60000/"rate": 20000/' \
  samples/backpressure-demo.weir.json > "$failed/checkpointed.weir.json"
shot docs/images/workbench-checkpoints.png "$failed/checkpointed.weir.json" --run --tab checkpoints \
  --screenshot-delay 12000
