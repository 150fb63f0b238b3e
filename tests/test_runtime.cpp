// The runtime core without any file or expression: channels, partitioning, chaining,
// end-of-input, watermarks, failures, cancellation and backpressure, on jobs made of
// small test operators registered in a test registry.
//
//   counter[p=3] --rebalance--> relay[p=2] --hash(key)--> collect[p=4]
//
// Every test asserts exact counts (no loss, no duplicates) or exact bounds, never times.
//
// Taps (runtime/tap.h): an enabled tap on a chained edge and on a rebalance edge sees rows
// of the edge's schema with their event time and row kind, at most rowsPerSubtask per
// producing subtask; a tap never enabled copies nothing (copies() stays 0); an EdgeTap
// alone cuts long strings at a character boundary and keeps the first rows in First mode.

#include <QtTest>

#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "runtime/channel.h"
#include "runtime/execution_graph.h"
#include "runtime/local_executor.h"
#include "runtime/partition.h"
#include "runtime/tap.h"

using namespace weir;

namespace {

/// The plan nodes of each vertex (chain) of the plan's execution graph.
std::vector<std::vector<int>> computeChains(const JobPlan& plan) {
  std::vector<std::vector<int>> chains;
  for (const auto& v : ExecutionGraph::build(plan).vertices) chains.push_back(v.nodes);
  return chains;
}

SchemaPtr kvSchema() {
  static SchemaPtr s = makeSchema({{"key", Type::Int64}, {"value", Type::Int64}});
  return s;
}

/// Emits `count` records (key = i % keys, value = i) for i = subtask, subtask+p, ...,
/// in batches of `batch`, with event time i and a watermark after each batch.
class CounterSource final : public SourceOperator {
 public:
  explicit CounterSource(const OperatorContext& ctx)
      : count_(ctx.params.value("count", 1000)), keys_(ctx.params.value("keys", 7)),
        batch_(ctx.params.value("batch", 100)), unbounded_(ctx.params.value("unbounded", false)),
        next_(ctx.subtask), stride_(ctx.parallelism) {}
  SourceStatus emitNext(Output& out) override {
    if (!unbounded_ && next_ >= count_) return SourceStatus::EndOfInput;
    BatchBuilder b(kvSchema(), static_cast<std::size_t>(batch_));
    std::int64_t last = 0;
    for (int r = 0; r < batch_ && (unbounded_ || next_ < count_); ++r, next_ += stride_) {
      b.column(0).appendInt64(next_ % keys_);
      b.column(1).appendInt64(next_);
      b.endRow(next_);
      last = next_;
    }
    out.collect(0, b.finish());
    out.emitWatermark(Watermark{last});
    return SourceStatus::MoreAvailable;
  }

 private:
  std::int64_t count_, keys_;
  int batch_;
  bool unbounded_;
  std::int64_t next_, stride_;
};

/// Passes records on; throws at value == fail_at; sleeps per batch when slow_us is set.
class RelayOperator final : public Operator {
 public:
  explicit RelayOperator(const OperatorContext& ctx)
      : failAt_(ctx.params.value("fail_at", -1)), slowUs_(ctx.params.value("slow_us", 0)),
        throwInt_(ctx.params.value("throw_int", false)), sidePort_(ctx.params.value("side_every", 0)) {}
  void processBatch(int, const RecordBatch& batch, Output& out) override {
    if (slowUs_) std::this_thread::sleep_for(std::chrono::microseconds(slowUs_));
    for (std::size_t i = 0; i < batch.numRows(); ++i) {
      if (batch.column(1).int64(i) != failAt_) continue;
      if (throwInt_) throw 42;  // not a std::exception, as a careless plugin might
      throw JobError("value " + std::to_string(failAt_) + " is cursed");
    }
    if (sidePort_ > 0) {
      // Port 1 ("side") gets the records whose value is a multiple of side_every.
      std::vector<std::uint32_t> rows;
      for (std::size_t i = 0; i < batch.numRows(); ++i)
        if (batch.column(1).int64(i) % sidePort_ == 0) rows.push_back(static_cast<std::uint32_t>(i));
      if (!rows.empty()) out.collect(1, batch.select(rows));
    }
    out.collect(0, batch);
  }

 private:
  std::int64_t failAt_;
  int slowUs_;
  bool throwInt_;
  std::int64_t sidePort_;
};

/// Records every record with the subtask that received it, and every watermark.
struct Collected {
  std::mutex mu;
  std::vector<std::pair<int, std::int64_t>> records;  // (subtask, value)
  std::map<std::int64_t, std::set<int>> subtasksOfKey;
  std::vector<std::int64_t> watermarks;               // subtask 0 only
  int finished = 0;
};

class CollectSink final : public Operator {
 public:
  CollectSink(const OperatorContext& ctx, Collected& c) : subtask_(ctx.subtask), c_(c), slowUs_(ctx.params.value("slow_us", 0)) {}
  void processBatch(int, const RecordBatch& batch, Output&) override {
    if (slowUs_) std::this_thread::sleep_for(std::chrono::microseconds(slowUs_));
    std::lock_guard lock(c_.mu);
    for (std::size_t i = 0; i < batch.numRows(); ++i) {
      c_.records.emplace_back(subtask_, batch.column(1).int64(i));
      c_.subtasksOfKey[batch.column(0).int64(i)].insert(subtask_);
    }
  }
  void processWatermark(Watermark wm, Output&) override {
    std::lock_guard lock(c_.mu);
    if (subtask_ == 0) c_.watermarks.push_back(wm.timestamp);
  }
  void finish(Output&) override {
    std::lock_guard lock(c_.mu);
    ++c_.finished;
  }

 private:
  int subtask_;
  Collected& c_;
  int slowUs_;
};

OperatorRegistry testRegistry(Collected& c) {
  OperatorRegistry r;
  registerBasicOperators(r);
  r.add("test.counter", [](const OperatorContext& ctx) { return std::make_unique<CounterSource>(ctx); });
  r.add("test.relay", [](const OperatorContext& ctx) { return std::make_unique<RelayOperator>(ctx); });
  r.add("test.collect", [&c](const OperatorContext& ctx) { return std::make_unique<CollectSink>(ctx, c); });
  return r;
}

PlanNode node(std::string id, std::string type, int p, nlohmann::json params, bool source, bool sink) {
  PlanNode n;
  n.id = std::move(id);
  n.type = std::move(type);
  n.parallelism = p;
  n.params = std::move(params);
  if (!source) {
    n.inputPorts = {"in"};
    n.inputSchemas = {kvSchema()};
  }
  if (!sink) {
    n.outputPorts = {"out"};
    n.outputSchemas = {kvSchema()};
  }
  return n;
}

/// counter[p1] -> relay[p2] -> collect[p3], with the given partitionings.
JobPlan threeStage(int p1, int p2, int p3, Partition e1, Partition e2, nlohmann::json counter = {},
                   nlohmann::json relay = {}, nlohmann::json collect = {}) {
  JobPlan plan;
  plan.name = "three-stage";
  plan.deadLetterPath = QDir::temp().filePath("weir-test-runtime.dead-letters.jsonl").toStdString();
  plan.nodes.push_back(node("counter", "test.counter", p1, counter.is_null() ? nlohmann::json::object() : counter, true, false));
  plan.nodes.push_back(node("relay", "test.relay", p2, relay.is_null() ? nlohmann::json::object() : relay, false, false));
  plan.nodes.push_back(node("collect", "test.collect", p3, collect.is_null() ? nlohmann::json::object() : collect, false, true));
  PlanEdge a;
  a.from = 0; a.to = 1; a.partition = e1;
  if (e1 == Partition::Hash) a.keyFields = {0};
  PlanEdge b;
  b.from = 1; b.to = 2; b.partition = e2;
  if (e2 == Partition::Hash) b.keyFields = {0};
  plan.edges = {a, b};
  return plan;
}

}  // namespace

class TestRuntime : public QObject {
  Q_OBJECT

 private slots:
  void gateKeepsOrderAndBound() {
    InputGate gate(2, 3);
    std::thread producers[2];
    for (int ch = 0; ch < 2; ++ch)
      producers[ch] = std::thread([&gate, ch] {
        for (int i = 0; i < 500; ++i) gate.push(ch, Watermark{i});
        gate.push(ch, EndOfPartition{});
      });
    std::int64_t expected[2] = {0, 0};
    int ended = 0;
    while (ended < 2) {
      auto n = gate.next(std::chrono::seconds(10));
      QVERIFY(n.has_value());
      if (std::holds_alternative<EndOfPartition>(n->element)) {
        ++ended;
        continue;
      }
      QCOMPARE(std::get<Watermark>(n->element).timestamp, expected[n->channel]++);
    }
    for (auto& t : producers) t.join();
    QCOMPARE(expected[0], 500);
    QCOMPARE(expected[1], 500);
    QVERIFY(gate.maxQueuedSeen() <= 3);
  }

  void gateCancelWakesBlockedProducer() {
    InputGate gate(1, 1);
    gate.push(0, Watermark{1});
    bool threw = false;
    std::thread t([&] {
      try {
        gate.push(0, Watermark{2});  // blocks: the queue is full
      } catch (const ChannelCanceled&) {
        threw = true;
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    gate.cancel();
    t.join();
    QVERIFY(threw);
  }

  void keyGroupsDoNotDependOnParallelism() {
    BatchBuilder b(kvSchema());
    for (int i = 0; i < 1000; ++i) {
      b.column(0).appendInt64(i);
      b.column(1).appendInt64(i);
      b.endRow();
    }
    RecordBatch batch = b.finish();
    const int keys[] = {0};
    std::vector<std::uint64_t> h1, h2;
    hashKeys(batch, keys, h1);
    hashKeys(batch.select(std::vector<std::uint32_t>{5, 7}), keys, h2);
    QCOMPARE(h2[0], h1[5]);
    QCOMPARE(h2[1], h1[7]);
    // Every subtask of 4 owns a contiguous range of the 128 groups, all groups covered.
    std::vector<int> owner(128);
    for (int g = 0; g < 128; ++g) owner[g] = subtaskForKeyGroup(g, 128, 4);
    QCOMPARE(owner.front(), 0);
    QCOMPARE(owner.back(), 3);
    for (int g = 1; g < 128; ++g) QVERIFY(owner[g] == owner[g - 1] || owner[g] == owner[g - 1] + 1);
    // All 4 subtasks get some of 1000 distinct keys.
    std::vector<std::vector<std::uint32_t>> rows(4);
    partitionByKey(batch, keys, 128, rows);
    std::size_t total = 0;
    for (auto& r : rows) {
      QVERIFY(!r.empty());
      total += r.size();
    }
    QCOMPARE(total, std::size_t(1000));
  }

  void chainsFollowForwardEdges() {
    auto plan = threeStage(2, 2, 2, Partition::Forward, Partition::Forward);
    QCOMPARE(computeChains(plan), (std::vector<std::vector<int>>{{0, 1, 2}}));
    plan = threeStage(2, 2, 3, Partition::Forward, Partition::Rebalance);
    QCOMPARE(computeChains(plan), (std::vector<std::vector<int>>{{0, 1}, {2}}));
    plan = threeStage(1, 2, 2, Partition::Rebalance, Partition::Hash);
    QCOMPARE(computeChains(plan), (std::vector<std::vector<int>>{{0}, {1}, {2}}));
  }

  /// The one layout every deployment uses: gate channels per incoming edge and producer
  /// (forward: one), channels numbered in edge, producer, consumer order; its JSON form
  /// reads back the same and a form that does not fit the plan is refused with a reason.
  void executionGraphLayout() {
    auto plan = threeStage(2, 2, 3, Partition::Forward, Partition::Rebalance);  // a -> b => c
    ExecutionGraph g = ExecutionGraph::build(plan);
    QCOMPARE(g.vertices.size(), std::size_t{2});
    QCOMPARE(g.vertices[0].id, plan.nodes[0].id);
    QCOMPARE(g.vertices[1].gateChannels(), 2);  // one per producer subtask
    QCOMPARE(g.slotsNeeded(), 3);
    QCOMPARE(g.channels.size(), std::size_t{6});  // 2 producers x 3 consumers
    const ExecutionChannel& c = g.channels[4];  // producer 1 -> consumer 1
    QCOMPARE(c.index, 4);
    QCOMPARE(c.fromSubtask, 1);
    QCOMPARE(c.toSubtask, 1);
    QCOMPARE(c.gateChannel, 1);
    QCOMPARE(g.vertexOfNode, (std::vector<int>{0, 0, 1}));
    QCOMPARE(g.name(plan, 0), plan.nodes[0].id + " -> " + plan.nodes[1].id);

    std::string error;
    auto back = ExecutionGraph::fromJson(g.toJson(), plan, error);
    QVERIFY2(back.has_value(), error.c_str());
    QCOMPARE(back->toJson(), g.toJson());
    nlohmann::json broken = g.toJson();
    broken["channels"].erase(3);  // a gate channel nobody feeds
    QVERIFY(!ExecutionGraph::fromJson(broken, plan, error));
    QVERIFY2(error.find("fed by no channel") != std::string::npos, error.c_str());
    broken = g.toJson();
    broken["channels"][0][5] = 7;
    QVERIFY(!ExecutionGraph::fromJson(broken, plan, error));
    QVERIFY2(error.find("does not fit the plan") != std::string::npos, error.c_str());
    broken = g.toJson();
    broken["vertices"][1]["id"] = "other";
    QVERIFY(!ExecutionGraph::fromJson(broken, plan, error));
  }

  void everyRecordExactlyOnce_data() {
    QTest::addColumn<int>("p1");
    QTest::addColumn<int>("p2");
    QTest::addColumn<int>("p3");
    QTest::addColumn<int>("e1");
    QTest::addColumn<int>("e2");
    QTest::newRow("chained 1") << 1 << 1 << 1 << int(Partition::Forward) << int(Partition::Forward);
    QTest::newRow("chained 3") << 3 << 3 << 3 << int(Partition::Forward) << int(Partition::Forward);
    QTest::newRow("rebalance, hash") << 3 << 2 << 4 << int(Partition::Rebalance) << int(Partition::Hash);
    QTest::newRow("hash, hash") << 2 << 4 << 3 << int(Partition::Hash) << int(Partition::Hash);
    QTest::newRow("forward, rebalance") << 4 << 4 << 1 << int(Partition::Forward) << int(Partition::Rebalance);
  }
  void everyRecordExactlyOnce() {
    QFETCH(int, p1);
    QFETCH(int, p2);
    QFETCH(int, p3);
    QFETCH(int, e1);
    QFETCH(int, e2);
    Collected c;
    auto registry = testRegistry(c);
    const int count = 10007;
    LocalExecutor job(threeStage(p1, p2, p3, Partition(e1), Partition(e2), {{"count", count}, {"batch", 64}}),
                      {}, registry);
    job.start();
    job.wait();
    QCOMPARE(jobStatusName(job.status()), std::string_view("FINISHED"));
    QCOMPARE(c.records.size(), std::size_t(count));
    std::vector<std::int64_t> values;
    for (auto& r : c.records) values.push_back(r.second);
    std::sort(values.begin(), values.end());
    for (int i = 0; i < count; ++i) QCOMPARE(values[i], std::int64_t(i));
    QCOMPARE(c.finished, p3);
    if (Partition(e2) == Partition::Hash)
      for (auto& [key, subtasks] : c.subtasksOfKey) QCOMPARE(subtasks.size(), std::size_t(1));
    const auto m = job.metrics();
    QCOMPARE(m.nodes[0].recordsOut, std::int64_t(count));
    QCOMPARE(m.nodes[1].recordsIn, std::int64_t(count));
    QCOMPARE(m.nodes[2].recordsIn, std::int64_t(count));
  }

  // counter[p=2] --hash(key)--> relay[p=2] --forward, chained--> collect[p=2]
  // Per-edge metrics are exact: each producer sent what it produced, each consumer took
  // what its sink collected, and the sums match the records through the edge.
  void edgeMetricsCountEveryRecordPerSubtask() {
    Collected c;
    auto registry = testRegistry(c);
    const int count = 5001;
    LocalExecutor job(threeStage(2, 2, 2, Partition::Hash, Partition::Forward, {{"count", count}, {"batch", 50}, {"keys", 11}}),
                      {}, registry);
    job.start();
    job.wait();
    QCOMPARE(jobStatusName(job.status()), std::string_view("FINISHED"));
    const auto m = job.metrics();
    QCOMPARE(m.edges.size(), std::size_t(2));
    const EdgeMetrics& hash = m.edges[0];
    QCOMPARE(hash.from, std::string("counter"));
    QCOMPARE(hash.fromPort, std::string("out"));
    QCOMPARE(hash.to, std::string("relay"));
    QCOMPARE(hash.toPort, std::string("in"));
    QCOMPARE(hash.partition, std::string("hash"));
    QVERIFY(!hash.chained);
    QCOMPARE(hash.recordsSent, std::int64_t(count));
    QCOMPARE(hash.recordsReceived, std::int64_t(count));
    QVERIFY(hash.bytesSent > 0);
    QCOMPARE(hash.bytesReceived, hash.bytesSent);
    const EdgeMetrics& chained = m.edges[1];
    QVERIFY(chained.chained);
    QCOMPARE(chained.recordsSent, std::int64_t(count));
    QCOMPARE(chained.recordsReceived, std::int64_t(count));

    // Per subtask: counter subtask s produced the values s, s+2, ...; relay subtask s took
    // exactly what collect subtask s (chained to it) collected.
    std::map<int, std::int64_t> collectedBy;
    for (auto& r : c.records) ++collectedBy[r.first];
    QCOMPARE(collectedBy.size(), std::size_t(2));  // 11 keys spread over both subtasks
    std::int64_t sentSum = 0, receivedSum = 0;
    int producers = 0, consumers = 0;
    for (const auto& st : m.subtasks) {
      if (st.chain == "counter") {
        ++producers;
        QCOMPARE(st.edgesOut.size(), std::size_t(1));
        QCOMPARE(st.edgesOut[0].edge, 0);
        QCOMPARE(st.edgesOut[0].records, std::int64_t((count - st.subtask + 1) / 2));
        QVERIFY(st.edgesIn.empty());
        sentSum += st.edgesOut[0].records;
      } else {
        ++consumers;
        QCOMPARE(st.chain, std::string("relay -> collect"));
        QCOMPARE(st.edgesIn.size(), std::size_t(2));  // the hash edge and the chained one
        QCOMPARE(st.edgesIn[0].edge, 0);
        QCOMPARE(st.edgesIn[0].records, collectedBy[st.subtask]);
        QCOMPARE(st.edgesIn[1].edge, 1);
        QCOMPARE(st.edgesIn[1].records, collectedBy[st.subtask]);
        QCOMPARE(st.edgesOut.size(), std::size_t(1));
        QCOMPARE(st.edgesOut[0].records, collectedBy[st.subtask]);
        receivedSum += st.edgesIn[0].records;
        QVERIFY(st.inputUsage >= 0 && st.inputUsage <= 1);
      }
    }
    QCOMPARE(producers, 2);
    QCOMPARE(consumers, 2);
    QCOMPARE(sentSum, std::int64_t(count));
    QCOMPARE(receivedSum, std::int64_t(count));
  }

  void watermarksAreMinimumOverChannelsAndEndAtMax() {
    Collected c;
    auto registry = testRegistry(c);
    LocalExecutor job(threeStage(3, 1, 1, Partition::Rebalance, Partition::Forward, {{"count", 3000}, {"batch", 10}}),
                      {}, registry);
    job.start();
    job.wait();
    QCOMPARE(job.status(), JobStatus::Finished);
    QVERIFY(!c.watermarks.empty());
    QVERIFY(std::is_sorted(c.watermarks.begin(), c.watermarks.end()));
    QCOMPARE(std::adjacent_find(c.watermarks.begin(), c.watermarks.end()), c.watermarks.end());
    QCOMPARE(c.watermarks.back(), INT64_MAX);
    // Before the end, the combined watermark never passes what the slowest source
    // subtask has reached: every value below max is one some subtask emitted (an index
    // of the last record of one of its batches).
    for (std::size_t i = 0; i + 1 < c.watermarks.size(); ++i) QVERIFY(c.watermarks[i] < 3000);
  }

  void failureNamesOperatorAndSubtask() {
    Collected c;
    auto registry = testRegistry(c);
    LocalExecutor job(threeStage(2, 2, 2, Partition::Forward, Partition::Rebalance,
                                 {{"count", 100000}, {"batch", 10}}, {{"fail_at", 4243}}),
                      {}, registry);
    job.start();
    job.wait();
    QCOMPARE(job.status(), JobStatus::Failed);
    QVERIFY(job.failure().has_value());
    // 4243 is odd: produced by counter subtask 1, chained with relay subtask 1.
    QCOMPARE(QString::fromStdString(job.failure()->toString()), QString("relay[1/2]: value 4243 is cursed"));
  }

  void unknownOperatorTypeFailsTheJob() {
    Collected c;
    auto registry = testRegistry(c);
    auto plan = threeStage(1, 1, 1, Partition::Forward, Partition::Forward);
    plan.nodes[1].type = "window";
    LocalExecutor job(plan, {}, registry);
    job.start();
    job.wait();
    QCOMPARE(job.status(), JobStatus::Failed);
    QCOMPARE(QString::fromStdString(job.failure()->toString()),
             QString("relay[0/1]: operator type 'window' cannot run yet in this version"));
    // Refused before anything started: no subtask ran, so no sink opened (or truncated) its output.
    QCOMPARE(c.finished, 0);
    QCOMPARE(job.metrics().nodes[0].recordsOut, std::int64_t(0));
  }

  void nonStandardExceptionFailsTheJobNotTheProcess() {
    Collected c;
    auto registry = testRegistry(c);
    LocalExecutor job(threeStage(1, 1, 1, Partition::Forward, Partition::Forward, {{"count", 100}},
                                 {{"fail_at", 7}, {"throw_int", true}}),
                      {}, registry);
    job.start();
    job.wait();
    QCOMPARE(job.status(), JobStatus::Failed);
    QCOMPARE(QString::fromStdString(job.failure()->toString()),
             QString("relay[0/1]: unknown exception (not a std::exception)"));
  }

  void sideOutputIsNotChainedIntoTheMainPath() {
    // counter -> relay --(port 1 "side" only)--> collect: the edge is forward with equal
    // parallelism, but it leaves a side output, so relay's main output must not reach it.
    Collected c;
    auto registry = testRegistry(c);
    auto plan = threeStage(2, 2, 2, Partition::Forward, Partition::Forward, {{"count", 1000}},
                           {{"side_every", 10}});
    plan.nodes[1].outputPorts = {"out", "side"};
    plan.nodes[1].outputSchemas = {kvSchema(), kvSchema()};
    plan.edges[1].fromPort = 1;
    QCOMPARE(computeChains(plan), (std::vector<std::vector<int>>{{0, 1}, {2}}));
    LocalExecutor job(plan, {}, registry);
    job.start();
    job.wait();
    QCOMPARE(job.status(), JobStatus::Finished);
    QCOMPARE(c.records.size(), std::size_t(100));
    for (const auto& r : c.records) QCOMPARE(r.second % 10, std::int64_t(0));
  }

  void cancelBeforeStartStaysCanceled() {
    Collected c;
    auto registry = testRegistry(c);
    LocalExecutor job(threeStage(1, 1, 1, Partition::Forward, Partition::Forward), {}, registry);
    job.cancel();
    job.start();
    job.wait();
    QCOMPARE(job.status(), JobStatus::Canceled);
    QCOMPARE(c.records.size(), std::size_t(0));
  }

  void cancelStopsAnUnboundedJob() {
    Collected c;
    auto registry = testRegistry(c);
    LocalExecutor job(threeStage(2, 2, 2, Partition::Rebalance, Partition::Hash, {{"unbounded", true}}), {}, registry);
    job.start();
    while (job.metrics().nodes[2].recordsIn < 10000) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    job.cancel();
    job.wait();
    QCOMPARE(job.status(), JobStatus::Canceled);
  }

  void slowSinkBackpressuresWithBoundedQueues() {
    Collected c;
    auto registry = testRegistry(c);
    ExecutorOptions options;
    options.queueCapacity = 2;
    const int count = 2000;
    LocalExecutor job(threeStage(1, 1, 1, Partition::Rebalance, Partition::Rebalance,
                                 {{"count", count}, {"batch", 10}}, {}, {{"slow_us", 2000}}),
                      options, registry);
    job.start();
    job.wait();
    QCOMPARE(job.status(), JobStatus::Finished);
    QCOMPARE(c.records.size(), std::size_t(count));
    const auto m = job.metrics();
    // Every queue stayed within its bound although the producers could run ~100x faster.
    for (const auto& s : m.subtasks) QVERIFY2(s.maxQueued <= 2, qPrintable(QString::fromStdString(s.chain)));
    // The relay (between source and sink) spent time blocked on the sink's full queue.
    const auto& relay = m.subtasks[1];
    QCOMPARE(QString::fromStdString(relay.chain), QString("relay"));
    QVERIFY(relay.backpressuredMs > 0);
    QVERIFY(m.subtasks[0].backpressuredMs > 0);
  }

  void tapSeesRecordsOfTheEdgeSchema() {
    // counter[2] -forward(chained)-> relay[2] -rebalance-> collect[3]; unbounded, slowed.
    Collected c;
    const OperatorRegistry r = testRegistry(c);
    ExecutorOptions options;
    options.taps.rowsPerSubtask = 5;
    LocalExecutor ex(threeStage(2, 2, 3, Partition::Forward, Partition::Rebalance, {{"unbounded", true}, {"batch", 10}},
                                {{"slow_us", 500}}),
                     options, r);
    QVERIFY(!ex.enableTap(2, true));
    QVERIFY(!ex.tapSnapshot(-1));
    QVERIFY(ex.enableTap(1, true));
    ex.start();
    QElapsedTimer t;
    t.start();
    std::optional<TapSample> s;
    while (t.elapsed() < 30000) {
      s = ex.tapSnapshot(1);
      if (s && s->rows.size() >= 10) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ex.cancel();
    ex.wait();
    QVERIFY(s.has_value());
    QVERIFY2(s->rows.size() == 10, std::to_string(s->rows.size()).c_str());  // 5 per producing subtask
    QVERIFY(s->enabled);
    QCOMPARE(s->subtasks, 2);
    QCOMPARE(*s->schema, *kvSchema());
    std::set<int> producers;
    for (const auto& row : s->rows) {
      QCOMPARE(row.values.size(), std::size_t(2));
      QCOMPARE(row.values[1].type(), Type::Int64);
      QCOMPARE(row.eventTime, row.values[1].asInt64());  // the counter's event time is its value
      QCOMPARE(row.values[0].asInt64(), row.values[1].asInt64() % 7);
      QCOMPARE(row.values[1].asInt64() % 2, std::int64_t(row.subtask));  // subtask i counts i, i+2, ...
      QVERIFY(row.kind == RowKind::Insert);
      producers.insert(row.subtask);
    }
    QCOMPARE(producers.size(), std::size_t(2));
    const nlohmann::json j = tapSampleToJson(*s, 4);
    QCOMPARE(j["rows"].size(), std::size_t(4));
    QCOMPARE(j["subtasks"].get<int>(), 2);
    QCOMPARE(j["schema"].dump(), std::string(R"([{"name":"key","type":"int64"},{"name":"value","type":"int64"}])"));
    for (const auto& row : j["rows"]) {
      QVERIFY(row["key"].is_number_integer() && row["value"].is_number_integer());
      QCOMPARE(row["_event_time"], row["value"]);
      QCOMPARE(row["_op"].get<std::string>(), std::string("+I"));
    }
    // The chained edge's tap was never enabled: it copied nothing.
    QCOMPARE(ex.tapSnapshot(0)->copies, std::int64_t(0));
    QVERIFY(ex.tapSnapshot(0)->rows.empty());
    QVERIFY(ex.tapSnapshot(1)->copies >= 10);
  }

  void tapOnAChainedEdge() {
    Collected c;
    const OperatorRegistry r = testRegistry(c);
    LocalExecutor ex(threeStage(1, 1, 2, Partition::Forward, Partition::Hash, {{"count", 1000}, {"batch", 100}}), {}, r);
    QCOMPARE(computeChains(ex.plan()).front(), (std::vector<int>{0, 1}));
    ex.enableTap(0, true);
    ex.start();
    ex.wait();
    QCOMPARE(ex.status(), JobStatus::Finished);
    const TapSample s = *ex.tapSnapshot(0);
    QCOMPARE(s.subtasks, 1);
    QCOMPARE(s.rows.size(), std::size_t(20));  // the default ring
    // Sampled: the ring filled from the first batch's last rows, then newer batches at most every 100 ms.
    for (const auto& row : s.rows) QCOMPARE(row.eventTime, row.values[1].asInt64());
    QCOMPARE(ex.tapSnapshot(1)->copies, std::int64_t(0));
  }

  void disabledTapsCopyNothing() {
    Collected c;
    const OperatorRegistry r = testRegistry(c);
    LocalExecutor ex(threeStage(3, 2, 4, Partition::Rebalance, Partition::Hash, {{"count", 20000}}), {}, r);
    ex.enableTap(1, true);
    ex.enableTap(1, false);  // on and off before any record: still nothing copied
    ex.start();
    ex.wait();
    QCOMPARE(ex.status(), JobStatus::Finished);
    QCOMPARE(c.records.size(), std::size_t(20000));
    for (int e = 0; e < 2; ++e) {
      QCOMPARE(ex.tapSnapshot(e)->copies, std::int64_t(0));
      QVERIFY(ex.tapSnapshot(e)->rows.empty());
      QVERIFY(!ex.tapSnapshot(e)->enabled);
    }
  }

  void tapCutsLongStringsAndKeepsFirstRows() {
    auto schema = makeSchema({{"s", Type::String}, {"t", Type::Timestamp}, {"d", Type::Double}});
    TapOptions o;
    o.mode = TapMode::First;
    o.rowsPerSubtask = 3;
    o.maxStringBytes = 5;
    EdgeTap tap(0, schema, 1, o);
    BatchBuilder b(schema);
    const std::string words[] = {"short", "h\u00e9llo world", "abcdefgh", "x"};
    for (int i = 0; i < 4; ++i) {
      b.column(0).appendString(words[i]);
      b.column(1).appendInt64(1764000000000 + i);
      if (i == 2) b.column(2).appendNull();
      else b.column(2).appendDouble(i == 3 ? std::numeric_limits<double>::infinity() : 0.5 * i);
      b.endRow(kNoTimestamp, i == 1 ? RowKind::UpdateAfter : RowKind::Insert);
    }
    const RecordBatch batch = b.finish();
    tap.offer(0, batch);  // disabled: the runtime never calls offer then; enable clears anyway
    tap.enable(true);
    QVERIFY(tap.snapshot().rows.empty());
    tap.offer(0, batch);
    tap.offer(0, batch);  // First mode: full after 3 rows, the rest is ignored
    const TapSample s = tap.snapshot();
    QCOMPARE(s.rows.size(), std::size_t(3));
    QCOMPARE(s.rows[0].values[0].asString(), std::string("short"));
    QCOMPARE(s.rows[1].values[0].asString(), std::string("h\u00e9ll") + std::string(kTruncationMarker));  // é is 2 bytes
    QCOMPARE(s.rows[2].values[0].asString(), std::string("abcde") + std::string(kTruncationMarker));
    const nlohmann::json j = tapSampleToJson(s);
    QCOMPARE(j["rows"][1]["_op"].get<std::string>(), std::string("+U"));
    QVERIFY(j["rows"][0]["_event_time"].is_null());
    QCOMPARE(j["rows"][0]["t"].get<std::string>(), std::string("2025-11-24T16:00:00.000Z"));
    QVERIFY(j["rows"][2]["d"].is_null());
    QCOMPARE(j["rows"][1]["d"].get<double>(), 0.5);
    QCOMPARE(j["schema"][1]["type"].get<std::string>(), std::string("timestamp"));

    // Malformed UTF-8 becomes U+FFFD, so a row always serializes.
    EdgeTap bytes(0, makeSchema({{"s", Type::String}}), 1, TapOptions{});
    bytes.enable(true);
    BatchBuilder raw(bytes.schema());
    raw.column(0).appendString("ab\xff\xc3");
    raw.endRow();
    bytes.offer(0, raw.finish());
    QCOMPARE(bytes.snapshot().rows.at(0).values[0].asString(), std::string("ab\uFFFD\uFFFD"));
    QCOMPARE(tapSampleToJson(bytes.snapshot()).dump(), tapSampleToJson(bytes.snapshot()).dump());
  }
};

QTEST_APPLESS_MAIN(TestRuntime)
#include "test_runtime.moc"
