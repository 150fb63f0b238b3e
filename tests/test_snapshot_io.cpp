// Sources and sinks under checkpoints, driven directly (no runtime): snapshot at every batch
// boundary, encode and decode the snapshot, destroy the instance, restore a fresh one, go
// on; the output must equal the uninterrupted run's. Sinks: two-phase commit with crashes
// after a completed and after an uncompleted checkpoint; readers never see uncommitted rows.
//
//   source.file / source.generator --k steps--> snapshotOperator --encode/decode-->
//       fresh instance (open, restoreOperator) --to the end--> rows == uninterrupted rows
//   rescale: snapshots of p old subtasks --> every new subtask restores from all of them
//
//   batches --sink.file / sink.sqlite--> snapshot(n) ... notifyCheckpointComplete(m)
//       crash (close, no finish) --> fresh instance restores checkpoint c --> rest
//       final file / table == every row exactly once
// GCC 12 reports false -Wstringop-overflow warnings on inlined std::string appends (GCC bug
// 105329); the test builds many strings.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#endif
#include <QtTest>

#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "core/job.h"
#include "core/validate.h"
#include "runtime/dead_letter.h"
#include "runtime/registry.h"

#include "file_text.h"
#include "io_operator.h"
#include "runtime/snapshot.h"

using namespace weir;
namespace fs = std::filesystem;

namespace {

struct Collect final : Output {
  std::vector<RecordBatch> batches;
  void collect(int, RecordBatch b) override {
    if (!b.empty()) batches.push_back(std::move(b));
  }
  void emitWatermark(Watermark) override {}
};

/// One line per row: values joined by " | ".
using Lines = std::vector<std::string>;

void appendLines(const RecordBatch& b, Lines& out) {
  for (std::size_t r = 0; r < b.numRows(); ++r) {
    std::string s;
    for (std::size_t c = 0; c < b.numColumns(); ++c) {
      if (c) s += " | ";
      s += b.column(c).value(r).toString();
    }
    out.push_back(std::move(s));
  }
}

std::string joined(const Lines& l) {
  std::string s;
  for (const auto& x : l) s += x + "\n";
  return s;
}

Lines sorted(Lines l) {
  std::sort(l.begin(), l.end());
  return l;
}

#define COMPARE_LINES(a, b) QCOMPARE(QString::fromStdString(joined(a)), QString::fromStdString(joined(b)))


/// snapshotOperator, then through its file encoding and back.
OperatorSnapshot snapshot(Operator& op, OperatorContext& ctx, std::int64_t id) {
  const std::string bytes = snapshotOperator(op, ctx, id).encode();
  return OperatorSnapshot::decode(bytes, "test snapshot");
}

/// A running source: its context (which must outlive it), the instance and what it emitted.
/// Contexts are not copyable: tests pass a function that makes one.
using MakeContext = std::function<OperatorContext()>;

struct SourceRun {
  OperatorContext ctx;
  std::unique_ptr<Operator> op;
  Collect out;
  explicit SourceRun(const MakeContext& make) : ctx(make()) {}
  explicit SourceRun(OperatorContext&& c) : ctx(std::move(c)) {}
  SourceOperator& src() { return static_cast<SourceOperator&>(*op); }
  void open() {
    op = create(ctx);
    op->open(ctx);
  }
  void restore(const std::vector<OperatorSnapshot>& old) {
    open();
    restoreOperator(*op, ctx, old);
  }
  /// emitNext until EndOfInput (bounded) or NothingAvailable (follow); the number of calls.
  int runToEnd(bool stopWhenNothing = false) {
    int calls = 0;
    for (; calls < 100000; ++calls) {
      const SourceStatus st = src().emitNext(out);
      if (st == SourceStatus::EndOfInput) break;
      if (stopWhenNothing && st == SourceStatus::NothingAvailable) break;
    }
    return calls;
  }
  Lines lines() const {
    Lines l;
    for (const auto& b : out.batches) appendLines(b, l);
    return l;
  }
};

const nlohmann::json kSchema = {{{"name", "id"}, {"type", "int64"}}, {{"name", "name"}, {"type", "string"}},
                                {{"name", "t"}, {"type", "timestamp"}}};

/// `n` CSV rows (with header), a few malformed lines among them (dead letters).
std::string csvRows(int first, int n, bool header, bool withBad) {
  std::string s = header ? "id,name,t\n" : "";
  for (int i = first; i < first + n; ++i) {
    if (withBad && i % 9 == 4) s += "oops-" + std::to_string(i) + ",x,1\n";
    s += std::to_string(i) + ",\"name " + std::to_string(i) + (i % 5 == 0 ? "\nsecond line" : "") + "\"," +
         std::to_string(1000 + i * 10) + "\n";
  }
  return s;
}

std::string jsonlRows(int first, int n) {
  std::string s;
  for (int i = first; i < first + n; ++i)
    s += "{\"id\": " + std::to_string(i) + ", \"name\": \"j" + std::to_string(i) + "\", \"t\": " +
         std::to_string(5000 + i) + "}\n";
  return s;
}

/// A planned split list for the `_splits` param: `cuts` byte offsets of `file` (ascending,
/// from 0 to its size), split i -> subtask i % p.
nlohmann::json planSplits(const std::vector<std::pair<std::string, std::vector<std::int64_t>>>& files, int p) {
  nlohmann::json plan = nlohmann::json::array();
  int index = 0;
  for (const auto& [file, cuts] : files)
    for (std::size_t k = 0; k + 1 < cuts.size(); ++k, ++index)
      plan.push_back({{"path", file}, {"start", cuts[k]}, {"end", cuts[k + 1]}, {"index", index}, {"subtask", index % p}});
  return plan;
}

std::int64_t sizeOf(const fs::path& p) { return static_cast<std::int64_t>(fs::file_size(p)); }

SchemaPtr sinkSchema() { return makeSchema({{"id", Type::Int64}, {"name", Type::String}}); }

/// Batch i of the sink tests: rows 10*i .. 10*i + 2 + i % 3.
RecordBatch sinkBatch(int i) {
  BatchBuilder b(sinkSchema());
  for (int r = 0; r < 3 + i % 3; ++r) {
    const std::int64_t id = 10 * i + r;
    const std::vector<Value> row{Value::int64(id), Value::string("row \"" + std::to_string(id) + "\", ok")};
    b.appendRow(row);
  }
  return b.finish();
}

/// What the final file holds for the rows of batches [0, n) (one sink subtask).
std::string expectedCsv(const std::vector<int>& batches) {
  std::string s = "id,name\n";
  for (int i : batches)
    for (int r = 0; r < 3 + i % 3; ++r) {
      const std::int64_t id = 10 * i + r;
      s += std::to_string(id) + ",\"row \"\"" + std::to_string(id) + "\"\", ok\"\n";
    }
  return s;
}

std::vector<int> range(int from, int to) {
  std::vector<int> v;
  for (int i = from; i < to; ++i) v.push_back(i);
  return v;
}

/// Files in `dir` whose name contains `part`.
QStringList filesWith(const fs::path& dir, const std::string& part) {
  QStringList l;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(part) != std::string::npos)
      l << QString::fromStdString(e.path().filename().string());
  l.sort();
  return l;
}

/// A sink instance with its context.
struct SinkRun {
  OperatorContext ctx;
  std::unique_ptr<Operator> op;
  Collect out;
  explicit SinkRun(const MakeContext& make) : SinkRun(make()) {}
  explicit SinkRun(OperatorContext&& c) : ctx(std::move(c)) {
    ctx.inputSchemas = {sinkSchema()};
    ctx.inputPorts = {"in"};
    ctx.checkpointing = true;
    op = create(ctx);
    op->open(ctx);
  }
  void feed(int batch) { op->processBatch(0, sinkBatch(batch), out); }
  OperatorSnapshot snap(std::int64_t id) { return snapshot(*op, ctx, id); }
  /// A crash: the runtime closes the operator, nothing else.
  void crash() {
    op->close();
    op.reset();
  }
  void end() {
    op->close();
    op.reset();
  }
};

std::vector<std::string> query(const fs::path& db, const std::string& sql) {
  sqlite3* h = nullptr;
  std::vector<std::string> rows;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(h);
    return rows;
  }
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::string row;
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        if (c) row += "|";
        const unsigned char* t = sqlite3_column_text(st, c);
        row += t ? reinterpret_cast<const char*>(t) : "NULL";
      }
      rows.push_back(row);
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return rows;
}

std::vector<std::string> expectedTable(const std::vector<int>& batches) {
  std::vector<std::string> rows;
  for (int i : batches)
    for (int r = 0; r < 3 + i % 3; ++r) {
      const std::int64_t id = 10 * i + r;
      rows.push_back(std::to_string(id) + "|row \"" + std::to_string(id) + "\", ok");
    }
  std::sort(rows.begin(), rows.end());
  return rows;
}

QStringList qlist(const std::vector<std::string>& v) {
  QStringList l;
  for (const auto& s : v) l << QString::fromStdString(s);
  return l;
}

std::vector<std::string> tableRows(const fs::path& db) {
  std::vector<std::string> rows = query(db, "SELECT id, name FROM t");
  std::sort(rows.begin(), rows.end());
  return rows;
}

}  // namespace

class TestSnapshotIo : public QObject {
  Q_OBJECT

 private:
  /// For every step k of an uninterrupted run: k steps, snapshot, fresh instance, rest.
  void everyBoundary(const MakeContext& ctx) {
    SourceRun whole(ctx);
    whole.open();
    const int steps = whole.runToEnd();
    const Lines all = whole.lines();
    QVERIFY(all.size() > 3);
    QVERIFY(steps > 2);
    for (int k = 0; k <= steps; ++k) {
      SourceRun first(ctx);
      first.open();
      for (int i = 0; i < k; ++i) first.src().emitNext(first.out);
      // The other subtasks of the node (restore needs every old subtask's snapshot).
      std::vector<OperatorSnapshot> snaps;
      for (int s = 0; s < first.ctx.parallelism; ++s) {
        if (s == first.ctx.subtask) {
          snaps.push_back(snapshot(*first.op, first.ctx, k + 1));
          continue;
        }
        OperatorContext c = ctx();
        c.subtask = s;
        SourceRun other(std::move(c));
        other.open();
        snaps.push_back(snapshot(*other.op, other.ctx, k + 1));
      }
      Lines got = first.lines();
      first.op->close();
      first.op.reset();
      SourceRun second(ctx);
      second.restore(snaps);
      second.runToEnd();
      const Lines rest = second.lines();
      got.insert(got.end(), rest.begin(), rest.end());
      COMPARE_LINES(got, all);
    }
  }

 private slots:
  // ---- source.file

  void fileSourceEveryBoundary_data() {
    QTest::addColumn<QString>("format");
    QTest::addColumn<bool>("header");
    QTest::addColumn<bool>("bad");
    QTest::addColumn<bool>("timestamp");
    QTest::addColumn<int>("batch");
    QTest::newRow("csv") << "csv" << true << false << false << 4;
    QTest::newRow("csv-dead-letters") << "csv" << true << true << false << 3;
    QTest::newRow("csv-no-header-watermarks") << "csv" << false << false << true << 5;
    QTest::newRow("jsonl") << "jsonl" << false << false << true << 7;
  }
  void fileSourceEveryBoundary() {
    QFETCH(QString, format);
    QFETCH(bool, header);
    QFETCH(bool, bad);
    QFETCH(bool, timestamp);
    QFETCH(int, batch);
    QTemporaryDir dir;
    const std::string ext = format.toStdString();
    const fs::path a = dir.filePath(QString("a.") + format).toStdString();
    const fs::path b = dir.filePath(QString("b.") + format).toStdString();
    writeFile(a, ext == "csv" ? csvRows(0, 23, header, bad) : jsonlRows(0, 23));
    writeFile(b, ext == "csv" ? csvRows(100, 11, header, bad) : jsonlRows(100, 11));
    nlohmann::json params = {{"path", "*." + ext}, {"schema", kSchema}, {"header", header}, {"batch_size", batch}};
    if (timestamp) params["timestamp"] = "t";
    auto deadLetters = DeadLetterSink::inMemory(100);
    OperatorCounters counters;
    for (bool cut : {false, true}) {
      if (cut) {
        // File a in three byte splits (cut after a newline and mid-line).
        const std::string content = readFile(a);
        const std::int64_t third = static_cast<std::int64_t>(content.find('\n', content.size() / 3)) + 1;
        params["_splits"] = planSplits({{a.string(), {0, third, sizeOf(a) * 2 / 3, sizeOf(a)}},
                                        {b.string(), {0, sizeOf(b)}}}, 1);
      }
      const MakeContext ctx = [&] {
        OperatorContext c = makeContext("source.file", params);
        c.baseDir = dir.path().toStdString();
        c.counters = &counters;
        c.deadLetters = deadLetters.get();
        c.checkpointing = true;
        return c;
      };
      everyBoundary(ctx);
      if (QTest::currentTestFailed()) return;
    }
  }

  void fileSourceFollow() {
    QTemporaryDir dir;
    const fs::path path = dir.filePath("tail.csv").toStdString();
    writeFile(path, csvRows(0, 12, true, true) + "99,\"partial");
    auto deadLetters = DeadLetterSink::inMemory(100);
    const MakeContext ctx = [&] {
      OperatorContext c =
          makeContext("source.file", {{"path", "tail.csv"}, {"schema", kSchema}, {"follow", true}, {"batch_size", 2}});
      c.baseDir = dir.path().toStdString();
      c.deadLetters = deadLetters.get();
      c.checkpointing = true;
      return c;
    };
    SourceRun whole(ctx);
    whole.open();
    const int steps = whole.runToEnd(true);
    const Lines all = whole.lines();
    QCOMPARE(all.size(), std::size_t(12));
    for (int k = 0; k <= steps; ++k) {
      SourceRun first(ctx);
      first.open();
      for (int i = 0; i < k; ++i) first.src().emitNext(first.out);
      const OperatorSnapshot snap = snapshot(*first.op, first.ctx, 1);
      Lines got = first.lines();
      first.op.reset();
      SourceRun second(ctx);
      second.restore({snap});
      second.runToEnd(true);
      const Lines rest = second.lines();
      got.insert(got.end(), rest.begin(), rest.end());
      COMPARE_LINES(got, all);
    }
    // A restored follower still tails: lines appended after the restore come through once.
    SourceRun first(ctx);
    first.open();
    first.runToEnd(true);
    const OperatorSnapshot snap = snapshot(*first.op, first.ctx, 7);
    first.op.reset();
    appendFile(path, "\",5\n100,z,6\n");
    SourceRun second(ctx);
    second.restore({snap});
    second.runToEnd(true);
    COMPARE_LINES(second.lines(), (Lines{"99 | 'partial' | 1970-01-01T00:00:00.005Z",
                                         "100 | 'z' | 1970-01-01T00:00:00.006Z"}));
  }

  void fileSourceRescale_data() {
    QTest::addColumn<int>("from");
    QTest::addColumn<int>("to");
    QTest::newRow("1->2") << 1 << 2;
    QTest::newRow("2->1") << 2 << 1;
    QTest::newRow("2->3") << 2 << 3;
  }
  void fileSourceRescale() {
    QFETCH(int, from);
    QFETCH(int, to);
    QTemporaryDir dir;
    const fs::path a = dir.filePath("a.csv").toStdString();
    const fs::path b = dir.filePath("b.csv").toStdString();
    writeFile(a, csvRows(0, 40, true, true));
    writeFile(b, csvRows(200, 9, true, false));
    auto deadLetters = DeadLetterSink::inMemory(100);
    auto contextFor = [&](int p, int subtask, bool planA) {
      // The old and the new parallelism plan different splits: the saved plan wins.
      const std::vector<std::int64_t> cuts =
          planA ? std::vector<std::int64_t>{0, sizeOf(a) / 4, sizeOf(a) / 2, sizeOf(a)}
                : std::vector<std::int64_t>{0, sizeOf(a) / 3, sizeOf(a)};
      OperatorContext ctx = makeContext(
          "source.file",
          {{"path", "*.csv"}, {"schema", kSchema}, {"batch_size", 3},
           {"_splits", planSplits({{a.string(), cuts}, {b.string(), {0, sizeOf(b)}}}, p)}},
          subtask, p);
      ctx.baseDir = dir.path().toStdString();
      ctx.deadLetters = deadLetters.get();
      ctx.checkpointing = true;
      return ctx;
    };
    SourceRun whole(contextFor(1, 0, true));
    whole.open();
    whole.runToEnd();
    const Lines all = sorted(whole.lines());
    QCOMPARE(all.size(), std::size_t(49));
    for (int k = 0; k < 12; ++k) {
      Lines got;
      std::vector<OperatorSnapshot> snaps;
      for (int s = 0; s < from; ++s) {
        SourceRun old(contextFor(from, s, true));
        old.open();
        for (int i = 0; i < k + s; ++i) old.src().emitNext(old.out);
        snaps.push_back(snapshot(*old.op, old.ctx, 3));
        const Lines l = old.lines();
        got.insert(got.end(), l.begin(), l.end());
      }
      for (int s = 0; s < to; ++s) {
        SourceRun now(contextFor(to, s, false));
        now.restore(snaps);
        now.runToEnd();
        const Lines l = now.lines();
        got.insert(got.end(), l.begin(), l.end());
      }
      COMPARE_LINES(sorted(got), all);
    }
  }

  // ---- source.generator

  void generatorEveryBoundary_data() {
    QTest::addColumn<QString>("table");
    QTest::addColumn<int>("events");
    QTest::addColumn<int>("subtask");
    QTest::addColumn<int>("parallelism");
    QTest::addColumn<double>("rate");
    QTest::newRow("bid") << "bid" << 23 << 0 << 1 << 0.0;
    QTest::newRow("person-p3") << "person" << 31 << 1 << 3 << 0.0;
    QTest::newRow("auction-rate") << "auction" << 17 << 0 << 2 << 1e9;
  }
  void generatorEveryBoundary() {
    QFETCH(QString, table);
    QFETCH(int, events);
    QFETCH(int, subtask);
    QFETCH(int, parallelism);
    QFETCH(double, rate);
    everyBoundary([&] {
      OperatorContext ctx = makeContext(
          "source.generator",
          {{"table", table.toStdString()}, {"events", events}, {"batch_size", 3}, {"rate", rate}, {"seed", 7}},
          subtask, parallelism);
      ctx.checkpointing = true;
      return ctx;
    });
  }

  void generatorUnbounded() {
    const MakeContext ctx = [] { return makeContext("source.generator", {{"events", 0}, {"batch_size", 4}}); };
    SourceRun whole(ctx);
    whole.open();
    for (int i = 0; i < 6; ++i) whole.src().emitNext(whole.out);
    SourceRun first(ctx);
    first.open();
    for (int i = 0; i < 2; ++i) first.src().emitNext(first.out);
    const OperatorSnapshot snap = snapshot(*first.op, first.ctx, 1);
    first.op.reset();
    SourceRun second(ctx);
    second.restore({snap});
    for (int i = 0; i < 4; ++i) second.src().emitNext(second.out);
    Lines got = first.lines();
    const Lines rest = second.lines();
    got.insert(got.end(), rest.begin(), rest.end());
    COMPARE_LINES(got, whole.lines());
  }

  void generatorRescale_data() {
    QTest::addColumn<int>("from");
    QTest::addColumn<int>("to");
    QTest::newRow("1->2") << 1 << 2;
    QTest::newRow("2->1") << 2 << 1;
    QTest::newRow("3->2") << 3 << 2;
    QTest::newRow("2->5") << 2 << 5;
  }
  void generatorRescale() {
    QFETCH(int, from);
    QFETCH(int, to);
    const nlohmann::json params = {{"table", "bid"}, {"events", 61}, {"batch_size", 4}, {"seed", 3}};
    SourceRun whole(makeContext("source.generator", params));
    whole.open();
    whole.runToEnd();
    const Lines all = sorted(whole.lines());
    QCOMPARE(all.size(), std::size_t(61));
    for (int k = 0; k < 6; ++k) {
      Lines got;
      std::vector<OperatorSnapshot> snaps;
      for (int s = 0; s < from; ++s) {
        SourceRun old(makeContext("source.generator", params, s, from));
        old.open();
        for (int i = 0; i < k + s; ++i) old.src().emitNext(old.out);
        snaps.push_back(snapshot(*old.op, old.ctx, 2));
        const Lines l = old.lines();
        got.insert(got.end(), l.begin(), l.end());
      }
      for (int s = 0; s < to; ++s) {
        SourceRun now(makeContext("source.generator", params, s, to));
        now.restore(snaps);
        now.runToEnd();
        // Each subtask's event times stay in order (the watermark bound 0 stays exact).
        std::int64_t last = INT64_MIN;
        for (const auto& batch : now.out.batches)
          for (std::size_t r = 0; r < batch.numRows(); ++r) {
            QVERIFY(batch.eventTime(r) >= last);
            last = batch.eventTime(r);
          }
        const Lines l = now.lines();
        got.insert(got.end(), l.begin(), l.end());
      }
      COMPARE_LINES(sorted(got), all);
    }
  }

  // ---- corrupt state

  void corruptStateIsSnapshotError() {
    QTemporaryDir dir;
    writeFile(dir.filePath("a.csv").toStdString(), csvRows(0, 5, true, false));
    std::vector<OperatorContext> contexts;
    contexts.push_back(makeContext("source.file", {{"path", "a.csv"}, {"schema", kSchema}}));
    contexts.push_back(makeContext("source.generator", {{"events", 9}}));
    contexts.push_back(makeContext("sink.file", {{"path", "out.csv"}}));
    contexts.push_back(makeContext("sink.sqlite", {{"path", "db.sqlite"}, {"table", "t"}}));
    for (OperatorContext& ctx : contexts) {
      ctx.baseDir = dir.path().toStdString();
      ctx.checkpointing = true;
      if (ctx.type.rfind("sink.", 0) == 0) ctx.inputSchemas = {sinkSchema()};
      auto op = create(ctx);
      op->open(ctx);
      if (ctx.type.rfind("sink.", 0) == 0) {
        Collect out;
        op->processBatch(0, sinkBatch(1), out);
      } else {
        Collect out;
        static_cast<SourceOperator&>(*op).emitNext(out);
      }
      OperatorSnapshot good = snapshot(*op, ctx, 1);
      op->close();
      QVERIFY2(!good.operatorState.empty(), ctx.type.c_str());
      std::vector<std::string> bads;
      for (std::size_t len = 1; len < good.operatorState.size(); ++len)  // every cut (empty: no state)
        bads.push_back(good.operatorState.substr(0, len));
      bads.push_back(good.operatorState + "x");
      bads.push_back(std::string(good.operatorState.size(), '\xff'));
      std::string flipped = good.operatorState;
      flipped[0] = static_cast<char>(flipped[0] ^ 0x5a);
      bads.push_back(flipped);
      for (const std::string& bad : bads) {
        OperatorSnapshot s = good;
        s.operatorState = bad;
        auto fresh = create(ctx);
        fresh->open(ctx);
        bool threw = false;
        try {
          restoreOperator(*fresh, ctx, {s});
        } catch (const SnapshotError&) {
          threw = true;
        }
        fresh->close();
        QVERIFY2(threw, (ctx.type + ": corrupt state restored without SnapshotError").c_str());
      }
      if (ctx.type == "sink.file") continue;  // a flipped file name could point anywhere
      // Random byte flips: refused (SnapshotError, or JobError for a position that does not
      // fit the file), or restored and run to the end, never a crash.
      auto deadLetters = DeadLetterSink::inMemory(10);
      ctx.deadLetters = deadLetters.get();
      std::uint64_t seed = 12345;
      for (int round = 0; round < 300; ++round) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        std::string bad = good.operatorState;
        const std::size_t at = static_cast<std::size_t>((seed >> 33) % bad.size());
        bad[at] = static_cast<char>(bad[at] ^ static_cast<char>(1 + (seed >> 13) % 255));
        OperatorSnapshot s = good;
        s.operatorState = bad;
        auto fresh = create(ctx);
        fresh->open(ctx);
        try {
          restoreOperator(*fresh, ctx, {s});
          if (auto* src = dynamic_cast<SourceOperator*>(fresh.get())) {
            Collect out;
            for (int i = 0; i < 1000 && src->emitNext(out) != SourceStatus::EndOfInput; ++i) {
            }
          }
        } catch (const SnapshotError&) {
        } catch (const JobError&) {
        }
        fresh->close();
      }
    }
  }

  // ---- sink.file

  void fileSinkWithoutCheckpointsUnchanged() {
    QTemporaryDir dir;
    OperatorContext ctx = makeContext("sink.file", {{"path", "out.csv"}});
    ctx.baseDir = dir.path().toStdString();
    ctx.inputSchemas = {sinkSchema()};
    auto op = create(ctx);
    op->open(ctx);
    Collect out;
    op->processBatch(0, sinkBatch(0), out);
    op->processBatch(0, sinkBatch(1), out);
    ByteWriter w;
    op->snapshotState(1, w);
    QCOMPARE(w.size(), std::size_t(0));
    op->finish(out);
    op->close();
    QCOMPARE(QString::fromStdString(readFile(dir.filePath("out.csv").toStdString())),
             QString::fromStdString(expectedCsv({0, 1})));
    QCOMPARE(filesWith(dir.path().toStdString(), "out"), QStringList{"out.csv"});
  }

  /// Batches 0..N-1, snapshot n after batch n-1, notifications one checkpoint late (and
  /// notification 3 skipped): a reader sees exactly the committed checkpoints' rows at every
  /// point. Crash after checkpoint c completed (and, in the other variant, after c+1 was
  /// snapshotted but never completed), restore from c twice, go on: every row once.
  void fileSinkTwoPhaseCommit_data() {
    QTest::addColumn<QString>("format");
    QTest::newRow("csv") << "csv";
    QTest::newRow("jsonl") << "jsonl";
  }
  void fileSinkTwoPhaseCommit() {
    QFETCH(QString, format);
    const std::string ext = format.toStdString();
    const int kBatches = 7;
    auto readerText = [&](const std::vector<int>& batches) {
      if (ext == "csv") return expectedCsv(batches);
      std::string s;
      for (int i : batches)
        for (int r = 0; r < 3 + i % 3; ++r) {
          const std::int64_t id = 10 * i + r;
          s += "{\"id\":" + std::to_string(id) + ",\"name\":\"row \\\"" + std::to_string(id) + "\\\", ok\"}\n";
        }
      return s;
    };
    for (int c = 0; c <= kBatches; ++c) {
      for (bool uncompletedAfter : {false, true}) {
        if (uncompletedAfter && c == kBatches) continue;
        QTemporaryDir dir;
        const fs::path file = dir.filePath("out." + format).toStdString();
        const MakeContext ctx = [&] {
          OperatorContext c = makeContext("sink.file", {{"path", "out." + ext}});
          c.baseDir = dir.path().toStdString();
          return c;
        };
        std::vector<OperatorSnapshot> snaps{OperatorSnapshot{}};  // snaps[n]: checkpoint n
        {
          SinkRun a(ctx);
          int notified = 0;
          for (int i = 0; i < c; ++i) {
            a.feed(i);
            snaps.push_back(a.snap(i + 1));
            // The reader sees checkpoints <= notified, never more.
            QCOMPARE(QString::fromStdString(fs::exists(file) ? readFile(file) : readerText({})),
                     QString::fromStdString(readerText(range(0, notified))));
            if (i >= 1 && i != 3) {
              a.op->notifyCheckpointComplete(i);
              notified = i;
            }
            QCOMPARE(QString::fromStdString(fs::exists(file) ? readFile(file) : readerText({})),
                     QString::fromStdString(readerText(range(0, notified))));
          }
          if (uncompletedAfter) {
            a.feed(c);
            snaps.push_back(a.snap(c + 1));  // never completes
            a.feed(c + 1 < kBatches ? c + 1 : c);
            a.op->notifyCheckpointAborted(c + 1);
          }
          a.crash();
        }
        if (fs::exists(file))
          QVERIFY(readFile(file).size() <= readerText(range(0, c)).size());
        std::unique_ptr<SinkRun> b;
        for (int attempt = 0; attempt < 2; ++attempt) {
          // Restore from checkpoint c (c = 0: nothing completed, a fresh start).
          b = std::make_unique<SinkRun>(ctx);
          if (c > 0) restoreOperator(*b->op, b->ctx, {snaps[static_cast<std::size_t>(c)]});
          if (c > 0)
            QCOMPARE(QString::fromStdString(readFile(file)), QString::fromStdString(readerText(range(0, c))));
          if (attempt == 0) b->crash();
        }
        for (int i = c; i < kBatches; ++i) b->feed(i);
        b->op->finish(b->out);
        QCOMPARE(QString::fromStdString(fs::exists(file) ? readFile(file) : readerText({})),
                 QString::fromStdString(c > 0 ? readerText(range(0, c)) : readerText({})));
        b->snap(100);
        b->op->notifyCheckpointComplete(100);
        b->end();
        QCOMPARE(QString::fromStdString(readFile(file)), QString::fromStdString(readerText(range(0, kBatches))));
        QCOMPARE(filesWith(dir.path().toStdString(), "out"), QStringList{"out." + format});
      }
    }
  }

  /// An empty input still gives a file with its header, once the final checkpoint completes.
  void fileSinkEmptyInput() {
    QTemporaryDir dir;
    SinkRun a([&] {
      OperatorContext c = makeContext("sink.file", {{"path", "out.csv"}});
      c.baseDir = dir.path().toStdString();
      return c;
    });
    a.op->finish(a.out);
    a.snap(1);
    QVERIFY(!fs::exists(dir.filePath("out.csv").toStdString()));
    a.op->notifyCheckpointComplete(1);
    a.end();
    QCOMPARE(QString::fromStdString(readFile(dir.filePath("out.csv").toStdString())), QString("id,name\n"));
  }

  void fileSinkRescale_data() {
    QTest::addColumn<int>("from");
    QTest::addColumn<int>("to");
    QTest::newRow("2->1") << 2 << 1;
    QTest::newRow("1->2") << 1 << 2;
    QTest::newRow("3->2") << 3 << 2;
  }
  void fileSinkRescale() {
    QFETCH(int, from);
    QFETCH(int, to);
    QTemporaryDir dir;
    auto contextFor = [&](int s, int p) {
      OperatorContext ctx = makeContext("sink.file", {{"path", "out.csv"}}, s, p);
      ctx.baseDir = dir.path().toStdString();
      return ctx;
    };
    // Old subtask s gets batches s, s + from, ...; checkpoint 1 after the first two rounds
    // completes on some subtasks only; checkpoint 2 after the next round is the one restored
    // (its notification was lost); a third round is written and never staged.
    std::vector<OperatorSnapshot> snaps;
    std::vector<int> before;
    int next = 0;
    {
      std::vector<std::unique_ptr<SinkRun>> old;
      for (int s = 0; s < from; ++s) old.push_back(std::make_unique<SinkRun>(contextFor(s, from)));
      for (int round = 0; round < 4; ++round) {
        for (int s = 0; s < from; ++s) {
          old[static_cast<std::size_t>(s)]->feed(next);
          if (round < 3) before.push_back(next);
          ++next;
        }
        if (round == 1)
          for (int s = 0; s < from; ++s) {
            old[static_cast<std::size_t>(s)]->snap(1);
            if (s % 2 == 0) old[static_cast<std::size_t>(s)]->op->notifyCheckpointComplete(1);
          }
        if (round == 2)
          for (int s = 0; s < from; ++s) snaps.push_back(old[static_cast<std::size_t>(s)]->snap(2));
      }
      for (auto& o : old) o->crash();
    }
    std::vector<int> after;
    {
      std::vector<std::unique_ptr<SinkRun>> now;
      for (int s = 0; s < to; ++s) {
        now.push_back(std::make_unique<SinkRun>(contextFor(s, to)));
        restoreOperator(*now.back()->op, now.back()->ctx, snaps);
      }
      for (int s = 0; s < to; ++s) {
        now[static_cast<std::size_t>(s)]->feed(50 + s);
        after.push_back(50 + s);
        now[static_cast<std::size_t>(s)]->op->finish(now[static_cast<std::size_t>(s)]->out);
        now[static_cast<std::size_t>(s)]->snap(3);
        now[static_cast<std::size_t>(s)]->op->notifyCheckpointComplete(3);
        now[static_cast<std::size_t>(s)]->end();
      }
    }
    // Every committed row once, over the final files of both parallelisms; no leftovers.
    Lines rows;
    int headers = 0;
    for (const auto& e : fs::directory_iterator(dir.path().toStdString())) {
      const std::string name = e.path().filename().string();
      QVERIFY2(name.find("inprogress") == std::string::npos && name.find("pending") == std::string::npos,
               name.c_str());
      std::istringstream in(readFile(e.path()));
      std::string line;
      bool first = true;
      while (std::getline(in, line)) {
        if (first) {
          QCOMPARE(QString::fromStdString(line), QString("id,name"));
          ++headers;
          first = false;
          continue;
        }
        rows.push_back(line);
      }
    }
    std::vector<int> batches = before;
    batches.insert(batches.end(), after.begin(), after.end());
    std::string expected = expectedCsv(batches);
    Lines want;
    std::istringstream in(expected);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) want.push_back(line);
    COMPARE_LINES(sorted(rows), sorted(want));
    QVERIFY(headers >= std::max(from, to));
  }

  // ---- sink.sqlite

  void sqliteSinkTwoPhaseCommit_data() {
    QTest::addColumn<bool>("keyed");
    QTest::newRow("keyless") << false;
    QTest::newRow("keyed") << true;
  }
  void sqliteSinkTwoPhaseCommit() {
    QFETCH(bool, keyed);
    const int kBatches = 6;
    for (int c = 0; c <= kBatches; ++c) {
      for (bool uncompletedAfter : {false, true}) {
        if (uncompletedAfter && c == kBatches) continue;
        QTemporaryDir dir;
        const fs::path db = dir.filePath("db.sqlite").toStdString();
        nlohmann::json params = {{"path", "db.sqlite"}, {"table", "t"}};
        if (keyed) params["key"] = {"id"};
        const MakeContext ctx = [&] {
          OperatorContext c = makeContext("sink.sqlite", params);
          c.baseDir = dir.path().toStdString();
          return c;
        };
        std::vector<OperatorSnapshot> snaps{OperatorSnapshot{}};
        {
          SinkRun a(ctx);
          int notified = 0;
          for (int i = 0; i < c; ++i) {
            a.feed(i);
            snaps.push_back(a.snap(i + 1));
            QCOMPARE(qlist(tableRows(db)), qlist(expectedTable(range(0, notified))));
            if (i >= 1 && i != 3) {
              a.op->notifyCheckpointComplete(i);
              notified = i;
            }
            QCOMPARE(qlist(tableRows(db)), qlist(expectedTable(range(0, notified))));
          }
          if (uncompletedAfter) {
            a.feed(c);
            snaps.push_back(a.snap(c + 1));
          }
          a.crash();
        }
        for (int attempt = 0; attempt < 3; ++attempt) {
          // Restoring (replaying) checkpoint c again and again commits it once.
          SinkRun b(ctx);
          if (c > 0) restoreOperator(*b.op, b.ctx, {snaps[static_cast<std::size_t>(c)]});
          QCOMPARE(qlist(tableRows(db)), qlist(expectedTable(range(0, c))));
          if (attempt < 2) {
            b.crash();
            continue;
          }
          for (int i = c; i < kBatches; ++i) b.feed(i);
          b.op->finish(b.out);
          b.snap(100);
          QCOMPARE(qlist(tableRows(db)), qlist(expectedTable(range(0, c))));
          b.op->notifyCheckpointComplete(100);
          b.op->notifyCheckpointComplete(100);  // a repeated notification changes nothing
          b.end();
        }
        QCOMPARE(qlist(tableRows(db)), qlist(expectedTable(range(0, kBatches))));
        QVERIFY(!query(db, "SELECT checkpoint_id FROM _weir_commits WHERE sink = 'n'").empty());
      }
    }
  }

  /// A fresh run (not a restore) into a table an earlier run committed to: its checkpoint
  /// ids start again at 1 and must not be taken for the earlier run's.
  void sqliteSinkFreshRunAfterEarlierRun() {
    QTemporaryDir dir;
    const fs::path db = dir.filePath("db.sqlite").toStdString();
    const MakeContext ctx = [&] {
      OperatorContext c = makeContext("sink.sqlite", {{"path", "db.sqlite"}, {"table", "t"}});
      c.baseDir = dir.path().toStdString();
      return c;
    };
    for (int run = 0; run < 2; ++run) {
      SinkRun a(ctx);
      a.feed(run);
      a.snap(1);
      a.op->notifyCheckpointComplete(1);
      a.op->finish(a.out);
      a.end();
    }
    QCOMPARE(qlist(tableRows(db)), qlist(expectedTable({0, 1})));
  }

  void sqliteSinkRescale() {
    QTemporaryDir dir;
    const fs::path db = dir.filePath("db.sqlite").toStdString();
    auto contextFor = [&](int s, int p) {
      OperatorContext ctx = makeContext("sink.sqlite", {{"path", "db.sqlite"}, {"table", "t"}}, s, p);
      ctx.baseDir = dir.path().toStdString();
      return ctx;
    };
    std::vector<OperatorSnapshot> snaps;
    {
      SinkRun a(contextFor(0, 2)), b(contextFor(1, 2));
      a.feed(0);
      b.feed(1);
      a.snap(1);
      b.snap(1);
      a.op->notifyCheckpointComplete(1);  // b's notification is lost
      a.feed(2);
      b.feed(3);
      snaps.push_back(a.snap(2));
      snaps.push_back(b.snap(2));
      a.feed(4);
      a.crash();
      b.crash();
    }
    QCOMPARE(qlist(tableRows(db)), qlist(expectedTable({0})));
    SinkRun c(contextFor(0, 1));
    restoreOperator(*c.op, c.ctx, snaps);
    QCOMPARE(qlist(tableRows(db)), qlist(expectedTable({0, 1, 2, 3})));
    c.end();
  }

  /// Keyless sink.sqlite with a restart strategy is accepted when the job takes checkpoints
  /// (its commits are then exactly-once), still refused without.
  void validateKeylessSqliteWithCheckpoints() {
    for (bool checkpoints : {false, true}) {
      std::string text = R"({"weir": 1, "name": "j", "restart": {"strategy": "fixed_delay", "max_attempts": 3},)";
      if (checkpoints) text += R"("checkpoint": {"interval_ms": 1000},)";
      text += R"("nodes": [
        {"id": "src", "type": "source.generator", "params": {"events": 10}},
        {"id": "db", "type": "sink.sqlite", "params": {"path": "x.sqlite", "table": "t"}}],
        "edges": [{"from": "src", "to": "db"}]})";
      Diagnostics diags;
      auto job = parseJob(text, "j.weir.json", diags);
      QVERIFY(job);
      validateJob(*job, diags);
      bool keyError = false;
      for (const auto& d : diags) keyError = keyError || (d.node == "db" && d.path == "key");
      QCOMPARE(keyError, !checkpoints);
    }
  }
};

QTEST_GUILESS_MAIN(TestSnapshotIo)
#include "test_snapshot_io.moc"
