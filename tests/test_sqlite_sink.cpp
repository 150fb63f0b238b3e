// sink.sqlite end to end: jobs run on the LocalExecutor (job_harness.h), the database read
// back with the SQLite C API and compared with results computed independently here.
//
//   events.csv --source.file[p]--hash(k)--> aggregate[p] --(filter)--> sink.sqlite[1] (key k)
//   events.csv --source.file[1]--hash(k)--> window (lateness) --> sink.sqlite[1] (key k, window_start)
//   rows.csv   --source.file[1]--> sink.sqlite[1] (no key: inserts)
//
// Cases: an aggregate's changelog (streaming, p = 1 and 4, and batch) ends as exactly the
// final row of every key, a null key included; a filter that drops some +U rows (the -U
// must delete); a tumbling window's -U/+U and a session window's -D/+I from late records;
// plain inserts with every type; records a table's CHECK refuses go to dead letters; an
// existing table without a column fails the job; validation refuses an update stream
// without key and a parallelism above 1.

#include <QtTest>

#include <sqlite3.h>

#include <fstream>
#include <map>
#include <optional>

#include "core/catalog.h"
#include "core/validate.h"
#include "job_harness.h"

using namespace weir;
namespace fs = std::filesystem;

namespace {

struct Event {
  std::int64_t t;
  std::string k;  // empty: null
  std::int64_t v;
};

/// n events 7 ms apart over `keys` keys plus a null key every 17th event.
std::vector<Event> makeEvents(int n, int keys) {
  std::vector<Event> e;
  for (int i = 0; i < n; ++i) {
    const std::uint64_t h = static_cast<std::uint64_t>(i) * 0x9e3779b97f4a7c15ULL;
    const std::string k = i % 17 == 5 ? "" : "k" + std::to_string((h >> 33) % static_cast<std::uint64_t>(keys));
    e.push_back({static_cast<std::int64_t>(i) * 7, k, static_cast<std::int64_t>((h >> 17) % 50) - 10});
  }
  return e;
}

void writeEvents(const fs::path& p, const std::vector<Event>& events) {
  std::ofstream out(p);
  out << "t,k,v\n";
  for (const auto& e : events) out << e.t << "," << e.k << "," << e.v << "\n";
}

/// Every row of a query as "v1|v2|...", null as "null".
std::vector<std::string> query(const fs::path& db, const std::string& sql) {
  sqlite3* h = nullptr;
  std::vector<std::string> rows;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(h);
    return {"cannot open " + db.string()};
  }
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    rows.push_back(std::string("cannot prepare: ") + sqlite3_errmsg(h));
  } else {
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::string row;
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        if (c) row += '|';
        const unsigned char* t = sqlite3_column_text(st, c);
        row += t ? reinterpret_cast<const char*>(t) : "null";
      }
      rows.push_back(row);
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return rows;
}

void exec(const fs::path& db, const std::string& sql) {
  sqlite3* h = nullptr;
  QVERIFY(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &err);
  const std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(h);
  QVERIFY2(rc == SQLITE_OK, msg.c_str());
}

/// The final aggregate of every key ("null" first, then by key as SQLite's ORDER BY k):
/// "k|count|sum|max|min", only keys whose final count passes `keep`.
std::vector<std::string> refTotals(const std::vector<Event>& events, std::int64_t maxCount = INT64_MAX) {
  struct Acc {
    std::int64_t n = 0, sum = 0, hi = INT64_MIN, lo = INT64_MAX;
  };
  std::map<std::string, Acc> byKey;  // "" (null) sorts first, as NULL does in SQLite
  for (const auto& e : events) {
    Acc& a = byKey[e.k];
    ++a.n;
    a.sum += e.v;
    a.hi = std::max(a.hi, e.v);
    a.lo = std::min(a.lo, e.v);
  }
  std::vector<std::string> rows;
  for (const auto& [k, a] : byKey)
    if (a.n <= maxCount)
      rows.push_back((k.empty() ? std::string("null") : k) + "|" + std::to_string(a.n) + "|" + std::to_string(a.sum) +
                     "|" + std::to_string(a.hi) + "|" + std::to_string(a.lo));
  return rows;
}

const std::string kSchema =
    R"([{"name": "t", "type": "int64"}, {"name": "k", "type": "string"}, {"name": "v", "type": "int64"}])";

std::string modeField(bool batch) {
  return std::string("\"mode\": ") + (batch ? "\"batch\"," : "\"streaming\",");
}

/// events.csv -> aggregate(k: n, s, hi, lo) [-> filter where] -> sink.sqlite(key k).
std::string aggregateJob(bool batch, const std::string& where = "") {
  std::string job = "{\"weir\": 1, \"name\": \"totals\", " + modeField(batch) + R"( "nodes": [
    {"id": "src", "type": "source.file", "params": {"path": "events.csv", "format": "csv",
      "schema": )" + kSchema + R"(, "timestamp": "t", "batch_size": 16}},
    {"id": "agg", "type": "aggregate", "params": {"key": ["k"], "aggregates": [{"name": "n", "fn": "count"},
      {"name": "s", "fn": "sum", "field": "v"}, {"name": "hi", "fn": "max", "field": "v"},
      {"name": "lo", "fn": "min", "field": "v"}]}},)";
  if (!where.empty())
    job += R"({"id": "f", "type": "filter", "params": {"where": ")" + where + "\"}},";
  job += R"({"id": "db", "type": "sink.sqlite", "params": {"path": "out/totals.sqlite", "table": "totals", "key": ["k"]}}],
    "edges": [{"from": "src", "to": "agg"}, )";
  job += where.empty() ? R"({"from": "agg", "to": "db"}]})"
                       : R"({"from": "agg", "to": "f"}, {"from": "f", "to": "db"}]})";
  return job;
}

Diagnostics validate(const std::string& text) {
  Diagnostics diags;
  auto job = parseJob(text, "test.weir.json", diags);
  if (job) validateJob(*job, diags);
  return diags;
}

std::string joined(const Diagnostics& diags) {
  std::string s;
  for (const auto& d : diags) s += d.toString() + "\n";
  return s;
}

}  // namespace

class TestSqliteSink : public QObject {
  Q_OBJECT

 private slots:
  void aggregateChangelogEndsWithTheFinalRows_data() {
    QTest::addColumn<int>("parallelism");
    QTest::addColumn<bool>("batch");
    for (bool batch : {false, true})
      for (int p : {1, 4}) QTest::newRow(qPrintable(QString("%1 p=%2").arg(batch ? "batch" : "streaming").arg(p))) << p << batch;
  }
  /// 3000 events over 11 keys and a null key: the table holds one row per key, with the
  /// key's final aggregates (the streaming changelog has many more rows).
  void aggregateChangelogEndsWithTheFinalRows() {
    QFETCH(int, parallelism);
    QFETCH(bool, batch);
    QTemporaryDir dir;
    const fs::path base = dir.path().toStdString();
    const auto events = makeEvents(3000, 11);
    writeEvents(base / "events.csv", events);
    test::Collected c;
    JobOverrides o;
    o.parallelism = parallelism;
    std::string failure;
    JobMetrics m;
    QCOMPARE(test::runText(aggregateJob(batch), base, c, o, &failure, &m), std::string("FINISHED"));
    std::int64_t written = 0;
    for (const auto& n : m.nodes)
      if (n.id == "db") written = n.recordsIn;
    const auto expected = refTotals(events);
    QCOMPARE(expected.size(), std::size_t(12));
    if (batch) QCOMPARE(written, std::int64_t(expected.size()));
    else QVERIFY(written > 1000);
    QCOMPARE(query(base / "out/totals.sqlite", "SELECT k, n, s, hi, lo FROM totals ORDER BY k"), expected);
    // The sink created the table with the key as its primary key.
    QCOMPARE(query(base / "out/totals.sqlite", "SELECT name, type, pk FROM pragma_table_info('totals') ORDER BY cid"),
             (std::vector<std::string>{"k|TEXT|1", "n|INTEGER|0", "s|INTEGER|0", "hi|INTEGER|0", "lo|INTEGER|0"}));
  }

  /// A filter between the aggregate and the sink keeps a -U whose +U it drops: the -U
  /// must delete the row, so only keys whose final count passes remain.
  void retractionWithoutItsUpdateDeletesTheRow() {
    QTemporaryDir dir;
    const fs::path base = dir.path().toStdString();
    const auto events = makeEvents(400, 60);
    writeEvents(base / "events.csv", events);
    test::Collected c;
    std::string failure;
    QCOMPARE(test::runText(aggregateJob(false, "n <= 6"), base, c, {}, &failure), std::string("FINISHED"));
    const auto expected = refTotals(events, 6);
    QVERIFY(expected.size() > 5 && expected.size() < refTotals(events).size());  // some keys pass, some not
    QCOMPARE(query(base / "out/totals.sqlite", "SELECT k, n, s, hi, lo FROM totals ORDER BY k"), expected);
  }

  /// A rerun upserts into the existing table: still one row per key, the same values.
  void rerunKeepsOneRowPerKey() {
    QTemporaryDir dir;
    const fs::path base = dir.path().toStdString();
    const auto events = makeEvents(500, 7);
    writeEvents(base / "events.csv", events);
    for (int run = 0; run < 2; ++run) {
      test::Collected c;
      QCOMPARE(test::runText(aggregateJob(false), base, c), std::string("FINISHED"));
    }
    QCOMPARE(query(base / "out/totals.sqlite", "SELECT k, n, s, hi, lo FROM totals ORDER BY k"), refTotals(events));
  }

  /// Batches of one record, so the watermark follows every record (bound 0); tumbling
  /// 100 ms, lateness 50:
  ///   (10,a,1) (50,a,2) (120,a,3) -> [0,100) of a fires (+I n=2)
  ///   (30,a,4)                    -> -U / +U n=3
  ///   (130,b,7)                   -> [100,200) of a and b fire at the end
  void windowLatenessUpdatesEndAsUpdatedRows() {
    QTemporaryDir dir;
    const fs::path base = dir.path().toStdString();
    writeEvents(base / "events.csv", {{10, "a", 1}, {50, "a", 2}, {120, "a", 3}, {30, "a", 4}, {130, "b", 7}});
    const std::string job = R"({"weir": 1, "name": "w", "nodes": [
      {"id": "src", "type": "source.file", "params": {"path": "events.csv", "format": "csv",
        "schema": )" + kSchema + R"(, "timestamp": "t", "batch_size": 1}},
      {"id": "w", "type": "window", "params": {"key": ["k"], "window": {"type": "tumbling", "size_ms": 100},
        "allowed_lateness_ms": 50, "aggregates": [{"name": "n", "fn": "count"}, {"name": "s", "fn": "sum", "field": "v"}]}},
      {"id": "db", "type": "sink.sqlite", "params": {"path": "w.sqlite", "table": "windows", "key": ["k", "window_start"]}}],
      "edges": [{"from": "src", "to": "w"}, {"from": "w", "to": "db"}]})";
    test::Collected c;
    std::string failure;
    QCOMPARE(test::runText(job, base, c, {}, &failure), std::string("FINISHED"));
    QCOMPARE(query(base / "w.sqlite", "SELECT * FROM windows ORDER BY k, window_start"),
             (std::vector<std::string>{"a|1970-01-01T00:00:00.000Z|1970-01-01T00:00:00.100Z|3|7",
                                       "a|1970-01-01T00:00:00.100Z|1970-01-01T00:00:00.200Z|1|3",
                                       "b|1970-01-01T00:00:00.100Z|1970-01-01T00:00:00.200Z|1|7"}));
  }

  /// Session windows, gap 10, lateness 100: [0,10) and [20,30) fire at watermark 99; the
  /// late (10,a,4) joins them: -D both, +I [0,30). The table ends with the merged session.
  void lateSessionMergeDeletesTheFiredSessions() {
    QTemporaryDir dir;
    const fs::path base = dir.path().toStdString();
    writeEvents(base / "events.csv", {{0, "a", 1}, {20, "a", 2}, {100, "a", 3}, {10, "a", 4}});
    const std::string job = R"({"weir": 1, "name": "s", "nodes": [
      {"id": "src", "type": "source.file", "params": {"path": "events.csv", "format": "csv",
        "schema": )" + kSchema + R"(, "timestamp": "t", "batch_size": 1}},
      {"id": "w", "type": "window", "params": {"key": ["k"], "window": {"type": "session", "gap_ms": 10},
        "allowed_lateness_ms": 100, "aggregates": [{"name": "n", "fn": "count"}, {"name": "s", "fn": "sum", "field": "v"}]}},
      {"id": "db", "type": "sink.sqlite", "params": {"path": "s.sqlite", "table": "sessions", "key": ["k", "window_start"]}},
      {"id": "seen", "type": "test.collect"}],
      "edges": [{"from": "src", "to": "w"}, {"from": "w", "to": "db"}, {"from": "w", "to": "seen"}]})";
    test::Collected c;
    std::string failure;
    QCOMPARE(test::runText(job, base, c, {}, &failure), std::string("FINISHED"));
    // The changelog really had the deletes.
    QCOMPARE(c.rows, (std::vector<std::string>{"+I|a|0|10|1|1", "+I|a|20|30|1|2", "-D|a|0|10|1|1", "-D|a|20|30|1|2",
                                               "+I|a|0|30|3|7", "+I|a|100|110|1|3"}));
    QCOMPARE(query(base / "s.sqlite", "SELECT k, window_start, window_end, n, s FROM sessions ORDER BY window_start"),
             (std::vector<std::string>{"a|1970-01-01T00:00:00.000Z|1970-01-01T00:00:00.030Z|3|7",
                                       "a|1970-01-01T00:00:00.100Z|1970-01-01T00:00:00.110Z|1|3"}));
  }

  /// Without key every record is inserted, with every type mapped and nulls kept.
  void insertOnlyStreamInsertsEveryRow() {
    QTemporaryDir dir;
    const fs::path base = dir.path().toStdString();
    {
      std::ofstream out(base / "rows.csv");
      out << "id,price,ok,at,name\n1,2.5,true,2026-11-24T12:00:00.000Z,x\n2,,false,,\n"
             "2,-0.125,,1000,it's \"q\"\n";
    }
    const std::string job = R"({"weir": 1, "name": "rows", "nodes": [
      {"id": "src", "type": "source.file", "params": {"path": "rows.csv", "format": "csv",
        "schema": [{"name": "id", "type": "int64"}, {"name": "price", "type": "double"}, {"name": "ok", "type": "bool"},
                   {"name": "at", "type": "timestamp"}, {"name": "name", "type": "string"}]}},
      {"id": "db", "type": "sink.sqlite", "params": {"path": "rows.sqlite", "table": "my \"rows\""}}],
      "edges": [{"from": "src", "to": "db"}]})";
    test::Collected c;
    std::string failure;
    QCOMPARE(test::runText(job, base, c, {}, &failure), std::string("FINISHED"));
    QCOMPARE(query(base / "rows.sqlite",
                   "SELECT id, price, typeof(price), ok, at, name FROM \"my \"\"rows\"\"\" ORDER BY rowid"),
             (std::vector<std::string>{"1|2.5|real|1|2026-11-24T12:00:00.000Z|x", "2|null|null|0|null|null",
                                       "2|-0.125|real|null|1970-01-01T00:00:01.000Z|it's \"q\""}));
  }

  /// An existing table's CHECK refuses some records: they go to the dead-letter file,
  /// the others are written, the job finishes.
  void refusedRecordsAreDeadLetters() {
    QTemporaryDir dir;
    const fs::path base = dir.path().toStdString();
    const auto events = makeEvents(200, 5);
    writeEvents(base / "events.csv", events);
    exec(base / "e.sqlite", "CREATE TABLE ev (t INTEGER, k TEXT, v INTEGER CHECK (v >= 0), note TEXT)");
    const std::string job = R"({"weir": 1, "name": "ev", "dead_letter": "dead.jsonl", "nodes": [
      {"id": "src", "type": "source.file", "params": {"path": "events.csv", "format": "csv",
        "schema": )" + kSchema + R"(}},
      {"id": "db", "type": "sink.sqlite", "params": {"path": "e.sqlite", "table": "ev"}}],
      "edges": [{"from": "src", "to": "db"}]})";
    test::Collected c;
    std::string failure;
    JobMetrics m;
    QCOMPARE(test::runText(job, base, c, {}, &failure, &m), std::string("FINISHED"));
    std::int64_t negative = 0;
    for (const auto& e : events) negative += e.v < 0;
    QVERIFY(negative > 10);
    std::int64_t dead = 0;
    for (const auto& n : m.nodes)
      if (n.id == "db") dead = n.deadLetters;
    QCOMPARE(dead, negative);
    QCOMPARE(query(base / "e.sqlite", "SELECT count(*), min(v) >= 0 FROM ev"),
             (std::vector<std::string>{std::to_string(200 - negative) + "|1"}));
    std::ifstream in(base / "dead.jsonl");
    std::string first;
    QVERIFY(std::getline(in, first));
    const auto j = nlohmann::json::parse(first);
    QVERIFY2(j.at("reason").get<std::string>().find("CHECK constraint failed") != std::string::npos, first.c_str());
    QVERIFY2(j.at("record").get<std::string>().find("\"v\":-") != std::string::npos, first.c_str());
  }

  /// An existing table without one of the input's columns: the job fails, naming it.
  void existingTableWithoutAColumnFailsTheJob() {
    QTemporaryDir dir;
    const fs::path base = dir.path().toStdString();
    writeEvents(base / "events.csv", makeEvents(10, 2));
    exec(base / "e.sqlite", "CREATE TABLE ev (t INTEGER, k TEXT)");
    const std::string job = R"({"weir": 1, "name": "ev", "nodes": [
      {"id": "src", "type": "source.file", "params": {"path": "events.csv", "format": "csv", "schema": )" + kSchema + R"(}},
      {"id": "db", "type": "sink.sqlite", "params": {"path": "e.sqlite", "table": "ev"}}],
      "edges": [{"from": "src", "to": "db"}]})";
    test::Collected c;
    std::string failure;
    QCOMPARE(test::runText(job, base, c, {}, &failure), std::string("FAILED"));
    QVERIFY2(failure.find("table ev exists without the column(s) v of the input (it has t, k)") != std::string::npos,
             failure.c_str());
  }

  void validationRefusesWhatCannotWork() {
    // An update stream needs key.
    std::string noKey = aggregateJob(false);
    noKey.replace(noKey.find(R"(, "key": ["k"]}})"), std::string(R"(, "key": ["k"]}})").size(), "}}");
    const std::string a = joined(validate(noKey));
    QVERIFY2(a.find("db: key: the input is an update stream") != std::string::npos, a.c_str());
    // A key field must exist.
    std::string badKey = aggregateJob(false);
    badKey.replace(badKey.find(R"("key": ["k"]}})"), std::string(R"("key": ["k"]}})").size(), R"("key": ["kk"]}})");
    const std::string b = joined(validate(badKey));
    QVERIFY2(b.find("db: key: ") != std::string::npos && b.find("kk") != std::string::npos, b.c_str());
    // One subtask only.
    std::string parallel = aggregateJob(false);
    parallel.replace(parallel.find(R"("type": "sink.sqlite",)"), std::string(R"("type": "sink.sqlite",)").size(),
                     R"("type": "sink.sqlite", "parallelism": 2,)");
    const std::string p = joined(validate(parallel));
    QVERIFY2(p.find("db: parallelism: sink.sqlite runs as at most 1 subtask") != std::string::npos, p.c_str());
    // A job parallelism above 1 gives the sink 1 and stays valid.
    QVERIFY2(validate(aggregateJob(false)).empty(), joined(validate(aggregateJob(false))).c_str());
  }
};

QTEST_APPLESS_MAIN(TestSqliteSink)
#include "test_sqlite_sink.moc"
