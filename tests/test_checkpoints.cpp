// Checkpoints in one process: barrier alignment on an InputGate, the coordinator's rules
// (timeouts, declines, subsumption, retention, subtasks that left), and whole checkpointed
// jobs on the LocalExecutor: checkpoints complete while the job runs, the job ends only
// after the checkpoint covering every subtask's end, and _metadata lists every snapshot.

#include <QTemporaryDir>
#include <QtTest>

#include "job_harness.h"

#include <fstream>
#include <thread>

#include "runtime/barriers.h"
#include "runtime/checkpoint_coordinator.h"
#include "runtime/local_executor.h"
#include "runtime/savepoint_check.h"

using namespace weir;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

RecordBatch rows(std::int64_t from, int n) {
  BatchBuilder b(makeSchema({{"v", Type::Int64}}));
  for (int i = 0; i < n; ++i) {
    b.column(0).appendInt64(from + i);
    b.endRow();
  }
  return b.finish();
}

std::int64_t firstValue(const StreamElement& e) { return std::get<RecordBatch>(e).column(0).int64(0); }

/// A plan of `nodes` for the coordinator (only ids, types and parallelism matter to it).
JobPlan planOf(std::vector<std::pair<std::string, int>> nodes) {
  JobPlan p;
  p.name = "t";
  for (auto& [id, par] : nodes) {
    PlanNode n;
    n.id = id;
    n.type = "map";
    n.parallelism = par;
    p.nodes.push_back(std::move(n));
  }
  return p;
}

SubtaskAck ackOf(std::int64_t id, const std::string& vertex, int subtask, bool finished = false) {
  SubtaskAck a;
  a.checkpointId = id;
  a.vertex = vertex;
  a.subtask = subtask;
  a.finished = finished;
  a.files.push_back({vertex, snapshotFileName(vertex, subtask), 10});
  a.stateBytes = 10;
  return a;
}

/// Writes the files an ack names, as a subtask would.
void writeAckFiles(const fs::path& jobDir, const SubtaskAck& a) {
  const auto dir = checkpointDir(jobDir, a.checkpointId);
  fs::create_directories(dir);
  for (const auto& f : a.files) std::ofstream(dir / f.file) << "0123456789";
}

}  // namespace

class TestCheckpoints : public QObject {
  Q_OBJECT

 private slots:
  /// exactly_once: after barrier 1 on channel 0, channel 0's later records wait until
  /// channel 1's barrier 1 arrived; the snapshot sees exactly the records before both.
  void alignedBarriersBlockTheFasterChannel() {
    InputGate gate(2, 8);
    BarrierAligner aligner(gate, true);
    gate.push(0, rows(0, 1));
    gate.push(0, CheckpointBarrier{1, 100});
    gate.push(0, rows(10, 1));  // after the barrier: must wait
    gate.push(1, rows(20, 1));
    gate.push(1, rows(21, 1));
    gate.push(1, CheckpointBarrier{1, 100});
    std::vector<std::int64_t> before;
    std::optional<CheckpointBarrier> done;
    while (!done) {
      auto n = gate.next(std::chrono::milliseconds(100));
      QVERIFY(n.has_value());
      if (auto* b = std::get_if<CheckpointBarrier>(&n->element)) done = aligner.onBarrier(n->channel, *b);
      else before.push_back(firstValue(n->element));
    }
    QCOMPARE(done->id, std::int64_t{1});
    std::sort(before.begin(), before.end());
    QCOMPARE(before, (std::vector<std::int64_t>{0, 20, 21}));
    auto after = gate.next(std::chrono::milliseconds(100));
    QVERIFY(after.has_value());
    QCOMPARE(firstValue(after->element), std::int64_t{10});
    QCOMPARE(aligner.aligning(), std::int64_t{-1});
  }

  /// at_least_once: nothing is blocked; the snapshot comes with the last barrier, after
  /// the record that followed the first one.
  void unalignedModeNeverBlocks() {
    InputGate gate(2, 8);
    BarrierAligner aligner(gate, false);
    gate.push(0, CheckpointBarrier{1, 100});
    gate.push(0, rows(10, 1));
    std::vector<std::int64_t> seen;
    for (int i = 0; i < 2; ++i) {
      auto n = gate.next(std::chrono::milliseconds(100));
      QVERIFY(n.has_value());
      if (auto* b = std::get_if<CheckpointBarrier>(&n->element)) QVERIFY(!aligner.onBarrier(n->channel, *b));
      else seen.push_back(firstValue(n->element));
    }
    QCOMPARE(seen, (std::vector<std::int64_t>{10}));
    gate.push(1, CheckpointBarrier{1, 100});
    auto n = gate.next(std::chrono::milliseconds(100));
    QVERIFY(aligner.onBarrier(n->channel, std::get<CheckpointBarrier>(n->element)).has_value());
  }

  /// A closed channel counts as aligned; a newer barrier abandons the older alignment; a
  /// stale barrier is dropped.
  void closedChannelsNewerAndStaleBarriers() {
    InputGate gate(3, 8);
    BarrierAligner aligner(gate, true);
    QVERIFY(!aligner.onBarrier(0, CheckpointBarrier{1, 0}));
    QVERIFY(gate.isBlocked(0));
    QVERIFY(!aligner.onBarrier(1, CheckpointBarrier{2, 0}));  // 2 overtakes 1
    QCOMPARE(aligner.aligning(), std::int64_t{2});
    QCOMPARE(aligner.takeAbandoned(), std::optional<std::int64_t>(1));  // declined once
    QVERIFY(!aligner.takeAbandoned());
    QVERIFY(!gate.isBlocked(0));
    QVERIFY(gate.isBlocked(1));
    QVERIFY(!aligner.onBarrier(0, CheckpointBarrier{1, 0}));  // stale
    QVERIFY(!gate.isBlocked(0));
    QVERIFY(!aligner.onBarrier(0, CheckpointBarrier{2, 0}));
    auto done = aligner.onClosed(2);
    QVERIFY(done.has_value());
    QCOMPARE(done->id, std::int64_t{2});
    QVERIFY(!gate.isBlocked(0) && !gate.isBlocked(1));
    // Channel 2 stays closed: checkpoint 3 needs channels 0 and 1 only.
    QVERIFY(!aligner.onBarrier(1, CheckpointBarrier{3, 0}));
    QVERIFY(aligner.onBarrier(0, CheckpointBarrier{3, 0}).has_value());
  }

  /// Interval, max concurrent, completion with _metadata, decline, timeout, subsumption
  /// and retention.
  void coordinatorRules() {
    QTemporaryDir tmp;
    const fs::path jobDir = tmp.path().toStdString();
    const JobPlan plan = planOf({{"src", 2}, {"sink", 1}});
    std::vector<CheckpointTask> tasks{{"src", 0, true}, {"src", 1, true}, {"sink", 0, false}};
    CheckpointSettings s;
    s.intervalMs = 100;
    s.timeoutMs = 1000;
    s.retained = 2;
    CheckpointCoordinator c(s, plan, tasks, jobDir, "job", 1, 1);
    std::vector<CheckpointCoordinator::Outcome> aborted;
    auto t1 = c.tick(0, aborted);
    QVERIFY(t1.has_value());
    QCOMPARE(t1->id, std::int64_t{1});
    QCOMPARE(t1->targets.size(), std::size_t{2});  // the sources
    QVERIFY(!c.tick(150, aborted));                 // max_concurrent 1
    for (auto a : {ackOf(1, "src", 0), ackOf(1, "src", 1)}) {
      writeAckFiles(jobDir, a);
      QVERIFY(!c.acknowledge(a, 10, aborted));
    }
    QVERIFY(!c.acknowledge(ackOf(1, "src", 0), 10, aborted));  // twice: ignored
    auto last = ackOf(1, "sink", 0);
    writeAckFiles(jobDir, last);
    auto done = c.acknowledge(last, 20, aborted);
    QVERIFY(done && done->completed);
    const CheckpointMetadata meta = readCheckpointMetadata(checkpointDir(jobDir, 1));
    QCOMPARE(meta.nodes.at("src").files, (std::vector<std::string>{"src.0.snap", "src.1.snap"}));
    QCOMPARE(meta.nodes.at("sink").files, (std::vector<std::string>{"sink.0.snap"}));
    QCOMPARE(meta.totalBytes, std::int64_t{30});
    QCOMPARE(*latestCompletedCheckpoint(jobDir), checkpointDir(jobDir, 1));

    auto t2 = c.tick(150, aborted);  // declined
    QVERIFY(t2.has_value());
    writeAckFiles(jobDir, ackOf(2, "src", 0));
    auto d = c.decline(2, "disk full", 160);
    QVERIFY(d && !d->completed);
    QVERIFY(!fs::exists(checkpointDir(jobDir, 2)));  // cleaned up
    QCOMPARE(c.numFailed(), 1);

    auto t3 = c.tick(300, aborted);  // times out
    QVERIFY(t3.has_value());
    QVERIFY(!c.tick(1299, aborted));
    QVERIFY(aborted.empty());
    auto t4 = c.tick(1300, aborted);  // the timeout frees the slot: 4 starts at once
    QCOMPARE(aborted.size(), std::size_t{1});
    QCOMPARE(aborted[0].id, std::int64_t{3});
    QVERIFY(QString::fromStdString(aborted[0].reason).contains("timed out"));
    QVERIFY(t4 && t4->id == 4);
    QVERIFY(c.decline(4, "no", 1400));

    // Three more complete: retention keeps the newest two.
    std::int64_t now = 2000;
    for (int k = 0; k < 3; ++k, now += 200) {
      aborted.clear();
      auto t = c.tick(now, aborted);
      QVERIFY(t.has_value());
      std::optional<CheckpointCoordinator::Outcome> o;
      for (const auto& task : tasks) {
        auto a = ackOf(t->id, task.vertex, task.subtask);
        writeAckFiles(jobDir, a);
        o = c.acknowledge(a, now + 1, aborted);
      }
      QVERIFY(o && o->completed);
    }
    QCOMPARE(c.latestCompleted(), std::int64_t{7});
    QVERIFY(!fs::exists(checkpointDir(jobDir, 1)));
    QVERIFY(!fs::exists(checkpointDir(jobDir, 5)));
    QVERIFY(fs::exists(checkpointDir(jobDir, 6) / "_metadata"));
    QVERIFY(fs::exists(checkpointDir(jobDir, 7) / "_metadata"));

    // A new coordinator (the next attempt) goes on numbering after them and counts them.
    CheckpointCoordinator next(s, plan, tasks, jobDir, "job", 2, 1);
    QCOMPARE(next.nextId(), std::int64_t{8});
    QCOMPARE(next.latestCompleted(), std::int64_t{7});
  }

  /// A newer checkpoint completing subsumes an older one still in progress; a subtask that
  /// left counts with its last snapshot, linked into the new checkpoint.
  void subsumptionAndSubtasksThatLeft() {
    QTemporaryDir tmp;
    const fs::path jobDir = tmp.path().toStdString();
    const JobPlan plan = planOf({{"src", 1}, {"sink", 1}});
    std::vector<CheckpointTask> tasks{{"src", 0, true}, {"sink", 0, false}};
    CheckpointSettings s;
    s.intervalMs = 10;
    s.maxConcurrent = 2;
    CheckpointCoordinator c(s, plan, tasks, jobDir, "job", 1, 1);
    std::vector<CheckpointCoordinator::Outcome> aborted;
    QVERIFY(c.tick(0, aborted));   // 1
    QVERIFY(c.tick(10, aborted));  // 2
    for (const auto& task : tasks) {
      auto a = ackOf(2, task.vertex, task.subtask, task.source);
      writeAckFiles(jobDir, a);
      c.acknowledge(a, 20, aborted);
    }
    QCOMPARE(c.latestCompleted(), std::int64_t{2});
    QCOMPARE(aborted.size(), std::size_t{1});
    QCOMPARE(aborted[0].id, std::int64_t{1});
    // The source finished at 2 and leaves; checkpoint 3 needs only the sink.
    QVERIFY(c.subtaskLeft("src", 0, 30).empty());
    auto t3 = c.tick(40, aborted);
    QVERIFY(t3.has_value());
    QVERIFY(t3->targets.empty());
    auto a = ackOf(3, "sink", 0);
    writeAckFiles(jobDir, a);
    auto o = c.acknowledge(a, 50, aborted);
    QVERIFY(o && o->completed);
    const CheckpointMetadata meta = readCheckpointMetadata(checkpointDir(jobDir, 3));
    QVERIFY(fs::exists(checkpointDir(jobDir, 3) / "src.0.snap"));
    QVERIFY(meta.isFinished("src", 0));
    QVERIFY(!meta.isFinished("sink", 0));
  }

  /// A savepoint completes into its own folder, is not the latest checkpoint (recovery
  /// uses checkpoints), is not subsumed by a newer checkpoint and escapes retention.
  void savepointsLiveApart() {
    QTemporaryDir tmp;
    const fs::path jobDir = fs::path(tmp.path().toStdString()) / "job";
    const fs::path spRoot = fs::path(tmp.path().toStdString()) / "savepoints";
    const JobPlan plan = planOf({{"src", 1}});
    std::vector<CheckpointTask> tasks{{"src", 0, true}};
    CheckpointSettings s;
    s.intervalMs = 10;
    s.maxConcurrent = 2;
    s.retained = 1;
    CheckpointCoordinator c(s, plan, tasks, jobDir, "job", 1, 1);
    std::vector<CheckpointCoordinator::Outcome> aborted;
    const auto sp = c.triggerSavepoint(0, spRoot);  // 1
    QCOMPARE(sp.targets.size(), std::size_t{1});
    auto t2 = c.tick(20, aborted);  // 2: the savepoint did not hold the interval back
    QVERIFY(t2 && t2->id == 2);
    auto a2 = ackOf(2, "src", 0);
    writeAckFiles(jobDir, a2);
    QVERIFY(c.acknowledge(a2, 30, aborted));
    QVERIFY(aborted.empty());  // 1 is a savepoint: not subsumed
    auto a1 = ackOf(1, "src", 0);
    writeAckFiles(jobDir, a1);
    auto done = c.acknowledge(a1, 40, aborted);
    QVERIFY(done && done->completed);
    QCOMPARE(c.latestCompleted(), std::int64_t{2});
    const fs::path spDir = spRoot / "savepoint-1";
    QVERIFY(fs::exists(spDir / "_metadata"));
    QVERIFY(fs::exists(spDir / "src.0.snap"));
    QVERIFY(!fs::exists(checkpointDir(jobDir, 1)));
    QCOMPARE(readCheckpointMetadata(spDir).kind, std::string("savepoint"));
    QCOMPARE(c.history()[0].path, spDir.string());
    // Retention (1) keeps checkpoint 3 only; the savepoint stays.
    auto t3 = c.tick(50, aborted);
    auto a3 = ackOf(t3->id, "src", 0);
    writeAckFiles(jobDir, a3);
    QVERIFY(c.acknowledge(a3, 60, aborted));
    QVERIFY(!fs::exists(checkpointDir(jobDir, 2)));
    QVERIFY(fs::exists(spDir / "_metadata"));
  }

  /// The node-by-node report of savepoint_check.h: restored, rescaled, no state, new,
  /// dropped (refused unless allowed) and changed (always refused).
  void savepointCheckNodeByNode() {
    auto node = [](const std::string& id, const std::string& type, int p, std::int64_t bytes, std::string key = "") {
      CheckpointMetadata::Node n;
      n.type = type;
      n.parallelism = p;
      n.stateBytes = bytes;
      n.key = std::move(key);
      return std::pair{id, n};
    };
    CheckpointMetadata meta;
    meta.nodes = {node("src", "map", 1, 40), node("f", "filter", 2, 0), node("w", "window", 2, 900, R"(["a"])"),
                  node("gone", "aggregate", 2, 300, R"(["a"])"), node("agg", "aggregate", 1, 50, R"(["a"])")};
    JobPlan plan = planOf({{"src", 1}, {"f", 3}, {"w", 4}, {"agg", 1}, {"fresh", 1}});
    plan.nodes[2].type = "window";
    plan.nodes[2].params = {{"key", {"a"}}};
    plan.nodes[3].type = "aggregate";
    plan.nodes[3].params = {{"key", {"b"}}};
    const SavepointReport r = checkSavepoint(plan, meta, false);
    QVERIFY(!r.restorable);
    QCOMPARE(QString::fromStdString(r.toString()),
             QString("src: restored (40 bytes of state)\n"
                     "f: no state\n"
                     "w: restored (900 bytes of state, parallelism 2 -> 4)\n"
                     "agg: changed (its key was [\"a\"], it is now [\"b\"]; give the node a new id to start it empty)\n"
                     "fresh: new (not in the savepoint: starts empty)\n"
                     "gone: dropped (not in the job: its 300 bytes of state would be lost; allow it with "
                     "--allow-non-restored-state)\n"));
    plan.nodes[3].params = {{"key", {"a"}}};
    QVERIFY(!checkSavepoint(plan, meta, false).restorable);  // still drops `gone`
    QVERIFY(checkSavepoint(plan, meta, true).restorable);
  }

  /// A checkpointed job on the LocalExecutor: checkpoints complete while it runs, every
  /// row arrives exactly once, and it ends only after the checkpoint that covers every
  /// subtask's end, which lists every node's snapshot and every subtask as finished.
  void checkpointedJobRunsToTheEnd_data() {
    QTest::addColumn<QString>("mode");
    QTest::newRow("exactly_once") << "exactly_once";
    QTest::newRow("at_least_once") << "at_least_once";
  }
  void checkpointedJobRunsToTheEnd() {
    QFETCH(QString, mode);
    QTemporaryDir tmp;
    const fs::path dir = tmp.path().toStdString();
    const std::string job = R"({"weir": 1, "name": "cp", "parallelism": 2, "nodes": [
      {"id": "bids", "type": "source.generator", "params": {"table": "bid", "events": 6000, "rate": 12000, "batch_size": 100}},
      {"id": "cheap", "type": "filter", "params": {"where": "price >= 0"}},
      {"id": "sink", "type": "test.collect", "parallelism": 1}],
      "edges": [{"from": "bids", "to": "cheap"}, {"from": "cheap", "to": "sink", "partition": "rebalance"}]})";
    auto plan = test::planText(job, dir);
    QVERIFY(plan.has_value());
    plan->checkpoint = {{"interval_ms", 50}, {"mode", mode.toStdString()}, {"timeout_ms", 10000},
                        {"min_pause_ms", 0}, {"max_concurrent", 1}, {"retained", 2}};
    test::Collected collected;
    const OperatorRegistry registry = test::harnessRegistry(collected);
    ExecutorOptions options;
    options.checkpointDir = dir / "checkpoints";
    LocalExecutor ex(std::move(*plan), options, registry);
    ex.start();
    ex.wait();
    QCOMPARE(std::string(jobStatusName(ex.status())), std::string("FINISHED"));
    QCOMPARE(collected.size(), std::size_t{6000});
    const auto history = ex.checkpoints();
    int completed = 0;
    for (const auto& r : history) completed += r.status == CheckpointStatus::Completed;
    QVERIFY2(completed >= 3, qPrintable(QString("only %1 checkpoints completed").arg(completed)));
    // The newest checkpoint covers every subtask's end.
    const auto latest = latestCompletedCheckpoint(dir / "checkpoints");
    QVERIFY(latest.has_value());
    const CheckpointMetadata meta = readCheckpointMetadata(*latest);
    QCOMPARE(meta.id, ex.latestCheckpoint());
    QCOMPARE(meta.nodes.at("bids").files.size(), std::size_t{2});
    for (const auto& [node, n] : meta.nodes)
      for (const auto& f : n.files) {
        QVERIFY2(!f.empty(), node.c_str());
        QVERIFY(fs::exists(*latest / f));
      }
    QCOMPARE(meta.finished.size(), std::size_t{3});  // bids->cheap x2, sink
    // Retention: at most two completed checkpoints on disk, none incomplete.
    int onDisk = 0;
    for (const auto& e : fs::directory_iterator(dir / "checkpoints")) {
      QVERIFY(fs::exists(e.path() / "_metadata"));
      ++onDisk;
    }
    QVERIFY(onDisk <= 2);
  }

  /// A run stopped hard after some checkpoints (canceled: nothing published after the
  /// last completed one), then a fresh executor restored from the latest checkpoint: the
  /// output file equals an uninterrupted run's, with a source that had finished before the
  /// checkpoint (it restarts finished and leaves) and keyed state in a join and a window.
  void restoreContinuesExactly() {
    QTemporaryDir tmp;
    const fs::path dir = tmp.path().toStdString();
    const std::string job = R"({"weir": 1, "name": "restore", "parallelism": 2, "nodes": [
      {"id": "bids", "type": "source.generator", "params": {"table": "bid", "events": 12000, "rate": 8000, "batch_size": 100}},
      {"id": "auctions", "type": "source.generator", "parallelism": 1, "params": {"table": "auction", "events": 300}},
      {"id": "joined", "type": "join", "params": {"left_key": ["auction"], "right_key": ["id"], "lower_ms": -600000, "upper_ms": 0}},
      {"id": "per_category", "type": "window", "params": {"key": ["category"],
         "window": {"type": "tumbling", "size_ms": 2000},
         "aggregates": [{"name": "n", "fn": "count"}, {"name": "total", "fn": "sum", "field": "price"}]}},
      {"id": "out", "type": "sink.file", "parallelism": 1, "params": {"path": "out/w.jsonl", "format": "jsonl"}}],
      "edges": [{"from": "bids", "to": "joined", "to_port": "left"}, {"from": "auctions", "to": "joined", "to_port": "right"},
                {"from": "joined", "to": "per_category"}, {"from": "per_category", "to": "out"}]})";
    const json checkpoint = {{"interval_ms", 100}, {"mode", "exactly_once"}, {"timeout_ms", 20000},
                             {"min_pause_ms", 0},  {"max_concurrent", 1},    {"retained", 2}};
    auto run = [&](const fs::path& base, std::shared_ptr<const RestoreSource> restore, bool crash) {
      fs::create_directories(base);
      auto plan = test::planText(job, base);
      if (!plan) return std::string("INVALID");
      plan->checkpoint = checkpoint;
      ExecutorOptions options;
      options.checkpointDir = dir / "checkpoints";
      options.restore = std::move(restore);
      LocalExecutor ex(std::move(*plan), options);
      ex.start();
      if (crash) {
        for (int i = 0; i < 6000 && ex.latestCheckpoint() < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        ex.cancel();
      }
      ex.wait();
      return std::string(jobStatusName(ex.status()));
    };
    QCOMPARE(run(dir / "reference", nullptr, false), std::string("FINISHED"));
    std::error_code ec;
    fs::remove_all(dir / "checkpoints", ec);
    QCOMPARE(run(dir / "run", nullptr, true), std::string("CANCELED"));
    const auto latest = latestCompletedCheckpoint(dir / "checkpoints");
    QVERIFY(latest.has_value());
    const CheckpointMetadata meta = readCheckpointMetadata(*latest);
    QVERIFY2(meta.isFinished("auctions", 0), "the small source had not finished at the checkpoint");
    auto restore = std::make_shared<RestoreSource>(RestoreSource{*latest, meta});
    QCOMPARE(run(dir / "run", restore, false), std::string("FINISHED"));
    const auto want = test::readLines(dir / "reference" / "out" / "w.jsonl");
    QVERIFY(want.size() > 10);
    auto got = test::readLines(dir / "run" / "out" / "w.jsonl");
    auto sorted = [](std::vector<std::string> v) {
      std::sort(v.begin(), v.end());
      return v;
    };
    QCOMPARE(sorted(got), sorted(want));
  }
};

QTEST_GUILESS_MAIN(TestCheckpoints)
#include "test_checkpoints.moc"
