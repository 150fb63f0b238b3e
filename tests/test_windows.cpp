// The window operator end to end, against a small reference implementation in this file.
//
//   events.csv --source.file[p](timestamp t, bound B)--hash(k)--> window[p] --> test.collect "out"
//                                                                      `--late--> test.collect "late"
//
// Cases: tumbling, sliding and session windows with every aggregate function, at
// parallelism 1 and 4, from sorted input and from a copy shuffled within the
// out-of-orderness bound (same results expected); lateness with its exact update rows
// and late-port contents; a processing-time window; an idle source partition.
// Outputs are compared exactly after sorting. No test asserts a time.

#include <QtTest>

#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "core/text.h"
#include "event_data.h"
#include "job_harness.h"
#include "runtime/registry.h"
#include "runtime/watermarks.h"

using namespace weir;
namespace fs = std::filesystem;

namespace {

using test::Event;
using test::makeEvents;
using test::shuffledWithin;
using test::writeEvents;

/// Reference aggregates of one window, formatted as the operator's output row.
std::string refRow(const std::string& key, std::int64_t start, std::int64_t end, std::vector<Event> in) {
  std::sort(in.begin(), in.end(), [](const Event& a, const Event& b) { return a.t < b.t || (a.t == b.t && a.v < b.v); });
  std::int64_t sum = 0, mn = INT64_MAX, mx = INT64_MIN;
  std::set<std::int64_t> distinct;
  for (const auto& e : in) {
    sum += e.v;
    mn = std::min(mn, e.v);
    mx = std::max(mx, e.v);
    distinct.insert(e.v);
  }
  const std::int64_t n = static_cast<std::int64_t>(in.size());
  // last: the largest time; ties to the larger value.
  std::int64_t last = in.back().v;
  for (const auto& e : in)
    if (e.t == in.back().t) last = std::max(last, e.v);
  return "+I|" + key + "|" + std::to_string(start) + "|" + std::to_string(end) + "|" + std::to_string(n) + "|" +
         std::to_string(sum) + "|" + std::to_string(mn) + "|" + std::to_string(mx) + "|" +
         formatDouble(static_cast<double>(sum) / static_cast<double>(n)) + "|" + std::to_string(in.front().v) + "|" +
         std::to_string(last) + "|" + std::to_string(distinct.size());
}

std::vector<std::string> refTumblingOrSliding(const std::vector<Event>& events, std::int64_t size, std::int64_t slide) {
  std::map<std::tuple<std::string, std::int64_t>, std::vector<Event>> windows;
  for (const auto& e : events)
    for (std::int64_t start = e.t - e.t % slide; start > e.t - size; start -= slide)
      windows[{e.k, start}].push_back(e);
  std::vector<std::string> rows;
  for (auto& [w, in] : windows) rows.push_back(refRow(std::get<0>(w), std::get<1>(w), std::get<1>(w) + size, in));
  std::sort(rows.begin(), rows.end());
  return rows;
}

std::vector<std::string> refSessions(std::vector<Event> events, std::int64_t gap) {
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) { return a.t < b.t; });
  std::map<std::string, std::vector<Event>> byKey;
  for (const auto& e : events) byKey[e.k].push_back(e);
  std::vector<std::string> rows;
  for (auto& [k, es] : byKey) {
    std::vector<Event> cur{es[0]};
    std::int64_t start = es[0].t, end = es[0].t + gap;
    for (std::size_t i = 1; i <= es.size(); ++i) {
      // Flink merges windows that touch: [s, e] and a record at t with t <= e.
      if (i < es.size() && es[i].t <= end) {
        cur.push_back(es[i]);
        end = std::max(end, es[i].t + gap);
        continue;
      }
      rows.push_back(refRow(k, start, end, cur));
      if (i < es.size()) {
        cur = {es[i]};
        start = es[i].t;
        end = es[i].t + gap;
      }
    }
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

const char* kAggregates = R"([{"name": "n", "fn": "count"}, {"name": "sum", "fn": "sum", "field": "v"},
  {"name": "lo", "fn": "min", "field": "v"}, {"name": "hi", "fn": "max", "field": "v"},
  {"name": "mean", "fn": "avg", "field": "v"}, {"name": "first", "fn": "first", "field": "v"},
  {"name": "last", "fn": "last", "field": "v"}, {"name": "kinds", "fn": "count_distinct", "field": "v"}])";

std::string windowJob(const std::string& window, std::int64_t bound, std::int64_t lateness = 0, int batch = 16,
                      const std::string& mode = "streaming") {
  return "{\"weir\": 1, \"name\": \"windows\", \"mode\": \"" + mode + "\"," + R"( "nodes": [
    {"id": "src", "type": "source.file", "params": {"path": "events.csv", "format": "csv",
      "schema": [{"name": "t", "type": "int64"}, {"name": "k", "type": "string"}, {"name": "v", "type": "int64"}],
      "timestamp": "t", "batch_size": )" + std::to_string(batch) + R"(,
      "watermark": {"max_out_of_orderness_ms": )" + std::to_string(bound) + R"(}}},
    {"id": "w", "type": "window", "params": {"key": ["k"], "window": )" + window + R"(,
      "allowed_lateness_ms": )" + std::to_string(lateness) + R"(, "aggregates": )" + kAggregates + R"(}},
    {"id": "out", "type": "test.collect"},
    {"id": "late", "type": "test.collect"}],
    "edges": [{"from": "src", "to": "w"}, {"from": "w", "to": "out"},
              {"from": "w", "from_port": "late", "to": "late"}]})";
}

std::vector<std::string> runWindows(const std::vector<Event>& events, const std::string& window, std::int64_t bound,
                                    int parallelism, const std::string& mode = "streaming",
                                    std::vector<std::string>* arrival = nullptr) {
  QTemporaryDir dir;
  const fs::path base = dir.path().toStdString();
  writeEvents(base / "events.csv", events);
  test::Collected c;
  JobOverrides o;
  o.parallelism = parallelism;
  std::string failure;
  if (test::runText(windowJob(window, bound, 0, 16, mode), base, c, o, &failure) != "FINISHED")
    return {"job failed: " + failure};
  if (arrival) *arrival = c.byNode["out"];
  if (!c.sorted("late").empty()) return {"unexpected late records"};
  return c.sorted("out");
}

/// The window shapes the data-driven tests run over.
const char* const kShapes[] = {R"({"type": "tumbling", "size_ms": 100})",
                               R"({"type": "sliding", "size_ms": 100, "slide_ms": 30})",
                               R"({"type": "session", "gap_ms": 60})"};

/// The reference rows of `events` in windows of `shape` (a window param object).
std::vector<std::string> reference(const std::vector<Event>& events, const nlohmann::json& shape) {
  if (shape["type"] == "session") return refSessions(events, shape["gap_ms"].get<std::int64_t>());
  const std::int64_t size = shape["size_ms"].get<std::int64_t>();
  return refTumblingOrSliding(events, size, shape.value("slide_ms", size));
}

}  // namespace

class TestWindows : public QObject {
  Q_OBJECT

 private slots:
  void windowsMatchTheReference_data() {
    QTest::addColumn<QString>("window");
    QTest::addColumn<int>("parallelism");
    QTest::addColumn<bool>("shuffled");
    for (const char* shape : kShapes)
      for (int p : {1, 4})
        for (bool shuffled : {false, true})
          QTest::newRow(qPrintable(QString("%1 p=%2%3").arg(QString(shape).section(QChar(34), 3, 3)).arg(p)
                                       .arg(shuffled ? " shuffled" : "")))
              << QString(shape) << p << shuffled;
  }
  void windowsMatchTheReference() {
    QFETCH(QString, window);
    QFETCH(int, parallelism);
    QFETCH(bool, shuffled);
    const std::int64_t bound = 70;
    const auto events = makeEvents(3000);
    const auto shape = nlohmann::json::parse(window.toStdString());
    const std::vector<std::string> expected = reference(events, shape);
    QVERIFY(expected.size() > 30);
    const auto actual = runWindows(shuffled ? shuffledWithin(events, bound, 11) : events, window.toStdString(), bound,
                                   parallelism);
    if (actual.size() == 1) qWarning("%s", actual[0].c_str());
    QCOMPARE(actual.size(), expected.size());
    for (std::size_t i = 0; i < actual.size(); ++i) QCOMPARE(actual[i], expected[i]);
  }

  void batchModeEqualsStreaming_data() { windowsMatchTheReference_data(); }
  /// A batch job gives the streaming job's final rows (lateness 0: inserts only), both
  /// equal to the reference; at p = 1 the batch rows arrive ordered by window end, start.
  void batchModeEqualsStreaming() {
    QFETCH(QString, window);
    QFETCH(int, parallelism);
    QFETCH(bool, shuffled);
    const std::int64_t bound = 70;
    const auto events = makeEvents(3000);
    const auto shape = nlohmann::json::parse(window.toStdString());
    const auto input = shuffled ? shuffledWithin(events, bound, 23) : events;
    std::vector<std::string> arrival;
    const auto streaming = runWindows(input, window.toStdString(), bound, parallelism);
    const auto batch = runWindows(input, window.toStdString(), bound, parallelism, "batch", &arrival);
    if (batch.size() == 1) qWarning("%s", batch[0].c_str());
    QVERIFY(streaming.size() > 30);
    QCOMPARE(batch, streaming);
    const auto expected = reference(events, shape);
    QCOMPARE(batch, expected);
    if (parallelism == 1) {
      // Deterministic order: by window end, then start (then key).
      auto bounds = [](const std::string& row) {
        const auto parts = QString::fromStdString(row).split('|');
        return std::pair(parts[3].toLongLong(), parts[2].toLongLong());
      };
      for (std::size_t i = 1; i < arrival.size(); ++i)
        QVERIFY2(bounds(arrival[i - 1]) <= bounds(arrival[i]), arrival[i].c_str());
      std::vector<std::string> again;
      runWindows(input, window.toStdString(), bound, parallelism, "batch", &again);
      QCOMPARE(again, arrival);
    }
  }

  void batchModeHasNoLateRecords_data() {
    QTest::addColumn<QString>("window");
    QTest::addColumn<int>("parallelism");
    for (const char* shape : kShapes)
      for (int p : {1, 4})
        QTest::newRow(qPrintable(QString("%1 p=%2").arg(QString(shape).section(QChar(34), 3, 3)).arg(p)))
            << QString(shape) << p;
  }
  /// Input far more out of order than the watermark allows: streaming sends records to
  /// `late`; a batch job has no late records and counts every one (the reference over all
  /// events). In batch mode the windows the watermark passed are set aside (frozen) and
  /// the records that come for them later are folded in at the end: this input has many
  /// such records, and windows whose every record came after the watermark passed them.
  void batchModeHasNoLateRecords() {
    QFETCH(QString, window);
    QFETCH(int, parallelism);
    const auto events = makeEvents(2000);
    const auto input = shuffledWithin(events, 400, 5);
    const auto shape = nlohmann::json::parse(window.toStdString());
    const auto expected = reference(events, shape);
    for (const std::string mode : {"streaming", "batch"}) {
      QTemporaryDir dir;
      const fs::path base = dir.path().toStdString();
      writeEvents(base / "events.csv", input);
      test::Collected c;
      JobOverrides o;
      o.parallelism = parallelism;
      std::string failure;
      QCOMPARE(test::runText(windowJob(window.toStdString(), 0, 0, 16, mode), base, c, o, &failure),
               std::string("FINISHED"));
      if (mode == "streaming") {
        QVERIFY(c.sorted("late").size() > 100);
        QVERIFY(c.sorted("out") != expected);
      } else {
        QVERIFY(c.sorted("late").empty());
        QCOMPARE(c.sorted("out"), expected);
      }
    }
  }

  /// A batch-mode window driven directly: a window the watermark passed leaves the table
  /// (frozen); a record for it afterwards goes to a new slot and is folded into its row at
  /// the end; a window that only such records reached follows the frozen windows of its end.
  /// Rows: by end; within one end the frozen windows in the order of their first records,
  /// then the others; all before the final watermark.
  void batchWindowFreezesAndFoldsLateRecords() {
    const SchemaPtr in = makeSchema({{"t", Type::Int64}, {"k", Type::String}, {"v", Type::Int64}});
    OperatorCounters counters;
    OperatorContext ctx;
    ctx.nodeId = "w";
    ctx.type = "window";
    ctx.batchMode = true;
    ctx.params = {{"key", {"k"}},
                  {"window", {{"type", "tumbling"}, {"size_ms", 10}}},
                  {"aggregates", {{{"name", "n"}, {"fn", "count"}}, {{"name", "s"}, {"fn", "sum"}, {"field", "v"}}}}};
    ctx.inputSchemas = {in};
    ctx.inputPorts = {"in"};
    ctx.outputSchemas = {makeSchema({{"k", Type::String}, {"window_start", Type::Timestamp},
                                     {"window_end", Type::Timestamp}, {"n", Type::Int64}, {"s", Type::Int64}}),
                         in};
    ctx.outputPorts = {"out", "late"};
    ctx.counters = &counters;
    auto op = (*OperatorRegistry::builtin().find("window"))(ctx);
    op->open(ctx);
    test::VectorOutput out;
    KeyedStateBackend& state = *ctx.keyedStateIfAny();

    op->processBatch(0, test::rowsOf(in, {{1, "b", 2}, {2, "a", 1}, {12, "a", 3}}), out);
    QCOMPARE(state.numEntries(), std::size_t(3));
    op->processWatermark(Watermark{9}, out);  // [0,10) of b and a: frozen
    QCOMPARE(state.numEntries(), std::size_t(1));
    QVERIFY(out.rows.empty());
    QVERIFY(out.watermarks.empty());  // a batch window passes on only the final one
    op->processBatch(0, test::rowsOf(in, {{5, "a", 10}, {7, "c", 4}}), out);  // both for [0,10)
    QCOMPARE(state.numEntries(), std::size_t(3));
    op->processWatermark(Watermark{19}, out);  // [10,20) of a: frozen
    QCOMPARE(state.numEntries(), std::size_t(2));  // the slots of a and c in [0,10)
    QVERIFY(out.rows.empty());
    op->processWatermark(Watermark{kMaxWatermark}, out);
    QCOMPARE(out.rows, (std::vector<std::string>{"+I|b|0|10|1|2@9", "+I|a|0|10|2|11@9", "+I|c|0|10|1|4@9",
                                                 "+I|a|10|20|1|3@19"}));
    QCOMPARE(out.watermarks, std::vector<std::int64_t>{kMaxWatermark});
    QCOMPARE(counters.lateRecords.load(), std::int64_t(0));
    QCOMPARE(state.numEntries(), std::size_t(0));
    op->close();
  }

  /// Two windows joined on their key and window: in a batch job the windows' results must
  /// reach the join ahead of the final watermark, or the join would drop them as late.
  ///
  ///   events --hash(k)--> counts (tumbling 100: n) --hash(k)--> join(left) --> out
  ///          `-hash(k)--> sums   (tumbling 100: s) --hash(k)--> join(right)
  void batchWindowResultsReachAJoin() {
    const auto events = makeEvents(2000);
    std::vector<std::string> results[2];
    for (int m = 0; m < 2; ++m) {
      QTemporaryDir dir;
      const fs::path base = dir.path().toStdString();
      writeEvents(base / "events.csv", events);
      const std::string job = std::string("{\"weir\": 1, \"name\": \"wj\", \"mode\": \"") +
                              (m ? "batch" : "streaming") + "\"," + R"( "parallelism": 2, "nodes": [
        {"id": "src", "type": "source.file", "params": {"path": "events.csv", "format": "csv",
          "schema": [{"name": "t", "type": "int64"}, {"name": "k", "type": "string"}, {"name": "v", "type": "int64"}],
          "timestamp": "t", "batch_size": 16}},
        {"id": "counts", "type": "window", "params": {"key": ["k"], "window": {"type": "tumbling", "size_ms": 100},
          "aggregates": [{"name": "n", "fn": "count"}]}},
        {"id": "sums", "type": "window", "params": {"key": ["k"], "window": {"type": "tumbling", "size_ms": 100},
          "aggregates": [{"name": "s", "fn": "sum", "field": "v"}]}},
        {"id": "j", "type": "join", "params": {"left_key": ["k", "window_start"], "right_key": ["k", "window_start"],
          "lower_ms": 0, "upper_ms": 0}},
        {"id": "out", "type": "test.collect"}],
        "edges": [{"from": "src", "to": "counts"}, {"from": "src", "to": "sums"},
                  {"from": "counts", "to": "j", "to_port": "left"}, {"from": "sums", "to": "j", "to_port": "right"},
                  {"from": "j", "to": "out"}]})";
      test::Collected c;
      std::string failure;
      QCOMPARE(test::runText(job, base, c, {}, &failure), std::string("FINISHED"));
      results[m] = c.sorted();
    }
    // One joined row per (key, window), as many as the reference has windows.
    QCOMPARE(results[1].size(), refTumblingOrSliding(events, 100, 100).size());
    QCOMPARE(results[1], results[0]);
  }

  /// Batches of one record, so the watermark follows every record (bound 0):
  ///   (10,a,1) (50,a,2) (120,a,3)   -> [0,100) fires at watermark 119
  ///   (30,a,4)                      -> within the lateness (99 + 50 > 119): -U / +U
  ///   (160,a,5)                     -> watermark 159 passes 149: [0,100) is dropped
  ///   (40,a,6)                      -> too late: port late
  ///   (130,b,7)                     -> [100,200) of b, fires at the end
  void latenessUpdatesThenSendsToLatePort() {
    QTemporaryDir dir;
    const fs::path base = dir.path().toStdString();
    writeEvents(base / "events.csv", {{10, "a", 1}, {50, "a", 2}, {120, "a", 3}, {30, "a", 4},
                                      {160, "a", 5}, {40, "a", 6}, {130, "b", 7}});
    const std::string job = windowJob(R"({"type": "tumbling", "size_ms": 100})", 0, 50, 1);
    test::Collected c;
    JobMetrics m;
    QCOMPARE(test::runText(job, base, c, {}, nullptr, &m), std::string("FINISHED"));
    // Arrival order matters here (p = 1): the update follows the first result. The two
    // windows [100,200) fire on one watermark, in key-hash order (timers.h): sorted here.
    auto out = c.byNode["out"];
    QCOMPARE(out.size(), std::size_t(5));
    std::sort(out.begin() + 3, out.end());
    QCOMPARE(out, (std::vector<std::string>{
                      "+I|a|0|100|2|3|1|2|1.5|1|2|2",
                      "-U|a|0|100|2|3|1|2|1.5|1|2|2",
                      "+U|a|0|100|3|7|1|4|2.3333333333333335|1|2|3",
                      "+I|a|100|200|2|8|3|5|4|3|5|2",
                      "+I|b|100|200|1|7|7|7|7|7|7|1"}));
    QCOMPARE(c.byNode["late"], (std::vector<std::string>{"+I|40|a|6"}));
    std::int64_t late = 0;
    for (const auto& n : m.nodes)
      if (n.id == "w") late = n.lateRecords;
    QCOMPARE(late, std::int64_t(1));
  }

  /// With lateness the file sink writes the changelog with its op column.
  void latenessUpdatesReachTheFileSinkWithOp() {
    QTemporaryDir dir;
    const fs::path base = dir.path().toStdString();
    writeEvents(base / "events.csv", {{10, "a", 1}, {120, "a", 3}, {30, "a", 4}});
    std::string job = windowJob(R"({"type": "tumbling", "size_ms": 100})", 0, 50, 1);
    const auto at = job.find(R"({"id": "out", "type": "test.collect"})");
    job.replace(at, std::string(R"({"id": "out", "type": "test.collect"})").size(),
                R"({"id": "out", "type": "sink.file", "params": {"path": "out.csv", "format": "csv"}})");
    test::Collected c;
    QCOMPARE(test::runText(job, base, c), std::string("FINISHED"));
    const std::vector<std::string> lines = test::readLines(base / "out.csv");
    QCOMPARE(lines.size(), std::size_t(5));
    QCOMPARE(lines[0], std::string("op,k,window_start,window_end,n,sum,lo,hi,mean,first,last,kinds"));
    QVERIFY2(lines[1].starts_with("+I,a,1970-01-01T00:00:00.000Z,1970-01-01T00:00:00.100Z,1,1,"), lines[1].c_str());
    QVERIFY2(lines[2].starts_with("-U,a,"), lines[2].c_str());
    QVERIFY2(lines[3].starts_with("+U,a,1970-01-01T00:00:00.000Z,1970-01-01T00:00:00.100Z,2,5,"), lines[3].c_str());
    QVERIFY2(lines[4].starts_with("+I,a,1970-01-01T00:00:00.100Z"), lines[4].c_str());
  }

  void processingTimeWindowCountsEveryRecord() {
    QTemporaryDir dir;
    const std::string job = R"({"weir": 1, "name": "pt", "parallelism": 2, "nodes": [
      {"id": "bids", "type": "source.generator", "params": {"table": "bid", "events": 5000}},
      {"id": "w", "type": "window", "params": {"key": ["channel"],
        "window": {"type": "tumbling", "size_ms": 60000, "time": "processing"},
        "aggregates": [{"name": "n", "fn": "count"}]}},
      {"id": "out", "type": "test.collect"}],
      "edges": [{"from": "bids", "to": "w"}, {"from": "w", "to": "out"}]})";
    test::Collected c;
    QCOMPARE(test::runText(job, dir.path().toStdString(), c), std::string("FINISHED"));
    std::int64_t total = 0;
    for (const auto& row : c.sorted()) total += std::stoll(row.substr(row.rfind('|') + 1));
    QCOMPARE(total, std::int64_t(5000));
  }

  /// Two following sources, one of which never reads a record: with idle_timeout_ms the
  /// windows of the other still fire while the job runs.
  void idlePartitionStillProducesResults() {
    QTemporaryDir dir;
    const fs::path base = dir.path().toStdString();
    fs::create_directories(base / "in");
    writeEvents(base / "in/a.csv", {{10, "a", 1}, {20, "b", 2}, {150, "a", 3}, {400, "a", 4}});
    writeEvents(base / "in/b.csv", {});
    const std::string job = R"({"weir": 1, "name": "idle", "nodes": [
      {"id": "src", "type": "source.file", "parallelism": 2, "params": {"path": "in/?.csv", "format": "csv",
        "follow": true, "schema": [{"name": "t", "type": "int64"}, {"name": "k", "type": "string"},
        {"name": "v", "type": "int64"}], "timestamp": "t", "watermark": {"idle_timeout_ms": 50}}},
      {"id": "w", "type": "window", "parallelism": 1, "params": {"key": ["k"],
        "window": {"type": "tumbling", "size_ms": 100}, "aggregates": [{"name": "n", "fn": "count"}]}},
      {"id": "out", "type": "test.collect", "parallelism": 1}],
      "edges": [{"from": "src", "to": "w"}, {"from": "w", "to": "out"}]})";
    test::Collected c;
    auto plan = test::planText(job, base);
    QVERIFY(plan);
    const OperatorRegistry registry = test::harnessRegistry(c);
    LocalExecutor ex(std::move(*plan), {}, registry);
    ex.start();
    for (int i = 0; i < 2000 && c.size() < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ex.cancel();
    ex.wait();
    // Watermark 399: [0,100) of a and b and [100,200) of a have fired; [400,500) has not.
    QCOMPARE(c.sorted(), (std::vector<std::string>{"+I|a|0|100|1", "+I|a|100|200|1", "+I|b|0|100|1"}));
  }
};

QTEST_APPLESS_MAIN(TestWindows)
#include "test_windows.moc"
