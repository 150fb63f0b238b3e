// The `weir` command end to end, and whole jobs through the path of `weir run
// --in-process` (prepareJob + LocalExecutor): exact outputs, exact counts, exact messages
// and exit codes (0 finished or valid, 1 failed at run time, 2 refused, 130 interrupted).
// `weir run` without --in-process runs each job on an embedded local cluster (a
// weir-jobmanager and weir-taskmanager processes): every expectation on the binary holds
// for it; the failure, dead-letter, signal and broken-pipe cases run both ways, and
// section 11 checks that the processes ran and none is left, however `weir` ends. Section
// 12: `weir status --follow` and `weir logs` against `weir cluster start`. Nothing here
// measures time; a job that should end is given a generous deadline only so that a hang
// fails the test instead of blocking ctest.
//
// Every job is copied into a QTemporaryDir with its data first, so outputs land there.
// Jobs live in samples/ and tests/data/e2e/ (data in their data/ folders):
//
//   samples/orders-union.weir.json     north(csv) ---.
//                                                     +--> all_orders(union) --> out(sink.file csv, p=1)
//                                      south(jsonl) -'
//
//   e2e/stock-report.weir.json         stock(csv) --> in_stock(filter) --> flagged(map) --> print(sink.stdout)
//   e2e/broken-orders.weir.json        four independent mistakes, one per branch:
//                                      orders(csv, misspelt param) --> out1
//                                      events(generator) --+--> big(filter, type error) --> out2
//                                                          +--> merge(union) --> loop_a --> loop_b --> out3
//                                                          |        ^---------------------------'  (a cycle)
//                                                          '--> per_bidder(window, no field 'biddr') --> out4
//   e2e/missing-input.weir.json        ledger(csv, no such file) --> out(csv)
//   e2e/sensor-readings.weir.json      readings(jsonl, 4 bad lines of 10) --> out(csv)
//   e2e/paced-bids.weir.json           bids(generator, 2000 at 20000/s, p=2) --> out(csv, p=1)
//   e2e/endless-bids.weir.json         bids(generator, unbounded, 200/s) --> print(sink.stdout jsonl)
//   e2e/glob-orders.weir.json          orders(csv glob "orders-*.csv": 3 files) --> out(csv, part files)
//   (written by the test)              late: src --> w(window) and j(join): late records per node
//   (written by the test)              fails: src(csv, 5,000 rows then a bad one, on_bad_record fail)
//                                      --> out(sink.file): the summary says nothing was committed
//
// Expected outputs are written out here by hand or computed from the input files with
// plain C++ (never with the engine's own readers or writers).

#include <QtTest>

#include "job_harness.h"

#include <signal.h>
#include <sys/types.h>

#include <ctime>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/catalog.h"
#include "runtime/local_executor.h"
#include "runtime/planner.h"

using namespace weir;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const fs::path kSource = WEIR_SOURCE_DIR;
const fs::path kSamples = kSource / "samples";
const fs::path kE2e = kSource / "tests/data/e2e";
const QString kWeir = QStringLiteral(WEIR_BIN_DIR "/weir");

QString q(const std::string& s) { return QString::fromStdString(s); }
QString q(const fs::path& p) { return QString::fromStdString(p.string()); }

/// The lines of a text, without the empty string after a final newline.
QStringList linesOf(const QString& text) {
  QStringList lines = text.split('\n');
  if (!lines.isEmpty() && lines.back().isEmpty()) lines.pop_back();
  return lines;
}

QStringList readLines(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return linesOf(q(s.str()));
}

/// Copies `job` from `from` (samples/ or tests/data/e2e/) and that folder's data/ into
/// `dir`, so that the job's relative paths find the data and its outputs land in `dir`.
fs::path copyJob(const QTemporaryDir& dir, const fs::path& from, const std::string& job) {
  const fs::path to = dir.path().toStdString();
  fs::copy(from / job, to / job);
  fs::copy(from / "data", to / "data", fs::copy_options::recursive | fs::copy_options::skip_existing);
  return to / job;
}

JobStatus runToEnd(const fs::path& job, const JobOverrides& overrides, JobMetrics* metrics = nullptr,
                   std::string* failure = nullptr) {
  return weir::test::runJobFile(job, overrides, metrics, failure);
}

const NodeMetrics& nodeMetrics(const JobMetrics& m, const std::string& id) {
  for (const auto& n : m.nodes)
    if (n.id == id) return n;
  qFatal("no node %s in the metrics", id.c_str());
}

/// What one `weir` process did.
struct Weir {
  int exitCode = -1;
  QProcess::ExitStatus exitStatus = QProcess::CrashExit;
  QString out, err;
};

/// Runs `weir args...` in `workingDir` (default: this process's) to its end, with `env`
/// ("NAME=value") added to this process's environment.
Weir runWeir(const QStringList& args, const QString& workingDir = {}, const QStringList& env = {}) {
  QProcess p;
  if (!workingDir.isEmpty()) p.setWorkingDirectory(workingDir);
  if (!env.isEmpty()) {
    QProcessEnvironment e = QProcessEnvironment::systemEnvironment();
    for (const QString& kv : env) e.insert(kv.section('=', 0, 0), kv.section('=', 1));
    p.setProcessEnvironment(e);
  }
  p.start(kWeir, args);
  Weir w;
  if (!p.waitForFinished(60000)) {
    p.kill();
    p.waitForFinished();
    w.err = "weir did not end within 60 s: " + args.join(' ');
    return w;
  }
  w.exitCode = p.exitCode();
  w.exitStatus = p.exitStatus();
  w.out = QString::fromUtf8(p.readAllStandardOutput());
  w.err = QString::fromUtf8(p.readAllStandardError());
  return w;
}

/// `weir run` on the default local cluster, or with --in-process.
QStringList runArgs(const fs::path& job, bool inProcess, const QStringList& more = {}) {
  QStringList args{"run", q(job)};
  if (inProcess) args << "--in-process";
  return args + more;
}

/// The pids `weir run --verbose` names for its cluster's processes ("weir:   NAME pid N").
std::map<QString, pid_t> clusterPids(const QString& err) {
  std::map<QString, pid_t> pids;
  QRegularExpression re(R"(^weir:   (jobmanager|taskmanager-\d+) pid (\d+)$)", QRegularExpression::MultilineOption);
  for (auto it = re.globalMatch(err); it.hasNext();) {
    const auto m = it.next();
    pids[m.captured(1)] = static_cast<pid_t>(m.captured(2).toInt());
  }
  return pids;
}

/// Whether `pid` names a process that has not ended (a zombie has ended).
bool processRuns(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto close = line.rfind(')');
  return close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'Z';
}

/// Every process `weir run --verbose` started has ended (checked for a second at most:
/// a process killed by the kernel with its parent may take a moment).
bool noneLeft(const std::map<QString, pid_t>& pids) {
  for (int i = 0; i < 100; ++i) {
    bool any = false;
    for (const auto& [name, pid] : pids) any = any || processRuns(pid);
    if (!any) return true;
    QTest::qWait(10);
  }
  return false;
}

// ---- independent formatting, for expected outputs ---------------------------------------

/// A CSV cell as docs/formats.md says the writer quotes it: when empty, or holding the
/// delimiter, a quote or a line break, or starting or ending with a space.
std::string csvCell(const std::string& s) {
  const bool quote = s.empty() || s.find_first_of(",\"\r\n") != std::string::npos || s.front() == ' ' ||
                     s.back() == ' ';
  if (!quote) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

/// Milliseconds since the epoch as ISO-8601 UTC with milliseconds (non-negative only).
std::string isoMillis(std::int64_t ms) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

/// The union's expected output rows, sorted, from the two shops' files.
QStringList expectedOrders() {
  QStringList rows;
  // The north shop's CSV is written the way the sink writes (ISO-8601 timestamps with
  // milliseconds, shortest doubles, quotes only where needed): each data line is its own
  // expected output row.
  const QStringList north = readLines(kSamples / "data/shop-north-orders.csv");
  for (qsizetype i = 1; i < north.size(); ++i) rows << north[i];
  // The south shop's JSON Lines: fields in schema order, null as an empty cell, epoch
  // milliseconds as ISO-8601; numbers are JSON numbers in shortest form, as in CSV.
  for (const QString& line : readLines(kSamples / "data/shop-south-orders.jsonl")) {
    const json j = json::parse(line.toStdString());
    const std::string coupon = j.at("coupon").is_null() ? "" : csvCell(j.at("coupon").get<std::string>());
    rows << q(j.at("order_id").dump() + "," + csvCell(j.at("shop")) + "," + csvCell(j.at("customer")) + "," +
              csvCell(j.at("item")) + "," + j.at("quantity").dump() + "," + j.at("total").dump() + "," + coupon +
              "," + isoMillis(j.at("placed_at").get<std::int64_t>()));
  }
  rows.sort();
  return rows;
}

/// The data rows of every output file `stem*.ext` in `folder` (one file, or part files),
/// after checking that each starts with `header`; sorted.
QStringList outputRows(const fs::path& folder, const std::string& stem, const std::string& ext,
                       const QString& header, int* files = nullptr) {
  QStringList rows;
  int n = 0;
  for (const auto& e : fs::directory_iterator(folder)) {
    const std::string name = e.path().filename().string();
    if (!name.starts_with(stem) || e.path().extension() != ext) continue;
    ++n;
    QStringList lines = readLines(e.path());
    if (lines.isEmpty() || lines.front() != header) {
      qWarning("%s does not start with the header %s", name.c_str(), qPrintable(header));
      return {};
    }
    lines.pop_front();
    rows << lines;
  }
  if (files) *files = n;
  rows.sort();
  return rows;
}

const QString kOrdersHeader = "order_id,shop,customer,item,quantity,total,coupon,placed_at";

// The stock report's output (tests/data/e2e/data/stock.csv, items with stock > 0, a bool
// `low` for stock < 5): timestamps read in four notations come out as ISO-8601 UTC with
// milliseconds (10:25+02:00 is 08:25Z), null stays empty, quotes are doubled.
const QStringList kStockCsv = {
    "sku,name,price,stock,updated_at,low",
    "A-100,kettle,42.5,3,2026-05-01T10:00:00.000Z,true",
    "A-102,grinder,64.99,7,2026-05-01T10:10:00.000Z,false",
    "A-103,filters,4.25,120,2026-05-01T10:05:00.000Z,false",
    "A-104,scale,,2,2026-05-01T10:20:00.500Z,true",
    "A-105,tamper,19,5,2026-05-01T08:25:00.000Z,false",
    R"(A-106,"say ""cheese"" board",8,1,2026-05-01T10:30:00.000Z,true)",
};

}  // namespace

class TestCli : public QObject {
  Q_OBJECT

 private slots:
  // ---- 1. union of a CSV and a JSON Lines source (samples/orders-union.weir.json) ------

  void unionMergesBothShops_data() {
    QTest::addColumn<int>("parallelism");
    QTest::addColumn<int>("sinkParallelism");
    QTest::newRow("p=1") << 1 << 1;
    QTest::newRow("p=3") << 3 << 1;
    QTest::newRow("p=3, sink p=3 (part files)") << 3 << 3;
  }
  void unionMergesBothShops() {
    QFETCH(int, parallelism);
    QFETCH(int, sinkParallelism);
    QTemporaryDir dir;
    const fs::path job = copyJob(dir, kSamples, "orders-union.weir.json");
    JobOverrides o;
    o.parallelism = parallelism;
    if (sinkParallelism != 1) o.sets = {"out.parallelism=" + std::to_string(sinkParallelism)};
    JobMetrics m;
    QCOMPARE(runToEnd(job, o, &m), JobStatus::Finished);

    int files = 0;
    const QStringList rows = outputRows(job.parent_path() / "out", "all-orders", ".csv", kOrdersHeader, &files);
    QCOMPARE(files, sinkParallelism);
    // Sorted equality with the inputs' rows (76 distinct order ids): nothing lost, nothing twice.
    QCOMPARE(rows, expectedOrders());
    QCOMPARE(rows.size(), qsizetype(76));

    QCOMPARE(nodeMetrics(m, "north").recordsOut, std::int64_t(40));
    QCOMPARE(nodeMetrics(m, "south").recordsOut, std::int64_t(36));
    QCOMPARE(nodeMetrics(m, "all_orders").recordsIn, std::int64_t(76));
    QCOMPARE(nodeMetrics(m, "all_orders").recordsOut, std::int64_t(76));
    QCOMPARE(nodeMetrics(m, "out").recordsIn, std::int64_t(76));
    QCOMPARE(m.deadLetters, std::int64_t(0));
    QVERIFY(!fs::exists(job.parent_path() / "out/orders-union.dead-letters.jsonl"));
  }

  // ---- 2. sink.stdout through the CLI ---------------------------------------------------

  void stdoutPrintsExactlyTheRecords() {
    QTemporaryDir dir;
    const fs::path job = copyJob(dir, kE2e, "stock-report.weir.json");
    const Weir w = runWeir({"run", q(job), "--quiet"});
    QCOMPARE(w.err, QString());
    QCOMPARE(w.exitCode, 0);
    QCOMPARE(linesOf(w.out), kStockCsv);
    QVERIFY(w.out.endsWith('\n'));
  }

  void stdoutPrintsJsonLines() {
    QTemporaryDir dir;
    const fs::path job = copyJob(dir, kE2e, "stock-report.weir.json");
    const Weir w = runWeir({"run", q(job), "--quiet", "--set", "print.format=jsonl"});
    QCOMPARE(w.exitCode, 0);
    QCOMPARE(linesOf(w.out), (QStringList{
        R"({"sku":"A-100","name":"kettle","price":42.5,"stock":3,"updated_at":"2026-05-01T10:00:00.000Z","low":true})",
        R"({"sku":"A-102","name":"grinder","price":64.99,"stock":7,"updated_at":"2026-05-01T10:10:00.000Z","low":false})",
        R"({"sku":"A-103","name":"filters","price":4.25,"stock":120,"updated_at":"2026-05-01T10:05:00.000Z","low":false})",
        R"({"sku":"A-104","name":"scale","price":null,"stock":2,"updated_at":"2026-05-01T10:20:00.500Z","low":true})",
        R"({"sku":"A-105","name":"tamper","price":19,"stock":5,"updated_at":"2026-05-01T08:25:00.000Z","low":false})",
        // (not a raw string: moc misreads \" inside one and then skips the whole class)
        "{\"sku\":\"A-106\",\"name\":\"say \\\"cheese\\\" board\",\"price\":8,\"stock\":1,"
        "\"updated_at\":\"2026-05-01T10:30:00.000Z\",\"low\":true}",
    }));
  }

  void stdoutRecordsThenTheSummary() {
    // Without --quiet the records alone are on stdout (data stays clean for a pipe) and the
    // summary is on stderr.
    QTemporaryDir dir;
    const fs::path job = copyJob(dir, kE2e, "stock-report.weir.json");
    const Weir w = runWeir({"run", q(job)});
    QCOMPARE(w.exitCode, 0);
    QCOMPARE(linesOf(w.out), kStockCsv);
    const QStringList lines = linesOf(w.err);
    QVERIFY2(lines.size() > 2, qPrintable(w.err));
    QCOMPARE(lines[0], QString());
    QVERIFY2(lines[1].startsWith("operator "), qPrintable(w.err));
    QVERIFY2(QRegularExpression(R"(\nFINISHED in [0-9.]+ s: 7 records read \([^)]*\), 6 written\n)")
                 .match(w.err).hasMatch(), qPrintable(w.err));
  }

  void failedRunCommitsNothing() {
    // A bad record with on_bad_record "fail" after 5,000 good ones: the run FAILS, the sink
    // leaves only out.csv.inprogress, and the summary does not call its records written.
    QTemporaryDir dir;
    {
      std::ofstream in(dir.filePath("in.csv").toStdString());
      in << "a\n";
      for (int i = 0; i < 5000; ++i) in << i << "\n";
      in << "not-a-number\n";
    }
    const nlohmann::json job = {
        {"weir", 1},
        {"name", "fails"},
        {"on_bad_record", "fail"},
        {"nodes",
         {{{"id", "src"}, {"type", "source.file"},
           {"params", {{"path", "in.csv"}, {"format", "csv"}, {"schema", {{{"name", "a"}, {"type", "int64"}}}}}}},
          {{"id", "out"}, {"type", "sink.file"}, {"params", {{"path", "out.csv"}, {"format", "csv"}}}}}},
        {"edges", {{{"from", "src"}, {"to", "out"}}}}};
    std::ofstream(dir.filePath("job.weir.json").toStdString()) << job.dump(2);
    const Weir w = runWeir({"run", dir.filePath("job.weir.json"), "--in-process"});
    QVERIFY2(w.exitCode != 0, qPrintable(w.err));
    QVERIFY2(QRegularExpression(R"(\nFAILED in [0-9.]+ s: [0-9,]+ records read \([^)]*\), [0-9,]+ reached the sinks, none committed)")
                 .match(w.err).hasMatch(), qPrintable(w.err));
    QVERIFY(!QFile::exists(dir.filePath("out.csv")));
  }

  void stdoutRunsAsOneSubtask() {
    // A job parallelism of 4 leaves the print node at 1: one header, every row once.
    QTemporaryDir dir;
    const fs::path job = copyJob(dir, kE2e, "stock-report.weir.json");
    const Weir v = runWeir({"validate", q(job), "--parallelism", "4"});
    QCOMPARE(v.exitCode, 0);
    QCOMPARE(linesOf(v.out).back(), QString("  print                sink.stdout      p=1"));
    const Weir w = runWeir({"run", q(job), "--parallelism", "4", "--quiet"});
    QCOMPARE(w.exitCode, 0);
    QStringList lines = linesOf(w.out);
    QCOMPARE(lines.front(), kStockCsv.front());
    QStringList expected = kStockCsv.mid(1);
    lines.pop_front();
    lines.sort();
    expected.sort();
    QCOMPARE(lines, expected);
    // Asking for more is refused.
    const Weir r = runWeir({"run", q(job), "--set", "print.parallelism=2"});
    QCOMPARE(r.exitCode, 2);
    QCOMPARE(linesOf(r.err), (QStringList{"print: parallelism: sink.stdout runs as at most 1 subtask",
                                          q(job) + ": 1 problem; the job was not run"}));
  }

  void stdoutLimit() {
    QTemporaryDir dir;
    const fs::path job = copyJob(dir, kE2e, "stock-report.weir.json");
    const Weir two = runWeir({"run", q(job), "--quiet", "--set", "print.limit=2"});
    QCOMPARE(two.exitCode, 0);
    QCOMPARE(linesOf(two.out), kStockCsv.mid(0, 3));
    const Weir four = runWeir({"run", q(job), "--quiet", "--set", "print.limit=4", "--set", "print.header=false"});
    QCOMPARE(four.exitCode, 0);
    QCOMPARE(linesOf(four.out), kStockCsv.mid(1, 4));
    // A limit above the count prints everything; the limit does not stop the job early.
    const Weir all = runWeir({"run", q(job), "--set", "print.limit=100"});
    QCOMPARE(all.exitCode, 0);
    QCOMPARE(linesOf(all.out), kStockCsv);
    QVERIFY2(all.err.contains(": 7 records read ("), qPrintable(all.err));
  }

  void stdoutLimitZeroPrintsNoRecord() {
    // The catalog documents `limit` as "Print at most this many records (absent: all)",
    // with 0 allowed; sink_stdout.cpp treats 0 as "no limit" and prints every record.
    QTemporaryDir dir;
    const fs::path job = copyJob(dir, kE2e, "stock-report.weir.json");
    const Weir w = runWeir({"run", q(job), "--quiet", "--set", "print.limit=0"});
    QCOMPARE(w.exitCode, 0);
    QCOMPARE(linesOf(w.out), kStockCsv.mid(0, 1));
  }

  void stdoutEmptyResultStillPrintsTheHeader() {
    // sink.file writes the CSV header when no record arrives; sink.stdout ("CSV: print a
    // header line first") prints nothing at all, because it makes its writer on the first batch.
    QTemporaryDir dir;
    const fs::path job = copyJob(dir, kE2e, "stock-report.weir.json");
    const Weir w = runWeir({"run", q(job), "--quiet", "--set", "in_stock.where=stock > 1000"});
    QCOMPARE(w.exitCode, 0);
    QCOMPARE(linesOf(w.out), kStockCsv.mid(0, 1));
  }

  // ---- 3. weir catalog --------------------------------------------------------------

  void catalogJsonHasEveryOperator() {
    const Weir w = runWeir({"catalog", "--json"});
    QCOMPARE(w.exitCode, 0);
    QCOMPARE(w.err, QString());
    const json c = json::parse(w.out.toStdString(), nullptr, false);
    QVERIFY2(!c.is_discarded(), "weir catalog --json is not JSON");
    QCOMPARE(c, catalogToJson());  // the same data the workbench gets in process
    QVERIFY(c.at("operators").is_array());

    // DESIGN.md §3's table, in its order: type, input ports, output ports, the params it names.
    struct Row {
      std::string type;
      std::vector<std::string> inputs, outputs, params;
    };
    const std::vector<Row> design = {
        {"source.file", {}, {"out"}, {"path", "format", "header", "schema", "timestamp", "watermark", "follow"}},
        {"source.generator", {}, {"out"}, {"table", "events", "rate", "seed"}},
        {"source.socket", {}, {"out"}, {"host", "port", "format"}},
        {"filter", {"in"}, {"out"}, {"where"}},
        {"map", {"in"}, {"out"}, {"fields", "keep_input"}},
        {"window", {"in"}, {"out", "late"}, {"key", "window", "aggregates", "allowed_lateness_ms"}},
        {"aggregate", {"in"}, {"out"}, {"key", "aggregates"}},
        {"join", {"left", "right"}, {"out"}, {"left_key", "right_key", "lower_ms", "upper_ms"}},
        {"union", {"in"}, {"out"}, {}},
        {"udf", {"in"}, {"out"}, {"plugin", "function", "params"}},
        {"sink.file", {"in"}, {}, {"path", "format"}},
        {"sink.stdout", {"in"}, {}, {}},
        {"sink.discard", {"in"}, {}, {}},
        {"sink.sqlite", {"in"}, {}, {"path", "table"}},
    };
    const json& ops = c.at("operators");
    QVERIFY(ops.size() >= design.size());
    auto names = [](const json& list) {
      std::vector<std::string> out;
      for (const json& e : list) out.push_back(e.at("name").get<std::string>());
      return out;
    };
    // DESIGN's operators keep its relative order; the catalog may have more between them
    // (the `watermark` operator of the event-time issue).
    std::size_t at = 0;
    for (std::size_t i = 0; i < design.size(); ++i) {
      const Row& d = design[i];
      while (at < ops.size() && ops[at].at("type").get<std::string>() != d.type) ++at;
      QVERIFY2(at < ops.size(), ("missing or out of order: " + d.type).c_str());
      const json& op = ops[at];
      QCOMPARE(op.at("type").get<std::string>(), d.type);
      QVERIFY2(op.at("inputs").is_array() && op.at("outputs").is_array() && op.at("params").is_array(), d.type.c_str());
      QVERIFY2(names(op.at("inputs")) == d.inputs, d.type.c_str());
      QVERIFY2(names(op.at("outputs")) == d.outputs, d.type.c_str());
      const auto params = names(op.at("params"));
      for (const auto& p : d.params)
        QVERIFY2(std::find(params.begin(), params.end(), p) != params.end(), (d.type + ": no param " + p).c_str());
      for (const json& p : op.at("params")) {
        QVERIFY2(p.at("kind").is_string() && p.at("required").is_boolean() && p.at("doc").is_string(),
                 (d.type + ": " + p.dump()).c_str());
      }
      const std::string cat = d.type.starts_with("source.") ? "source" : d.type.starts_with("sink.") ? "sink" : "transform";
      QCOMPARE(op.at("category").get<std::string>(), cat);
    }
    // A few facts the workbench relies on.
    auto byType = [&](const std::string& type) -> const json& {
      for (const json& op : ops)
        if (op.at("type") == type) return op;
      throw std::runtime_error("no " + type);
    };
    QCOMPARE(byType("union").at("inputs")[0].at("multiple").get<bool>(), true);  // any number of edges
    QCOMPARE(byType("sink.stdout").at("max_parallelism").get<int>(), 1);
    QCOMPARE(byType("window").at("keyed"), json::parse(R"([{"port": "in", "param": "key"}])"));
    QCOMPARE(byType("window").at("outputs")[1].at("required").get<bool>(), false);  // late may stay unconnected
  }

  void catalogTextListsEveryOperator() {
    const Weir w = runWeir({"catalog"});
    QCOMPARE(w.exitCode, 0);
    const QStringList lines = linesOf(w.out);
    const json ops = catalogToJson().at("operators");
    QCOMPARE(lines.size(), qsizetype(ops.size()));
    const QString later = "(validates; runs in a later version)";
    for (std::size_t i = 0; i < ops.size(); ++i) {
      // type, category and title in columns of 18, 10 and 22, then a note for types that
      // the runtime cannot run yet.
      const QString columns = QString("%1 %2 %3 ")
                                  .arg(q(ops[i].at("type").get<std::string>()), -18)
                                  .arg(q(ops[i].at("category").get<std::string>()), -10)
                                  .arg(q(ops[i].at("title").get<std::string>()), -22);
      const QString& line = lines[static_cast<qsizetype>(i)];
      QVERIFY2(line == columns || line == columns + later, qPrintable(line));
    }
    QCOMPARE(lines[0], QString("source.file        source     File source            "));
    QCOMPARE(lines[8], QString("union              transform  Union                  "));
  }

  // ---- 4. weir validate --------------------------------------------------------------

  void validatePrintsTheSchemas() {
    QTemporaryDir dir;
    copyJob(dir, kSamples, "orders-union.weir.json");
    const QString schema =
        "order_id:int64, shop:string, customer:string, item:string, quantity:int64, total:double, "
        "coupon:string, placed_at:timestamp";
    const Weir w = runWeir({"validate", "orders-union.weir.json"}, dir.path());
    QCOMPARE(w.err, QString());
    QCOMPARE(w.exitCode, 0);
    QCOMPARE(linesOf(w.out), (QStringList{
        "orders-union.weir.json: valid: 4 operators, 3 edges",
        "  north                source.file      p=2  -> " + schema,
        "  south                source.file      p=2  -> " + schema,
        "  all_orders           union            p=2  -> " + schema,
        "  out                  sink.file        p=1",
    }));
    const Weir p3 = runWeir({"validate", "orders-union.weir.json", "--parallelism", "3"}, dir.path());
    QCOMPARE(p3.exitCode, 0);
    QCOMPARE(linesOf(p3.out).mid(1), (QStringList{
        "  north                source.file      p=3  -> " + schema,
        "  south                source.file      p=3  -> " + schema,
        "  all_orders           union            p=3  -> " + schema,
        "  out                  sink.file        p=1",
    }));
    // validate writes nothing.
    QVERIFY(!fs::exists(fs::path(dir.path().toStdString()) / "out"));
  }

  void validateListsEveryProblem() {
    QTemporaryDir dir;
    copyJob(dir, kE2e, "broken-orders.weir.json");
    const QStringList problems = {
        "orders: delimeter: unknown param (did you mean 'delimiter'?)",
        "big: where: at 25: cannot apply + to string and int64",
        "merge: cycle: merge -> loop_a -> loop_b -> merge",
        "per_bidder: key: unknown field 'biddr' (did you mean 'bidder'?)",
    };
    const Weir w = runWeir({"validate", "broken-orders.weir.json"}, dir.path());
    QCOMPARE(w.exitCode, 2);
    QCOMPARE(w.out, QString());
    QCOMPARE(linesOf(w.err), problems + QStringList{"broken-orders.weir.json: 4 problems"});

    // run refuses it with the same list and runs nothing.
    const Weir r = runWeir({"run", "broken-orders.weir.json"}, dir.path());
    QCOMPARE(r.exitCode, 2);
    QCOMPARE(r.out, QString());
    QCOMPARE(linesOf(r.err), problems + QStringList{"broken-orders.weir.json: 4 problems; the job was not run"});
    QVERIFY(!fs::exists(fs::path(dir.path().toStdString()) / "out"));
  }

  // ---- 5. command-line misuse --------------------------------------------------------

  void misuseIsRefused_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QStringList>("stderrStart");  // the exact first lines of stderr
    QTest::addColumn<bool>("usage");               // the usage text follows
    const QString job = "stock-report.weir.json";
    QTest::newRow("no command") << QStringList{} << QStringList{"usage: weir run JOB [--parallelism N] [--set node.param=value]... [--quiet]"} << true;
    QTest::newRow("unknown command") << QStringList{"frobnicate", job}
                                     << QStringList{"weir: unknown command 'frobnicate'"} << true;
    QTest::newRow("run without a job") << QStringList{"run"} << QStringList{"weir run: which job? (weir run JOB)"} << true;
    QTest::newRow("validate without a job") << QStringList{"validate", "--quiet"}
                                            << QStringList{"weir validate: which job? (weir validate JOB)"} << true;
    QTest::newRow("parallelism 0") << QStringList{"run", job, "--parallelism", "0"}
                                   << QStringList{"weir: --parallelism must be a whole number from 1 to 128, not '0'"} << true;
    QTest::newRow("parallelism two") << QStringList{"run", job, "-p", "two"}
                                     << QStringList{"weir: --parallelism must be a whole number from 1 to 128, not 'two'"} << true;
    QTest::newRow("parallelism 2.5") << QStringList{"validate", job, "--parallelism", "2.5"}
                                     << QStringList{"weir: --parallelism must be a whole number from 1 to 128, not '2.5'"} << true;
    QTest::newRow("parallelism 129") << QStringList{"run", job, "--parallelism", "129"}
                                      << QStringList{"weir: --parallelism must be a whole number from 1 to 128, not '129'"} << true;
    QTest::newRow("parallelism without value") << QStringList{"run", job, "--parallelism"}
                                               << QStringList{"weir: --parallelism needs a value"} << true;
    QTest::newRow("set without value") << QStringList{"run", job, "--set"} << QStringList{"weir: --set needs a value"} << true;
    QTest::newRow("unknown option") << QStringList{"run", job, "--frob"} << QStringList{"weir: unknown option --frob"} << true;
    QTest::newRow("two jobs") << QStringList{"run", job, "other.weir.json"}
                              << QStringList{"weir: unexpected argument other.weir.json"} << true;
    // These reach the job, so they are reported as its problems.
    QTest::newRow("set without =") << QStringList{"run", job, "--set", "print"}
                                   << QStringList{"job: --set: 'print' is not node.param=value",
                                                  job + ": 1 problem; the job was not run"} << false;
    QTest::newRow("set without node") << QStringList{"run", job, "--set", ".limit=3"}
                                      << QStringList{"job: --set: '.limit=3' is not node.param=value",
                                                     job + ": 1 problem; the job was not run"} << false;
    QTest::newRow("set without param") << QStringList{"validate", job, "--set", "print=3"}
                                       << QStringList{"job: --set: 'print=3' is not node.param=value", job + ": 1 problem"} << false;
    QTest::newRow("set on an unknown node") << QStringList{"run", job, "--set", "printer.limit=3"}
                                            << QStringList{"job: --set: no node 'printer' in this job (did you mean 'print'?)",
                                                           job + ": 1 problem; the job was not run"} << false;
    QTest::newRow("set an unknown param") << QStringList{"run", job, "--set", "print.lmit=3"}
                                          << QStringList{"print: lmit: unknown param (did you mean 'limit'?)",
                                                         job + ": 1 problem; the job was not run"} << false;
    QTest::newRow("set a bad value") << QStringList{"run", job, "--set", "print.limit=-1"}
                                     << QStringList{"print: limit: must be at least 0, not -1",
                                                    job + ": 1 problem; the job was not run"} << false;
    QTest::newRow("no such job file") << QStringList{"run", "nosuch.weir.json"}
                                      << QStringList{"job: nosuch.weir.json: cannot open: No such file or directory",
                                                     "nosuch.weir.json: 1 problem; the job was not run"} << false;
  }
  void misuseIsRefused() {
    QFETCH(QStringList, args);
    QFETCH(QStringList, stderrStart);
    QFETCH(bool, usage);
    QTemporaryDir dir;
    copyJob(dir, kE2e, "stock-report.weir.json");
    const Weir w = runWeir(args, dir.path());
    QCOMPARE(w.exitCode, 2);
    QCOMPARE(w.out, QString());
    const QStringList err = linesOf(w.err);
    QCOMPARE(err.mid(0, stderrStart.size()), stderrStart);
    if (usage) {
      QVERIFY2(w.err.contains("usage: weir run JOB"), qPrintable(w.err));
    } else {
      QCOMPARE(err.size(), stderrStart.size());
    }
    QVERIFY(!fs::exists(fs::path(dir.path().toStdString()) / "out"));
  }

  void helpPrintsUsage() {
    // `weir run --help` prints the usage on stdout and exits 0; `weir --help` should too.
    const Weir sub = runWeir({"run", "--help"});
    QCOMPARE(sub.exitCode, 0);
    QVERIFY2(sub.out.startsWith("usage: weir run JOB"), qPrintable(sub.out));
    const Weir top = runWeir({"--help"});
    QCOMPARE(top.exitCode, 0);
    QVERIFY2(top.out.startsWith("usage: weir run JOB"), qPrintable(top.err));
  }

  void catalogRefusesAnUnexpectedArgument() {
    // `weir catalog extra` (and `weir catalog --json x`) silently ignores the extra word:
    // parseArgs stores it as the JOB, which only run and validate look at.
    const Weir w = runWeir({"catalog", "extra"});
    QCOMPARE(w.exitCode, 2);
    QVERIFY2(w.err.contains("extra"), qPrintable(w.err));
  }

  // ---- 6. a failure at run time -------------------------------------------------------

  void missingInputFailsTheJob_data() {
    QTest::addColumn<bool>("inProcess");
    QTest::newRow("local cluster") << false;
    QTest::newRow("in process") << true;
  }
  void missingInputFailsTheJob() {
    QFETCH(bool, inProcess);
    QTemporaryDir dir;
    const fs::path job = copyJob(dir, kE2e, "missing-input.weir.json");
    const QString missing = q(job.parent_path() / "data/ledger-2026.csv");
    const Weir w = runWeir(runArgs(job, inProcess));
    QCOMPARE(w.exitCode, 1);
    QCOMPARE(w.out, QString());
    QCOMPARE(linesOf(w.err).back(), "weir: job missing-input failed: ledger[0/1]: " + missing + ": file not found");
    QVERIFY2(QRegularExpression(R"(\nFAILED in [0-9.]+ s: 0 records read)").match(w.err).hasMatch(), qPrintable(w.err));

    // With three subtasks, each fails to open it; the first one to fail is reported.
    const Weir p3 = runWeir(runArgs(job, inProcess, {"--parallelism", "3", "--quiet"}));
    QCOMPARE(p3.exitCode, 1);
    QCOMPARE(p3.out, QString());
    const QRegularExpression line("^weir: job missing-input failed: ledger\\[[012]/3\\]: " +
                                  QRegularExpression::escape(missing) + ": file not found\n$");
    QVERIFY2(line.match(p3.err).hasMatch(), qPrintable(p3.err));

    // A glob that matches nothing.
    const Weir g = runWeir(runArgs(job, inProcess, {"--quiet", "--set", "ledger.path=data/ledgers/*.csv"}));
    QCOMPARE(g.exitCode, 1);
    QCOMPARE(g.err, "weir: job missing-input failed: ledger[0/1]: " + q(job.parent_path() / "data/ledgers/*.csv") +
                        ": no file matches the pattern\n");
  }

  // ---- 7. malformed JSON Lines: dead letters, or a failure when the job says so ----------

  void malformedLinesBecomeDeadLetters_data() {
    QTest::addColumn<bool>("inProcess");
    QTest::newRow("local cluster") << false;
    QTest::newRow("in process") << true;
  }
  void malformedLinesBecomeDeadLetters() {
    // On the local cluster each TaskManager writes its own dead-letter file; `weir run`
    // merges them into the job's one file, so both runtimes leave the same file.
    QFETCH(bool, inProcess);
    QTemporaryDir dir;
    const fs::path job = copyJob(dir, kE2e, "sensor-readings.weir.json");
    const fs::path base = job.parent_path();
    const std::string input = (base / "data/readings.jsonl").string();
    const fs::path deadLetters = base / "out/sensor-readings.dead-letters.jsonl";
    const Weir w = runWeir(runArgs(job, inProcess));
    QCOMPARE(w.exitCode, 0);
    QCOMPARE(w.out, QString());
    QVERIFY2(QRegularExpression("\nFINISHED in [0-9.]+ s: 5 records read \\([^)]*\\), 5 written, 4 malformed "
                                "records in " + QRegularExpression::escape(q(deadLetters)) + "\n")
                 .match(w.err).hasMatch(), qPrintable(w.err));

    // The six good lines of ten (one is blank), in file order: doubles in shortest form,
    // epoch milliseconds and ISO text alike as ISO-8601, unknown keys ignored.
    QCOMPARE(readLines(base / "out/readings.csv"), (QStringList{
        "sensor,celsius,at",
        "s1,21.5,2026-05-01T10:00:00.000Z",
        "s2,19,2026-05-01T10:00:01.000Z",
        "s5,22,2026-05-01T10:00:04.000Z",
        "s6,-0.5,2026-05-01T10:00:05.000Z",
        "s8,23.5,2026-05-01T10:00:07.000Z",
    }));

    // One dead letter per bad line, with its line, byte offset, reason and raw text.
    const QStringList raw = readLines(base / "data/readings.jsonl");
    auto letter = [&](int line, int offset, const std::string& reason) {
      return json{{"node", "readings"}, {"subtask", 0}, {"file", input}, {"line", line},
                  {"offset", offset}, {"reason", reason}, {"record", raw[line - 1].toStdString()}};
    };
    const std::vector<json> expected = {
        letter(3, 128, "malformed JSON at column 63: expected ',' or '}'"),  // the line is 62 bytes: its end
        letter(4, 191, "field 'celsius': expected a double (a JSON number), found a string"),
        letter(7, 320, "not a JSON object"),
        letter(9, 410, "field 'sensor': expected a string, found a number"),
    };
    std::vector<json> got;
    for (const QString& l : readLines(deadLetters)) got.push_back(json::parse(l.toStdString()));
    QCOMPARE(got.size(), expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) QVERIFY2(got[i] == expected[i], got[i].dump().c_str());    // No per-TaskManager file is left beside it.
    int files = 0;
    for (const auto& e : fs::directory_iterator(base / "out")) files += e.path().filename().string().starts_with("sensor-readings.");
    QCOMPARE(files, 1);
  }

  void malformedLineFailsWhenTheJobSaysSo() {
    QTemporaryDir dir;
    const fs::path job = copyJob(dir, kE2e, "sensor-readings.weir.json");
    {
      json j = json::parse(std::ifstream(job));
      j["on_bad_record"] = "fail";
      std::ofstream(job) << j.dump(2);
    }
    const Weir w = runWeir({"run", q(job), "--quiet"});
    QCOMPARE(w.exitCode, 1);
    QCOMPARE(w.out, QString());
    QCOMPARE(w.err, "weir: job sensor-readings failed: readings[0/1]: bad record at " +
                        q(job.parent_path() / "data/readings.jsonl") +
                        ":3 (byte 128): malformed JSON at column 63: expected ',' or '}' (on_bad_record is \"fail\")\n");
    QVERIFY(!fs::exists(job.parent_path() / "out/sensor-readings.dead-letters.jsonl"));
  }

  /// A job whose attempts always fail, with restart fixed_delay (2 restarts): three
  /// attempts, then it fails naming the exhausted strategy, in this process as in a cluster.
  void failedAttemptsRestartByTheStrategy_data() {
    QTest::addColumn<bool>("inProcess");
    QTest::newRow("in-process") << true;
    QTest::newRow("local cluster") << false;
  }
  void failedAttemptsRestartByTheStrategy() {
    QFETCH(bool, inProcess);
    QTemporaryDir dir;
    const fs::path job = copyJob(dir, kE2e, "sensor-readings.weir.json");
    {
      json j = json::parse(std::ifstream(job));
      j["on_bad_record"] = "fail";
      j["restart"] = {{"strategy", "fixed_delay"}, {"max_attempts", 2}, {"delay_ms", 10}};
      std::ofstream(job) << j.dump(2);
    }
    const Weir w = runWeir(runArgs(job, inProcess, {"--quiet"}));
    QCOMPARE(w.exitCode, 1);
    QVERIFY2(w.err.contains("the restart strategy fixed_delay (2 restarts, 10 ms apart) is exhausted"),
             qPrintable(w.err));
    if (inProcess) {
      QVERIFY2(w.err.contains("weir: restarting sensor-readings in 10 ms (attempt 2)\n"), qPrintable(w.err));
      QVERIFY2(w.err.contains("weir: restarting sensor-readings in 10 ms (attempt 3)\n"), qPrintable(w.err));
      QCOMPARE(w.err.count("failed: readings[0/1]: bad record"), 3);
    }
  }

  // ---- 8. the generator: paced to an end, and unbounded until interrupted ---------------

  void pacedGeneratorEmitsExactlyItsEvents() {
    QTemporaryDir dir;
    const fs::path job = copyJob(dir, kE2e, "paced-bids.weir.json");
    const Weir w = runWeir({"run", q(job)});
    QCOMPARE(w.exitCode, 0);
    QVERIFY2(QRegularExpression(R"(\nFINISHED in [0-9.]+ s: 2,000 records read \([^)]*\), 2,000 written\n)")
                 .match(w.err).hasMatch(), qPrintable(w.err));
    QStringList lines = readLines(job.parent_path() / "out/bids.csv");
    QCOMPARE(lines.size(), qsizetype(2001));
    QCOMPARE(lines.front(), QString("auction,bidder,price,channel,url,date_time,extra"));
    // Event i has date_time 2026-01-01T00:00:00Z + i ms: every event 0..1999 exactly once.
    std::multiset<std::string> times;
    for (qsizetype i = 1; i < lines.size(); ++i) {
      const QStringList f = lines[i].split(',');
      QVERIFY2(f.size() == 7, qPrintable(lines[i]));
      times.insert(f[5].toStdString());
    }
    std::multiset<std::string> expected;
    for (std::int64_t i = 0; i < 2000; ++i) expected.insert(isoMillis(1767225600000 + i));
    QVERIFY(times == expected);
  }

  /// Late records are counted per node in the summary: a window's go to its `late` port,
  /// a join's are dropped. One source feeds both (batches of one record, in lockstep), and
  /// the two records at 5 and 6 come after 2000 records at 100 and later:
  ///
  ///   src(csv: t=100..2099 then 5, 6; batch 1) --+--> w(window 10 ms) --> out_w
  ///                                              +--> j(join, left and right) --> out_j
  void lateRecordsAreCountedPerNode() {
    QTemporaryDir dir;
    const fs::path base = dir.path().toStdString();
    {
      std::ofstream csv(base / "events.csv");
      csv << "t,k\n";
      for (int i = 0; i < 2000; ++i) csv << 100 + i << ",1\n";
      csv << "5,1\n6,1\n";
    }
    std::ofstream(base / "late.weir.json") << R"({"weir": 1, "name": "late", "nodes": [
      {"id": "src", "type": "source.file", "params": {"path": "events.csv", "format": "csv", "batch_size": 1,
        "schema": [{"name": "t", "type": "int64"}, {"name": "k", "type": "int64"}], "timestamp": "t"}},
      {"id": "w", "type": "window", "params": {"key": ["k"], "window": {"type": "tumbling", "size_ms": 10},
        "aggregates": [{"name": "n", "fn": "count"}]}},
      {"id": "j", "type": "join", "params": {"left_key": ["k"], "right_key": ["k"], "lower_ms": 0, "upper_ms": 0}},
      {"id": "out_w", "type": "sink.discard"},
      {"id": "out_j", "type": "sink.discard"}],
      "edges": [{"from": "src", "to": "w"}, {"from": "src", "to": "j", "to_port": "left"},
        {"from": "src", "to": "j", "to_port": "right"}, {"from": "w", "to": "out_w"},
        {"from": "j", "to": "out_j"}]})";
    const Weir w = runWeir({"run", q(base / "late.weir.json")});
    QCOMPARE(w.exitCode, 0);
    QVERIFY2(w.err.contains(": 2,002 records read ("), qPrintable(w.err));
    QVERIFY2(w.err.contains(", 6 records too late: 2 at w (see the window's `late` port), "
                            "4 at j (dropped by the join)\n"),
             qPrintable(w.err));
  }

  void interruptCancelsAnUnboundedJob_data() {
    QTest::addColumn<bool>("inProcess");
    QTest::addColumn<int>("signal");
    QTest::addColumn<bool>("twice");  // a second signal ends `weir` without waiting for the job
    QTest::newRow("local cluster, SIGINT") << false << int(SIGINT) << false;
    QTest::newRow("local cluster, SIGTERM") << false << int(SIGTERM) << false;
    QTest::newRow("local cluster, SIGINT twice") << false << int(SIGINT) << true;
    QTest::newRow("in process, SIGINT") << true << int(SIGINT) << false;
  }
  void interruptCancelsAnUnboundedJob() {
    QFETCH(bool, inProcess);
    QFETCH(int, signal);
    QFETCH(bool, twice);
    QTemporaryDir dir;
    const fs::path job = copyJob(dir, kE2e, "endless-bids.weir.json");
    QProcess p;
    p.start(kWeir, runArgs(job, inProcess, {"--verbose"}));
    QVERIFY(p.waitForStarted(10000));
    // The first printed records show that the job runs (and its SIGINT handler is set).
    QByteArray out;
    while (!out.contains('\n')) {
      QVERIFY2(p.waitForReadyRead(30000), "no record printed");
      out += p.readAllStandardOutput();
    }
    QCOMPARE(::kill(static_cast<pid_t>(p.processId()), signal), 0);
    if (twice) QCOMPARE(::kill(static_cast<pid_t>(p.processId()), signal), 0);
    if (!p.waitForFinished(30000)) {
      p.kill();
      p.waitForFinished();
      QFAIL("weir did not end after SIGINT");
    }
    out += p.readAllStandardOutput();
    const QString err = QString::fromUtf8(p.readAllStandardError());
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QCOMPARE(p.exitCode(), 128 + signal);
    // On the local cluster: its JobManager and TaskManager ran as processes, and neither
    // they nor their folder are left.
    const auto pids = clusterPids(err);
    QCOMPARE(pids.size(), inProcess ? std::size_t(0) : std::size_t(2));
    QVERIFY2(noneLeft(pids), qPrintable(err));
    if (!inProcess) {
      const auto folder = QRegularExpression(R"(local cluster started in [0-9.]+ s in (\S+),)").match(err);
      QVERIFY2(folder.hasMatch(), qPrintable(err));
      QVERIFY2(!fs::exists(folder.captured(1).toStdString()), qPrintable(folder.captured(1)));
    }
    if (twice) return;  // the summary may or may not have been printed
    QVERIFY2(err.endsWith("\nweir: job endless-bids was canceled\n"), qPrintable(err));
    QVERIFY2(QRegularExpression(R"(\nCANCELED in [0-9.]+ s: )").match(err).hasMatch(), qPrintable(err));
    // Every record printed is whole, and they are the generator's first events in order.
    std::int64_t i = 0;
    for (const QString& line : linesOf(QString::fromUtf8(out))) {
      if (!line.startsWith('{')) break;  // the summary
      const json bid = json::parse(line.toStdString(), nullptr, false);
      QVERIFY2(!bid.is_discarded() && bid.size() == 7, qPrintable(line));
      QCOMPARE(bid.at("date_time").get<std::string>(), isoMillis(1767225600000 + i));
      ++i;
    }
    QVERIFY(i >= 1);
  }

  // ---- 9. a glob over three files, read by several subtasks ---------------------------

  void globReadsEveryFileOnce_data() {
    QTest::addColumn<int>("parallelism");
    QTest::newRow("p=1") << 1;
    QTest::newRow("p=2") << 2;
    QTest::newRow("p=3") << 3;
    QTest::newRow("p=4") << 4;
  }
  void globReadsEveryFileOnce() {
    QFETCH(int, parallelism);
    QTemporaryDir dir;
    const fs::path job = copyJob(dir, kE2e, "glob-orders.weir.json");
    JobOverrides o;
    o.parallelism = parallelism;
    JobMetrics m;
    QCOMPARE(runToEnd(job, o, &m), JobStatus::Finished);

    // orders-1..3.csv match; returns-1.csv and orders-4.csv.bak do not.
    std::vector<QStringList> files;
    QStringList all;
    for (const char* name : {"orders-1.csv", "orders-2.csv", "orders-3.csv"}) {
      files.push_back(readLines(kE2e / "data/glob" / name).mid(1));
      all << files.back();
    }
    all.sort();
    const QString header = "order_id,customer,total";
    QCOMPARE(outputRows(job.parent_path() / "out", "orders", ".csv", header), all);
    QCOMPARE(all.size(), qsizetype(15));
    QCOMPARE(nodeMetrics(m, "orders").recordsOut, std::int64_t(15));
    QCOMPARE(nodeMetrics(m, "out").recordsIn, std::int64_t(15));

    // Each small file is one split; split i goes to subtask i mod p, read in order, and
    // the forward edge keeps it in that subtask's part file.
    for (int k = 0; k < parallelism; ++k) {
      QStringList part{header};
      for (std::size_t i = static_cast<std::size_t>(k); i < files.size(); i += static_cast<std::size_t>(parallelism))
        part << files[i];
      const fs::path file = job.parent_path() / (parallelism == 1 ? std::string("out/orders.csv")
                                                                  : "out/orders-" + std::to_string(k) + ".csv");
      QCOMPARE(readLines(file), part);
    }
  }

  // ---- 10. relative paths resolve against the job file's folder -------------------------

  void relativePathsFollowTheJobFile() {
    QTemporaryDir jobDir, elsewhere;
    const fs::path job = copyJob(jobDir, kSamples, "orders-union.weir.json");
    const fs::path cwd = elsewhere.path().toStdString();
    const fs::path output = job.parent_path() / "out/all-orders.csv";

    // The job given by an absolute path, run from another folder.
    const Weir abs = runWeir({"run", q(job)}, elsewhere.path());
    QCOMPARE(abs.exitCode, 0);
    QVERIFY2(abs.err.endsWith("\noutput of out: " + q(output) + "\n"), qPrintable(abs.err));
    QCOMPARE(outputRows(job.parent_path() / "out", "all-orders", ".csv", kOrdersHeader), expectedOrders());
    QVERIFY(!fs::exists(cwd / "out"));
    QVERIFY(!fs::exists(cwd / "data"));

    // The same job given relative to the working directory: still its own folder.
    fs::remove_all(job.parent_path() / "out");
    const fs::path relative = fs::relative(job, cwd);
    QVERIFY(relative.string().starts_with(".."));
    const Weir rel = runWeir({"run", q(relative)}, elsewhere.path());
    QCOMPARE(rel.exitCode, 0);
    QVERIFY2(rel.err.endsWith("\noutput of out: " + q(output) + "\n"), qPrintable(rel.err));
    QCOMPARE(outputRows(job.parent_path() / "out", "all-orders", ".csv", kOrdersHeader), expectedOrders());
    QVERIFY(!fs::exists(cwd / "out"));
  }

  // ---- weir preview (runtime/preview.h): tables per edge, JSON, nothing written --------
  void previewPrintsTheFirstRowsOfEachEdge() {
    QTemporaryDir dir;
    const fs::path job = copyJob(dir, kSamples, "bid-stats.weir.json");
    const Weir w = runWeir({"preview", q(job), "--rows", "3"});
    QCOMPARE(w.exitCode, 0);
    const QStringList lines = w.out.split('\n', Qt::SkipEmptyParts);
    // 3 edges, each a title, a header and 3 rows.
    QCOMPARE(lines.size(), 3 * 5);
    QCOMPARE(lines[0], QString("bids.out -> pricey.in: 100 records, first 3"));
    QCOMPARE(lines[1].simplified(), QString("op auction bidder price channel date_time"));
    QCOMPARE(lines[2].simplified(), QString("+I 1011 2202 904 null 2026-11-24T09:00:00.336Z"));
    QVERIFY2(lines[10].startsWith("euros.out -> out.in: "), qPrintable(lines[10]));
    QVERIFY(!fs::exists(job.parent_path() / "out"));  // the sink wrote nothing
    const Weir j = runWeir({"preview", q(job), "--rows", "2", "--json"});
    QCOMPARE(j.exitCode, 0);
    const auto r = nlohmann::json::parse(j.out.toStdString());
    QCOMPARE(r["ok"].get<bool>(), true);
    QCOMPARE(r["edges"].size(), std::size_t(3));
    QCOMPARE(r["edges"][2]["rows"].size(), std::size_t(2));
    QCOMPARE(r["edges"][2]["rows"][0]["channel"].get<std::string>(), std::string("google"));
    const Weir bad = runWeir({"preview", q(job), "--set", "pricey.where=price >"});
    QCOMPARE(bad.exitCode, 2);
    QVERIFY2(bad.err.startsWith("pricey: "), qPrintable(bad.err));
    QVERIFY(!fs::exists(job.parent_path() / "out"));
  }

  // ---- 11. where `weir run` runs: a local cluster of processes, or --in-process ---------

  void runUsesALocalClusterOfProcesses() {
    // At parallelism 4 the job needs 4 slots: two TaskManagers with two each. The summary
    // names the cluster; the processes and the cluster's folder are gone afterwards.
    QTemporaryDir dir;
    const fs::path job = copyJob(dir, kE2e, "stock-report.weir.json");
    const Weir w = runWeir({"run", q(job), "--parallelism", "4", "--verbose"});
    QCOMPARE(w.exitCode, 0);
    QStringList lines = linesOf(w.out);
    QCOMPARE(lines.size(), kStockCsv.size());
    QCOMPARE(lines.front(), kStockCsv.front());
    QVERIFY2(w.err.contains("\nran on a local cluster: a JobManager and 2 TaskManagers with 2 slots each "
                            "(3 processes, all ended)\n"), qPrintable(w.err));
    const auto pids = clusterPids(w.err);
    QCOMPARE(pids.size(), std::size_t(3));
    QVERIFY(pids.count("jobmanager") && pids.count("taskmanager-1") && pids.count("taskmanager-2"));
    QVERIFY2(noneLeft(pids), qPrintable(w.err));
    const auto folder = QRegularExpression(R"(local cluster started in [0-9.]+ s in (\S+),)").match(w.err);
    QVERIFY2(folder.hasMatch(), qPrintable(w.err));
    QVERIFY(!fs::exists(folder.captured(1).toStdString()));

    // Chosen by hand; too few slots for the job is refused before anything starts.
    const Weir one = runWeir({"run", q(job), "--parallelism", "3", "--taskmanagers", "1", "--quiet"});
    QCOMPARE(one.exitCode, 0);
    QCOMPARE(linesOf(one.out).size(), kStockCsv.size());
    const Weir few = runWeir({"run", q(job), "--parallelism", "3", "--taskmanagers", "1", "--slots", "2"});
    QCOMPARE(few.exitCode, 2);
    QCOMPARE(few.err, QString("weir run: 1 TaskManager with 2 slots are too few: job stock-report needs 3 slots "
                              "(its largest parallelism)\n"));
    QCOMPARE(few.out, QString());

    // A weir without its daemons beside it cannot start a cluster: exit 1, saying so.
    QTemporaryDir lonely;
    const QString copy = lonely.filePath("weir");
    QVERIFY(QFile::copy(kWeir, copy));
    QProcess alone;
    alone.start(copy, {"run", q(job)});
    QVERIFY(alone.waitForFinished(30000));
    QCOMPARE(alone.exitCode(), 1);
    QCOMPARE(QString::fromUtf8(alone.readAllStandardError()),
             "weir: cannot start the local cluster: " + lonely.filePath("weir-jobmanager") +
                 " is not an executable\nweir: (weir run --in-process runs the job without a cluster)\n");
    QCOMPARE(alone.readAllStandardOutput(), QByteArray());

    // --keep-cluster-dir keeps the folder with the daemons' logs.
    const Weir kept = runWeir({"run", q(job), "--quiet", "--keep-cluster-dir"});
    QCOMPARE(kept.exitCode, 0);
    const auto keptDir = QRegularExpression(R"(the cluster's folder \(logs, metadata\) is kept: (\S+)\n)").match(kept.err);
    QVERIFY2(keptDir.hasMatch(), qPrintable(kept.err));
    const fs::path keptPath = keptDir.captured(1).toStdString();
    QVERIFY(fs::exists(keptPath / "logs/jobmanager.log"));
    QVERIFY(fs::exists(keptPath / "logs/taskmanager-1.log"));
    QCOMPARE(runWeir({"run", q(job), "--quiet"}).exitCode, 0);
    QVERIFY(fs::exists(keptPath / "logs/jobmanager.log"));  // not swept as abandoned
    fs::remove_all(keptPath);
  }

  void killedWeirLeavesNoProcess() {
    // However `weir run` ends, even by SIGKILL, the kernel sends its cluster's processes
    // SIGTERM (PR_SET_PDEATHSIG) and they end. Their folder in $TMPDIR stays behind until
    // the next `weir run` removes it.
    QTemporaryDir dir;
    const fs::path job = copyJob(dir, kE2e, "endless-bids.weir.json");
    QProcess p;
    p.start(kWeir, {"run", q(job), "--verbose"});
    QVERIFY(p.waitForStarted(10000));
    QByteArray out, errBytes;
    while (!out.contains('\n') || !errBytes.contains("taskmanager-1 pid")) {
      QVERIFY2(p.waitForReadyRead(30000), "no record printed");
      out += p.readAllStandardOutput();
      errBytes += p.readAllStandardError();
    }
    const QString err = QString::fromUtf8(errBytes);
    const auto pids = clusterPids(err);
    QCOMPARE(pids.size(), std::size_t(2));
    for (const auto& [name, pid] : pids) QVERIFY2(processRuns(pid), qPrintable(name));
    p.kill();
    QVERIFY(p.waitForFinished(10000));
    QVERIFY2(noneLeft(pids), qPrintable(err));
    const auto folder = QRegularExpression(R"(local cluster started in [0-9.]+ s in (\S+),)").match(err);
    QVERIFY2(folder.hasMatch(), qPrintable(err));
    const fs::path left = folder.captured(1).toStdString();
    QVERIFY(fs::exists(left / "logs/jobmanager.log"));
    const fs::path next = copyJob(dir, kE2e, "stock-report.weir.json");
    QCOMPARE(runWeir({"run", q(next), "--quiet"}).exitCode, 0);
    QVERIFY(!fs::exists(left));
  }

  void closedStdoutEndsLikeSigpipe_data() {
    QTest::addColumn<bool>("inProcess");
    QTest::newRow("local cluster") << false;
    QTest::newRow("in process") << true;
  }
  void closedStdoutEndsLikeSigpipe() {
    // `weir run job | head`: once the reader is gone `weir` dies of SIGPIPE (141 in a
    // shell) without a word, whichever runtime printed the records.
    QFETCH(bool, inProcess);
    QTemporaryDir dir;
    const fs::path job = copyJob(dir, kE2e, "endless-bids.weir.json");
    QProcess p;
    p.start("bash", {"-c", "set -o pipefail; \"$0\" run \"$1\" $2 | head -c 10 > /dev/null", kWeir, q(job),
                     inProcess ? "--in-process" : ""});
    QVERIFY(p.waitForFinished(30000));
    QCOMPARE(p.exitCode(), 141);
    QCOMPARE(QString::fromUtf8(p.readAllStandardError()), QString());
  }

  void inProcessRunsInThisProcess_data() {
    QTest::addColumn<QStringList>("flag");
    QTest::addColumn<QStringList>("env");
    QTest::newRow("--in-process") << QStringList{"--in-process"} << QStringList{};
    QTest::newRow("WEIR_RUN_IN_PROCESS=1") << QStringList{} << QStringList{"WEIR_RUN_IN_PROCESS=1"};
  }
  void inProcessRunsInThisProcess() {
    QFETCH(QStringList, flag);
    QFETCH(QStringList, env);
    QTemporaryDir dir;
    const fs::path job = copyJob(dir, kE2e, "stock-report.weir.json");
    const Weir w = runWeir(QStringList{"run", q(job), "--verbose"} + flag, {}, env);
    QCOMPARE(w.exitCode, 0);
    QCOMPARE(linesOf(w.out), kStockCsv);
    QVERIFY2(w.err.contains("\nran in this process (--in-process)\n"), qPrintable(w.err));
    QVERIFY2(!w.err.contains("cluster"), qPrintable(w.err));
  }

  // ---- 12. weir status --follow and weir logs, on a cluster of `weir cluster start` -----

  void statusFollowShowsLiveOperators() {
    QTemporaryDir dir;
    const QString clusterDir = dir.filePath("cluster");
    struct Stop {  // the cluster ends with the test, passed or not
      QString dir;
      ~Stop() { runWeir({"cluster", "stop", "--data-dir", dir}); }
    } stop{clusterDir};
    const Weir started = runWeir({"cluster", "start", "--data-dir", clusterDir, "--taskmanagers", "1", "--slots", "1"});
    QCOMPARE(started.exitCode, 0);
    const QString url = started.out.trimmed();
    const fs::path job = copyJob(dir, kE2e, "endless-bids.weir.json");
    // weir logs --follow prints what the JobManager logs from now on.
    QProcess tail;
    tail.start(kWeir, {"logs", "--follow", "--lines", "0", "--data-dir", clusterDir});
    QVERIFY(tail.waitForStarted(10000));
    const Weir submitted = runWeir({"submit", q(job), "--jobmanager", url});
    QCOMPARE(submitted.exitCode, 0);
    const QString id = submitted.out.trimmed();

    // Not a terminal: one block per second, each with a row per operator.
    QProcess follow;
    follow.start(kWeir, {"status", id, "--jobmanager", url, "--follow"});
    QVERIFY(follow.waitForStarted(10000));
    QByteArray out;
    while (out.count("\n  operator ") < 2) {
      QVERIFY2(follow.waitForReadyRead(20000), out.constData());
      out += follow.readAllStandardOutput();
    }
    const Weir canceled = runWeir({"cancel", id, "--jobmanager", url});
    QCOMPARE(canceled.exitCode, 0);
    QVERIFY(follow.waitForFinished(20000));
    out += follow.readAllStandardOutput();
    QCOMPARE(follow.exitCode(), 0);
    const QStringList lines = linesOf(QString::fromUtf8(out));
    QVERIFY2(lines.front().startsWith(id + "  endless-bids  RUNNING  "), out.constData());
    QVERIFY2(QRegularExpression(R"(^  operator +p +in rec/s +out rec/s +busy +backpr +watermark +lag$)")
                 .match(lines[1]).hasMatch(), qPrintable(lines[1]));
    QVERIFY2(QRegularExpression(R"(^  bids +1 +\S+ +\S+ +\d+% +\d+%  )").match(lines[2]).hasMatch(), qPrintable(lines[2]));
    QVERIFY2(QRegularExpression(R"(^  print +1 +\S+ +\S+ +\d+% +\d+%  )").match(lines[3]).hasMatch(), qPrintable(lines[3]));
    QCOMPARE(lines.back(), id + "  endless-bids  CANCELED");
    QByteArray tailed;
    while (!tailed.contains("job=\"" + id.toUtf8() + "\" name=\"endless-bids\" status=\"CANCELED\"")) {
      QVERIFY2(tail.waitForReadyRead(10000), tailed.constData());
      tailed += tail.readAllStandardOutput();
    }
    QVERIFY2(!tailed.contains("msg=\"listening\""), tailed.constData());  // --lines 0: nothing from before
    ::kill(static_cast<pid_t>(tail.processId()), SIGINT);
    QVERIFY(tail.waitForFinished(10000));
    QCOMPARE(tail.exitCode(), 130);

    // weir logs: the JobManager's log by default, a TaskManager's by name, the last N lines.
    const Weir jm = runWeir({"logs", "--data-dir", clusterDir});
    QCOMPARE(jm.exitCode, 0);
    QVERIFY2(jm.out.contains("component=jobmanager msg=\"job submitted\" job=\"" + id + "\""), qPrintable(jm.out));
    QVERIFY2(jm.out.contains("msg=\"listening\""), qPrintable(jm.out));
    const Weir two = runWeir({"logs", "jobmanager", "--lines", "2", "--data-dir", clusterDir});
    QCOMPARE(two.exitCode, 0);
    QCOMPARE(linesOf(two.out), linesOf(jm.out).mid(linesOf(jm.out).size() - 2));
    // (the TaskManager's log also holds what its sink.stdout printed: the whole file here)
    const Weir tm = runWeir({"logs", "taskmanager-1", "--lines", "100000", "--data-dir", clusterDir});
    QCOMPARE(tm.exitCode, 0);
    QVERIFY2(tm.out.contains("msg=\"registered with the JobManager\""), qPrintable(tm.out));
    const Weir nope = runWeir({"logs", "taskmanager-7", "--data-dir", clusterDir});
    QCOMPARE(nope.exitCode, 2);
    QCOMPARE(nope.err, QString("weir logs: no process 'taskmanager-7' in the local cluster (jobmanager, taskmanager-1)\n"));
    // Through the API, from the JobManager's memory.
    const Weir api = runWeir({"logs", "--jobmanager", url, "--lines", "3"});
    QCOMPARE(api.exitCode, 0);
    QCOMPARE(linesOf(api.out).size(), qsizetype(3));
    QVERIFY2(api.out.contains("msg=\"job status\" attempt=1 job=\"" + id + "\" name=\"endless-bids\" status=\"CANCELED\""),
             qPrintable(api.out));
  }

  void logsWithoutACluster() {
    QTemporaryDir dir;
    const Weir w = runWeir({"logs", "--data-dir", dir.path()});
    QCOMPARE(w.exitCode, 1);
    QVERIFY2(w.err.startsWith("weir logs: no local cluster in "), qPrintable(w.err));
  }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
