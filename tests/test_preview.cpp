// The design-time preview (runtime/preview.h): a job runs in-process on the first records
// of each source, sinks write nothing, and every edge reports its first records.
//
//   bids (source.file, bids.csv) --> pricey (filter) --> euros (map) --> out (sink.file)
//   bids (source.file, bids.csv) --> per_auction (window 60 s) --> out (sink.file)
//   bids (source.generator, top-bids sample) --> per_auction (window 10 s) --> out
//
// Expectations are computed here from the CSV text itself (its first N well-formed rows,
// the filter and the map applied by hand), not by the engine. Every preview runs in a
// copy of the sample folder whose listing (names, sizes, modification times, a stale
// dead-letter file included) must be the same afterwards. At parallelism > 1 the rows of
// an edge with several producers are compared as sets (with M large enough to hold them
// all); at parallelism 1 in order.

#include <QtTest>

#include <cmath>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "core/job.h"
#include "runtime/preview.h"

using namespace weir;
using nlohmann::json;

namespace {

const QString kSamples = QStringLiteral(WEIR_SOURCE_DIR "/samples");

struct CsvBid {
  int line = 0;  // 1-based line in the file
  std::int64_t auction = 0, bidder = 0, price = 0;
  std::string channel;  // "" = null
  std::string dateTime;
  std::int64_t ms = 0;
};

/// The well-formed rows of bids.csv in file order, and the line numbers of the others.
void readBids(const QString& path, std::vector<CsvBid>& good, std::vector<int>& bad) {
  QFile f(path);
  QVERIFY(f.open(QIODevice::ReadOnly));
  const QStringList lines = QString::fromUtf8(f.readAll()).split('\n');
  auto isInt = [](const QString& s) {
    bool ok = false;
    s.toLongLong(&ok);
    return ok;
  };
  for (int i = 1; i < lines.size(); ++i) {  // line 1 is the header
    if (lines[i].trimmed().isEmpty()) continue;
    const QStringList c = lines[i].split(',');
    const QDateTime t = c.size() == 5 ? QDateTime::fromString(c[4], Qt::ISODateWithMs) : QDateTime();
    if (c.size() != 5 || !isInt(c[0]) || !isInt(c[1]) || !isInt(c[2]) || !t.isValid()) {
      bad.push_back(i + 1);
      continue;
    }
    good.push_back({i + 1, c[0].toLongLong(), c[1].toLongLong(), c[2].toLongLong(), c[3].toStdString(),
                    c[4].toStdString(), t.toMSecsSinceEpoch()});
  }
}

json bidRow(const CsvBid& b) {
  return {{"auction", b.auction}, {"bidder", b.bidder}, {"price", b.price},
          {"channel", b.channel.empty() ? json(nullptr) : json(b.channel)}, {"date_time", b.dateTime},
          {"_event_time", b.ms}, {"_op", "+I"}};
}

/// A preview row without the producing subtask (which depends on scheduling).
json withoutSubtask(json row) {
  row.erase("_subtask");
  return row;
}

/// Every file under `dir` with its size and modification time.
std::map<QString, QString> listing(const QString& dir) {
  std::map<QString, QString> m;
  QDirIterator it(dir, QDir::Files | QDir::Dirs | QDir::NoDotAndDotDot | QDir::Hidden, QDirIterator::Subdirectories);
  while (it.hasNext()) {
    it.next();
    const QFileInfo fi = it.fileInfo();
    m[fi.absoluteFilePath()] = QString("%1 %2").arg(fi.size()).arg(fi.lastModified().toMSecsSinceEpoch());
  }
  return m;
}

const PreviewEdge* edge(const PreviewResult& r, const std::string& from, const std::string& to) {
  for (const auto& e : r.edges)
    if (e.from == from && e.to == to) return &e;
  return nullptr;
}

const PreviewNode* node(const PreviewResult& r, const std::string& id) {
  for (const auto& n : r.nodes)
    if (n.id == id) return &n;
  return nullptr;
}

std::vector<json> rowsJson(const PreviewEdge& e) {
  std::vector<json> out;
  for (const auto& row : e.rows) out.push_back(withoutSubtask(tapRowToJson(*e.schema, row)));
  return out;
}

std::multiset<std::string> asSet(const std::vector<json>& rows) {
  std::multiset<std::string> s;
  for (const auto& r : rows) s.insert(r.dump());
  return s;
}

}  // namespace

class TestPreview : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir tmp_;
  std::vector<CsvBid> bids_;
  std::vector<int> badLines_;

  /// A fresh copy of the samples folder (job files and data), with a stale dead-letter
  /// file and an output file in out/ that the preview must leave alone.
  QString copySamples(const QString& name) {
    const QString dir = tmp_.path() + "/" + name;
    QDir().mkpath(dir + "/data");
    QDir().mkpath(dir + "/out");
    for (const auto& f : QDir(kSamples).entryList({"*.weir.json"}, QDir::Files)) QFile::copy(kSamples + "/" + f, dir + "/" + f);
    for (const auto& f : QDir(kSamples + "/data").entryList(QDir::Files))
      QFile::copy(kSamples + "/data/" + f, dir + "/data/" + f);
    std::ofstream((dir + "/out/bid-stats.dead-letters.jsonl").toStdString()) << "stale\n";
    std::ofstream((dir + "/out/pricey-bids.csv").toStdString()) << "from an earlier run\n";
    return dir;
  }

  JobGraph load(const QString& path) {
    Diagnostics d;
    auto job = loadJobFile(path.toStdString(), d);
    if (!job) qFatal("cannot load %s", qPrintable(path));
    return *job;
  }

  /// bid-stats at `parallelism`: the rows of each edge against the hand-computed ones.
  void checkBidStats(int parallelism, int n, int m) {
    const QString dir = copySamples(QString("bid-stats-p%1-n%2-m%3").arg(parallelism).arg(n).arg(m));
    const auto before = listing(dir);
    JobGraph job = load(dir + "/bid-stats.weir.json");
    job.parallelism = parallelism;
    PreviewOptions o;
    o.rowsPerSource = n;
    o.rowsPerEdge = m;
    const PreviewResult r = previewJob(job, o);
    QVERIFY2(r.ok, r.error.c_str());
    QVERIFY(!r.timedOut);
    QCOMPARE(listing(dir), before);

    // Expected: the first n well-formed rows; the filter and the map by hand.
    std::vector<CsvBid> first(bids_.begin(), bids_.begin() + n);
    std::vector<json> source, filtered, mapped;
    for (const auto& b : first) {
      source.push_back(bidRow(b));
      if (!(b.price > 1000 && !b.channel.empty())) continue;
      filtered.push_back(bidRow(b));
      const std::string band = b.price >= 5000 ? "high" : b.price >= 2000 ? "mid" : "low";
      std::string lower = QString::fromStdString(b.channel).toLower().toStdString();
      mapped.push_back({{"auction", b.auction}, {"channel", lower},
                        {"price_eur", std::round(static_cast<double>(b.price) * 0.908 * 100) / 100}, {"band", band},
                        {"date_time", b.dateTime}, {"_event_time", b.ms}, {"_op", "+I"}});
    }
    const int lastLine = first.back().line;
    const auto deadLines = std::count_if(badLines_.begin(), badLines_.end(), [&](int l) { return l < lastLine; });

    QCOMPARE(r.edges.size(), std::size_t(3));
    const PreviewEdge* e0 = edge(r, "bids", "pricey");
    const PreviewEdge* e1 = edge(r, "pricey", "euros");
    const PreviewEdge* e2 = edge(r, "euros", "out");
    QVERIFY(e0 && e1 && e2);
    QCOMPARE(e0->edge, 0);
    QCOMPARE(e2->edge, 2);
    // The declared schemas (no projection pushdown in the preview).
    QCOMPARE(e1->schema->toString(), std::string("auction:int64, bidder:int64, price:int64, channel:string, date_time:timestamp"));
    QCOMPARE(e2->schema->toString(), std::string("auction:int64, channel:string, price_eur:double, band:string, date_time:timestamp"));
    QCOMPARE(e0->records, std::int64_t(n));
    QCOMPARE(e1->records, std::int64_t(filtered.size()));
    QCOMPARE(e2->records, std::int64_t(mapped.size()));

    auto firstM = [&](const std::vector<json>& all) {
      return std::vector<json>(all.begin(), all.begin() + std::min<std::size_t>(all.size(), static_cast<std::size_t>(m)));
    };
    // The source runs as one subtask: its edge is in file order at any parallelism.
    QCOMPARE(rowsJson(*e0), firstM(source));
    if (parallelism == 1) {
      QCOMPARE(rowsJson(*e1), firstM(filtered));
      const auto got = rowsJson(*e2);
      QCOMPARE(got.size(), firstM(mapped).size());
      for (std::size_t i = 0; i < got.size(); ++i) {
        json g = got[i], w = mapped[i];
        QVERIFY2(std::abs(g["price_eur"].get<double>() - w["price_eur"].get<double>()) < 1e-9, g.dump().c_str());
        g.erase("price_eur");
        w.erase("price_eur");
        QCOMPARE(g, w);
      }
    } else {
      QVERIFY(static_cast<std::size_t>(m) >= filtered.size());
      QCOMPARE(asSet(rowsJson(*e1)), asSet(filtered));
      std::multiset<std::string> got, want;
      for (auto row : rowsJson(*e2)) {
        row.erase("price_eur");
        got.insert(row.dump());
      }
      for (auto row : mapped) {
        row.erase("price_eur");
        want.insert(row.dump());
      }
      QCOMPARE(got, want);
      std::set<int> producers;
      for (const auto& row : e1->rows) producers.insert(row.subtask);
      QVERIFY(producers.size() <= static_cast<std::size_t>(parallelism));
    }

    QCOMPARE(node(r, "bids")->recordsOut, std::int64_t(n));
    QCOMPARE(node(r, "bids")->parallelism, 1);
    QCOMPARE(node(r, "pricey")->parallelism, parallelism);
    QCOMPARE(node(r, "pricey")->recordsOut, std::int64_t(filtered.size()));
    QCOMPARE(node(r, "out")->recordsIn, std::int64_t(mapped.size()));
    QCOMPARE(r.deadLetterCount, std::int64_t(deadLines));
    QCOMPARE(r.deadLetters.size(), static_cast<std::size_t>(deadLines));
    for (std::size_t i = 0; i < r.deadLetters.size(); ++i) {
      QCOMPARE(r.deadLetters[i].value("node", ""), std::string("bids"));
      QCOMPARE(r.deadLetters[i].value("line", 0), badLines_[i]);
    }
    const json j = previewToJson(r);
    QCOMPARE(j["ok"].get<bool>(), true);
    QVERIFY(j["error"].is_null());
    QCOMPARE(j["edges"][0]["rows"].size(), std::min<std::size_t>(n, m));
    QCOMPARE(j["edges"][0]["schema"][4].dump(), std::string(R"({"name":"date_time","type":"timestamp"})"));
    QCOMPARE(j["dead_letter_count"].get<std::int64_t>(), std::int64_t(deadLines));
  }

 private slots:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    readBids(kSamples + "/data/bids.csv", bids_, badLines_);
    QVERIFY(bids_.size() > 1000);
    QVERIFY(!badLines_.empty() && badLines_.front() < 200);  // the first 200 rows hold a bad one
  }

  void bidStatsFirstRows() { checkBidStats(1, 200, 10); }
  void bidStatsAllRowsOfTheCut() { checkBidStats(1, 150, 1000); }
  void bidStatsAtParallelism2() { checkBidStats(2, 200, 1000); }
  void bidStatsAtParallelism3() { checkBidStats(3, 120, 1000); }

  void windowOverTheFirstRows_data() {
    QTest::addColumn<int>("parallelism");
    QTest::newRow("p1") << 1;
    QTest::newRow("p3") << 3;
  }
  void windowOverTheFirstRows() {
    QFETCH(int, parallelism);
    const QString dir = copySamples(QString("window-p%1").arg(parallelism));
    const auto before = listing(dir);
    const int n = 300;
    JobGraph job = load(dir + "/bid-stats.weir.json");
    job.parallelism = parallelism;
    job.nodes[1] = JobNode{};
    job.nodes[1].id = "per_auction";
    job.nodes[1].type = "window";
    job.nodes[1].params = json::parse(R"({"key": ["auction"], "window": {"type": "tumbling", "size_ms": 60000},
        "aggregates": [{"name": "bids", "fn": "count"}, {"name": "top", "fn": "max", "field": "price"}]})");
    job.nodes.erase(job.nodes.begin() + 2);  // euros
    job.edges = {JobEdge{}, JobEdge{}};
    job.edges[0].from = "bids";
    job.edges[0].to = "per_auction";
    job.edges[1].from = "per_auction";
    job.edges[1].to = "out";
    PreviewOptions o;
    o.rowsPerSource = n;
    o.rowsPerEdge = 1000;
    const PreviewResult r = previewJob(job, o);
    QVERIFY2(r.ok, r.error.c_str());
    QCOMPARE(listing(dir), before);

    // By hand: count and max price per (auction, minute) over the first n rows. The file is
    // in event-time order, so no record is late.
    std::map<std::pair<std::int64_t, std::int64_t>, std::pair<std::int64_t, std::int64_t>> windows;
    for (int i = 0; i < n; ++i) {
      const CsvBid& b = bids_[static_cast<std::size_t>(i)];
      auto& w = windows[{b.auction, b.ms - b.ms % 60000}];
      ++w.first;
      w.second = std::max(w.second, b.price);
    }
    std::multiset<std::string> want;
    for (const auto& [k, v] : windows)
      want.insert(json({{"auction", k.first},
                        {"window_start", QDateTime::fromMSecsSinceEpoch(k.second, Qt::UTC).toString(Qt::ISODateWithMs).toStdString()},
                        {"window_end", QDateTime::fromMSecsSinceEpoch(k.second + 60000, Qt::UTC).toString(Qt::ISODateWithMs).toStdString()},
                        {"bids", v.first}, {"top", v.second}, {"_op", "+I"}})
                      .dump());
    const PreviewEdge* out = edge(r, "per_auction", "out");
    QVERIFY(out);
    QCOMPARE(out->schema->toString(),
             std::string("auction:int64, window_start:timestamp, window_end:timestamp, bids:int64, top:int64"));
    std::multiset<std::string> got;
    for (auto row : rowsJson(*out)) {
      row.erase("_event_time");  // a window result's event time is its end - 1 (event-time.md)
      got.insert(row.dump());
    }
    QCOMPARE(got, want);
    QCOMPARE(out->records, std::int64_t(windows.size()));
    QCOMPARE(edge(r, "bids", "per_auction")->rows.size(), std::size_t(n));
  }

  void generatorWindowSample() {
    const QString dir = copySamples("top-bids");
    const auto before = listing(dir);
    PreviewOptions o;
    o.rowsPerSource = 500;
    o.rowsPerEdge = 5000;
    const PreviewResult r = previewJob(load(dir + "/top-bids.weir.json"), o);
    QVERIFY2(r.ok, r.error.c_str());
    QCOMPARE(listing(dir), before);
    const PreviewEdge* in = edge(r, "bids", "per_auction");
    const PreviewEdge* out = edge(r, "per_auction", "out");
    QCOMPARE(in->records, std::int64_t(500));
    QCOMPARE(in->rows.size(), std::size_t(500));
    // The generator's event time is its date_time, in order.
    for (std::size_t i = 0; i < in->rows.size(); ++i) {
      const int dt = in->schema->indexOf("date_time");
      QCOMPARE(in->rows[i].eventTime, in->rows[i].values[static_cast<std::size_t>(dt)].asInt64());
      if (i > 0) QVERIFY(in->rows[i].eventTime >= in->rows[i - 1].eventTime);
    }
    // Every record of the cut is counted in exactly one window.
    std::int64_t total = 0;
    const int bids = out->schema->indexOf("bids");
    for (const auto& row : out->rows) total += row.values[static_cast<std::size_t>(bids)].asInt64();
    QCOMPARE(total, std::int64_t(500));
    QCOMPARE(out->rows.size(), static_cast<std::size_t>(out->records));
  }

  void invalidJobIsNotRun() {
    const QString dir = copySamples("invalid");
    const auto before = listing(dir);
    JobGraph job = load(dir + "/bid-stats.weir.json");
    job.nodes[1].params["where"] = "price >";
    const PreviewResult r = previewJob(job);
    QVERIFY(!r.ok);
    QVERIFY(!r.diagnostics.empty());
    QCOMPARE(r.diagnostics.front().node, std::string("pricey"));
    QVERIFY2(r.error.rfind("pricey: ", 0) == 0, r.error.c_str());
    QVERIFY(r.edges.empty());
    QCOMPARE(previewToJson(r)["diagnostics"][0]["node"].get<std::string>(), std::string("pricey"));
    QCOMPARE(listing(dir), before);
  }

  void runErrorNamesTheNode() {
    const QString dir = copySamples("failing");
    const auto before = listing(dir);
    JobGraph job = load(dir + "/bid-stats.weir.json");
    job.onBadRecord = "fail";
    job.present.insert("on_bad_record");
    const PreviewResult r = previewJob(job);  // 100 rows: the bad row at line 139 is beyond them
    QVERIFY2(r.ok, r.error.c_str());
    PreviewOptions o;
    o.rowsPerSource = 200;
    const PreviewResult f = previewJob(job, o);
    QVERIFY(!f.ok);
    QVERIFY(f.failure.has_value());
    QCOMPARE(f.failure->node, std::string("bids"));
    QVERIFY2(f.error.rfind("bids[0/1]: ", 0) == 0, f.error.c_str());
    QCOMPARE(previewToJson(f)["failure"]["node"].get<std::string>(), std::string("bids"));
    QCOMPARE(listing(dir), before);

    JobGraph missing = load(dir + "/bid-stats.weir.json");
    missing.nodes[0].params["path"] = "data/no-such-file.csv";
    const PreviewResult m = previewJob(missing);
    QVERIFY(!m.ok);
    QCOMPARE(m.failure->node, std::string("bids"));
    QCOMPARE(listing(dir), before);
  }

  void sqliteSinkTouchesNothing() {
    const QString dir = copySamples("sqlite");
    JobGraph job = load(dir + "/bid-stats.weir.json");
    job.nodes[3].type = "sink.sqlite";
    job.nodes[3].params = {{"path", "out/bids.sqlite"}, {"table", "bids"}};
    const auto before = listing(dir);
    const PreviewResult r = previewJob(job);
    QVERIFY2(r.ok, r.error.c_str());
    QCOMPARE(listing(dir), before);
    QVERIFY(!QFile::exists(dir + "/out/bids.sqlite"));
    QVERIFY(node(r, "out")->recordsIn > 0);
  }
};

QTEST_APPLESS_MAIN(TestPreview)
#include "test_preview.moc"
