#!/usr/bin/env bash
# Recovery time of a restart from a checkpoint (docs/fault-tolerance.md): a JobManager and
# three TaskManagers (2 slots each) on loopback, an endless generator -> filter -> window
# (keyed, 10 s tumbling) -> discard job at p=2, checkpointed every second, restart
# fixed_delay 0 ms; one TaskManager of the job killed with SIGKILL after a few checkpoints.
# Prints how long from the kill until every subtask of attempt 2 runs (restored from the
# latest checkpoint), and until attempt 2's first records are reported (metrics come with
# the 1 s heartbeat, so that figure has 1 s resolution).
# Needs python3. Usage: bench/recovery-time.sh [BIN_DIR]   (default build/bin)
set -euo pipefail
bin=$(cd "${1:-$(dirname "$0")/../build/bin}" && pwd)
dir=$(mktemp -d); trap 'pkill -P $$ 2>/dev/null || true; rm -rf "$dir"' EXIT
cd "$dir"; mkdir a
rpc=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
api=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
cat > a/job.weir.json <<'EOF'
{"weir": 1, "name": "recovery-time",
 "checkpoint": {"interval_ms": 1000},
 "restart": {"strategy": "fixed_delay", "max_attempts": 3, "delay_ms": 0},
 "nodes": [{"id": "bids", "type": "source.generator", "parallelism": 2,
            "params": {"table": "bid", "events": 0, "rate": 20000, "seed": 7}},
           {"id": "pricey", "type": "filter", "parallelism": 2, "params": {"where": "price > 1000"}},
           {"id": "per_auction", "type": "window", "parallelism": 2, "params": {"key": ["auction"],
              "window": {"type": "tumbling", "size_ms": 10000},
              "aggregates": [{"name": "n", "fn": "count"}, {"name": "top", "fn": "max", "field": "price"}]}},
           {"id": "out", "type": "sink.discard", "parallelism": 2, "params": {}}],
 "edges": [{"from": "bids", "to": "pricey", "partition": "rebalance"},
           {"from": "pricey", "to": "per_auction"},
           {"from": "per_auction", "to": "out", "partition": "rebalance"}]}
EOF
"$bin/weir-jobmanager" --rpc-port "$rpc" --api-port "$api" --data-dir d > jm.log 2>&1 &
for i in 1 2 3; do
  "$bin/weir-taskmanager" --jobmanager "127.0.0.1:$rpc" --slots 2 --name "tm$i" > "tm$i.log" 2>&1 &
  echo $! > "tm$i.pid"
done
sleep 1.5
id=$("$bin/weir" submit a/job.weir.json --jobmanager "http://127.0.0.1:$api")
sleep 3
python3 - "$id" "$api" "$dir" <<'EOF'
import json, os, signal, sys, time, urllib.request
id, api, d = sys.argv[1], sys.argv[2], sys.argv[3]
url = f"http://127.0.0.1:{api}/v1/jobs/{id}"
get = lambda u: json.load(urllib.request.urlopen(u))
job = get(url)
victim = sorted({s["taskmanager"] for s in job["subtasks"]})[0]
t0 = time.time()
os.kill(int(open(f"{d}/{victim}.pid").read()), signal.SIGKILL)
while True:
    j = get(url)
    if j["attempt"] == 2 and j["status"] == "RUNNING" and all(s["state"] == "RUNNING" for s in j["subtasks"]):
        t1 = time.time(); break
    time.sleep(0.01)
while True:
    m = get(url + "/metrics")
    if m.get("attempt") == 2 and sum(n["records_out"] for n in m["nodes"] if n["id"] == "bids") > 0:
        t2 = time.time(); break
    time.sleep(0.02)
restored = get(url).get("restored_from")
print(f"kill -> attempt 2 running (restored from checkpoint {restored}): {1000*(t1-t0):.0f} ms; "
      f"kill -> its first records reported: {1000*(t2-t0):.0f} ms")
EOF
