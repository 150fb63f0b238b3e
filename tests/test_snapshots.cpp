// Snapshots of the stateful operators and of keyed state, driven directly (no job, no
// runtime): an operator instance is fed a sequence of elements (batches, watermarks,
// processing-time advances, end of input), and at EVERY boundary k of the sequence:
//
//   elements [0, k) --> op --snapshotOperator--> encode --> decode --restoreOperator--> fresh op
//                                                                                 --> elements [k, n)
//
// the output of the first instance followed by the fresh one's equals the uninterrupted
// run's, row for row and watermark for watermark. Rescaled: instances at parallelism p
// snapshot, p' fresh instances (their key-group ranges) restore from all p snapshots and
// take the rest partitioned by key (runtime/partition.h) as hash edges would: the union of
// their rows equals the uninterrupted run's (as a multiset: rows of different subtasks have
// no order). A snapshot cut short or corrupted fails with SnapshotError naming the place.
//
// Configurations: window (tumbling, sliding, session; event time with and without
// allowed lateness and late records; processing time), aggregate, interval join and
// window join (tumbling, sliding, session); and the heap backend's kinds of state with
// TTL write times, and the timers, on their own.

#include <QtTest>

#include <random>

#include "event_data.h"
#include "job_harness.h"
#include "runtime/partition.h"
#include "runtime/registry.h"
#include "runtime/snapshot.h"
#include "runtime/state/timers.h"
#include "runtime/watermarks.h"

using namespace weir;

namespace {

constexpr int kMaxP = 128;

/// One element of an operator's input.
struct Step {
  enum Kind { Batch, Wm, Clock, End, Finish } kind = Batch;
  int port = 0;
  RecordBatch batch;
  std::int64_t value = 0;  // watermark; clock (ms)
};

/// What an operator is, as a context is made for it.
struct Config {
  std::string type;
  nlohmann::json params;
  std::vector<SchemaPtr> inputs;
  std::vector<std::string> inPorts;
  std::vector<SchemaPtr> outputs;
  std::vector<std::string> outPorts;
  std::vector<std::vector<int>> keyFields;  // per input port
  std::vector<Type> keyTypes;
};

/// Everything an operator emits, in order: "port:row@time" and "wm:time".
class Collect final : public Output {
 public:
  void collect(int port, RecordBatch b) override {
    for (std::size_t r = 0; r < b.numRows(); ++r)
      rows.push_back(std::to_string(port) + ":" + test::rowText(b, r) + "@" + std::to_string(b.eventTime(r)));
  }
  void emitWatermark(Watermark wm) override { rows.push_back("wm:" + std::to_string(wm.timestamp)); }
  std::vector<std::string> rows;
};

struct Instance {
  OperatorContext ctx;
  OperatorCounters counters;
  std::unique_ptr<Operator> op;
  std::int64_t now = 0;  // the backend's clock: processing time
};

std::unique_ptr<Instance> start(const Config& c, int subtask, int parallelism, std::int64_t now) {
  auto in = std::make_unique<Instance>();
  in->now = now;
  OperatorContext& ctx = in->ctx;
  ctx.nodeId = "op";
  ctx.type = c.type;
  ctx.subtask = subtask;
  ctx.parallelism = parallelism;
  ctx.params = c.params;
  ctx.inputSchemas = c.inputs;
  ctx.inputPorts = c.inPorts;
  ctx.outputSchemas = c.outputs;
  ctx.outputPorts = c.outPorts;
  ctx.counters = &in->counters;
  ctx.maxParallelism = kMaxP;
  ctx.keyGroups = keyGroupRangeForSubtask(kMaxP, parallelism, subtask);
  Instance* self = in.get();
  if (!c.keyTypes.empty()) ctx.keyedState(c.keyTypes).setClock([self] { return self->now; });
  in->op = (*OperatorRegistry::builtin().find(c.type))(ctx);
  in->op->open(ctx);
  return in;
}

/// Feeds one element as the task loop would (processing time fires after each element
/// once the clock has reached the operator's deadline).
void feed(Instance& in, const Step& s, Output& out) {
  switch (s.kind) {
    case Step::Batch: in.op->processBatch(s.port, s.batch, out); break;
    case Step::Wm: in.op->processWatermark(Watermark{s.value}, out); break;
    case Step::Clock: in.now = s.value; break;
    case Step::End: in.op->endInput(s.port, out); break;
    case Step::Finish: in.op->finish(out); break;
  }
  while (in.op->processingDeadline() <= in.now) in.op->onProcessingTime(in.now, out);
}

OperatorSnapshot roundTrip(Instance& in, std::int64_t id) {
  const OperatorSnapshot s = snapshotOperator(*in.op, in.ctx, id);
  return OperatorSnapshot::decode(s.encode(), "snapshot " + std::to_string(id));
}

std::vector<std::string> runWhole(const Config& c, const std::vector<Step>& steps) {
  auto in = start(c, 0, 1, 0);
  Collect out;
  for (const Step& s : steps) feed(*in, s, out);
  in->op->close();
  return out.rows;
}

/// Runs [0, k), snapshots, restores into a fresh instance, runs [k, n). The first
/// instance also takes a snapshot after every element before k, thrown away (checkpoints
/// that did not complete), so the one restored from is never a table's first.
std::vector<std::string> runCut(const Config& c, const std::vector<Step>& steps, std::size_t k) {
  Collect out;
  auto first = start(c, 0, 1, 0);
  for (std::size_t i = 0; i < k; ++i) {
    feed(*first, steps[i], out);
    if (i + 1 < k) snapshotOperator(*first->op, first->ctx, static_cast<std::int64_t>(i) + 1);
  }
  const OperatorSnapshot snap = roundTrip(*first, static_cast<std::int64_t>(k) + 1);
  const std::int64_t now = first->now;
  first->op->close();
  first.reset();
  auto second = start(c, 0, 1, now);
  restoreOperator(*second->op, second->ctx, {snap});
  for (std::size_t i = k; i < steps.size(); ++i) feed(*second, steps[i], out);
  second->op->close();
  return out.rows;
}

/// The element as subtask `t` of `p` gets it: its rows by key (hash partitioning), the
/// rest broadcast. False: nothing for it.
bool partOf(const Config& c, const Step& s, int t, int p, Step& part) {
  part = s;
  if (s.kind != Step::Batch || p == 1) return true;
  std::vector<std::vector<std::uint32_t>> rows(static_cast<std::size_t>(p));
  partitionByKey(s.batch, c.keyFields.at(static_cast<std::size_t>(s.port)), kMaxP, rows);
  if (rows[static_cast<std::size_t>(t)].empty()) return false;
  part.batch = s.batch.select(rows[static_cast<std::size_t>(t)]);
  return true;
}

std::vector<std::string> dataRows(std::vector<std::string> rows) {
  std::erase_if(rows, [](const std::string& r) { return r.starts_with("wm:"); });
  std::sort(rows.begin(), rows.end());
  return rows;
}

/// Parallelism `from` over [0, k), then `to` fresh instances restored from all their
/// snapshots over [k, n): every data row, sorted.
std::vector<std::string> runRescaled(const Config& c, const std::vector<Step>& steps, std::size_t k, int from, int to) {
  Collect out;
  std::vector<OperatorSnapshot> snaps;
  std::int64_t now = 0;
  for (int t = 0; t < from; ++t) {
    auto in = start(c, t, from, 0);
    for (std::size_t i = 0; i < k; ++i) {
      Step part;
      if (partOf(c, steps[i], t, from, part)) feed(*in, part, out);
    }
    snaps.push_back(roundTrip(*in, 7));
    now = in->now;
    in->op->close();
  }
  std::reverse(snaps.begin(), snaps.end());  // any order
  for (int t = 0; t < to; ++t) {
    auto in = start(c, t, to, now);
    restoreOperator(*in->op, in->ctx, snaps);
    for (std::size_t i = k; i < steps.size(); ++i) {
      Step part;
      if (partOf(c, steps[i], t, to, part)) feed(*in, part, out);
    }
    in->op->close();
  }
  return dataRows(out.rows);
}

// ---- Inputs ----

const SchemaPtr kEvents = makeSchema({{"t", Type::Int64}, {"k", Type::String}, {"v", Type::Int64},
                                      {"d", Type::Double}, {"s", Type::String}});

struct Row {
  std::int64_t t;
  std::string k;
  std::int64_t v;
};

RecordBatch eventBatch(const std::vector<Row>& rows) {
  BatchBuilder b(kEvents);
  for (const Row& r : rows) {
    b.column(0).appendInt64(r.t);
    b.column(1).appendString(r.k);
    b.column(2).appendInt64(r.v);
    b.column(3).appendDouble(static_cast<double>(r.v) * 0.5);
    if (r.v % 3 == 0) b.column(4).appendNull();
    else b.column(4).appendString("s" + std::to_string(r.v % 7));
    b.endRow(r.t);
  }
  return b.finish();
}

/// Event-time input: batches of 1-5 records over `keys` keys, out of order within `bound`,
/// some gaps (sessions end), watermarks (time - bound - 1) after most batches, and now
/// and then a record behind the watermark (late, or within the lateness); then the
/// maximum watermark and the end. Over `ports` inputs, batches alternate between them.
std::vector<Step> eventSteps(std::uint64_t seed, int batches, std::int64_t bound, int ports = 1, int keys = 9) {
  std::mt19937_64 rng(seed);
  std::vector<Step> steps;
  std::int64_t base = 0, maxT = 0, wm = kMinWatermark;
  for (int i = 0; i < batches; ++i) {
    base += static_cast<std::int64_t>(rng() % 9) + (rng() % 5 == 0 ? 30 : 0);
    std::vector<Row> rows;
    const int n = 1 + static_cast<int>(rng() % 5);
    for (int r = 0; r < n; ++r) {
      std::int64_t t = base - static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(bound + 1));
      if (wm != kMinWatermark && rng() % 7 == 0) t = wm - static_cast<std::int64_t>(rng() % 50);  // behind
      rows.push_back({t, "k" + std::to_string(rng() % static_cast<std::uint64_t>(keys)), static_cast<std::int64_t>(rng() % 40) - 10});
      maxT = std::max(maxT, t);
    }
    Step s;
    s.port = ports == 1 ? 0 : static_cast<int>(rng() % 2);
    if (ports == 1) {
      s.batch = eventBatch(rows);
    } else {
      const SchemaPtr schema = makeSchema({{"t", Type::Int64}, {"k", Type::String}, {s.port == 0 ? "a" : "b", Type::Int64}});
      std::vector<test::Event> ev;
      for (const Row& r : rows) ev.push_back({r.t, r.k, r.v});
      s.batch = test::rowsOf(schema, ev);
    }
    steps.push_back(std::move(s));
    if (rng() % 3 != 0 && maxT - bound - 1 > wm) {
      wm = maxT - bound - 1;
      steps.push_back(Step{Step::Wm, 0, {}, wm});
    }
  }
  steps.push_back(Step{Step::Wm, 0, {}, kMaxWatermark});
  for (int p = 0; p < ports; ++p) steps.push_back(Step{Step::End, p, {}, 0});
  steps.push_back(Step{Step::Finish, 0, {}, 0});
  return steps;
}

/// Processing-time input: the clock advances between batches; records carry no meaning
/// in their time field.
std::vector<Step> clockSteps(std::uint64_t seed, int batches) {
  std::mt19937_64 rng(seed);
  std::vector<Step> steps;
  std::int64_t now = 1000;
  for (int i = 0; i < batches; ++i) {
    now += static_cast<std::int64_t>(rng() % 8) + (rng() % 6 == 0 ? 25 : 0);
    steps.push_back(Step{Step::Clock, 0, {}, now});
    std::vector<Row> rows;
    const int n = 1 + static_cast<int>(rng() % 4);
    for (int r = 0; r < n; ++r)
      rows.push_back({0, "k" + std::to_string(rng() % 7), static_cast<std::int64_t>(rng() % 40) - 10});
    steps.push_back(Step{Step::Batch, 0, eventBatch(rows), 0});
  }
  steps.push_back(Step{Step::End, 0, {}, 0});
  steps.push_back(Step{Step::Finish, 0, {}, 0});
  return steps;
}

const char* kAggregates = R"([{"name": "n", "fn": "count"}, {"name": "sum", "fn": "sum", "field": "v"},
  {"name": "lo", "fn": "min", "field": "v"}, {"name": "hi", "fn": "max", "field": "v"},
  {"name": "mean", "fn": "avg", "field": "v"}, {"name": "first", "fn": "first", "field": "v"},
  {"name": "last", "fn": "last", "field": "v"}, {"name": "kinds", "fn": "count_distinct", "field": "v"},
  {"name": "dsum", "fn": "sum", "field": "d"}, {"name": "davg", "fn": "avg", "field": "d"},
  {"name": "ns", "fn": "count", "field": "s"}, {"name": "smin", "fn": "min", "field": "s"},
  {"name": "slast", "fn": "last", "field": "s"}, {"name": "skinds", "fn": "count_distinct", "field": "s"}])";

std::vector<Field> aggregateFields() {
  return {{"n", Type::Int64},     {"sum", Type::Int64},     {"lo", Type::Int64},     {"hi", Type::Int64},
          {"mean", Type::Double}, {"first", Type::Int64},   {"last", Type::Int64},   {"kinds", Type::Int64},
          {"dsum", Type::Double}, {"davg", Type::Double},   {"ns", Type::Int64},     {"smin", Type::String},
          {"slast", Type::String}, {"skinds", Type::Int64}};
}

Config windowConfig(const nlohmann::json& window, std::int64_t lateness) {
  Config c;
  c.type = "window";
  c.params = {{"key", {"k"}}, {"window", window}, {"allowed_lateness_ms", lateness},
              {"aggregates", nlohmann::json::parse(kAggregates)}};
  c.inputs = {kEvents};
  c.inPorts = {"in"};
  std::vector<Field> out = {{"k", Type::String}, {"window_start", Type::Timestamp}, {"window_end", Type::Timestamp}};
  for (const Field& f : aggregateFields()) out.push_back(f);
  c.outputs = {makeSchema(out), kEvents};
  c.outPorts = {"out", "late"};
  c.keyFields = {{1}};
  c.keyTypes = {Type::String};
  return c;
}

Config aggregateConfig() {
  Config c;
  c.type = "aggregate";
  c.params = {{"key", {"k"}}, {"aggregates", nlohmann::json::parse(kAggregates)}};
  c.inputs = {kEvents};
  c.inPorts = {"in"};
  std::vector<Field> out = {{"k", Type::String}};
  for (const Field& f : aggregateFields()) out.push_back(f);
  c.outputs = {makeSchema(out)};
  c.outPorts = {"out"};
  c.keyFields = {{1}};
  c.keyTypes = {Type::String};
  return c;
}

Config joinConfig(nlohmann::json params) {
  Config c;
  c.type = "join";
  const bool windowed = params.contains("window");
  params["left_key"] = {"k"};
  params["right_key"] = {"k"};
  c.params = std::move(params);
  c.inputs = {makeSchema({{"t", Type::Int64}, {"k", Type::String}, {"a", Type::Int64}}),
              makeSchema({{"t", Type::Int64}, {"k", Type::String}, {"b", Type::Int64}})};
  c.inPorts = {"left", "right"};
  std::vector<Field> out = {{"t", Type::Int64},       {"k", Type::String},       {"a", Type::Int64},
                            {"right_t", Type::Int64}, {"right_k", Type::String}, {"b", Type::Int64}};
  if (windowed) {
    out.push_back({"window_start", Type::Timestamp});
    out.push_back({"window_end", Type::Timestamp});
  }
  c.outputs = {makeSchema(out)};
  c.outPorts = {"out"};
  c.keyFields = {{1}, {1}};
  c.keyTypes = {Type::String};
  return c;
}

Config watermarkConfig() {
  Config c;
  c.type = "watermark";
  c.params = {{"timestamp", "t"}, {"watermark", {{"max_out_of_orderness_ms", 4}}}};
  c.inputs = {kEvents};
  c.inPorts = {"in"};
  c.outputs = {kEvents};
  c.outPorts = {"out"};
  return c;
}

struct Case {
  Config config;
  std::vector<Step> steps;
};

Case caseNamed(const std::string& name) {
  using nlohmann::json;
  if (name == "window tumbling") return {windowConfig({{"type", "tumbling"}, {"size_ms", 10}}, 0), eventSteps(1, 16, 6)};
  if (name == "window sliding")
    return {windowConfig({{"type", "sliding"}, {"size_ms", 20}, {"slide_ms", 10}}, 0), eventSteps(2, 16, 6)};
  if (name == "window session") return {windowConfig({{"type", "session"}, {"gap_ms", 10}}, 0), eventSteps(3, 18, 6)};
  if (name == "window tumbling lateness")
    return {windowConfig({{"type", "tumbling"}, {"size_ms", 10}}, 15), eventSteps(4, 18, 6)};
  if (name == "window sliding lateness")
    return {windowConfig({{"type", "sliding"}, {"size_ms", 20}, {"slide_ms", 5}}, 12), eventSteps(5, 16, 6)};
  if (name == "window session lateness")
    return {windowConfig({{"type", "session"}, {"gap_ms", 14}}, 30), eventSteps(5, 20, 6, 1, 3)};
  if (name == "window processing tumbling")
    return {windowConfig({{"type", "tumbling"}, {"size_ms", 10}, {"time", "processing"}}, 0), clockSteps(7, 16)};
  if (name == "window processing sliding")
    return {windowConfig({{"type", "sliding"}, {"size_ms", 12}, {"slide_ms", 4}, {"time", "processing"}}, 0),
            clockSteps(8, 14)};
  if (name == "window processing session")
    return {windowConfig({{"type", "session"}, {"gap_ms", 9}, {"time", "processing"}}, 0), clockSteps(9, 16)};
  if (name == "aggregate") return {aggregateConfig(), eventSteps(10, 14, 6)};
  if (name == "interval join")
    return {joinConfig({{"lower_ms", -15}, {"upper_ms", 12}}), eventSteps(11, 18, 6, 2, 4)};
  if (name == "window join tumbling")
    return {joinConfig({{"window", {{"type", "tumbling"}, {"size_ms", 10}}}}), eventSteps(12, 18, 6, 2, 4)};
  if (name == "window join sliding")
    return {joinConfig({{"window", {{"type", "sliding"}, {"size_ms", 20}, {"slide_ms", 10}}}}), eventSteps(13, 18, 6, 2, 4)};
  if (name == "window join session")
    return {joinConfig({{"window", {{"type", "session"}, {"gap_ms", 10}}}}), eventSteps(14, 20, 6, 2, 4)};
  if (name == "watermark") return {watermarkConfig(), eventSteps(15, 16, 6)};
  qFatal("no case %s", name.c_str());
}

const char* kCases[] = {"window tumbling",
                        "window sliding",
                        "window session",
                        "window tumbling lateness",
                        "window sliding lateness",
                        "window session lateness",
                        "window processing tumbling",
                        "window processing sliding",
                        "window processing session",
                        "aggregate",
                        "interval join",
                        "window join tumbling",
                        "window join sliding",
                        "window join session"};

std::string joined(const std::vector<std::string>& rows) {
  std::string s;
  for (const auto& r : rows) s += r + "\n";
  return s;
}

}  // namespace

class TestSnapshots : public QObject {
  Q_OBJECT

 private slots:
  void restoresAtEveryBoundary_data() {
    QTest::addColumn<QString>("name");
    for (const char* n : kCases) QTest::newRow(n) << QString(n);
    QTest::newRow("watermark") << QString("watermark");  // operator state only
  }
  /// Snapshot after every element, restore into a fresh instance, go on: the output equals
  /// the uninterrupted run's exactly (rows, their order, their times, the watermarks).
  void restoresAtEveryBoundary() {
    QFETCH(QString, name);
    const Case c = caseNamed(name.toStdString());
    const std::vector<std::string> whole = runWhole(c.config, c.steps);
    // The input is rich enough to mean something: results, and (event time) late input.
    QVERIFY(std::count_if(whole.begin(), whole.end(), [](const auto& r) { return r.starts_with("0:"); }) >= 5);
    for (std::size_t k = 0; k <= c.steps.size(); ++k) {
      const std::vector<std::string> cut = runCut(c.config, c.steps, k);
      if (cut != whole)
        QFAIL(("cut at element " + std::to_string(k) + " of " + std::to_string(c.steps.size()) + ":\nexpected\n" +
               joined(whole) + "got\n" + joined(cut))
                  .c_str());
    }
  }

  /// The lateness cases do produce updates and late-port rows, so the cuts above cover them.
  void latenessCasesExerciseUpdatesAndTheLatePort() {
    for (const char* n : {"window tumbling lateness", "window session lateness"}) {
      const Case c = caseNamed(n);
      const auto rows = runWhole(c.config, c.steps);
      QVERIFY2(std::any_of(rows.begin(), rows.end(), [](const auto& r) { return r.starts_with("0:-U|"); }), n);
      QVERIFY2(std::any_of(rows.begin(), rows.end(), [](const auto& r) { return r.starts_with("1:"); }), n);
    }
    const Case s = caseNamed("window session lateness");
    const auto rows = runWhole(s.config, s.steps);
    QVERIFY(std::any_of(rows.begin(), rows.end(), [](const auto& r) { return r.starts_with("0:-D|"); }));
  }

  void rescales_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("from");
    QTest::addColumn<int>("to");
    for (const char* n : kCases)
      for (auto [from, to] : {std::pair{1, 2}, std::pair{2, 1}, std::pair{4, 2}})
        QTest::newRow((std::string(n) + " " + std::to_string(from) + "->" + std::to_string(to)).c_str())
            << QString(n) << from << to;
  }
  /// Snapshots at parallelism `from` restored into `to` instances, each taking its key
  /// groups from whichever old subtask had them: the rows of all of them together equal
  /// the uninterrupted run's, at every boundary.
  void rescales() {
    QFETCH(QString, name);
    QFETCH(int, from);
    QFETCH(int, to);
    const Case c = caseNamed(name.toStdString());
    const std::vector<std::string> whole = dataRows(runWhole(c.config, c.steps));
    for (std::size_t k = 0; k <= c.steps.size(); k += 2) {
      const std::vector<std::string> rows = runRescaled(c.config, c.steps, k, from, to);
      if (rows != whole)
        QFAIL(("cut at element " + std::to_string(k) + ":\nexpected\n" + joined(whole) + "got\n" + joined(rows)).c_str());
    }
  }

  void corruptSnapshotsFailNamingThePlace_data() {
    QTest::addColumn<QString>("name");
    for (const char* n : kCases) QTest::newRow(n) << QString(n);
  }
  /// Every strict prefix of a snapshot file, and of each key group's bytes, is refused
  /// with a SnapshotError naming the file (and the key group, and the state), never a crash
  /// and never a partial restore that goes on. A group's bytes under another group's
  /// number are refused too (their keys do not belong there).
  void corruptSnapshotsFailNamingThePlace() {
    QFETCH(QString, name);
    const Case c = caseNamed(name.toStdString());
    auto in = start(c.config, 0, 1, 0);
    Collect out;
    // Up to the middle: state is held.
    for (std::size_t i = 0; i < c.steps.size() / 2; ++i) feed(*in, c.steps[i], out);
    const OperatorSnapshot snap = snapshotOperator(*in->op, in->ctx, 3);
    QVERIFY(!snap.keyGroups.empty());
    const std::string file = snap.encode();
    for (std::size_t n = 0; n < file.size(); n += 1 + n / 64) {
      try {
        OperatorSnapshot::decode(std::string_view(file).substr(0, n), "chk-3/op-0");
        QFAIL(("a file cut at byte " + std::to_string(n) + " was read").c_str());
      } catch (const SnapshotError& e) {
        QVERIFY2(std::string(e.what()).starts_with("chk-3/op-0, byte "), e.what());
      }
    }
    const auto& [group, bytes] = snap.keyGroups.front();
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      OperatorSnapshot cut = snap;
      cut.keyGroups.front().second = bytes.substr(0, n);
      auto fresh = start(c.config, 0, 1, in->now);
      try {
        restoreOperator(*fresh->op, fresh->ctx, {cut});
        QFAIL(("key group bytes cut at " + std::to_string(n) + " were restored").c_str());
      } catch (const SnapshotError& e) {
        const std::string what = e.what();
        QVERIFY2(what.find("key group " + std::to_string(group)) != std::string::npos, e.what());
      }
    }
    // Group g's bytes filed under another group g' (this subtask owns every group).
    OperatorSnapshot moved = snap;
    const int other = (group + 1) % kMaxP;
    bool free = std::none_of(snap.keyGroups.begin(), snap.keyGroups.end(), [&](const auto& g) { return g.first == other; });
    if (free) {
      moved.keyGroups = {{other, bytes}};
      auto fresh = start(c.config, 0, 1, in->now);
      try {
        restoreOperator(*fresh->op, fresh->ctx, {moved});
        QFAIL("a key group restored under another number");
      } catch (const SnapshotError& e) {
        QVERIFY2(std::string(e.what()).find("key group " + std::to_string(other)) != std::string::npos, e.what());
      }
    }
    in->op->close();
  }

  /// Batch mode takes no checkpoints (docs/fault-tolerance.md): a window or aggregate asked
  /// for a snapshot in batch mode refuses with a SnapshotError, not a wrong snapshot.
  void batchModeRefusesSnapshots() {
    for (const Config& base : {windowConfig({{"type", "tumbling"}, {"size_ms", 10}}, 0), aggregateConfig()}) {
      OperatorContext ctx;
      OperatorCounters counters;
      ctx.nodeId = "op";
      ctx.type = base.type;
      ctx.params = base.params;
      ctx.inputSchemas = base.inputs;
      ctx.inputPorts = base.inPorts;
      ctx.outputSchemas = base.outputs;
      ctx.outputPorts = base.outPorts;
      ctx.counters = &counters;
      ctx.batchMode = true;
      auto op = (*OperatorRegistry::builtin().find(base.type))(ctx);
      op->open(ctx);
      Collect out;
      op->processBatch(0, eventBatch({{1, "a", 1}}), out);
      QVERIFY_THROWS_EXCEPTION(SnapshotError, snapshotOperator(*op, ctx, 1));
      op->close();
    }
  }

  /// The heap backend's four kinds of state, over several value types, with TTL: every
  /// key group written and read back into a fresh backend gives the same values, the same
  /// write times (an entry written before the snapshot expires at the same moment after
  /// it), and keys held exactly as often as entries refer to them.
  void heapStateRoundTrips() {
    std::int64_t now = 1000;
    auto fill = [&](KeyedStateBackend& be) {
      be.setClock([&now] { return now; });
      auto& counts = be.valueState<std::int64_t>({"counts", StateTtl{500}});
      auto& names = be.listState<std::string>({"names", std::nullopt});
      auto& prices = be.mapState<std::string, double>({"prices", std::nullopt});
      auto& seen = be.reducingState<Value>({"seen", std::nullopt}, [](const Value& a, const Value& b) {
        return a.asInt64() >= b.asInt64() ? a : b;
      });
      auto& flags = be.valueState<std::vector<bool>>({"flags", std::nullopt});
      auto& rows = be.valueState<std::vector<Value>>({"rows", std::nullopt});
      return std::tuple<ValueState<std::int64_t>&, ListState<std::string>&, MapState<std::string, double>&,
                        ReducingState<Value>&, ValueState<std::vector<bool>>&, ValueState<std::vector<Value>>&>(
          counts, names, prices, seen, flags, rows);
    };
    const SchemaPtr schema = makeSchema({{"id", Type::Int64}, {"name", Type::String}});
    BatchBuilder b(schema);
    for (int i = 0; i < 40; ++i) {
      b.column(0).appendInt64(i);
      if (i % 5 == 0) b.column(1).appendNull();
      else b.column(1).appendString("n" + std::to_string(i % 11));
      b.endRow();
    }
    const RecordBatch keysBatch = b.finish();
    const std::vector<int> fields = {0, 1};

    KeyedStateBackend before(KeyGroupRange{0, kMaxP}, kMaxP, {Type::Int64, Type::String});
    auto [counts, names, prices, seen, flags, rows] = fill(before);
    const std::vector<KeyId> ids = before.keys().internRows(keysBatch, fields);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      now = 1000 + static_cast<std::int64_t>(i) * 10;  // write times differ per key
      before.setCurrentKey(ids[i]);
      counts.update(static_cast<std::int64_t>(i) * 3);
      names.add("a" + std::to_string(i));
      names.add("");
      prices.put("p" + std::to_string(i % 3), static_cast<double>(i) / 7.0);
      if (i % 2) prices.put("q", -0.0);
      seen.add(Value::int64(static_cast<std::int64_t>(i)));
      seen.add(Value::int64(2));
      flags.update({true, false, i % 3 == 0});
      rows.update({Value::string("x" + std::to_string(i)), Value::null(Type::Double), Value::dbl(1.5),
                   Value::boolean(i % 2 == 0), Value::timestamp(-static_cast<std::int64_t>(i))});
      for (std::int64_t ns : {1, 2}) {
        counts.setNamespace(ns);
        counts.update(ns * 100 + static_cast<std::int64_t>(i));
        counts.setNamespace(0);
      }
    }
    before.keys().sweep();

    KeyedStateBackend after(KeyGroupRange{0, kMaxP}, kMaxP, {Type::Int64, Type::String});
    auto [counts2, names2, prices2, seen2, flags2, rows2] = fill(after);
    for (int g = 0; g < kMaxP; ++g) {
      ByteWriter w;
      before.snapshotGroup(g, w);
      ByteReader r(w.data(), "group " + std::to_string(g));
      after.restoreGroup(g, r);
      QVERIFY(r.atEnd());
    }
    after.keys().sweep();
    QCOMPARE(after.numEntries(), before.numEntries());
    QCOMPARE(after.keys().size(), before.keys().size());

    now = 1000 + 39 * 10;  // the last write: nothing expired yet
    std::string encoded;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      KeyDictionary::encode(keysBatch, fields, i, encoded);
      const KeyId id = after.keys().find(encoded, before.keys().hash(ids[i]));
      QVERIFY(id != kNoKey);
      before.setCurrentKey(ids[i]);
      after.setCurrentKey(id);
      for (std::int64_t ns : {0, 1, 2}) {
        counts.setNamespace(ns);
        counts2.setNamespace(ns);
        QVERIFY(counts2.value() != nullptr);
        QCOMPARE(*counts2.value(), *counts.value());
      }
      counts.setNamespace(0);
      counts2.setNamespace(0);
      QCOMPARE(names2.get(), names.get());
      std::map<std::string, double> m1, m2;
      prices.forEach([&](const std::string& k, const double& v) { m1[k] = v; });
      prices2.forEach([&](const std::string& k, const double& v) { m2[k] = v; });
      QCOMPARE(m2, m1);
      QCOMPARE(seen2.get()->asInt64(), seen.get()->asInt64());
      QCOMPARE(*flags2.value(), *flags.value());
      QCOMPARE(rows2.value()->size(), std::size_t(5));
      for (std::size_t v = 0; v < 5; ++v) {
        QCOMPARE((*rows2.value())[v].type(), (*rows.value())[v].type());
        QCOMPARE((*rows2.value())[v].isNull(), (*rows.value())[v].isNull());
        QCOMPARE((*rows2.value())[v].toString(), (*rows.value())[v].toString());
      }
    }
    // TTL: the entry of key i was written at 1000 + 10 i and expires 500 ms later, after
    // the restore as before it.
    now = 1000 + 500 + 10 * 20;  // keys 0..20 expired
    for (std::size_t i = 0; i < ids.size(); ++i) {
      KeyDictionary::encode(keysBatch, fields, i, encoded);
      after.setCurrentKey(after.keys().find(encoded, before.keys().hash(ids[i])));
      QCOMPARE(counts2.value() == nullptr, i <= 20);
    }
    // Clearing everything releases every key the restore retained.
    for (std::size_t i = 0; i < ids.size(); ++i) {
      KeyDictionary::encode(keysBatch, fields, i, encoded);
      after.setCurrentKey(after.keys().find(encoded, before.keys().hash(ids[i])));
      for (std::int64_t ns : {0, 1, 2}) {
        counts2.setNamespace(ns);
        counts2.clear();
      }
      counts2.setNamespace(0);
      names2.clear();
      prices2.clear();
      seen2.clear();
      flags2.clear();
      rows2.clear();
    }
    after.keys().sweep();
    QCOMPARE(after.numEntries(), std::size_t(0));
    QCOMPARE(after.keys().size(), std::size_t(0));
  }

  /// Timers are a table of the backend ("timers"): snapshotted per key group with the
  /// state, restored into a fresh backend (other key ids) they fire at the same times in
  /// the same order; on their own groups after a split.
  void timersRoundTripInFiringOrder() {
    const SchemaPtr schema = makeSchema({{"k", Type::String}});
    BatchBuilder b(schema);
    for (int i = 0; i < 30; ++i) {
      b.column(0).appendString("key" + std::to_string(i));
      b.endRow();
    }
    const RecordBatch batch = b.finish();
    const std::vector<int> fields = {0};
    auto fire = [&](KeyedStateBackend& be, TimerService<std::int64_t>& timers) {
      std::vector<std::string> fired;
      auto record = [&](const auto& t) {
        fired.push_back(std::to_string(t.time) + ":" + std::string(be.keys().bytes(t.key)) + ":" +
                        std::to_string(t.ns));
      };
      timers.advanceWatermark(1000, record);
      timers.advanceProcessingTime(5000, record);
      return fired;
    };
    auto make = [](KeyedStateBackend& be) -> TimerService<std::int64_t>& {
      KeyDictionary& keys = be.keys();
      return be.table<TimerService<std::int64_t>>("timers",
                                                   [&keys] { return std::make_unique<TimerService<std::int64_t>>(keys); });
    };
    KeyedStateBackend before(KeyGroupRange{0, kMaxP}, kMaxP, {Type::String});
    auto& timers = make(before);
    const std::vector<KeyId> ids = before.keys().internRows(batch, fields);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      timers.registerEventTimeTimer(ids[i], static_cast<std::int64_t>(i % 3), 100 + static_cast<std::int64_t>(i % 4));
      timers.registerProcessingTimeTimer(ids[i], 7, 2000 - static_cast<std::int64_t>(i % 5));
    }
    before.keys().sweep();  // the timers hold their keys
    QCOMPARE(before.keys().size(), ids.size());
    std::vector<std::string> snapshots(kMaxP);
    for (int g = 0; g < kMaxP; ++g) {
      ByteWriter w;
      before.snapshotGroup(g, w);
      snapshots[static_cast<std::size_t>(g)] = w.take();
    }
    const auto expected = fire(before, timers);
    QCOMPARE(expected.size(), std::size_t(60));
    before.keys().sweep();
    QCOMPARE(before.keys().size(), std::size_t(0));

    // Into one backend with every group, and into two halves.
    std::vector<std::string> got;
    for (const auto& ranges : {std::vector<KeyGroupRange>{{0, kMaxP}},
                               std::vector<KeyGroupRange>{{0, kMaxP / 2}, {kMaxP / 2, kMaxP}}}) {
      std::vector<std::string> all;
      for (const KeyGroupRange range : ranges) {
        KeyedStateBackend after(range, kMaxP, {Type::String});
        auto& restored = make(after);
        for (int g = range.first; g < range.end; ++g) {
          ByteReader r(snapshots[static_cast<std::size_t>(g)], "group " + std::to_string(g));
          after.restoreGroup(g, r);
        }
        const auto part = fire(after, restored);
        if (ranges.size() == 1) QCOMPARE(part, expected);
        all.insert(all.end(), part.begin(), part.end());
      }
      std::sort(all.begin(), all.end());
      std::vector<std::string> sortedExpected = expected;
      std::sort(sortedExpected.begin(), sortedExpected.end());
      QCOMPARE(all, sortedExpected);
    }
  }
};

QTEST_APPLESS_MAIN(TestSnapshots)
#include "test_snapshots.moc"
