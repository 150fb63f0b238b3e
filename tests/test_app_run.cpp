// The workbench's run and live-metrics models:
//
//   liveMetricsFromAMessage      a hand-written message (tests/data/live/metrics-
//                                backpressure.json): per-node rates, busy/backpressure as
//                                the maximum over the node's subtasks with Flink's levels,
//                                the watermark as the minimum input watermark and the
//                                subtask holding it, lag against the message's clock,
//                                exact edge rates, history, a status message
//   liveMetricsFromARecording    a body of GET /v1/jobs/{id}/metrics recorded from a real
//                                cluster (metrics-window-p2.json): every node, the sum of
//                                per-subtask rates, edges fall back to producer rates
//   runsOnTheLocalCluster        RunController starts a real JobManager and two
//                                TaskManagers, runs a job (p=2, a hash shuffle between
//                                processes) to FINISHED; its output equals the expected
//                                rows; metrics reached LiveMetrics; logs readable
//   refusedJobKeepsTheCluster    an invalid job is refused with the engine's diagnostic;
//                                the cluster stays up and the next run works
//   cancelStopsARunningJob       an unbounded job runs until cancel: CANCELED
//   noProcessLeftBehind          destroying the controller ends every daemon
//   remoteClusterRunAndAttach    a "remote" JobManager (a LocalCluster the test owns, with
//                                a secret): its TaskManagers and jobs are listed, a job is
//                                deployed there; a second controller attaches to it (gets
//                                its job file and live figures) and cancels it; a wrong
//                                secret file is reported

#include <QtTest>

#include <signal.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "cluster/local_cluster.h"
#include "process_harness.h"
#include "tls_certs.h"
#include "data_preview.h"
#include "format.h"
#include "job_document.h"
#include "live_metrics.h"
#include "run_controller.h"

using nlohmann::json;
using weir::test::pidAlive;

namespace {

json readJson(const QString& path) {
  std::ifstream in(path.toStdString());
  return json::parse(in);
}

QString jobText(const QString& name, const json& generatorParams, const QString& out) {
  return QString::fromStdString(
      json{{"weir", 1},
           {"name", name.toStdString()},
           {"parallelism", 2},
           {"nodes",
            {{{"id", "bids"}, {"type", "source.generator"}, {"params", generatorParams}},
             {{"id", "per_auction"},
              {"type", "aggregate"},
              {"params", {{"key", {"auction"}}, {"aggregates", {{{"fn", "count"}, {"name", "n"}}}}}}},
             {{"id", "out"}, {"type", "sink.file"}, {"parallelism", 1},
              {"params", {{"path", out.toStdString()}, {"format", "csv"}}}}}},
           {"edges", {{{"from", "bids"}, {"to", "per_auction"}}, {{"from", "per_auction"}, {"to", "out"}}}}}
          .dump());
}

}  // namespace

class TestAppRun : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;

 private slots:
  void liveMetricsFromAMessage() {
    LiveMetrics live;
    QSignalSpy updated(&live, &LiveMetrics::updated);
    QVERIFY(live.applyMessage(readJson(WEIR_SOURCE_DIR "/tests/data/live/metrics-backpressure.json")));
    QCOMPARE(updated.count(), 1);
    QVERIFY(live.active());
    QCOMPARE(live.status(), QString("RUNNING"));
    QCOMPARE(live.sourceRate(), 5000.0);

    const QVariantMap bids = live.node("bids");
    QCOMPARE(bids["recordsOutPerS"].toDouble(), 5000.0);
    QCOMPARE(bids["backpressured"].toDouble(), 700.0);  // the worse of its two subtasks
    QCOMPARE(bids["busy"].toDouble(), 80.0);
    QCOMPARE(bids["level"].toString(), QString("high"));
    QCOMPARE(bids["backpressureLevel"].toString(), QString("high"));
    QCOMPARE(bids["busyLevel"].toString(), QString("ok"));
    QCOMPARE(bids["parallelism"].toInt(), 2);
    QCOMPARE(bids["watermark"].toLongLong(), 1767225690000LL);  // sources: their output watermark
    QCOMPARE(bids["holdingSubtask"].toInt(), 0);

    const QVariantMap counts = live.node("counts");
    QCOMPARE(counts["busy"].toDouble(), 950.0);
    QCOMPARE(counts["busyLevel"].toString(), QString("high"));
    QCOMPARE(counts["lateRecords"].toLongLong(), 7LL);
    QCOMPARE(counts["watermark"].toLongLong(), 1767225689000LL);
    QCOMPARE(counts["holdingSubtask"].toInt(), 1);
    QCOMPARE(counts["watermarkLagMs"].toDouble(), 11000.0);  // time_ms - watermark
    const QVariantList subs = counts["subtasks"].toList();
    QCOMPARE(subs.size(), 2);
    QCOMPARE(subs[1].toMap()["taskmanager"].toString(), QString("taskmanager-2"));
    QCOMPARE(subs[1].toMap()["inputUsage"].toDouble(), 0.25);
    QCOMPARE(subs[0].toMap()["recordsInPerS"].toDouble(), 2600.0);

    const QVariantMap out = live.node("out");
    QCOMPARE(out["level"].toString(), QString("ok"));
    QCOMPARE(out["deadLetters"].toLongLong(), 2LL);
    QCOMPARE(out["holdingSubtask"].toInt(), -1);  // one subtask: nothing to single out

    QCOMPARE(live.edgeRate("bids", "out", "counts", "in"), 5000.0);
    QCOMPARE(live.edgeRate("counts", "out", "out", "in"), 20.0);
    QCOMPARE(live.edgeRate("counts", "late", "out", "in"), -1.0);
    QVERIFY(live.node("nope").isEmpty());

    QVERIFY(live.applyMessage(readJson(WEIR_SOURCE_DIR "/tests/data/live/metrics-backpressure.json")));
    QCOMPARE(live.history("counts", "busy"), (QVariantList{950.0, 950.0}));
    QCOMPARE(live.history("bids", "recordsOutPerS").size(), 2);

    QVERIFY(live.applyMessage(json{{"type", "status"}, {"job", "0123456789abcdef"}, {"status", "FINISHED"}}));
    QCOMPARE(live.status(), QString("FINISHED"));
    QVERIFY(live.active());  // the last figures stay
    QVERIFY(!live.applyText("not json"));
    QVERIFY(!live.applyMessage(json::array()));
    live.clear();
    QVERIFY(!live.active());
  }

  // The WebSocket's form of the same figures gives the same view.
  void liveMetricsFromALiveMessage() {
    LiveMetrics fromMetrics, fromLive;
    QVERIFY(fromMetrics.applyMessage(readJson(WEIR_SOURCE_DIR "/tests/data/live/metrics-backpressure.json")));
    QVERIFY(fromLive.applyMessage(readJson(WEIR_SOURCE_DIR "/tests/data/live/live-backpressure.json")));
    for (const QString node : {"bids", "counts", "out"}) {
      QVariantMap a = fromMetrics.node(node), b = fromLive.node(node);
      QVERIFY2(!b.isEmpty(), qPrintable(node));
      for (const QString key : {"recordsInPerS", "recordsOutPerS", "recordsIn", "recordsOut", "busy", "backpressured",
                                "level", "watermark", "watermarkLagMs", "holdingSubtask", "parallelism", "lateRecords",
                                "deadLetters"})
        QVERIFY2(a[key] == b[key], qPrintable(node + "." + key + ": " + a[key].toString() + " vs " + b[key].toString()));
      QCOMPARE(a["subtasks"].toList().size(), b["subtasks"].toList().size());
      for (int i = 0; i < a["subtasks"].toList().size(); ++i) {
        const QVariantMap sa = a["subtasks"].toList()[i].toMap(), sb = b["subtasks"].toList()[i].toMap();
        for (const QString key : {"subtask", "taskmanager", "busy", "backpressured", "idle", "inputUsage", "outputUsage",
                                  "recordsInPerS", "recordsOutPerS", "outputWatermark"})
          QVERIFY2(sa[key] == sb[key], qPrintable(node + " subtask " + key));
      }
    }
    QCOMPARE(fromLive.edgeRate("bids", "out", "counts", "in"), 5000.0);
    QCOMPARE(fromLive.sourceRate(), 5000.0);
  }

  void formatsAndOverlayTexts() {
    QCOMPARE(Format::rateText(0), QString("0/s"));
    QCOMPARE(Format::rateText(7.25), QString("7.3/s"));
    QCOMPARE(Format::rateText(950), QString("950/s"));
    QCOMPARE(Format::rateText(1234), QString("1.2k/s"));
    QCOMPARE(Format::rateText(25600), QString("26k/s"));
    QCOMPARE(Format::rateText(3.4e6), QString("3.4M/s"));
    QCOMPARE(Format::rateText(-5), QString("0/s"));
    QCOMPARE(Format::durationText(850), QString("850 ms"));
    QCOMPARE(Format::durationText(3200), QString("3.2 s"));
    QCOMPARE(Format::durationText(-45000), QString("45 s"));
    QCOMPARE(Format::durationText(720000), QString("12 min"));
    QCOMPARE(Format::durationText(5 * 3600e3), QString("5 h"));
    QCOMPARE(Format::durationText(328 * 86400e3), QString("328 d"));
    QCOMPARE(Format::percentText(374), QString("37%"));
    QCOMPARE(Format::percentText(1016), QString("100%"));
    QCOMPARE(Format::percentText(-20), QString("0%"));
    QCOMPARE(Format::timeText(1767225689000, 1767225700000), QString("00:01:29"));
    QCOMPARE(Format::timeText(1767225689000, 1767225689000 + 86400000LL), QString("2026-01-01 00:01:29"));

    LiveMetrics live;
    QVERIFY(live.applyMessage(readJson(WEIR_SOURCE_DIR "/tests/data/live/live-backpressure.json")));
    const QVariantMap counts = live.overlay("counts");
    QCOMPARE(counts["pill"].toString(), QString("5.0k/s  busy 95%  bp 0%"));
    QCOMPARE(counts["level"].toString(), QString("high"));
    QCOMPARE(counts["watermarkText"].toString(), QString("wm 00:01:29 (#1)\nlag 11 s"));
    QCOMPARE(counts["pressure"].toString(), QString("busy"));
    QCOMPARE(counts["busyLevel"].toString(), QString("high"));
    QCOMPARE(live.overlay("bids")["pressure"].toString(), QString("backpressured"));
    QCOMPARE(live.overlay("bids")["bpLevel"].toString(), QString("high"));
    QCOMPARE(live.overlay("out")["pressure"].toString(), QString());
    QCOMPARE(live.overlay("bids")["pill"].toString(), QString("5.0k/s  busy 8%  bp 70%"));  // a source: its output
    QCOMPARE(live.overlay("out")["watermarkText"].toString(), QString("wm 00:01:29\nlag 11 s"));
    // The edge's rate and how full the queue it feeds is (counts' fullest input queue).
    QCOMPARE(live.edgeLabel("bids", "out", "counts", "in"), QString("5.0k/s · 100%"));
    QCOMPARE(live.edgeQueue("bids", "out", "counts", "in"), 1.0);
    QCOMPARE(live.edgeLabel("bids", "late", "counts", "in"), QString());
    QVERIFY(live.overlay("nope").isEmpty());
  }

  // The end-of-input watermark reads so; event time far behind the wall clock (replayed or
  // generated history) shows its progress and rate, not a lag of 341 days; an ended job
  // shows its totals, not its last rates.
  void watermarksAndTotalsThatMeanSomething() {
    QCOMPARE(Format::timeText(std::numeric_limits<std::int64_t>::max(), 1767225700000), QString("end of input"));
    QCOMPARE(Format::countText(1234567), QString("1,234,567"));
    // Doubles in record tables are rounded to what they mean.
    const QVariantMap t = DataPreview::sampleTable(json::parse(
        R"({"schema": [{"name": "p", "type": "double"}], "rows": [{"p": 1120.4720000000002}, {"p": 0.1}]})"));
    QCOMPARE(t["rows"].toList()[0].toStringList()[0], QString("1120.472"));
    QCOMPARE(t["rows"].toList()[1].toStringList()[0], QString("0.1"));
    QCOMPARE(Format::causeText("src[0/1]: bad record at in.csv:3: field 'a' (on host-4711)"), QString("bad record at in.csv:3: field 'a'"));
    QCOMPARE(Format::pathLabel("/data/jobs/very/long/folder/name/here/and/more/bid-stats.weir.json", 40),
             QString("bid-stats.weir.json — /data/jo…/and/more"));
    QCOMPARE(Format::pathLabel("/tmp/a.weir.json", 40), QString("a.weir.json — /tmp"));
    QCOMPARE(Format::shortcutText(QString("Ctrl+Shift+S")), QString("Ctrl+Shift+S"));
    QCOMPARE(Format::shortcutText(int(QKeySequence::Open)), QString("Ctrl+O"));

    const json base = readJson(WEIR_SOURCE_DIR "/tests/data/live/live-backpressure.json");
    auto shifted = [&](std::int64_t timeMs, std::int64_t watermarkShift) {
      json m = base;
      m["time_ms"] = timeMs;
      for (auto& v : m["vertices"])
        if (v["watermark"].is_number()) v["watermark"] = v["watermark"].get<std::int64_t>() + watermarkShift;
      return m;
    };
    const std::int64_t t0 = 1767225700000LL + 341LL * 86400000LL;  // 341 days after the data's time
    LiveMetrics hist;
    QVERIFY(hist.applyMessage(shifted(t0, 0)));
    QCOMPARE(hist.overlay("counts")["watermarkText"].toString(), QString("wm 2026-01-01 00:01:29 (#1)"));
    QVERIFY(hist.applyMessage(shifted(t0 + 1000, 120000)));  // two minutes of event time per second
    QCOMPARE(hist.overlay("counts")["watermarkText"].toString(), QString("wm 2026-01-01 00:03:29 (#1)\nevent time +2 min/s"));
    QCOMPARE(hist.node("counts")["eventRate"].toDouble(), 120.0);
    QVERIFY(hist.node("counts")["historical"].toBool());

    // Real time: the lag is what matters, even when it is large.
    LiveMetrics real;
    QVERIFY(real.applyMessage(shifted(1767225700000LL + 7200000LL, 0)));
    QVERIFY(real.applyMessage(shifted(1767225701000LL + 7200000LL, 1000)));
    QCOMPARE(real.overlay("counts")["watermarkText"].toString(), QString("wm 00:01:30 (#1)\nlag 2 h"));

    // The end of input.
    json end = base;
    for (auto& v : end["vertices"]) v["watermark"] = std::numeric_limits<std::int64_t>::max();
    LiveMetrics ended;
    QVERIFY(ended.applyMessage(end));
    QCOMPARE(ended.overlay("counts")["watermarkText"].toString(), QString("wm end of input"));
    QCOMPARE(ended.node("counts")["watermarkLagMs"].toDouble(), 0.0);
    QCOMPARE(ended.node("counts")["endOfInput"].toBool(), true);

    // Once the job has ended: totals, on nodes and edges.
    QVERIFY(ended.applyMessage(json{{"type", "status"}, {"status", "FINISHED"}}));
    QCOMPARE(ended.overlay("counts")["ended"].toBool(), true);
    QCOMPARE(ended.overlay("counts")["pill"].toString(), QString("in 199,000 · out 300 · 7 late"));
    QCOMPARE(ended.overlay("bids")["pill"].toString(), QString("out 200,000"));
    QCOMPARE(ended.overlay("out")["pill"].toString(), QString("in 300 · 2 dead letters"));
    QCOMPARE(ended.edgeLabel("bids", "out", "counts", "in"), QString("199,000"));
  }

  // Design-time preview: the filter's first records are the CSV's first rows that pass it,
  // computed here from the file; nothing is written.
  void previewShowsAnEdgesFirstRecords() {
    QTemporaryDir dir;
    QDir(dir.path()).mkpath("data");
    QFile::copy(WEIR_SOURCE_DIR "/samples/bid-stats.weir.json", dir.filePath("bid-stats.weir.json"));
    QFile::copy(WEIR_SOURCE_DIR "/samples/data/bids.csv", dir.filePath("data/bids.csv"));
    JobDocument doc;
    QVERIFY(doc.open(dir.filePath("bid-stats.weir.json")));
    DataPreview preview;
    preview.setProperty("rowsPerSource", 50);
    preview.setProperty("rowsPerEdge", 10);
    QSignalSpy changed(&preview, &DataPreview::changed);
    preview.run(&doc);
    QTRY_VERIFY_WITH_TIMEOUT(preview.available(), 30000);
    QVERIFY2(preview.error().isEmpty(), qPrintable(preview.error()));
    const int edge = doc.edgeRow(doc.findEdge("pricey", "euros"));
    const QVariantMap t = preview.edgeTable(edge);
    QCOMPARE(t["title"].toString(), QString("pricey.out → euros.in"));
    QCOMPARE(t["columns"].toStringList(),
             (QStringList{"auction:int64", "bidder:int64", "price:int64", "channel:string", "date_time:timestamp",
                          "event time", "op"}));
    // The expected rows: the first 50 well-formed records of the CSV, then the filter.
    QFile csv(dir.filePath("data/bids.csv"));
    QVERIFY(csv.open(QIODevice::ReadOnly));
    const QStringList lines = QString::fromUtf8(csv.readAll()).split('\n', Qt::SkipEmptyParts);
    QStringList expected;
    int read = 0;
    for (int i = 1; i < lines.size() && read < 50; ++i) {
      const QStringList f = lines[i].split(',');
      bool ok = false;
      const qint64 price = f.value(2).toLongLong(&ok);
      if (f.size() != 5 || !ok) continue;  // a malformed row: a dead letter, not a record
      ++read;
      if (price > 1000 && !f[3].isEmpty()) expected << QStringList{f[0], f[1], f[2], f[3], f[4]}.join(",");
    }
    QStringList got;
    for (const QVariant& r : t["rows"].toList()) {
      QCOMPARE(r.toStringList().value(6), QString("+I"));
      got << r.toStringList().mid(0, 5).join(",");
    }
    QCOMPARE(got, expected.mid(0, 10));
    QVERIFY(!QDir(dir.filePath("out")).exists());  // nothing written
    QCOMPARE(preview.nodeCounts("bids")["recordsOut"].toLongLong(), 50LL);
    preview.clear();
    QVERIFY(!preview.available());
    QVERIFY(preview.edgeTable(edge).isEmpty());
  }

  void liveMetricsFromARecording() {
    LiveMetrics live;
    const json m = readJson(WEIR_SOURCE_DIR "/tests/data/live/metrics-window-p2.json");
    QVERIFY(live.applyMessage(m));
    for (const auto& n : m["nodes"]) {
      const QVariantMap node = live.node(QString::fromStdString(n["id"].get<std::string>()));
      QCOMPARE(node["recordsOutPerS"].toDouble(), n["records_out_per_s"].get<double>());
      QCOMPARE(node["recordsIn"].toLongLong(), n["records_in"].get<qint64>());
      QCOMPARE(node["parallelism"].toInt(), n["parallelism"].get<int>());
      double sum = 0;
      for (const QVariant& s : node["subtasks"].toList()) sum += s.toMap()["recordsOutPerS"].toDouble();
      QVERIFY(qAbs(sum - n["records_out_per_s"].get<double>()) < 1e-6);
    }
    // No "edges" in this body: an edge shows its producer's output rate.
    QCOMPARE(live.edgeRate("bids", "out", "counts", "in"), live.node("bids")["recordsOutPerS"].toDouble());
  }

  void runsOnTheLocalCluster() {
    RunController run;
    run.setProperty("dataDir", tmp_.filePath("cluster"));
    run.setProperty("pollIntervalMs", 200);
    const QString out = tmp_.filePath("counts.csv");
    QSignalSpy ended(&run, &RunController::jobEnded);
    run.runText(jobText("counts", {{"table", "bid"}, {"events", 20000}}, out), tmp_.path());
    QVERIFY(run.jobActive());
    QTRY_VERIFY_WITH_TIMEOUT(ended.count() == 1, 60000);
    QVERIFY2(run.jobStatus() == "FINISHED", qPrintable(run.failure() + run.lastError()));
    QCOMPARE(run.clusterState(), QString("running"));
    QCOMPARE(run.logNames(), (QStringList{"jobmanager", "taskmanager-1", "taskmanager-2"}));
    QVERIFY(run.logTail("jobmanager").contains("listening"));
    QVERIFY(run.live()->active());
    QCOMPARE(run.live()->node("bids")["recordsOut"].toLongLong(), 20000LL);

    // The expected rows: the same generator, counted by hand. The job's output is an
    // update stream (op column); the last row per auction holds the final count.
    std::map<std::int64_t, std::int64_t> expected;
    {
      std::ifstream in(out.toStdString());
      QVERIFY(in.good());
    }
    QProcess gen;  // the generator's bids, from the engine's own CLI at p=1
    const QString genJob = tmp_.filePath("gen.weir.json");
    {
      std::ofstream f(genJob.toStdString());
      f << json{{"weir", 1}, {"name", "gen"},
                {"nodes", {{{"id", "bids"}, {"type", "source.generator"}, {"params", {{"table", "bid"}, {"events", 20000}}}},
                           {{"id", "o"}, {"type", "sink.stdout"}, {"params", {{"format", "csv"}}}}}},
                {"edges", {{{"from", "bids"}, {"to", "o"}}}}}.dump();
    }
    gen.start(QStringLiteral(WEIR_BIN_DIR "/weir"), {"run", genJob, "--quiet"});
    QVERIFY(gen.waitForFinished(60000));
    const QStringList lines = QString::fromUtf8(gen.readAllStandardOutput()).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 20001);
    for (int i = 1; i < lines.size(); ++i) ++expected[lines[i].section(',', 0, 0).toLongLong()];

    std::map<std::int64_t, std::int64_t> got;
    std::ifstream in(out.toStdString());
    std::string header;
    std::getline(in, header);
    QVERIFY2(header.find("auction") != std::string::npos, header.c_str());
    const QStringList cols = QString::fromStdString(header).split(',');
    const int opCol = cols.indexOf("op"), aCol = cols.indexOf("auction"), nCol = cols.indexOf("n");
    QVERIFY(opCol >= 0 && aCol >= 0 && nCol >= 0);
    for (std::string line; std::getline(in, line);) {
      const QStringList f = QString::fromStdString(line).split(',');
      if (f[opCol] == "+I" || f[opCol] == "+U") got[f[aCol].toLongLong()] = f[nCol].toLongLong();
      else if (f[opCol] == "-D") got.erase(f[aCol].toLongLong());
    }
    for (const auto& [auction, n] : expected)
      QVERIFY2(got.count(auction) && got[auction] == n,
               qPrintable(QString("auction %1: expected %2, got %3 (%4 of %5 keys)")
                              .arg(auction).arg(n).arg(got.count(auction) ? got[auction] : -1)
                              .arg(got.size()).arg(expected.size())));
    QCOMPARE(got.size(), expected.size());
  }

  void refusedJobKeepsTheCluster() {
    RunController run;
    run.setProperty("dataDir", tmp_.filePath("cluster-refused"));
    QString bad = jobText("bad", {{"table", "bid"}, {"events", 10}}, tmp_.filePath("bad.csv"));
    bad.replace("\"auction\"]", "\"auctoin\"]");
    run.runText(bad, tmp_.path());
    QTRY_VERIFY_WITH_TIMEOUT(!run.lastError().isEmpty(), 30000);
    QVERIFY2(run.lastError().contains("per_auction: key") && run.lastError().contains("auctoin"),
             qPrintable(run.lastError()));
    QVERIFY(!run.jobActive());
    QCOMPARE(run.clusterState(), QString("running"));
    QSignalSpy ended(&run, &RunController::jobEnded);
    run.runText(jobText("good", {{"table", "bid"}, {"events", 100}}, tmp_.filePath("good.csv")), tmp_.path());
    QTRY_VERIFY_WITH_TIMEOUT(ended.count() == 1, 60000);
    QCOMPARE(run.jobStatus(), QString("FINISHED"));
  }

  void failureIsNamed() {
    QDir(tmp_.path()).mkpath("fail/data");
    QFile::copy(WEIR_SOURCE_DIR "/samples/data/bids.csv", tmp_.filePath("fail/data/bids.csv"));
    {
      std::ofstream(tmp_.filePath("fail/data/bids.csv").toStdString(), std::ios::app) << "1,2,not-a-price,x,2026-11-24T09:00:00Z\n";
    }
    std::ifstream in(WEIR_SOURCE_DIR "/samples/bid-stats.weir.json");
    json job = json::parse(in);
    job["on_bad_record"] = "fail";
    RunController run;
    run.setProperty("dataDir", tmp_.filePath("cluster-fail"));
    QSignalSpy ended(&run, &RunController::jobEnded);
    run.runText(QString::fromStdString(job.dump()), tmp_.filePath("fail"));
    QTRY_VERIFY_WITH_TIMEOUT(ended.count() == 1, 60000);
    QCOMPARE(ended[0][0].toString(), QString("FAILED"));
    QCOMPARE(run.jobStatus(), QString("FAILED"));
    QVERIFY2(run.failure().contains("bids[") && run.failure().contains("bids.csv"), qPrintable(run.failure()));

    // History: the failed run and a good one of the same name, newest first, with the
    // failure's exception and each node's metric history.
    const QString failedId = run.jobId();
    job.erase("on_bad_record");
    run.runText(QString::fromStdString(job.dump()), tmp_.filePath("fail"));
    QTRY_VERIFY_WITH_TIMEOUT(ended.count() == 2, 60000);
    QCOMPARE(run.jobStatus(), QString("FINISHED"));
    QSignalSpy history(&run, &RunController::historyChanged);
    run.loadRuns("bid-stats");
    QTRY_VERIFY_WITH_TIMEOUT(history.count() == 1, 20000);
    QCOMPARE(run.runList().size(), 2);
    QCOMPARE(run.runList()[0].toMap()["id"].toString(), run.jobId());
    QCOMPARE(run.runList()[0].toMap()["status"].toString(), QString("FINISHED"));
    QCOMPARE(run.runList()[1].toMap()["id"].toString(), failedId);
    QCOMPARE(run.runList()[1].toMap()["status"].toString(), QString("FAILED"));
    QVERIFY(run.runList()[0].toMap()["durationMs"].toLongLong() >= 0);

    run.loadRun(failedId);
    QTRY_VERIFY_WITH_TIMEOUT(history.count() == 2, 20000);
    const QVariantList ex = run.runDetail()["exceptions"].toList();
    QVERIFY(!ex.isEmpty());
    QVERIFY(ex[0].toMap()["rootCause"].toBool());
    QCOMPARE(ex[0].toMap()["node"].toString(), QString("bids"));
    QVERIFY(ex[0].toMap()["message"].toString().contains("bids.csv"));

    run.loadRun(run.jobId());
    QTRY_VERIFY_WITH_TIMEOUT(history.count() == 3, 20000);
    QVERIFY(run.runDetail()["exceptions"].toList().isEmpty());
    const QVariantMap nodes = run.runDetail()["nodes"].toMap();
    QVERIFY2(nodes.contains("bids") && nodes.contains("out"), qPrintable(QStringList(nodes.keys()).join(",")));
    QVERIFY(!nodes["bids"].toMap()["timeMs"].toList().isEmpty());  // at least the sample taken at the end
  }

  // Live records of an edge while the job runs: the engine's tap through the API.
  void watchEdgeShowsLiveRecords() {
    RunController run;
    run.setProperty("dataDir", tmp_.filePath("cluster-tap"));
    run.runText(jobText("tapped", {{"table", "bid"}, {"events", 0}, {"rate", 2000}}, tmp_.filePath("t.csv")),
                tmp_.path());
    QTRY_VERIFY_WITH_TIMEOUT(run.jobStatus() == "RUNNING", 30000);
    run.watchEdge(0);  // bids -> per_auction
    QCOMPARE(run.watchedEdge(), 0);
    QTRY_VERIFY_WITH_TIMEOUT(!run.edgeSample()["rows"].toList().isEmpty(), 30000);
    const QVariantMap t = run.edgeSample();
    QCOMPARE(t["title"].toString(), QString("bids.out → per_auction.in"));
    QCOMPARE(t["columns"].toStringList().value(0), QString("auction:int64"));
    QVERIFY(t["note"].toString().startsWith("live"));
    bool number = false;
    t["rows"].toList()[0].toStringList()[0].toLongLong(&number);
    QVERIFY(number);
    run.watchEdge(-1);
    QVERIFY(run.edgeSample().isEmpty());
    QSignalSpy ended(&run, &RunController::jobEnded);
    run.cancel();
    QTRY_VERIFY_WITH_TIMEOUT(ended.count() == 1, 30000);
  }

  void cancelStopsARunningJob() {
    RunController run;
    run.setProperty("dataDir", tmp_.filePath("cluster-cancel"));
    run.setProperty("pollIntervalMs", 200);
    QSignalSpy ended(&run, &RunController::jobEnded);
    run.runText(jobText("forever", {{"table", "bid"}, {"events", 0}, {"rate", 1000}}, tmp_.filePath("f.csv")),
                tmp_.path());
    QTRY_VERIFY_WITH_TIMEOUT(run.jobStatus() == "RUNNING" && run.live()->active(), 30000);
    run.runText(jobText("second", {{"table", "bid"}, {"events", 1}}, tmp_.filePath("s.csv")), tmp_.path());
    QVERIFY(run.lastError().contains("already running"));
    run.cancel();
    QTRY_VERIFY_WITH_TIMEOUT(ended.count() == 1, 30000);
    QCOMPARE(run.jobStatus(), QString("CANCELED"));
  }

  void noProcessLeftBehind() {
    QList<int> pids;
    {
      RunController run;
      run.setProperty("dataDir", tmp_.filePath("cluster-leave"));
      QSignalSpy ended(&run, &RunController::jobEnded);
      run.runText(jobText("one", {{"table", "bid"}, {"events", 10}}, tmp_.filePath("one.csv")), tmp_.path());
      QTRY_VERIFY_WITH_TIMEOUT(ended.count() == 1, 60000);
      pids = run.processIds();
      QCOMPARE(pids.size(), 3);
      for (int pid : pids) QVERIFY(pidAlive(pid));
    }
    for (int pid : pids) QVERIFY(!pidAlive(pid));
  }

  void remoteClusterRunAndAttach() {
    const QString secret = tmp_.filePath("secret");
    {
      std::ofstream(secret.toStdString()) << "s3cret-for-the-test\n";
    }
    weir::cluster::LocalClusterOptions o;
    o.taskManagers = 2;
    o.slotsPerTaskManager = 2;
    o.dataDir = tmp_.filePath("remote").toStdString();
    o.binDir = WEIR_BIN_DIR;
    o.secretFile = secret.toStdString();
    auto remote = weir::cluster::LocalCluster::start(o);
    const QString url = QString::fromStdString(remote.url());

    RunController run;
    run.setProperty("pollIntervalMs", 200);
    QSignalSpy info(&run, &RunController::clusterInfoChanged);
    run.useRemote(url, secret);
    QVERIFY(run.remote());
    QTRY_VERIFY_WITH_TIMEOUT(run.taskManagerList().size() == 2, 20000);
    QCOMPARE(run.taskManagerList()[0].toMap()["slots"].toInt(), 2);
    run.runText(jobText("remote-forever", {{"table", "bid"}, {"events", 0}, {"rate", 2000}}, tmp_.filePath("r.csv")),
                tmp_.path());
    QTRY_VERIFY_WITH_TIMEOUT(run.jobStatus() == "RUNNING", 30000);
    QCOMPARE(run.clusterState(), QString("stopped"));  // nothing local was started
    const QString id = run.jobId();

    RunController other;
    other.setProperty("pollIntervalMs", 200);
    other.useRemote(url, secret);
    QTRY_VERIFY_WITH_TIMEOUT(!other.jobList().isEmpty(), 20000);
    QCOMPARE(other.jobList()[0].toMap()["id"].toString(), id);
    QSignalSpy attached(&other, &RunController::attached);
    other.attach(id);
    QTRY_VERIFY_WITH_TIMEOUT(attached.count() == 1, 20000);
    QVERIFY(attached[0][0].toString().contains("remote-forever"));
    QTRY_VERIFY_WITH_TIMEOUT(other.live()->node("bids")["recordsOut"].toLongLong() > 0, 20000);
    QCOMPARE(other.jobStatus(), QString("RUNNING"));
    other.cancel();
    QTRY_VERIFY_WITH_TIMEOUT(other.jobStatus() == "CANCELED", 20000);
    QTRY_VERIFY_WITH_TIMEOUT(run.jobStatus() == "CANCELED", 20000);

    RunController wrong;
    const QString bad = tmp_.filePath("wrong-secret");
    {
      std::ofstream(bad.toStdString()) << "not-the-secret\n";
    }
    wrong.useRemote(url, bad);
    QTRY_VERIFY_WITH_TIMEOUT(wrong.lastError().contains("401"), 20000);
    QVERIFY(wrong.taskManagerList().isEmpty());
  }

  // A remote JobManager over TLS (https, wss): with its CA the lists and a run work; with
  // another CA the workbench says why it cannot connect.
  void remoteClusterOverTls() {
    TestCertificates certs;
    QVERIFY2(certs.make(tmp_.filePath("tls")), qPrintable(certs.error));
    weir::cluster::LocalClusterOptions o;
    o.taskManagers = 1;
    o.dataDir = tmp_.filePath("remote-tls").toStdString();
    o.binDir = WEIR_BIN_DIR;
    certs.applyTo(o);
    auto remote = weir::cluster::LocalCluster::start(o);
    const QString url = QString::fromStdString(remote.url());
    QVERIFY(url.startsWith("https://"));

    RunController run;
    run.useRemote(url, QString(), certs.ca);
    QTRY_VERIFY_WITH_TIMEOUT(run.taskManagerList().size() == 1, 20000);
    QSignalSpy ended(&run, &RunController::jobEnded);
    run.runText(jobText("tls", {{"table", "bid"}, {"events", 300}}, tmp_.filePath("tls.csv")), tmp_.path());
    QTRY_VERIFY_WITH_TIMEOUT(ended.count() == 1, 30000);
    QCOMPARE(run.jobStatus(), QString("FINISHED"));
    QCOMPARE(run.live()->node("bids")["recordsOut"].toLongLong(), 300LL);  // over wss

    RunController foreign;
    foreign.useRemote(url, QString(), certs.otherCa);
    QTRY_VERIFY_WITH_TIMEOUT(!foreign.lastError().isEmpty(), 20000);
    QVERIFY2(foreign.lastError().contains("certificate"), qPrintable(foreign.lastError()));
  }
};

QTEST_MAIN(TestAppRun)
#include "test_app_run.moc"
