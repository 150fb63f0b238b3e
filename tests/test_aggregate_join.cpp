// The aggregate (non-windowed, changelog) and interval join operators, end to end against
// small reference implementations in this file, plus the two sample jobs that use them.
//
//   events.csv --source.file[p]--hash(k)--> aggregate[p] --> test.collect
//   left.csv  --source.file[p]--hash(k)--> join[p] --> test.collect
//   right.csv --source.file[p]--hash(k)--'
//
// Cases: the exact changelog of a hand-checked input (with -U/+U pairs and skipped
// no-change updates); streaming (changelog applied) vs batch mode vs a reference, at
// parallelism 1 and 4; the interval join against a nested loop, sorted and shuffled within
// the out-of-orderness bound, at parallelism 1 and 3; the join's state emptied by the
// watermark (operator driven directly); samples/clicks-per-user and samples/fraud-join
// with their exact outputs. Outputs are compared exactly after sorting.

#include <QtTest>

#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "core/text.h"
#include "event_data.h"
#include "job_harness.h"
#include "runtime/operators/aggregates.h"
#include "runtime/registry.h"

using namespace weir;
namespace fs = std::filesystem;

namespace {

const fs::path kSource = WEIR_SOURCE_DIR;

using test::Event;
using test::makeEvents;
using test::shuffledWithin;
using test::writeEvents;

using test::copySample;

std::string readFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// ---- aggregate ----------------------------------------------------------------------

const char* kAggregates = R"([{"name": "n", "fn": "count"}, {"name": "sum", "fn": "sum", "field": "v"},
  {"name": "lo", "fn": "min", "field": "v"}, {"name": "hi", "fn": "max", "field": "v"},
  {"name": "mean", "fn": "avg", "field": "v"}, {"name": "first", "fn": "first", "field": "v"},
  {"name": "last", "fn": "last", "field": "v"}, {"name": "kinds", "fn": "count_distinct", "field": "v"}])";

std::string aggregateJob(const std::string& aggregates, bool batch, std::int64_t bound = 0) {
  return std::string(R"({"weir": 1, "name": "agg", "mode": ")") + (batch ? "batch" : "streaming") +
         R"(", "nodes": [
    {"id": "src", "type": "source.file", "params": {"path": "events.csv", "format": "csv",
      "schema": [{"name": "t", "type": "int64"}, {"name": "k", "type": "string"}, {"name": "v", "type": "int64"}],
      "timestamp": "t", "batch_size": 16, "watermark": {"max_out_of_orderness_ms": )" +
         std::to_string(bound) + R"(}}},
    {"id": "agg", "type": "aggregate", "params": {"key": ["k"], "aggregates": )" + aggregates + R"(}},
    {"id": "out", "type": "test.collect"}],
    "edges": [{"from": "src", "to": "agg"}, {"from": "agg", "to": "out"}]})";
}

/// The reference result of one key (all aggregates of kAggregates), as "+I|k|...".
std::string refAggregateRow(const std::string& key, std::vector<Event> in) {
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
  std::int64_t last = in.back().v;
  for (const auto& e : in)
    if (e.t == in.back().t) last = std::max(last, e.v);
  return "+I|" + key + "|" + std::to_string(n) + "|" + std::to_string(sum) + "|" + std::to_string(mn) + "|" +
         std::to_string(mx) + "|" + formatDouble(static_cast<double>(sum) / static_cast<double>(n)) + "|" +
         std::to_string(in.front().v) + "|" + std::to_string(last) + "|" + std::to_string(distinct.size());
}

std::vector<std::string> refAggregate(const std::vector<Event>& events) {
  std::map<std::string, std::vector<Event>> byKey;
  for (const auto& e : events) byKey[e.k].push_back(e);
  std::vector<std::string> rows;
  for (auto& [k, es] : byKey) rows.push_back(refAggregateRow(k, es));
  std::sort(rows.begin(), rows.end());
  return rows;
}

/// Applies a changelog ("op|key|rest", the key being the first field) and returns the
/// final rows as "+I|key|rest", sorted; "changelog error: ..." when it is inconsistent
/// (a -U that retracts something else than the current row, a +I or +U over a live row).
std::vector<std::string> applyChangelog(const std::vector<std::string>& rows) {
  std::map<std::string, std::string> live;  // key -> the row after "op|"
  for (const std::string& row : rows) {
    const std::string op = row.substr(0, 2);
    const std::string body = row.substr(3);
    const std::string key = body.substr(0, body.find('|'));
    auto it = live.find(key);
    if (op == "+I" || op == "+U") {
      if (it != live.end()) return {"changelog error: " + op + " over a live row: " + row};
      live[key] = body;
    } else if (op == "-U" || op == "-D") {
      if (it == live.end() || it->second != body) return {"changelog error: retracts what is not there: " + row};
      live.erase(it);
    }
  }
  std::vector<std::string> out;
  for (auto& [k, body] : live) out.push_back("+I|" + body);
  std::sort(out.begin(), out.end());
  return out;
}

// ---- join ---------------------------------------------------------------------------

/// A join job with these join params (JSON members after the keys).
std::string joinJobWith(const std::string& joinParams, std::int64_t bound) {
  auto source = [&](const char* id, const char* path, const char* value) {
    return std::string(R"({"id": ")") + id + R"(", "type": "source.file", "params": {"path": ")" + path +
           R"(", "format": "csv", "schema": [{"name": "t", "type": "int64"}, {"name": "k", "type": "string"},
             {"name": ")" + value + R"(", "type": "int64"}], "timestamp": "t", "batch_size": 16,
             "watermark": {"max_out_of_orderness_ms": )" + std::to_string(bound) + R"(}}})";
  };
  return std::string(R"({"weir": 1, "name": "join", "nodes": [)") + source("l", "left.csv", "a") + "," +
         source("r", "right.csv", "b") + R"(,
    {"id": "j", "type": "join", "params": {"left_key": ["k"], "right_key": ["k"], )" + joinParams + R"(}},
    {"id": "out", "type": "test.collect"}],
    "edges": [{"from": "l", "to": "j", "to_port": "left"}, {"from": "r", "to": "j", "to_port": "right"},
              {"from": "j", "to": "out"}]})";
}

std::string joinJob(std::int64_t lower, std::int64_t upper, std::int64_t bound) {
  return joinJobWith("\"lower_ms\": " + std::to_string(lower) + ", \"upper_ms\": " + std::to_string(upper), bound);
}

std::vector<std::string> refJoin(const std::vector<Event>& left, const std::vector<Event>& right, std::int64_t lower,
                                 std::int64_t upper) {
  std::vector<std::string> rows;
  for (const auto& l : left)
    for (const auto& r : right)
      if (l.k == r.k && l.t + lower <= r.t && r.t <= l.t + upper)
        rows.push_back("+I|" + std::to_string(l.t) + "|" + l.k + "|" + std::to_string(l.v) + "|" +
                       std::to_string(r.t) + "|" + r.k + "|" + std::to_string(r.v));
  std::sort(rows.begin(), rows.end());
  return rows;
}

/// The session window join by hand: per key, the sessions of both sides' times together
/// (a time at most `gap` past the session's end so far extends it, as Flink merges
/// windows that touch), then every left x right pair inside one session.
std::vector<std::string> refSessionJoin(const std::vector<Event>& left, const std::vector<Event>& right,
                                        std::int64_t gap) {
  std::map<std::string, std::vector<std::pair<std::int64_t, int>>> times;  // key -> (t, side)
  std::map<std::string, std::vector<Event>> byKey[2];
  for (int side : {0, 1})
    for (const auto& e : side == 0 ? left : right) {
      times[e.k].push_back({e.t, side});
      byKey[side][e.k].push_back(e);
    }
  std::vector<std::string> rows;
  for (auto& [k, ts] : times) {
    std::sort(ts.begin(), ts.end());
    std::size_t i = 0;
    while (i < ts.size()) {
      const std::int64_t start = ts[i].first;
      std::int64_t end = start + gap;
      std::size_t j = i + 1;
      while (j < ts.size() && ts[j].first <= end) end = std::max(end, ts[j++].first + gap);
      for (const Event& l : byKey[0][k])
        for (const Event& r : byKey[1][k])
          if (l.t >= start && l.t < end && r.t >= start && r.t < end)
            rows.push_back("+I|" + std::to_string(l.t) + "|" + l.k + "|" + std::to_string(l.v) + "|" +
                           std::to_string(r.t) + "|" + r.k + "|" + std::to_string(r.v) + "|" +
                           std::to_string(start) + "|" + std::to_string(end));
      i = j;
    }
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

/// The window join by nested loops: every pair of equal key, once per window of length
/// `size` starting at a multiple of `slide` that holds both times, as "+I|left|right|start|end".
std::vector<std::string> refWindowJoin(const std::vector<Event>& left, const std::vector<Event>& right,
                                       std::int64_t size, std::int64_t slide) {
  std::vector<std::string> rows;
  for (const auto& l : left)
    for (const auto& r : right) {
      if (l.k != r.k) continue;
      // Windows of l: starts s = multiples of slide with s <= l.t < s + size.
      const std::int64_t mod = ((l.t % slide) + slide) % slide;  // also for negative times
      for (std::int64_t s = l.t - mod; s > l.t - size; s -= slide)
        if (s <= r.t && r.t < s + size)
          rows.push_back("+I|" + std::to_string(l.t) + "|" + l.k + "|" + std::to_string(l.v) + "|" +
                         std::to_string(r.t) + "|" + r.k + "|" + std::to_string(r.v) + "|" + std::to_string(s) + "|" +
                         std::to_string(s + size));
    }
  std::sort(rows.begin(), rows.end());
  return rows;
}

/// Runs a join job with these join params over generated left and right events (each
/// shuffled within the sources' bound when `shuffled`) and compares its rows with
/// `reference(left, right)`; no record may be late.
template <class Reference>
void checkJoin(const std::string& joinParams, int parallelism, bool shuffled, Reference reference) {
  const std::int64_t bound = 40;
  const auto left = makeEvents(1500, 17, 5, 0);
  const auto right = makeEvents(1200, 17, 6, 3);
  const std::vector<std::string> expected = reference(left, right);
  QVERIFY2(expected.size() > 300, qPrintable(QString::number(expected.size())));
  QTemporaryDir dir;
  const fs::path base = dir.path().toStdString();
  writeEvents(base / "left.csv", shuffled ? shuffledWithin(left, bound, 1) : left, "a");
  writeEvents(base / "right.csv", shuffled ? shuffledWithin(right, bound, 2) : right, "b");
  JobOverrides o;
  o.parallelism = parallelism;
  test::Collected c;
  std::string failure;
  JobMetrics m;
  QCOMPARE(test::runText(joinJobWith(joinParams, bound), base, c, o, &failure, &m), std::string("FINISHED"));
  const auto actual = c.sorted();
  QCOMPARE(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) QCOMPARE(actual[i], expected[i]);
  for (const auto& n : m.nodes)
    if (n.id == "j") QCOMPARE(n.lateRecords, std::int64_t(0));
}

using test::VectorOutput;

/// A join operator driven directly: left (t, k, a) and right (t, k, b), with these params
/// (keys added) and output schema; opened, counting into `counters`.
std::unique_ptr<Operator> openJoin(OperatorContext& ctx, OperatorCounters& counters, nlohmann::json params,
                                   std::vector<Field> extraOutput = {}) {
  const SchemaPtr left = makeSchema({{"t", Type::Int64}, {"k", Type::String}, {"a", Type::Int64}});
  const SchemaPtr right = makeSchema({{"t", Type::Int64}, {"k", Type::String}, {"b", Type::Int64}});
  ctx.nodeId = "j";
  ctx.type = "join";
  params["left_key"] = {"k"};
  params["right_key"] = {"k"};
  ctx.params = std::move(params);
  ctx.inputSchemas = {left, right};
  ctx.inputPorts = {"left", "right"};
  std::vector<Field> out = {{"t", Type::Int64},       {"k", Type::String},       {"a", Type::Int64},
                            {"right_t", Type::Int64}, {"right_k", Type::String}, {"b", Type::Int64}};
  out.insert(out.end(), extraOutput.begin(), extraOutput.end());
  ctx.outputSchemas = {makeSchema(std::move(out))};
  ctx.outputPorts = {"out"};
  ctx.counters = &counters;
  auto op = (*OperatorRegistry::builtin().find("join"))(ctx);
  op->open(ctx);
  return op;
}

using test::rowsOf;

/// Records a join holds: its table's entries (the backend holds its timers too, in the
/// table "timers").
std::size_t buffered(const KeyedStateBackend& state) {
  std::size_t n = 0;
  for (const auto& [name, table] : state.tables())
    if (name != "timers") n += table->size();
  return n;
}

}  // namespace

class TestAggregateJoin : public QObject {
  Q_OBJECT

 private slots:
  /// Every function's accumulator, over every field type it takes and with nulls in the
  /// input, comes back from encodeAcc/decodeAcc with the same result, all of its encoding
  /// read and nothing more; and a decoded half folded into the other half (mergeAcc) gives
  /// the result over all rows, as batch windows do with records that came late.
  void accumulatorsSurviveEncoding() {
    const SchemaPtr schema = makeSchema({{"i", Type::Int64}, {"d", Type::Double}, {"s", Type::String},
                                         {"b", Type::Bool}, {"ts", Type::Timestamp}});
    BatchBuilder builder(schema);
    std::mt19937 rng(7);
    const char* words[] = {"", "a", "kiwi", "a string longer than fifteen characters"};
    for (int r = 0; r < 200; ++r) {
      auto cell = [&](std::size_t c, auto append) {
        if (rng() % 5 == 0) builder.column(c).appendNull();
        else append(builder.column(c));
      };
      cell(0, [&](Column& c) { c.appendInt64(static_cast<std::int64_t>(rng() % 50) - 25); });
      cell(1, [&](Column& c) { c.appendDouble(static_cast<double>(rng() % 1000) / 8.0); });
      cell(2, [&](Column& c) { c.appendString(words[rng() % 4]); });
      cell(3, [&](Column& c) { c.appendBool(rng() % 2 == 0); });
      cell(4, [&](Column& c) { c.appendInt64(static_cast<std::int64_t>(rng() % 100)); });
      builder.endRow(static_cast<std::int64_t>(rng() % 40));  // equal event times tie first/last
    }
    const RecordBatch batch = builder.finish();
    nlohmann::json aggs = nlohmann::json::array({{{"fn", "count"}}});
    for (const char* field : {"i", "d", "s", "b", "ts"})
      for (const char* fn : {"count", "min", "max", "first", "last", "count_distinct"})
        aggs.push_back({{"fn", fn}, {"field", field}});
    for (const char* field : {"i", "d"})
      for (const char* fn : {"sum", "avg"}) aggs.push_back({{"fn", fn}, {"field", field}});
    const std::vector<AggSpec> specs = parseAggregates(aggs, *schema);
    for (std::size_t rows : {std::size_t{0}, std::size_t{1}, std::size_t{7}, batch.numRows()}) {
      std::vector<Acc> whole(specs.size()), firstPart(specs.size()), secondPart(specs.size());
      for (std::size_t a = 0; a < specs.size(); ++a)
        for (std::size_t r = 0; r < rows; ++r) {
          addRow(specs[a], batch, r, whole[a]);
          addRow(specs[a], batch, r, r % 3 == 0 ? firstPart[a] : secondPart[a]);
        }
      std::string encoded;
      for (std::size_t a = 0; a < specs.size(); ++a) encodeAcc(specs[a], whole[a], encoded);
      const std::size_t wholeSize = encoded.size();
      for (std::size_t a = 0; a < specs.size(); ++a) encodeAcc(specs[a], secondPart[a], encoded);
      std::string_view in = encoded;
      std::vector<Acc> decoded(specs.size());
      for (std::size_t a = 0; a < specs.size(); ++a) decodeAcc(specs[a], in, decoded[a]);
      QCOMPARE(in.size(), encoded.size() - wholeSize);
      for (std::size_t a = 0; a < specs.size(); ++a) {
        const std::string what = aggs[a].dump() + " over " + std::to_string(rows) + " rows";
        QVERIFY2(resultValue(specs[a], decoded[a]) == resultValue(specs[a], whole[a]), what.c_str());
        Acc second;
        decodeAcc(specs[a], in, second);
        mergeAcc(specs[a], firstPart[a], second);
        QVERIFY2(resultValue(specs[a], firstPart[a]) == resultValue(specs[a], whole[a]),
                 (what + ": merged " + resultValue(specs[a], firstPart[a]).toString() + ", whole " +
                  resultValue(specs[a], whole[a]).toString()).c_str());
      }
      QVERIFY(in.empty());
    }
  }

  /// Hand-checked (hi = max v, kinds = count_distinct v), arrival order at p = 1:
  ///   (1,a,5) +I a 5 1 | (2,b,3) +I b 3 1 | (3,a,7) -U a 5 1, +U a 7 2
  ///   (4,a,5) no change | (5,b,3) no change | (6,b,9) -U b 3 1, +U b 9 2
  ///   (7,a,6) -U a 7 2, +U a 7 3
  void aggregateChangelogIsExact() {
    QTemporaryDir dir;
    const fs::path base = dir.path().toStdString();
    writeEvents(base / "events.csv", {{1, "a", 5}, {2, "b", 3}, {3, "a", 7}, {4, "a", 5}, {5, "b", 3}, {6, "b", 9},
                                      {7, "a", 6}});
    const std::string job = aggregateJob(
        R"([{"name": "hi", "fn": "max", "field": "v"}, {"name": "kinds", "fn": "count_distinct", "field": "v"}])",
        false);
    test::Collected c;
    std::string failure;
    QCOMPARE(test::runText(job, base, c, {}, &failure), std::string("FINISHED"));
    QCOMPARE(c.rows, (std::vector<std::string>{"+I|a|5|1", "+I|b|3|1", "-U|a|5|1", "+U|a|7|2", "-U|b|3|1",
                                               "+U|b|9|2", "-U|a|7|2", "+U|a|7|3"}));
  }

  /// In batch mode the same input gives only the final rows, as inserts.
  void aggregateBatchModeEmitsFinalRowsOnly() {
    QTemporaryDir dir;
    const fs::path base = dir.path().toStdString();
    writeEvents(base / "events.csv", {{1, "a", 5}, {2, "b", 3}, {3, "a", 7}, {4, "a", 5}, {5, "b", 3}, {6, "b", 9},
                                      {7, "a", 6}});
    const std::string job = aggregateJob(
        R"([{"name": "hi", "fn": "max", "field": "v"}, {"name": "kinds", "fn": "count_distinct", "field": "v"}])",
        true);
    test::Collected c;
    QCOMPARE(test::runText(job, base, c), std::string("FINISHED"));
    QCOMPARE(c.sorted(), (std::vector<std::string>{"+I|a|7|3", "+I|b|9|2"}));
  }

  /// With no key every record is one group, at any parallelism (one subtask gets all).
  void aggregateWithoutKeyIsOneGroup() {
    QTemporaryDir dir;
    const fs::path base = dir.path().toStdString();
    writeEvents(base / "events.csv", {{1, "a", 5}, {2, "b", 3}, {3, "a", 7}});
    std::string job = aggregateJob(R"([{"name": "n", "fn": "count"}, {"name": "hi", "fn": "max", "field": "v"}])", false);
    job.replace(job.find(R"("key": ["k"])"), std::string(R"("key": ["k"])").size(), R"("key": [])");
    JobOverrides o;
    o.parallelism = 4;
    test::Collected c;
    QCOMPARE(test::runText(job, base, c, o), std::string("FINISHED"));
    QCOMPARE(c.rows, (std::vector<std::string>{"+I|1|5", "-U|1|5", "+U|2|5", "-U|2|5", "+U|3|7"}));
  }

  void aggregateStreamingEqualsBatch_data() {
    QTest::addColumn<int>("parallelism");
    QTest::addColumn<bool>("shuffled");
    for (int p : {1, 4})
      for (bool shuffled : {false, true})
        QTest::newRow(qPrintable(QString("p=%1%2").arg(p).arg(shuffled ? " shuffled" : ""))) << p << shuffled;
  }
  /// Every aggregate function over 3000 events of 13 keys: the streaming changelog,
  /// applied, and the batch-mode output both equal the reference.
  void aggregateStreamingEqualsBatch() {
    QFETCH(int, parallelism);
    QFETCH(bool, shuffled);
    const auto events = makeEvents(3000, 13, 7, 0);
    const auto expected = refAggregate(events);
    QTemporaryDir dir;
    const fs::path base = dir.path().toStdString();
    writeEvents(base / "events.csv", shuffled ? shuffledWithin(events, 70, 5) : events);
    JobOverrides o;
    o.parallelism = parallelism;
    for (bool batch : {false, true}) {
      test::Collected c;
      std::string failure;
      QCOMPARE(test::runText(aggregateJob(kAggregates, batch, 70), base, c, o, &failure), std::string("FINISHED"));
      std::vector<std::string> actual;
      if (batch) {
        actual = c.sorted();
      } else {
        QVERIFY(c.rows.size() > expected.size() * 10);  // many updates, not just the final rows
        actual = applyChangelog(c.rows);
      }
      if (actual.size() == 1) qWarning("%s", actual[0].c_str());
      QCOMPARE(actual.size(), expected.size());
      for (std::size_t i = 0; i < actual.size(); ++i) QCOMPARE(actual[i], expected[i]);
    }
  }

  // ---- join -------------------------------------------------------------------------

  void joinMatchesNestedLoop_data() {
    QTest::addColumn<int>("parallelism");
    QTest::addColumn<bool>("shuffled");
    QTest::addColumn<int>("lower");
    QTest::addColumn<int>("upper");
    for (int p : {1, 3})
      for (bool shuffled : {false, true}) {
        QTest::newRow(qPrintable(QString("[-30,50] p=%1%2").arg(p).arg(shuffled ? " shuffled" : "")))
            << p << shuffled << -30 << 50;
        QTest::newRow(qPrintable(QString("[10,40] p=%1%2").arg(p).arg(shuffled ? " shuffled" : "")))
            << p << shuffled << 10 << 40;
        QTest::newRow(qPrintable(QString("[-60,-20] p=%1%2").arg(p).arg(shuffled ? " shuffled" : "")))
            << p << shuffled << -60 << -20;
      }
  }
  void joinMatchesNestedLoop() {
    QFETCH(int, parallelism);
    QFETCH(bool, shuffled);
    QFETCH(int, lower);
    QFETCH(int, upper);
    checkJoin("\"lower_ms\": " + std::to_string(lower) + ", \"upper_ms\": " + std::to_string(upper), parallelism,
              shuffled, [&](const auto& left, const auto& right) { return refJoin(left, right, lower, upper); });
  }

  void windowJoinMatchesNestedLoop_data() {
    QTest::addColumn<int>("parallelism");
    QTest::addColumn<bool>("shuffled");
    QTest::addColumn<QString>("window");
    QTest::addColumn<int>("size");
    QTest::addColumn<int>("slide");
    QTest::addColumn<int>("gap");
    for (int p : {1, 3})
      for (bool shuffled : {false, true}) {
        QTest::newRow(qPrintable(QString("tumbling 50 p=%1%2").arg(p).arg(shuffled ? " shuffled" : "")))
            << p << shuffled << QString(R"({"type": "tumbling", "size_ms": 50})") << 50 << 50 << 0;
        QTest::newRow(qPrintable(QString("sliding 60/20 p=%1%2").arg(p).arg(shuffled ? " shuffled" : "")))
            << p << shuffled << QString(R"({"type": "sliding", "size_ms": 60, "slide_ms": 20})") << 60 << 20 << 0;
        QTest::newRow(qPrintable(QString("session 12 p=%1%2").arg(p).arg(shuffled ? " shuffled" : "")))
            << p << shuffled << QString(R"({"type": "session", "gap_ms": 12})") << 0 << 0 << 12;
      }
  }
  /// A window join gives every pair of equal key once per window that holds both records,
  /// with the window's bounds, at any parallelism and however the input is shuffled within
  /// the sources' bound; no record is late.
  void windowJoinMatchesNestedLoop() {
    QFETCH(int, parallelism);
    QFETCH(bool, shuffled);
    QFETCH(QString, window);
    QFETCH(int, size);
    QFETCH(int, slide);
    QFETCH(int, gap);
    checkJoin("\"window\": " + window.toStdString(), parallelism, shuffled, [&](const auto& left, const auto& right) {
      return gap > 0 ? refSessionJoin(left, right, gap) : refWindowJoin(left, right, size, slide);
    });
  }

  /// Driven directly: a window's pairs come out when the watermark reaches its end - 1,
  /// stamped end - 1, left records in arrival order each with the right ones in arrival
  /// order; a sliding window's pair comes once per window holding both; a record whose
  /// windows have all fired is late and counted, one with a window still open joins in
  /// that one only; the state is empty once every window fired.
  void windowJoinFiresOnTheWatermark() {
    OperatorCounters counters;
    OperatorContext ctx;
    auto op = openJoin(ctx, counters, {{"window", {{"type", "sliding"}, {"size_ms", 20}, {"slide_ms", 10}}}},
                       {{"window_start", Type::Timestamp}, {"window_end", Type::Timestamp}});
    const SchemaPtr left = ctx.inputSchemas[0], right = ctx.inputSchemas[1];
    VectorOutput out;
    KeyedStateBackend& state = *ctx.keyedStateIfAny();

    // Windows: 12 is in [0,20) and [10,30); 15 too; 25 in [10,30) and [20,40).
    op->processBatch(0, rowsOf(left, {{12, "x", 1}, {15, "x", 2}, {12, "y", 3}}), out);
    op->processBatch(1, rowsOf(right, {{25, "x", 4}, {18, "x", 5}}), out);
    QVERIFY(out.rows.empty());
    op->processWatermark(Watermark{19}, out);  // fires [0,20): left 12, 15 with right 18
    QCOMPARE(out.rows, (std::vector<std::string>{"+I|12|x|1|18|x|5|0|20@19", "+I|15|x|2|18|x|5|0|20@19"}));
    out.rows.clear();
    // 8 is only in [-10,10) and [0,20), both fired: late. 19 is in [0,20) (fired) and
    // [10,30): joins there only.
    op->processBatch(1, rowsOf(right, {{8, "x", 6}, {19, "x", 7}}), out);
    QCOMPARE(counters.lateRecords.load(), std::int64_t(1));
    op->processWatermark(Watermark{29}, out);  // fires [10,30): 12, 15 with 25, 18, 19
    QCOMPARE(out.rows, (std::vector<std::string>{"+I|12|x|1|25|x|4|10|30@29", "+I|12|x|1|18|x|5|10|30@29",
                                                 "+I|12|x|1|19|x|7|10|30@29", "+I|15|x|2|25|x|4|10|30@29",
                                                 "+I|15|x|2|18|x|5|10|30@29", "+I|15|x|2|19|x|7|10|30@29"}));
    out.rows.clear();
    QCOMPARE(buffered(state), std::size_t(1));  // right 25 in [20,40), no left: nothing
    op->processWatermark(Watermark{39}, out);
    QVERIFY(out.rows.empty());
    QCOMPARE(buffered(state), std::size_t(0));
    QCOMPARE(state.keys().size(), std::size_t(0));
    op->close();

    // Before the epoch: windows [-20,-10) and [-10,0).
    OperatorCounters negCounters;
    OperatorContext negCtx;
    auto neg = openJoin(negCtx, negCounters, {{"window", {{"type", "tumbling"}, {"size_ms", 10}}}},
                        {{"window_start", Type::Timestamp}, {"window_end", Type::Timestamp}});
    VectorOutput negOut;
    neg->processBatch(0, rowsOf(negCtx.inputSchemas[0], {{-15, "x", 1}}), negOut);
    neg->processBatch(1, rowsOf(negCtx.inputSchemas[1], {{-12, "x", 2}, {-5, "x", 3}}), negOut);
    neg->processWatermark(Watermark{-1}, negOut);
    QCOMPARE(negOut.rows, std::vector<std::string>{"+I|-15|x|1|-12|x|2|-20|-10@-11"});
    neg->close();
  }

  /// Session window join driven directly (gap 10): sessions come from both sides' records
  /// together; a record that bridges two sessions merges them, buffers and all, and the
  /// merged session fires once, at its end - 1 (the timers of the parts are stale); a
  /// record whose session would have fired already is late.
  void sessionWindowJoinMergesSessions() {
    OperatorCounters counters;
    OperatorContext ctx;
    auto op = openJoin(ctx, counters, {{"window", {{"type", "session"}, {"gap_ms", 10}}}},
                       {{"window_start", Type::Timestamp}, {"window_end", Type::Timestamp}});
    const SchemaPtr left = ctx.inputSchemas[0], right = ctx.inputSchemas[1];
    VectorOutput out;
    KeyedStateBackend& state = *ctx.keyedStateIfAny();
    op->processBatch(0, rowsOf(left, {{0, "x", 1}, {25, "x", 2}}), out);  // [0,10) and [25,35)
    op->processBatch(1, rowsOf(right, {{30, "x", 3}}), out);              // [25,40)
    op->processWatermark(Watermark{8}, out);
    QVERIFY(out.rows.empty());
    op->processBatch(1, rowsOf(right, {{9, "x", 4}}), out);   // [0,19)
    op->processBatch(0, rowsOf(left, {{17, "x", 5}}), out);   // bridges: [0,40)
    QCOMPARE(buffered(state), std::size_t(5));
    op->processWatermark(Watermark{18}, out);  // the stale timer of [0,19): nothing
    QVERIFY(out.rows.empty());
    op->processWatermark(Watermark{39}, out);
    // Merged earliest session first: left 0, 25, then 17; right 9, then 30.
    QCOMPARE(out.rows, (std::vector<std::string>{"+I|0|x|1|9|x|4|0|40@39", "+I|0|x|1|30|x|3|0|40@39",
                                                 "+I|25|x|2|9|x|4|0|40@39", "+I|25|x|2|30|x|3|0|40@39",
                                                 "+I|17|x|5|9|x|4|0|40@39", "+I|17|x|5|30|x|3|0|40@39"}));
    QCOMPARE(buffered(state), std::size_t(0));
    op->processBatch(0, rowsOf(left, {{28, "x", 6}}), out);  // [28,38) fired already: late
    QCOMPARE(counters.lateRecords.load(), std::int64_t(1));
    QCOMPARE(buffered(state), std::size_t(0));
    QCOMPARE(state.keys().size(), std::size_t(0));
    op->close();
  }

  /// The job file says which join it is: a window with lower_ms, or neither, or a session
  /// window, is refused with the member named.
  void windowJoinParamsAreChecked() {
    auto problems = [](const std::string& params) {
      const std::string text = joinJobWith(params, 0);
      Diagnostics diags;
      auto job = parseJob(text, "join.weir.json", diags);
      if (job) validateJob(*job, test::harnessCatalog(), diags);
      std::string all;
      for (const auto& d : diags) all += d.toString() + "\n";
      return all;
    };
    QCOMPARE(problems(R"("window": {"type": "tumbling", "size_ms": 50})"), std::string());
    QVERIFY2(problems(R"("window": {"type": "tumbling", "size_ms": 50}, "lower_ms": 0)").find("lower_ms") !=
                 std::string::npos,
             "window with lower_ms");
    QVERIFY(problems(R"("upper_ms": 5)").find("lower_ms: missing") != std::string::npos);
    QCOMPARE(problems(R"("window": {"type": "session", "gap_ms": 50})"), std::string());
    QVERIFY(problems(R"("window": {"type": "session", "size_ms": 50})").find("window.gap_ms") != std::string::npos);
    QVERIFY(problems(R"("window": {"type": "sliding", "size_ms": 50})").find("window.slide_ms") != std::string::npos);
  }

  /// A batch job gives the same pairs (sources bounded; the same operator).
  void joinInBatchModeMatchesNestedLoop() {
    const auto left = makeEvents(800, 11, 5, 0);
    const auto right = makeEvents(700, 11, 6, 3);
    const auto expected = refJoin(left, right, -30, 50);
    QTemporaryDir dir;
    const fs::path base = dir.path().toStdString();
    writeEvents(base / "left.csv", left, "a");
    writeEvents(base / "right.csv", right, "b");
    std::string job = joinJob(-30, 50, 0);
    job.replace(job.find(R"("name": "join",)"), std::string(R"("name": "join",)").size(),
                R"("name": "join", "mode": "batch",)");
    JobOverrides o;
    o.parallelism = 2;
    test::Collected c;
    QCOMPARE(test::runText(job, base, c, o), std::string("FINISHED"));
    QCOMPARE(c.sorted(), expected);
  }

  /// The operator driven directly (lower -10, upper 20): output times are max(left,
  /// right); records leave the state once the watermark passes left + 20 / right + 10;
  /// a record below the watermark is dropped and counted.
  void joinStateIsCleanedUpByWatermark() {
    OperatorCounters counters;
    OperatorContext ctx;
    auto op = openJoin(ctx, counters, {{"lower_ms", -10}, {"upper_ms", 20}});
    const SchemaPtr left = ctx.inputSchemas[0], right = ctx.inputSchemas[1];
    VectorOutput out;
    KeyedStateBackend& state = *ctx.keyedStateIfAny();

    op->processBatch(0, rowsOf(left, {{100, "x", 1}, {100, "y", 2}}), out);
    op->processBatch(1, rowsOf(right, {{95, "x", 3}, {125, "x", 4}}), out);  // 125 > 100 + 20: no match
    QCOMPARE(out.rows, (std::vector<std::string>{"+I|100|x|1|95|x|3@100"}));
    QCOMPARE(buffered(state), std::size_t(4));
    op->processWatermark(Watermark{105}, out);  // keeps right 95 (105 is not > 95 + 10)
    QCOMPARE(buffered(state), std::size_t(4));
    op->processWatermark(Watermark{106}, out);  // drops right 95
    QCOMPARE(buffered(state), std::size_t(3));
    op->processBatch(1, rowsOf(right, {{119, "x", 5}, {100, "x", 6}}), out);  // 100 < 106: late
    QCOMPARE(out.rows.back(), std::string("+I|100|x|1|119|x|5@119"));
    QCOMPARE(out.rows.size(), std::size_t(2));
    QCOMPARE(counters.lateRecords.load(), std::int64_t(1));
    QCOMPARE(buffered(state), std::size_t(4));
    op->processWatermark(Watermark{121}, out);  // drops left 100 x and y
    QCOMPARE(buffered(state), std::size_t(2));
    op->processWatermark(Watermark{136}, out);  // drops right 119 (at 130) and 125 (at 136)
    QCOMPARE(buffered(state), std::size_t(0));
    QCOMPARE(state.keys().size(), std::size_t(0));
    op->close();
  }

  // ---- samples ----------------------------------------------------------------------

  /// samples/clicks-per-user: the CSV changelog, per user in order, equals a reference
  /// changelog computed here from the input, at parallelism 1 and 3.
  void sampleClicksPerUser() {
    // Reference: per user, in file order: clicks, distinct pages, dwell sum, longest.
    struct State {
      std::int64_t clicks = 0, dwell = 0, longest = INT64_MIN;
      std::set<std::string> pages;
      std::string row() const {
        return std::to_string(clicks) + "," + std::to_string(pages.size()) + "," + std::to_string(dwell) + "," +
               std::to_string(longest);
      }
    };
    std::map<std::string, State> state;
    std::map<std::string, std::vector<std::string>> expected;  // per user, in order
    auto input = test::readLines(kSource / "samples/data/clicks.csv");
    QCOMPARE(input.front(), std::string("time,user,page,dwell_ms"));
    for (std::size_t i = 1; i < input.size(); ++i) {
      const auto f = test::split(input[i], ',');
      State& s = state[f[1]];
      const bool first = s.clicks == 0;
      const std::string before = s.row();
      ++s.clicks;
      s.pages.insert(f[2]);
      s.dwell += std::stoll(f[3]);
      s.longest = std::max<std::int64_t>(s.longest, std::stoll(f[3]));
      auto& rows = expected[f[1]];
      if (first) {
        rows.push_back("+I," + f[1] + "," + s.row());
      } else if (s.row() != before) {
        rows.push_back("-U," + f[1] + "," + before);
        rows.push_back("+U," + f[1] + "," + s.row());
      }
    }
    QCOMPARE(state.size(), std::size_t(12));
    for (int p : {1, 3}) {
      QTemporaryDir dir;
      const fs::path job = copySample(dir, "clicks-per-user.weir.json");
      test::Collected c;
      JobOverrides o;
      o.parallelism = p;
      QCOMPARE(test::runText(readFile(job), job.parent_path(), c, o), std::string("FINISHED"));
      auto out = test::readLines(job.parent_path() / "out/clicks-per-user.csv");
      QVERIFY(!out.empty());
      QCOMPARE(out.front(), std::string("op,user,clicks,pages,dwell_ms,longest_ms"));
      std::map<std::string, std::vector<std::string>> actual;
      for (std::size_t i = 1; i < out.size(); ++i) actual[test::split(out[i], ',')[1]].push_back(out[i]);
      QCOMPARE(actual.size(), expected.size());
      for (const auto& [user, rows] : expected) QCOMPARE(actual[user], rows);
    }
  }

  /// samples/fraud-join: the alerts equal a nested loop over the two input files
  /// (payments with a login of the same card in the 10 minutes before, from another
  /// city), at parallelism 1 and 3.
  /// samples/click-sessions: session windows (gap 30 s) per user equal a reference that
  /// sorts each user's clicks and starts a session where the pause exceeds the gap
  /// (sessions [t, t + gap) that touch merge); the same at parallelism 1 and 3, in batch
  /// mode, and from a shuffled copy of the clicks (disorder under the 5 s bound).
  void sampleClickSessions() {
    constexpr std::int64_t kGap = 30000;
    struct Click {
      std::int64_t t;
      std::string page;
      std::int64_t dwell;
    };
    auto input = test::readLines(kSource / "samples/data/clicks.csv");
    std::map<std::string, std::vector<Click>> byUser;
    for (std::size_t i = 1; i < input.size(); ++i) {
      const auto f = test::split(input[i], ',');
      byUser[f[1]].push_back({*parseTimestamp(f[0]), f[2], std::stoll(f[3])});
    }
    std::vector<std::string> expected;
    for (auto& [user, clicks] : byUser) {
      std::stable_sort(clicks.begin(), clicks.end(), [](const Click& a, const Click& b) { return a.t < b.t; });
      for (std::size_t i = 0; i < clicks.size();) {
        std::size_t j = i + 1;
        while (j < clicks.size() && clicks[j].t - clicks[j - 1].t <= kGap) ++j;
        std::set<std::string> pages;
        std::int64_t dwell = 0;
        for (std::size_t k = i; k < j; ++k) {
          pages.insert(clicks[k].page);
          dwell += clicks[k].dwell;
        }
        // first/last: the value with the smallest/largest event time (ties: smaller/larger value).
        std::string entry = clicks[i].page, exit = clicks[j - 1].page;
        for (std::size_t k = i; k < j; ++k) {
          if (clicks[k].t == clicks[i].t) entry = std::min(entry, clicks[k].page);
          if (clicks[k].t == clicks[j - 1].t) exit = std::max(exit, clicks[k].page);
        }
        expected.push_back(user + "," + formatTimestamp(clicks[i].t) + "," + formatTimestamp(clicks[j - 1].t + kGap) +
                           "," + std::to_string(j - i) + "," + std::to_string(pages.size()) + "," +
                           std::to_string(dwell) + "," + entry + "," + exit);
        i = j;
      }
    }
    std::sort(expected.begin(), expected.end());
    QCOMPARE(expected.size(), std::size_t(63));

    auto run = [&](int p, bool batch, bool shuffle) {
      QTemporaryDir dir;
      const fs::path job = copySample(dir, "click-sessions.weir.json");
      if (shuffle) {  // each click moved by less than 2.5 s of event time
        std::vector<std::pair<double, std::string>> lines;
        std::mt19937 rng(11);
        std::uniform_real_distribution<double> jitter(0, 2500);
        for (std::size_t i = 1; i < input.size(); ++i)
          lines.push_back({static_cast<double>(*parseTimestamp(test::split(input[i], ',')[0])) + jitter(rng), input[i]});
        std::sort(lines.begin(), lines.end());
        std::ofstream out(job.parent_path() / "data/clicks.csv", std::ios::trunc);
        out << input[0] << "\n";
        for (const auto& [key, line] : lines) out << line << "\n";
      }
      std::string text = readFile(job);
      if (batch) text.replace(text.find("\"streaming\""), 11, "\"batch\"");
      test::Collected c;
      JobOverrides o;
      o.parallelism = p;
      if (test::runText(text, job.parent_path(), c, o) != "FINISHED") return std::vector<std::string>{"failed"};
      auto out = test::readLines(job.parent_path() / "out/click-sessions.csv");
      if (out.empty() || out.front() != "user,window_start,window_end,clicks,pages,dwell_ms,entry_page,exit_page")
        return std::vector<std::string>{"header: " + (out.empty() ? std::string() : out.front())};
      out.erase(out.begin());
      std::sort(out.begin(), out.end());
      return out;
    };
    QCOMPARE(run(1, false, false), expected);
    QCOMPARE(run(3, false, false), expected);
    QCOMPARE(run(2, true, false), expected);
    QCOMPARE(run(2, false, true), expected);
  }

  void sampleFraudJoin() {
    auto payments = test::readLines(kSource / "samples/data/card-payments.csv");
    auto logins = test::readLines(kSource / "samples/data/card-logins.csv");
    QCOMPARE(payments.front(), std::string("time,card,amount,city"));
    QCOMPARE(logins.front(), std::string("time,card,city,device"));
    std::vector<std::string> expected;
    for (std::size_t i = 1; i < payments.size(); ++i) {
      const auto p = test::split(payments[i], ',');
      const std::int64_t pt = *parseTimestamp(p[0]);
      for (std::size_t j = 1; j < logins.size(); ++j) {
        const auto l = test::split(logins[j], ',');
        const std::int64_t lt = *parseTimestamp(l[0]);
        if (p[1] == l[1] && pt - 600000 <= lt && lt <= pt && p[3] != l[2])
          expected.push_back(p[0] + "," + p[1] + "," + formatDouble(std::stod(p[2])) + "," + p[3] + "," + l[0] +
                             "," + l[2] + "," + l[3]);
      }
    }
    std::sort(expected.begin(), expected.end());
    QVERIFY(expected.size() >= 10);
    for (int p : {1, 3}) {
      QTemporaryDir dir;
      const fs::path job = copySample(dir, "fraud-join.weir.json");
      test::Collected c;
      JobOverrides o;
      o.parallelism = p;
      JobMetrics m;
      QCOMPARE(test::runText(readFile(job), job.parent_path(), c, o, nullptr, &m), std::string("FINISHED"));
      auto out = test::readLines(job.parent_path() / "out/fraud-alerts.csv");
      QVERIFY(!out.empty());
      QCOMPARE(out.front(), std::string("paid_at,card,amount,paid_in,login_at,login_in,device"));
      out.erase(out.begin());
      std::sort(out.begin(), out.end());
      QCOMPARE(out.size(), expected.size());
      for (std::size_t i = 0; i < out.size(); ++i) QCOMPARE(out[i], expected[i]);
      for (const auto& n : m.nodes)
        if (n.id == "recent_login") QCOMPARE(n.lateRecords, std::int64_t(0));
    }
  }

  /// samples/ad-clicks (a window join): every impression with every click of the same user
  /// on the same ad in the same minute, computed here from the CSVs (both a little out of
  /// order, within the sources' bound), at parallelism 1 and 3; nothing late.
  void sampleAdClicks() {
    auto impressions = test::readLines(kSource / "samples/data/ad-impressions.csv");
    auto clicks = test::readLines(kSource / "samples/data/ad-clicks.csv");
    QCOMPARE(impressions.front(), std::string("time,ad,user,placement"));
    QCOMPARE(clicks.front(), std::string("time,ad,user"));
    std::vector<std::string> expected;
    for (std::size_t i = 1; i < impressions.size(); ++i) {
      const auto im = test::split(impressions[i], ',');
      const std::int64_t it = *parseTimestamp(im[0]);
      for (std::size_t j = 1; j < clicks.size(); ++j) {
        const auto c = test::split(clicks[j], ',');
        const std::int64_t ct = *parseTimestamp(c[0]);
        if (im[1] == c[1] && im[2] == c[2] && it / 60000 == ct / 60000)
          expected.push_back(formatTimestamp(it / 60000 * 60000) + "," + im[1] + "," + im[2] + "," + im[3] + "," +
                             im[0] + "," + c[0]);
      }
    }
    std::sort(expected.begin(), expected.end());
    QVERIFY(expected.size() >= 30);
    for (int p : {1, 3}) {
      QTemporaryDir dir;
      const fs::path job = copySample(dir, "ad-clicks.weir.json");
      test::Collected c;
      JobOverrides o;
      o.parallelism = p;
      JobMetrics m;
      QCOMPARE(test::runText(readFile(job), job.parent_path(), c, o, nullptr, &m), std::string("FINISHED"));
      auto out = test::readLines(job.parent_path() / "out/ad-clicks.csv");
      QVERIFY(!out.empty());
      QCOMPARE(out.front(), std::string("minute,ad,user,placement,seen_at,clicked_at"));
      out.erase(out.begin());
      std::sort(out.begin(), out.end());
      QCOMPARE(out, expected);
      for (const auto& n : m.nodes)
        if (n.id == "same_minute") QCOMPARE(n.lateRecords, std::int64_t(0));
    }
  }
};

QTEST_APPLESS_MAIN(TestAggregateJoin)
#include "test_aggregate_join.moc"
