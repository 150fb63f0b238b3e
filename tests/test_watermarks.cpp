// Watermarks from sources and from the `watermark` operator: bounded out-of-orderness,
// monotonicity per channel, idleness (with a fake clock, and in a running job where one
// source partition never produces).
//
//   unit:      WatermarkGenerator <- batches, fake clock          -> captured watermarks/status
//   interval:  source.file[p=1, batch 50] --hash--> window[p] --> test.collect[p=1]
//              (interval_ms 0 vs 60000: same rows, fewer watermarks)
//   source:    source.file (shuffled within the bound)            -> captured per subtask
//   idleness:  source.file[p=2, follow; one file has no records] --hash--> test.collect[p=1]
//   re-time:   source.file (no timestamp) -> watermark(ts) -> test.collect
//
// No test asserts a time: waits have a generous deadline and only fail when it passes.

#include <QtTest>

#include <fstream>
#include <random>
#include <thread>

#include "job_harness.h"
#include "runtime/operators/source_file.h"
#include "runtime/watermarks.h"

using namespace weir;
namespace fs = std::filesystem;

namespace {

struct Capture final : Output {
  std::vector<std::string> events;  // "B:t1,t2" / "W:x" / "idle" / "active"
  std::vector<std::int64_t> watermarks;
  std::vector<RecordBatch> batches;
  void collect(int, RecordBatch b) override {
    std::string s = "B:";
    for (std::size_t i = 0; i < b.numRows(); ++i) s += (i ? "," : "") + std::to_string(b.eventTime(i));
    events.push_back(s);
    batches.push_back(std::move(b));
  }
  void emitWatermark(Watermark wm) override {
    events.push_back("W:" + std::to_string(wm.timestamp));
    watermarks.push_back(wm.timestamp);
  }
  void emitWatermarkStatus(WatermarkStatus s) override { events.push_back(s.idle ? "idle" : "active"); }
};

RecordBatch timed(std::initializer_list<std::int64_t> times) {
  static SchemaPtr s = makeSchema({{"t", Type::Int64}});
  BatchBuilder b(s);
  for (auto t : times) {
    b.column(0).appendInt64(t);
    b.endRow(t);
  }
  return b.finish();
}

/// Records (t, key) with t = 0..n-1, shuffled so that none is more than `bound` behind
/// the largest before it: shuffle inside blocks of bound + 1 consecutive times.
std::vector<std::int64_t> shuffledWithin(int n, int bound, unsigned seed) {
  std::vector<std::int64_t> t(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) t[static_cast<std::size_t>(i)] = i;
  std::mt19937 rng(seed);
  for (int i = 0; i < n; i += bound + 1)
    std::shuffle(t.begin() + i, t.begin() + std::min(n, i + bound + 1), rng);
  return t;
}

void writeCsv(const fs::path& p, const std::vector<std::int64_t>& times) {
  std::ofstream out(p);
  out << "t,k\n";
  for (auto t : times) out << t << "," << (t % 5) << "\n";
}

}  // namespace

class TestWatermarks : public QObject {
  Q_OBJECT

 private slots:
  /// The valve alone: the minimum over active channels, older watermarks ignored, idle
  /// channels not holding back, all idle moving to the largest open one, ended channels
  /// counting as +inf only once every channel ended.
  void watermarkValveCombinesChannels() {
    WatermarkValve v(3);
    QVERIFY(!v.onWatermark(0, 10));
    QVERIFY(!v.onWatermark(1, 20));
    QCOMPARE(*v.onWatermark(2, 5), std::int64_t{5});
    QVERIFY(!v.onWatermark(2, 4));                     // older: ignored
    QCOMPARE(*v.onStatus(2, true), std::int64_t{10});   // channel 2 idle: min of 0 and 1
    QVERIFY(!v.allIdle());
    QCOMPARE(*v.onEnded(0), std::int64_t{20});          // 0 ended, 2 idle: channel 1 decides
    QVERIFY(!v.onStatus(1, true));                      // every open channel idle: largest open (20)
    QVERIFY(v.allIdle());
    QCOMPARE(*v.onWatermark(2, 30), std::int64_t{30});  // idle 2 moved on: all idle, largest 30
    QVERIFY(!v.onEnded(1));                             // 2 still open and idle: stays 30
    QCOMPARE(*v.onEnded(2), kMaxWatermark);             // all ended
    QVERIFY(!v.allIdle());
  }

  void boundedOutOfOrderness() {
    WatermarkGenerator g(WatermarkStrategy{.maxOutOfOrdernessMs = 10});
    Capture out;
    g.start(0);
    g.collect(timed({100, 95, 120}), 0, out);
    g.collect(timed({110}), 0, out);   // does not raise the max: no watermark
    g.collect(timed({130, 125}), 0, out);
    QCOMPARE(out.events, (std::vector<std::string>{"B:100,95,120", "W:109", "B:110", "B:130,125", "W:119"}));
    QCOMPARE(g.currentWatermark(), std::int64_t(119));
  }

  void idlenessFollowsTheClock() {
    WatermarkGenerator g(WatermarkStrategy{.maxOutOfOrdernessMs = 0, .idleTimeoutMs = 100});
    Capture out;
    g.start(1000);
    QCOMPARE(g.nextDeadline(), std::int64_t(1100));
    g.onProcessingTime(1050, out);
    QVERIFY(out.events.empty());
    g.onProcessingTime(1100, out);
    QCOMPARE(out.events, (std::vector<std::string>{"idle"}));
    QCOMPARE(g.nextDeadline(), kNoDeadline);  // idle: nothing more to check until data
    g.collect(timed({5}), 1200, out);
    // Active again before the batch, and the watermark after it.
    QCOMPARE(out.events, (std::vector<std::string>{"idle", "active", "B:5", "W:4"}));
    QCOMPARE(g.nextDeadline(), std::int64_t(1300));
    // No timeout: never idle, never a deadline.
    WatermarkGenerator never(WatermarkStrategy{});
    never.start(0);
    QCOMPARE(never.nextDeadline(), kNoDeadline);
  }

  /// interval_ms: a risen watermark goes out at once when the last one is at least
  /// interval_ms old, else when that much time has passed (the generator's deadline).
  void intervalLimitsHowOftenWatermarksGoOut() {
    WatermarkGenerator g(WatermarkStrategy{.intervalMs = 100});
    Capture out;
    g.start(1000);
    QCOMPARE(g.nextDeadline(), kNoDeadline);  // nothing to emit, no idleness
    g.collect(timed({10}), 1000, out);  // the first watermark: at once
    g.collect(timed({20}), 1050, out);  // risen, but the last one is 50 ms old: held
    QCOMPARE(out.events, (std::vector<std::string>{"B:10", "W:9", "B:20"}));
    QCOMPARE(g.nextDeadline(), std::int64_t(1100));
    g.onProcessingTime(1099, out);
    QCOMPARE(out.events.size(), std::size_t(3));
    g.onProcessingTime(1100, out);
    QCOMPARE(out.events.back(), std::string("W:19"));
    QCOMPARE(g.nextDeadline(), kNoDeadline);
    g.collect(timed({30}), 1150, out);  // held
    g.collect(timed({40}), 1200, out);  // 100 ms since the last: out, at its newest value
    QCOMPARE(out.events, (std::vector<std::string>{"B:10", "W:9", "B:20", "W:19", "B:30", "B:40",
                                                   "W:39"}));
    QCOMPARE(g.currentWatermark(), std::int64_t(39));
  }

  /// In a batch job a risen watermark waits for kBatchJobBatchesPerWatermark batches since
  /// the last one (the first goes out at once), with no processing-time deadline for it;
  /// going idle still sends it.
  void batchJobsSendAWatermarkPerManyBatches() {
    const WatermarkStrategy strategy = WatermarkStrategy::fromParams(nlohmann::json::object(), true);
    QCOMPARE(strategy.batchesPerWatermark, kBatchJobBatchesPerWatermark);
    QCOMPARE(WatermarkStrategy::fromParams(nlohmann::json::object()).batchesPerWatermark, 1);
    WatermarkGenerator g(strategy);
    Capture out;
    g.start(1000);
    g.collect(timed({10}), 1000, out);  // the first: at once
    QCOMPARE(out.events, (std::vector<std::string>{"B:10", "W:9"}));
    for (int b = 1; b < kBatchJobBatchesPerWatermark; ++b) {
      g.collect(timed({10 + b}), 1000, out);
      QCOMPARE(out.events.back(), "B:" + std::to_string(10 + b));  // held
      QCOMPARE(g.nextDeadline(), kNoDeadline);
    }
    g.collect(timed({100}), 1000, out);  // the 16th batch since: out, at its newest value
    QCOMPARE(out.events.back(), std::string("W:99"));
    QCOMPARE(g.currentWatermark(), std::int64_t(99));

    WatermarkStrategy idleToo = strategy;
    idleToo.idleTimeoutMs = 50;
    WatermarkGenerator h(idleToo);
    Capture idle;
    h.start(1000);
    h.collect(timed({10}), 1000, idle);
    h.collect(timed({20}), 1010, idle);  // held
    QCOMPARE(h.nextDeadline(), std::int64_t(1060));  // only idleness is due
    h.onProcessingTime(1060, idle);
    QCOMPARE(idle.events, (std::vector<std::string>{"B:10", "W:9", "B:20", "W:19", "idle"}));
  }

  /// The same windows over the same data, with the watermark after every batch (interval
  /// 0, the default) and at most once a minute: far fewer watermarks reach the sink than
  /// the source read batches, yet the results are identical (the end of the input
  /// emits the final watermark).
  void largeIntervalEmitsFewerWatermarksWithTheSameWindows() {
    QTemporaryDir dir;
    const fs::path base = dir.path().toStdString();
    writeCsv(base / "events.csv", shuffledWithin(2000, 20, 3));  // 40 batches of 50
    for (int p : {1, 2}) {
      auto run = [&](const std::string& watermark, test::Collected& c) {
        const std::string job = R"({"weir": 1, "name": "interval", "parallelism": )" +
            std::to_string(p) + R"(, "nodes": [
          {"id": "src", "type": "source.file", "parallelism": 1, "params": {"path": "events.csv",
            "format": "csv", "batch_size": 50,
            "schema": [{"name": "t", "type": "int64"}, {"name": "k", "type": "int64"}],
            "timestamp": "t", "watermark": )" + watermark + R"(}},
          {"id": "w", "type": "window", "params": {"key": ["k"],
            "window": {"type": "tumbling", "size_ms": 100},
            "aggregates": [{"name": "n", "fn": "count"}, {"name": "top", "fn": "max", "field": "t"}]}},
          {"id": "out", "type": "test.collect", "parallelism": 1}],
          "edges": [{"from": "src", "to": "w"}, {"from": "w", "to": "out"}]})";
        QCOMPARE(test::runText(job, base, c), std::string("FINISHED"));
      };
      test::Collected every, rare;
      run(R"({"max_out_of_orderness_ms": 20})", every);
      run(R"({"max_out_of_orderness_ms": 20, "interval_ms": 60000})", rare);
      QCOMPARE(every.size(), std::size_t(20 * 5));  // 20 windows x 5 keys
      QCOMPARE(rare.sorted(), every.sorted());
      QVERIFY2(every.watermarks[0].size() > 20, std::to_string(every.watermarks[0].size()).c_str());
      // The first watermark, maybe one more if reading took a minute, and the end of input.
      QVERIFY2(rare.watermarks[0].size() <= 3, std::to_string(rare.watermarks[0].size()).c_str());
      QCOMPARE(rare.watermarks[0].back(), kMaxWatermark);
    }
  }

  /// A file source over input shuffled within the bound: per subtask (= per output
  /// channel) the watermarks strictly rise, and no record is ever behind a watermark
  /// emitted before it.
  void fileSourceWatermarksAreMonotonicAndNeverOvertakeRecords() {
    QTemporaryDir dir;
    const fs::path file = fs::path(dir.path().toStdString()) / "events.csv";
    writeCsv(file, shuffledWithin(5000, 20, 7));
    for (int p : {1, 3}) {
      std::int64_t records = 0;
      for (int subtask = 0; subtask < p; ++subtask) {
        OperatorContext ctx;
        ctx.nodeId = "src";
        ctx.subtask = subtask;
        ctx.parallelism = p;
        ctx.params = nlohmann::json::parse(R"({"path": ")" + file.string() + R"(", "format": "csv",
          "schema": [{"name": "t", "type": "int64"}, {"name": "k", "type": "int64"}],
          "timestamp": "t", "batch_size": 64, "watermark": {"max_out_of_orderness_ms": 20}})");
        FileSource src(ctx);
        src.open(ctx);
        Capture out;
        while (src.emitNext(out) != SourceStatus::EndOfInput) {}
        src.close();
        QVERIFY(std::adjacent_find(out.watermarks.begin(), out.watermarks.end(),
                                   [](auto a, auto b) { return b <= a; }) == out.watermarks.end());
        std::int64_t wm = INT64_MIN;
        for (const auto& e : out.events) {
          if (e.starts_with("W:")) wm = std::stoll(e.substr(2));
        }
        std::size_t b = 0;
        wm = INT64_MIN;
        for (const auto& e : out.events) {
          if (e.starts_with("W:")) {
            wm = std::stoll(e.substr(2));
            continue;
          }
          const RecordBatch& batch = out.batches[b++];
          for (std::size_t i = 0; i < batch.numRows(); ++i) QVERIFY(batch.eventTime(i) > wm);
          records += static_cast<std::int64_t>(batch.numRows());
        }
      }
      QCOMPARE(records, std::int64_t(5000));
    }
  }

  /// One of two following sources reads a file without records: with idle_timeout_ms it
  /// goes idle and the downstream watermark reaches the other partition's data.
  void idlePartitionDoesNotHoldBackTheWatermark() {
    QTemporaryDir dir;
    const fs::path base = dir.path().toStdString();
    writeCsv(base / "a.csv", {1000, 2000, 3000});
    writeCsv(base / "b.csv", {});  // a header, no records
    const std::string job = R"({"weir": 1, "name": "idle", "parallelism": 2, "nodes": [
      {"id": "src", "type": "source.file", "params": {"path": "*.csv", "format": "csv", "follow": true,
        "schema": [{"name": "t", "type": "int64"}, {"name": "k", "type": "int64"}],
        "timestamp": "t", "watermark": {"idle_timeout_ms": 50, "interval_ms": 10}}},
      {"id": "out", "type": "test.collect", "parallelism": 1}],
      "edges": [{"from": "src", "to": "out", "partition": "rebalance"}]})";
    test::Collected c;
    auto plan = test::planText(job, base);
    QVERIFY(plan);
    const OperatorRegistry registry = test::harnessRegistry(c);
    LocalExecutor ex(std::move(*plan), {}, registry);
    ex.start();
    for (int i = 0; i < 2000 && c.lastWatermark(0) < 2999; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ex.cancel();
    ex.wait();
    QCOMPARE(c.lastWatermark(0), std::int64_t(2999));
    QCOMPARE(c.size(), std::size_t(3));
  }

  void watermarkOperatorRetimesRecords() {
    QTemporaryDir dir;
    const fs::path base = dir.path().toStdString();
    writeCsv(base / "a.csv", {30, 10, 20});
    const std::string job = R"({"weir": 1, "name": "retime", "parallelism": 1, "nodes": [
      {"id": "src", "type": "source.file", "params": {"path": "a.csv", "format": "csv",
        "schema": [{"name": "t", "type": "int64"}, {"name": "k", "type": "int64"}]}},
      {"id": "wm", "type": "watermark", "params": {"timestamp": "t", "watermark": {"max_out_of_orderness_ms": 5}}},
      {"id": "out", "type": "test.collect"}],
      "edges": [{"from": "src", "to": "wm"}, {"from": "wm", "to": "out"}]})";
    test::Collected c;
    QCOMPARE(test::runText(job, base, c), std::string("FINISHED"));
    QCOMPARE(c.sorted(), (std::vector<std::string>{"+I|10|0", "+I|20|0", "+I|30|0"}));
    // One batch: max 30 - 5 - 1, then the end of input.
    QCOMPARE(c.watermarks[0], (std::vector<std::int64_t>{24, INT64_MAX}));
  }
};

QTEST_APPLESS_MAIN(TestWatermarks)
#include "test_watermarks.moc"
