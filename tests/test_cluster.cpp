// The multi-process engine end to end: a real weir-jobmanager and two weir-taskmanager
// processes (2 slots each) on free loopback ports, jobs submitted with `weir submit`
// through the HTTP API.
//
//   runsLikeTheLocalRuntime  nexmark-q1 at parallelism 4 (one chain, subtasks spread
//                            over both TaskManagers), and a variant with a rebalance
//                            shuffle between processes (filter p=3, sink p=2): the
//                            sorted output equals `weir run --in-process` of the same job
//   waitsForSlots            a job needing 5 slots of 4 stays CREATED with a reason;
//                            cancel makes it CANCELED
//   liveMetrics              an unbounded job: /v1/jobs/{id}/metrics shows the source's
//                            records_out growing, node totals equal the sum of their
//                            subtasks' rows, one entry per plan edge; GET /metrics has a
//                            line for the source
//   liveWebSocket            GET /v1/jobs/{id}/live with the reusable WebSocketClient: at
//                            least 2 metrics messages with an entry per node subtask and
//                            per edge, then a FINISHED status and a normal close; the
//                            edge counts are exact after the end; 404 / 426 before upgrade
//   slowSinkBackpressuresTheSource  sink.discard throttled to 2000 records/s behind an
//                            unbounded generator (rebalance, p=2, across processes): the
//                            engine reports the sources backpressured > 500 ms/s and the
//                            sinks busy > 500 ms/s (measured fractions, not test timings);
//                            garbage frames on one live connection close only that one
//   tapShowsRecordsOfAnEdge  an unbounded job at parallelism 2 over both TaskManagers:
//                            POST .../edges/1/tap, then GET .../edges/1/sample returns rows
//                            with exactly the edge's fields (the map's) from both producing
//                            subtasks; a tap not read for 3 s (--tap-idle-timeout-ms) is
//                            disabled; bad edge 404, bad body 400, disable with enable:false
//   metricHistoryAndRuns     two runs of one job name: /metrics/history?node=bids has rows
//                            (interval 500 ms), /v1/jobs?name= lists both newest first
//   exceptionsNameTheCause   a CSV source meets a bad record (on_bad_record fail): the job
//                            FAILS and /v1/jobs/{id}/exceptions names node, subtask and
//                            TaskManager of the root cause
//   lostTaskManagerFailsJob  an unbounded job; one TaskManager killed with SIGKILL: the
//                            JobManager marks it LOST and the job FAILED naming it
//   garbageOnTheRpcPort      an HTTP request and random bytes on the control port close
//                            that connection only; the JobManager keeps serving
//   liveNeedsTheToken        with a secret, /live without or with a wrong token: 401
//                            before the upgrade; with it, an unknown job: 404
//   migratesVersion1Metadata a JobManager opens a schema-version-1 metadata file: the old
//                            exception and run are served, the file is at version 4
//   hungTaskManagerTimesOut  the other TaskManager stopped with SIGSTOP: the JobManager
//                            marks it LOST for a missed heartbeat (timeout 5 s); resumed
//                            with SIGCONT, it registers again
//   sigtermStopsCleanly      SIGTERM ends a TaskManager and the JobManager with status 0
//
// No timing assertions: every wait polls with a generous deadline. Every process is
// killed in cleanup.

#include <QtTest>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <set>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "cluster/http_client.h"
#include "process_harness.h"

using nlohmann::json;
using weir::test::freePort;
using weir::test::waitUntil;

namespace {

const QString kBin = QStringLiteral(WEIR_BIN_DIR);

/// Every line of the job's part files "q1*.jsonl" in `dir`, sorted.
QStringList outputLines(const QString& dir) { return weir::test::sortedFileLines(dir, "q1*.jsonl"); }

}  // namespace

class TestCluster : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir tmp_;
  QProcess jm_;
  std::vector<std::unique_ptr<QProcess>> tms_;
  int apiPort_ = 0, rpcPort_ = 0;
  QString url_;

  json get(const std::string& target) {
    const auto r = weir::cluster::httpRequest(url_.toStdString(), "GET", target);
    return json::parse(r.body, nullptr, false);
  }

  void startTaskManager() {
    auto p = std::make_unique<QProcess>();
    p->setProcessChannelMode(QProcess::ForwardedErrorChannel);
    p->start(kBin + "/weir-taskmanager",
             {"--jobmanager", QString("127.0.0.1:%1").arg(rpcPort_), "--slots", "2", "--bind", "127.0.0.1"});
    QVERIFY(p->waitForStarted());
    tms_.push_back(std::move(p));
  }

  /// Writes `job` into a fresh folder under the temp dir; returns the file path.
  QString writeJob(const QString& folder, const json& job) {
    return weir::test::writeJobFile(tmp_.path(), folder, job.dump(2));
  }

  QString submit(const QString& jobFile, int parallelism) {
    QProcess p;
    p.start(kBin + "/weir", {"submit", jobFile, "--jobmanager", url_, "--parallelism", QString::number(parallelism)});
    if (!p.waitForFinished(60000)) return {};
    if (p.exitCode() != 0) qWarning() << p.readAllStandardError();
    return QString::fromUtf8(p.readAllStandardOutput()).trimmed();
  }

  std::string status(const QString& id) { return get("/v1/jobs/" + id.toStdString()).value("status", ""); }

  json baseJob() {
    std::ifstream in(WEIR_SOURCE_DIR "/samples/nexmark-q1.weir.json");
    return json::parse(in);
  }

  void runBoth(const QString& name, const json& job) {
    const QString clusterFile = writeJob(name + "-cluster", job);
    const QString localFile = writeJob(name + "-local", job);
    const QString id = submit(clusterFile, 4);
    QVERIFY2(!id.isEmpty(), "weir submit printed no job id");
    QVERIFY2(waitUntil([&] {
               const auto s = status(id);
               return s == "FINISHED" || s == "FAILED" || s == "CANCELED";
             }, 120000),
             "the job did not end");
    const json j = get("/v1/jobs/" + id.toStdString());
    QCOMPARE(j.value("status", ""), std::string("FINISHED"));
    // Subtasks were placed on both TaskManagers.
    std::set<std::string> tms;
    for (const auto& s : j["subtasks"]) tms.insert(s.value("taskmanager", ""));
    QCOMPARE(tms.size(), std::size_t(2));

    QProcess local;
    local.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    local.start(kBin + "/weir", {"run", localFile, "--parallelism", "4", "--quiet", "--in-process"});
    QVERIFY(local.waitForFinished(120000));
    QCOMPARE(local.exitCode(), 0);

    const QStringList a = outputLines(QFileInfo(clusterFile).path() + "/out");
    const QStringList b = outputLines(QFileInfo(localFile).path() + "/out");
    QVERIFY(!a.isEmpty());
    QCOMPARE(a.size(), b.size());
    QVERIFY(a == b);
  }

 private slots:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    apiPort_ = freePort();
    rpcPort_ = freePort();
    url_ = QString("http://127.0.0.1:%1").arg(apiPort_);
    jm_.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    jm_.start(kBin + "/weir-jobmanager",
              {"--bind", "127.0.0.1", "--rpc-port", QString::number(rpcPort_), "--api-port", QString::number(apiPort_),
               "--data-dir", tmp_.path() + "/data", "--heartbeat-timeout-ms", "5000", "--metric-history-interval-ms",
               "500", "--tap-idle-timeout-ms", "3000"});
    QVERIFY(jm_.waitForStarted());
    startTaskManager();
    startTaskManager();
    QVERIFY2(waitUntil([&] {
               try {
                 const json o = get("/v1/overview");
                 return o.value("taskmanagers", 0) == 2 && o.value("slots_total", 0) == 4;
               } catch (const std::exception&) {
                 return false;
               }
             }),
             "the TaskManagers did not register");
    const json o = get("/v1/overview");
    QCOMPARE(o.value("slots_available", -1), 4);
    QCOMPARE(o.value("jobs_running", -1), 0);
  }

  void runsLikeTheLocalRuntime() {
    runBoth("q1", baseJob());
    // A rebalance shuffle between processes: filter at 3, sink at 2.
    json shuffled = baseJob();
    for (auto& n : shuffled["nodes"]) {
      if (n["id"] == "sampled") n["parallelism"] = 3;
      if (n["id"] == "out") n["parallelism"] = 2;
    }
    runBoth("q1-shuffle", shuffled);
  }

  void waitsForSlots() {
    const QString id = submit(writeJob("too-wide", baseJob()), 5);
    QVERIFY(!id.isEmpty());
    json j = get("/v1/jobs/" + id.toStdString());
    QCOMPARE(j.value("status", ""), std::string("CREATED"));
    QVERIFY2(j.value("waiting_reason", "").find("needs 5") != std::string::npos, j.dump().c_str());
    QCOMPARE(get("/v1/overview").value("slots_available", -1), 4);
    QProcess cancel;
    cancel.start(kBin + "/weir", {"cancel", id, "--jobmanager", url_});
    QVERIFY(cancel.waitForFinished(30000));
    QCOMPARE(cancel.exitCode(), 0);
    QCOMPARE(status(id), std::string("CANCELED"));
  }

  void liveMetrics() {
    json endless = baseJob();
    for (auto& n : endless["nodes"])
      if (n["id"] == "bids") {
        n["params"]["events"] = 0;
        n["params"]["rate"] = 2000;
      }
    const QString id = submit(writeJob("metrics", endless), 2);
    QVERIFY(!id.isEmpty());
    const std::string target = "/v1/jobs/" + id.toStdString() + "/metrics";
    auto sourceOut = [](const json& m) -> std::int64_t {
      for (const auto& n : m["nodes"])
        if (n.value("id", "") == "bids") return n.value("records_out", std::int64_t{-1});
      return -1;
    };
    std::int64_t first = -1;
    QVERIFY2(waitUntil([&] {
               const std::int64_t n = sourceOut(get(target));
               if (first <= 0) {
                 first = n;
                 return false;
               }
               return n > first;
             }),
             "the source's records_out did not grow");

    const json m = get(target);
    QCOMPARE(m.value("job", ""), id.toStdString());
    QVERIFY(m["nodes"].is_array() && !m["nodes"].empty());
    QVERIFY(m["subtasks"].is_array() && !m["subtasks"].empty());
    for (const auto& st : m["subtasks"]) {
      for (const char* k : {"chain", "subtask", "name", "taskmanager", "records_in", "records_out", "records_in_per_s",
                            "records_out_per_s", "dead_letters", "busy_ms", "backpressured_ms", "idle_ms",
                            "busy_ms_per_s", "backpressured_ms_per_s", "idle_ms_per_s", "input_usage", "output_usage",
                            "input_watermark", "output_watermark", "operators"})
        QVERIFY2(st.contains(k), (std::string("subtask row without ") + k + ": " + st.dump()).c_str());
      QVERIFY(st["operators"].is_array() && !st["operators"].empty());
      QVERIFY(st["busy_ms"].get<double>() >= 0 && st["idle_ms"].get<double>() >= 0);
    }
    for (const auto& n : m["nodes"]) {
      for (const char* k : {"records_in", "records_out", "bytes_in", "bytes_out", "dead_letters"}) {
        std::int64_t sum = 0;
        for (const auto& st : m["subtasks"])
          for (const auto& o : st["operators"])
            if (o.value("node", "") == n.value("id", "")) sum += o.value(k, std::int64_t{0});
        QVERIFY2(n.value(k, std::int64_t{-1}) == sum, (n.value("id", "") + "." + k + ": " + m.dump()).c_str());
      }
    }
    QVERIFY(sourceOut(m) > 0);
    // Per plan edge: bids -> euros -> sampled -> out, all chained at equal parallelism.
    QVERIFY2(m["edges"].is_array() && m["edges"].size() == 3, m.dump().c_str());
    QCOMPARE(m["edges"][0].value("from", ""), std::string("bids"));
    QCOMPARE(m["edges"][0].value("from_port", ""), std::string("out"));
    QCOMPARE(m["edges"][0].value("to", ""), std::string("euros"));
    QCOMPARE(m["edges"][0].value("to_port", ""), std::string("in"));
    QVERIFY(m["edges"][0].value("chained", false));
    QVERIFY(m["edges"][0].value("records", std::int64_t{0}) > 0);
    for (const auto& st : m["subtasks"]) QVERIFY2(st["edges_out"].size() == 3, st.dump().c_str());

    const auto prom = weir::cluster::httpRequest(url_.toStdString(), "GET", "/metrics");
    QCOMPARE(prom.status, 200);
    const std::string sourceLine = "weir_subtask_records_out_total{job=\"" + id.toStdString() + "\",node=\"bids\"";
    QVERIFY2(prom.body.find(sourceLine) != std::string::npos, prom.body.c_str());
    QVERIFY2(prom.body.find("\nweir_taskmanagers 2\n") != std::string::npos, prom.body.c_str());
    QVERIFY2(prom.body.find("weir_subtask_busy_ratio{job=\"" + id.toStdString()) != std::string::npos, prom.body.c_str());
    QVERIFY2(prom.body.find("weir_edge_records_total{job=\"" + id.toStdString() +
                            "\",from=\"bids\",from_port=\"out\",to=\"euros\",to_port=\"in\"} ") != std::string::npos,
             prom.body.c_str());

    QCOMPARE(get("/v1/jobs/nosuchjob/metrics").value("error", "").empty(), false);
    weir::cluster::httpRequest(url_.toStdString(), "POST", "/v1/jobs/" + id.toStdString() + "/cancel");
    QVERIFY2(waitUntil([&] { return status(id) == "CANCELED"; }), "the job was not canceled");
    QVERIFY(waitUntil([&] { return get("/v1/overview").value("slots_available", -1) == 4; }));
  }

  void liveWebSocket() {
    // bids -> euros -> sampled at p=2 (one chain), rebalanced into out at p=1: 7 node
    // subtasks, 3 edges. 6000 events at 2000/s: about 3 s.
    json job = baseJob();
    for (auto& n : job["nodes"]) {
      if (n["id"] == "bids") {
        n["params"]["events"] = 6000;
        n["params"]["rate"] = 2000;
      }
      if (n["id"] == "sampled") n["params"]["where"] = "auction % 2 = 0";
      if (n["id"] == "out") n["parallelism"] = 1;
    }
    const QString id = submit(writeJob("live", job), 2);
    QVERIFY(!id.isEmpty());
    const std::string target = "/v1/jobs/" + id.toStdString() + "/live";
    weir::cluster::WebSocketClient ws(url_.toStdString(), target);
    int full = 0, metrics = 0;
    json status;
    std::int64_t lastTime = 0;
    for (int i = 0; i < 200 && !ws.closed(); ++i) {
      const auto msg = ws.next(std::chrono::seconds(5));
      if (!msg) continue;
      const json m = json::parse(*msg);
      QCOMPARE(m.value("job", ""), id.toStdString());
      if (m.value("type", "") == "status") {
        status = m;
        continue;
      }
      QCOMPARE(m.value("type", ""), std::string("metrics"));
      QVERIFY(status.is_null());  // nothing after the status message
      ++metrics;
      QVERIFY(m["time_ms"].get<std::int64_t>() >= lastTime);
      lastTime = m["time_ms"].get<std::int64_t>();
      QCOMPARE(m["edges"].size(), std::size_t(3));
      QCOMPARE(m["vertices"].size(), std::size_t(4));
      if (m["subtasks"].size() != 7) continue;  // before every subtask has reported
      ++full;
      std::map<std::string, int> perNode;
      for (const auto& st : m["subtasks"]) {
        ++perNode[st.value("node", "")];
        for (const char* k : {"node", "subtask", "taskmanager", "records_in", "records_out", "records_in_per_s",
                              "records_out_per_s", "bytes_in", "bytes_out", "bytes_in_per_s", "bytes_out_per_s",
                              "busy_ms_per_s", "backpressured_ms_per_s", "idle_ms_per_s", "input_queue",
                              "output_queue", "watermark"})
          QVERIFY2(st.contains(k), (std::string("no ") + k + " in " + st.dump()).c_str());
        QVERIFY(st["input_queue"].get<double>() >= 0 && st["input_queue"].get<double>() <= 1);
      }
      QCOMPARE(perNode, (std::map<std::string, int>{{"bids", 2}, {"euros", 2}, {"sampled", 2}, {"out", 1}}));
      const json& shuffle = m["edges"][2];
      QCOMPARE(shuffle.value("from", ""), std::string("sampled"));
      QCOMPARE(shuffle.value("to", ""), std::string("out"));
      QCOMPARE(shuffle.value("partition", ""), std::string("rebalance"));
      QVERIFY(!shuffle.value("chained", true));
      for (const char* k : {"records", "records_per_s", "bytes_per_s", "from_port", "to_port"})
        QVERIFY2(shuffle.contains(k), shuffle.dump().c_str());
      for (const auto& v : m["vertices"])
        for (const char* k : {"node", "records_in_per_s", "records_out_per_s", "backpressured_ms_per_s_max",
                              "busy_ms_per_s_max", "watermark", "watermark_subtask"})
          QVERIFY2(v.contains(k), v.dump().c_str());
    }
    QVERIFY2(full >= 2, ("metrics messages with every subtask: " + std::to_string(full) + " of " +
                         std::to_string(metrics)).c_str());
    QVERIFY2(status.is_object(), "no status message");
    QCOMPARE(status.value("status", ""), std::string("FINISHED"));
    QVERIFY(ws.closed());
    QCOMPARE(ws.closeCode(), 1000);

    // After the end, the last reports make the edge counts exact: every record sampled
    // sent through the rebalance edge arrived at out.
    json last;
    QVERIFY2(waitUntil([&] {
               last = get("/v1/jobs/" + id.toStdString() + "/metrics");
               std::int64_t sampledOut = -1, outIn = -2;
               for (const auto& n : last["nodes"]) {
                 if (n["id"] == "sampled") sampledOut = n.value("records_out", std::int64_t{-1});
                 if (n["id"] == "out") outIn = n.value("records_in", std::int64_t{-2});
               }
               const json& e = last["edges"][2];
               return sampledOut > 0 && e.value("records", std::int64_t{0}) == sampledOut &&
                      e.value("records_received", std::int64_t{0}) == sampledOut && outIn == sampledOut &&
                      last["edges"][0].value("records", std::int64_t{0}) == 6000;
             }, 10000),
             last.dump().c_str());

    // Refused before the upgrade: an unknown job (404), and no upgrade at all (426).
    try {
      weir::cluster::WebSocketClient bad(url_.toStdString(), "/v1/jobs/nosuchjob/live");
      QFAIL("an unknown job was upgraded");
    } catch (const weir::cluster::WebSocketRefused& e) {
      QCOMPARE(e.status, 404);
    }
    QCOMPARE(weir::cluster::httpRequest(url_.toStdString(), "GET", target).status, 426);
  }

  void slowSinkBackpressuresTheSource() {
    // bids[p=2] --rebalance--> out[p=2] (sink.discard taking 2000 records/s per subtask):
    // every source subtask sends to a sink in its own process and one in the other, as
    // fast as it can, so both channel kinds fill up. The engine measures the source blocked
    // on its output most of each second and the sink busy (sleeping) most of each second.
    const json job = {{"weir", 1},
                      {"name", "slow-sink"},
                      {"parallelism", 2},
                      {"nodes", {{{"id", "bids"}, {"type", "source.generator"},
                                  {"params", {{"table", "bid"}, {"events", 0}, {"seed", 7}}}},
                                 {{"id", "out"}, {"type", "sink.discard"},
                                  {"params", {{"throttle_records_per_s", 2000}}}}}},
                      {"edges", {{{"from", "bids"}, {"to", "out"}, {"partition", "rebalance"}}}}};
    const QString id = submit(writeJob("slow-sink", job), 2);
    QVERIFY(!id.isEmpty());
    const std::string target = "/v1/jobs/" + id.toStdString() + "/metrics";
    json m;
    auto holds = [&] {
      m = get(target);
      int sources = 0, sinks = 0;
      for (const auto& st : m["subtasks"]) {
        const std::string name = st.value("name", "");
        if (name == "bids" && st.value("backpressured_ms_per_s", 0.0) > 500) ++sources;
        if (name == "out" && st.value("busy_ms_per_s", 0.0) > 500) ++sinks;
      }
      return sources == 2 && sinks == 2;
    };
    QVERIFY2(waitUntil(holds, 60000), m.dump().c_str());
    // The sinks' input queues are full, and the sources see their outputs full too.
    for (const auto& st : m["subtasks"]) {
      if (st.value("name", "") == "out") QVERIFY2(st.value("input_usage", 0.0) >= 0.5, st.dump().c_str());
      if (st.value("name", "") == "bids") QVERIFY2(st.value("output_usage", 0.0) >= 0.5, st.dump().c_str());
    }
    // The WebSocket's per-node aggregates say the same.
    weir::cluster::WebSocketClient ws(url_.toStdString(), "/v1/jobs/" + id.toStdString() + "/live");
    bool seen = false;
    for (int i = 0; i < 40 && !seen && !ws.closed(); ++i) {
      const auto msg = ws.next(std::chrono::seconds(5));
      if (!msg) continue;
      const json live = json::parse(*msg);
      for (const auto& v : live["vertices"])
        if (v.value("node", "") == "bids" && v.value("backpressured_ms_per_s_max", 0.0) > 500) seen = true;
    }
    QVERIFY2(seen, "no live message showed the source backpressured");

    // Malformed frames on another live connection close that connection only.
    {
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<std::uint16_t>(apiPort_));
      QCOMPARE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
      timeval tv{10, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      const std::string upgrade = "GET /v1/jobs/" + id.toStdString() +
                                  "/live HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                                  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
      QVERIFY(::write(fd, upgrade.data(), upgrade.size()) == static_cast<ssize_t>(upgrade.size()));
      char buf[4096];
      const ssize_t n = ::read(fd, buf, sizeof buf);
      QVERIFY(n > 12);
      QVERIFY2(std::string(buf, static_cast<std::size_t>(n)).rfind("HTTP/1.1 101", 0) == 0, std::string(buf, static_cast<std::size_t>(n)).c_str());
      const std::string junk(256, '\xff');
      QVERIFY(::write(fd, junk.data(), junk.size()) > 0);
      bool eof = false;
      for (int i = 0; i < 1000 && !eof; ++i) {
        const ssize_t r = ::read(fd, buf, sizeof buf);
        eof = r == 0 || (r < 0 && errno == ECONNRESET);
        if (r < 0 && errno != ECONNRESET) break;  // timed out
      }
      ::close(fd);
      QVERIFY2(eof, "the JobManager did not close the connection that sent garbage");
    }
    QCOMPARE(jm_.state(), QProcess::Running);
    QVERIFY(ws.next(std::chrono::seconds(5)).has_value());  // the well-behaved client still gets messages
    QCOMPARE(status(id), std::string("RUNNING"));
    weir::cluster::httpRequest(url_.toStdString(), "POST", "/v1/jobs/" + id.toStdString() + "/cancel");
    QVERIFY2(waitUntil([&] { return status(id) == "CANCELED"; }), "the job was not canceled");
    QVERIFY(waitUntil([&] { return get("/v1/overview").value("slots_available", -1) == 4; }));
  }

  void tapShowsRecordsOfAnEdge() {
    json endless = baseJob();
    for (auto& n : endless["nodes"])
      if (n["id"] == "bids") {
        n["params"]["events"] = 0;
        n["params"]["rate"] = 1000;
      }
    std::vector<std::string> mapFields;  // the schema of edge 1 (euros -> sampled): the map's fields
    for (const auto& n : endless["nodes"])
      if (n["id"] == "euros")
        for (const auto& f : n["params"]["fields"]) mapFields.push_back(f["name"]);
    QCOMPARE(endless["edges"][1]["from"].get<std::string>(), std::string("euros"));
    const QString id = submit(writeJob("tap", endless), 2);
    QVERIFY(!id.isEmpty());
    QVERIFY(waitUntil([&] { return status(id) == "RUNNING"; }));
    const std::string base = "/v1/jobs/" + id.toStdString() + "/edges/";
    using weir::cluster::httpRequest;

    QCOMPARE(httpRequest(url_.toStdString(), "POST", base + "3/tap").status, 404);
    QCOMPARE(httpRequest(url_.toStdString(), "POST", base + "x/tap").status, 404);
    QCOMPARE(httpRequest(url_.toStdString(), "POST", base + "1/tap", "{\"enable\": 3}").status, 400);
    QCOMPARE(httpRequest(url_.toStdString(), "GET", base + "1/sample?rows=abc").status, 400);
    // Not enabled yet: the schema, no rows.
    json s = get(base + "1/sample");
    QCOMPARE(s.value("enabled", true), false);
    QVERIFY(s["rows"].empty());

    const auto on = httpRequest(url_.toStdString(), "POST", base + "1/tap");
    QCOMPARE(on.status, 200);
    const json onBody = json::parse(on.body);
    QCOMPARE(onBody.value("enabled", false), true);
    QCOMPARE(onBody.value("from", ""), std::string("euros"));
    QCOMPARE(onBody.value("to", ""), std::string("sampled"));
    QCOMPARE(onBody.value("idle_timeout_ms", 0), 3000);

    QVERIFY2(waitUntil([&] {
               s = get(base + "1/sample?rows=50");
               return s["rows"].size() >= 2 && s.value("subtasks", 0) == 2;
             }, 30000),
             s.dump().c_str());
    QCOMPARE(s.value("enabled", false), true);
    QVERIFY(s["rows"].size() <= 50);
    std::vector<std::string> schemaNames;
    for (const auto& f : s["schema"]) schemaNames.push_back(f["name"]);
    QCOMPARE(schemaNames, mapFields);
    std::set<int> producers;
    for (const auto& row : s["rows"]) {
      std::vector<std::string> keys;
      for (const auto& [k, v] : row.items())
        if (k[0] != '_') keys.push_back(k);
      std::sort(keys.begin(), keys.end());
      std::vector<std::string> want = mapFields;
      std::sort(want.begin(), want.end());
      QVERIFY2(keys == want, row.dump().c_str());
      QVERIFY2(row["_event_time"].is_number_integer(), row.dump().c_str());
      QCOMPARE(row["_op"].get<std::string>(), std::string("+I"));
      producers.insert(row["_subtask"].get<int>());
    }
    QVERIFY2(waitUntil([&] {
               for (const auto& row : get(base + "1/sample")["rows"]) producers.insert(row["_subtask"].get<int>());
               return producers.size() == 2;
             }, 30000),
             "rows from one producing subtask only");

    // Not read for 3 s: disabled by the JobManager.
    QTest::qWait(4500);
    s = get(base + "1/sample");
    QCOMPARE(s.value("enabled", true), false);
    QVERIFY(s["rows"].empty());

    // Enable, then disable explicitly.
    QCOMPARE(httpRequest(url_.toStdString(), "POST", base + "2/tap", "{\"enable\": true}").status, 200);
    QVERIFY(waitUntil([&] { return !get(base + "2/sample")["rows"].empty(); }, 30000));
    const auto off = httpRequest(url_.toStdString(), "POST", base + "2/tap", "{\"enable\": false}");
    QCOMPARE(off.status, 200);
    QCOMPARE(json::parse(off.body).value("enabled", true), false);
    QCOMPARE(get(base + "2/sample").value("enabled", true), false);

    httpRequest(url_.toStdString(), "POST", "/v1/jobs/" + id.toStdString() + "/cancel");
    QVERIFY2(waitUntil([&] { return status(id) == "CANCELED"; }), "the job was not canceled");
    QCOMPARE(httpRequest(url_.toStdString(), "POST", base + "1/tap").status, 409);
    QVERIFY(waitUntil([&] { return get("/v1/overview").value("slots_available", -1) == 4; }));
  }

  void metricHistoryAndRuns() {
    // Two runs of one job name, 3000 events at 1500/s each (about 2 s; history every 500 ms).
    json job = baseJob();
    job["name"] = "history-runs";
    for (auto& n : job["nodes"])
      if (n["id"] == "bids") {
        n["params"]["events"] = 3000;
        n["params"]["rate"] = 1500;
      }
    const QString first = submit(writeJob("history-1", job), 2);
    QVERIFY(!first.isEmpty());
    QVERIFY2(waitUntil([&] { return status(first) == "FINISHED"; }), "the first run did not finish");
    const QString second = submit(writeJob("history-2", job), 2);
    QVERIFY(!second.isEmpty());
    QVERIFY2(waitUntil([&] { return status(second) == "FINISHED"; }), "the second run did not finish");

    const json h = get("/v1/jobs/" + first.toStdString() + "/metrics/history?node=bids");
    QCOMPARE(h.value("interval_ms", 0), 500);
    QVERIFY2(h["nodes"].size() == 1, h.dump().c_str());
    const json& bids = h["nodes"][0];
    QCOMPARE(bids.value("node", ""), std::string("bids"));
    const std::size_t rows = bids["time_ms"].size();
    QVERIFY2(rows >= 2, h.dump().c_str());  // at least one while running, and one at the end
    double bestRate = 0;
    for (const char* f : {"records_in", "records_out", "records_in_per_s", "records_out_per_s", "busy_ms_per_s_max",
                          "backpressured_ms_per_s_max", "watermark"})
      QCOMPARE(bids[f].size(), rows);
    for (std::size_t i = 0; i < rows; ++i) {
      if (i > 0) {
        QVERIFY(bids["time_ms"][i].get<std::int64_t>() >= bids["time_ms"][i - 1].get<std::int64_t>());
        QVERIFY(bids["records_out"][i].get<std::int64_t>() >= bids["records_out"][i - 1].get<std::int64_t>());
      }
      bestRate = std::max(bestRate, bids["records_out_per_s"][i].get<double>());
    }
    QVERIFY2(bestRate > 0, h.dump().c_str());
    QVERIFY(bids["records_out"][rows - 1].get<std::int64_t>() > 0);
    QCOMPARE(get("/v1/jobs/" + first.toStdString() + "/metrics/history")["nodes"].size(), std::size_t(4));
    QCOMPARE(weir::cluster::httpRequest(url_.toStdString(), "GET",
                                        "/v1/jobs/" + first.toStdString() + "/metrics/history?node=nosuch").status,
             404);

    const json runs = get("/v1/jobs?name=history-runs");
    QVERIFY2(runs["jobs"].size() == 2, runs.dump().c_str());
    QCOMPARE(runs["jobs"][0].value("id", ""), second.toStdString());  // newest first
    QCOMPARE(runs["jobs"][1].value("id", ""), first.toStdString());
    for (const auto& r : runs["jobs"]) {
      QCOMPARE(r.value("status", ""), std::string("FINISHED"));
      QVERIFY(r["started_ms"].is_number() && r["ended_ms"].is_number());
      QCOMPARE(r["duration_ms"].get<std::int64_t>(),
               r["ended_ms"].get<std::int64_t>() - r["started_ms"].get<std::int64_t>());
    }
    QCOMPARE(get("/v1/jobs?name=no-such-name")["jobs"].size(), std::size_t(0));
  }

  void exceptionsNameTheCause() {
    // A CSV source that meets a bad record with on_bad_record "fail".
    const json job = {{"weir", 1},
                      {"name", "broken"},
                      {"parallelism", 1},
                      {"on_bad_record", "fail"},
                      {"nodes", {{{"id", "src"}, {"type", "source.file"},
                                  {"params", {{"path", "in.csv"}, {"format", "csv"}, {"header", true},
                                              {"schema", {{{"name", "a"}, {"type", "int64"}}}}}}},
                                 {{"id", "out"}, {"type", "sink.discard"}, {"params", json::object()}}}},
                      {"edges", {{{"from", "src"}, {"to", "out"}}}}};
    const QString file = writeJob("broken", job);
    std::ofstream(QFileInfo(file).path().toStdString() + "/in.csv") << "a\n1\nnot-a-number\n3\n";
    const QString id = submit(file, 1);
    QVERIFY(!id.isEmpty());
    QVERIFY2(waitUntil([&] { return status(id) == "FAILED"; }), "the job did not fail");
    const std::string target = "/v1/jobs/" + id.toStdString() + "/exceptions";
    const json ex = get(target);
    QCOMPARE(ex.value("job", ""), id.toStdString());
    QVERIFY2(ex["exceptions"].is_array() && !ex["exceptions"].empty(), ex.dump().c_str());
    const json& root = ex["exceptions"][0];
    QVERIFY2(root.value("root_cause", false), ex.dump().c_str());
    QCOMPARE(root.value("node", json()).get<std::string>(), std::string("src"));
    QCOMPARE(root.value("subtask", -1), 0);
    QVERIFY2(root.value("message", "").find("not-a-number") != std::string::npos ||
                 root.value("message", "").find("line 3") != std::string::npos,
             ex.dump().c_str());
    QVERIFY(root["time_ms"].get<std::int64_t>() > 0);
    // The TaskManager that ran it, as /v1/jobs/{id} places the subtask.
    const json j = get("/v1/jobs/" + id.toStdString());
    QCOMPARE(root.value("taskmanager", json()).get<std::string>(), j["subtasks"][0].value("taskmanager", ""));
    for (std::size_t i = 1; i < ex["exceptions"].size(); ++i) QVERIFY(!ex["exceptions"][i].value("root_cause", true));
    QCOMPARE(weir::cluster::httpRequest(url_.toStdString(), "GET", "/v1/jobs/nosuchjob/exceptions").status, 404);
  }

  void lostTaskManagerFailsJob() {
    json endless = baseJob();
    for (auto& n : endless["nodes"]) {
      if (n["id"] == "bids") {
        n["params"]["events"] = 0;
        n["params"]["rate"] = 2000;
      }
      if (n["id"] == "out") n["parallelism"] = 2;
    }
    const QString id = submit(writeJob("endless", endless), 4);
    QVERIFY(!id.isEmpty());
    QVERIFY2(waitUntil([&] {
               const json j = get("/v1/jobs/" + id.toStdString());
               if (j.value("status", "") != "RUNNING") return false;
               for (const auto& s : j["subtasks"])
                 if (s.value("state", "") != "RUNNING") return false;
               return true;
             }),
             "the job did not start running");
    QTest::qWait(500);  // let data flow between the processes
    QCOMPARE(status(id), std::string("RUNNING"));

    const std::string killedPid = std::to_string(tms_[1]->processId());
    tms_[1]->kill();  // SIGKILL
    QVERIFY(tms_[1]->waitForFinished(10000));
    QVERIFY2(waitUntil([&] { return status(id) == "FAILED"; }), "the job did not fail");
    const json j = get("/v1/jobs/" + id.toStdString());
    // The first cause wins: either the JobManager saw the TaskManager go ("TaskManager X
    // lost"), or a surviving TaskManager's data connection to it broke first ("connection
    // to X closed"). Both name the killed process (its name is HOST-PID).
    const std::string failure = j.value("failure", "");
    QVERIFY2(failure.find("lost") != std::string::npos ||
                 (failure.find("connection to") != std::string::npos &&
                  failure.find("-" + killedPid) != std::string::npos),
             j.dump().c_str());
    const json tms = get("/v1/taskmanagers");
    int lost = 0;
    for (const auto& t : tms["taskmanagers"])
      if (t.value("state", "") == "LOST") ++lost;
    QCOMPARE(lost, 1);
    const json o = get("/v1/overview");
    QCOMPARE(o.value("taskmanagers", -1), 1);
    QCOMPARE(o.value("jobs_running", -1), 0);
  }

  void garbageOnTheRpcPort() {
    for (const std::string junk : {std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
                                   std::string("WEIR\x01\x14\0\0\0\0\0\0\xff\xff\xff\x7f", 16),
                                   std::string(4096, '\xab')}) {
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<std::uint16_t>(rpcPort_));
      QCOMPARE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
      QVERIFY(::write(fd, junk.data(), junk.size()) > 0);
      char buf[256];
      (void)::read(fd, buf, sizeof buf);  // the Reject frame, then EOF
      ::close(fd);
    }
    QCOMPARE(jm_.state(), QProcess::Running);
    QCOMPARE(get("/v1/overview").value("taskmanagers", -1), 1);
  }

  void nonLoopbackNeedsSecret() {
    QProcess p;
    p.start(kBin + "/weir-jobmanager", {"--bind", "0.0.0.0", "--rpc-port", "0", "--api-port", "0", "--data-dir",
                                        tmp_.path() + "/data2"});
    QVERIFY(p.waitForFinished(30000));
    QCOMPARE(p.exitCode(), 2);
    QVERIFY(p.readAllStandardError().contains("secret"));
  }

  void liveNeedsTheToken() {
    // A JobManager with a secret: the live endpoint refuses a missing or wrong token with
    // 401 before the upgrade, and only then looks the job up (404).
    const QString secret = tmp_.path() + "/live-secret";
    std::ofstream(secret.toStdString()) << "s3cret-live\n";
    const int api = freePort();
    QProcess jm;
    jm.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    jm.start(kBin + "/weir-jobmanager", {"--rpc-port", QString::number(freePort()), "--api-port", QString::number(api),
                                         "--data-dir", tmp_.path() + "/data-secret", "--secret-file", secret});
    QVERIFY(jm.waitForStarted());
    const std::string url = "http://127.0.0.1:" + std::to_string(api);
    QVERIFY(waitUntil([&] {
      try {
        return weir::cluster::httpRequest(url, "GET", "/v1/overview").status == 401;
      } catch (const std::exception&) {
        return false;
      }
    }, 30000));
    auto refusal = [&](const std::string& token) {
      try {
        weir::cluster::WebSocketClient ws(url, "/v1/jobs/nosuchjob/live", token);
        return 0;
      } catch (const weir::cluster::WebSocketRefused& e) {
        return e.status;
      }
    };
    QCOMPARE(refusal(""), 401);
    QCOMPARE(refusal("wrong"), 401);
    QCOMPARE(refusal("s3cret-live"), 404);
    jm.terminate();
    QVERIFY(jm.waitForFinished(30000));
  }

  void migratesVersion1Metadata() {
    // A metadata file as the first JobManager version wrote it, with one failed job.
    const QString dir = tmp_.path() + "/data-v1";
    QVERIFY(QDir().mkpath(dir));
    sqlite3* db = nullptr;
    QCOMPARE(sqlite3_open((dir + "/metadata.sqlite").toUtf8().constData(), &db), SQLITE_OK);
    const char* v1 = R"(
      CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1);
      CREATE TABLE jobs (id TEXT PRIMARY KEY, name TEXT NOT NULL, submitted_ms INTEGER NOT NULL, base_dir TEXT NOT NULL);
      CREATE TABLE job_versions (job_id TEXT NOT NULL REFERENCES jobs(id), version INTEGER NOT NULL,
                                 job_file TEXT NOT NULL, created_ms INTEGER NOT NULL, PRIMARY KEY (job_id, version));
      CREATE TABLE runs (job_id TEXT NOT NULL REFERENCES jobs(id), run INTEGER NOT NULL, status TEXT NOT NULL,
                         started_ms INTEGER, ended_ms INTEGER, PRIMARY KEY (job_id, run));
      CREATE TABLE run_transitions (job_id TEXT NOT NULL, run INTEGER NOT NULL, status TEXT NOT NULL, at_ms INTEGER NOT NULL);
      CREATE TABLE taskmanagers (name TEXT PRIMARY KEY, slots INTEGER NOT NULL, data_address TEXT NOT NULL,
                                 first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL, lost_ms INTEGER, lost_reason TEXT);
      CREATE TABLE exceptions (job_id TEXT NOT NULL, run INTEGER NOT NULL, at_ms INTEGER NOT NULL, message TEXT NOT NULL);
      INSERT INTO jobs VALUES ('00000000000000aa', 'old-job', 1000, '/tmp');
      INSERT INTO runs VALUES ('00000000000000aa', 1, 'FAILED', 2000, 5000);
      INSERT INTO exceptions VALUES ('00000000000000aa', 1, 4999, 'src[0/1]: boom (on tm-1)');)";
    QCOMPARE(sqlite3_exec(db, v1, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);

    const int api = freePort();
    QProcess jm;
    jm.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    jm.start(kBin + "/weir-jobmanager", {"--rpc-port", QString::number(freePort()), "--api-port",
                                         QString::number(api), "--data-dir", dir});
    QVERIFY(jm.waitForStarted());
    const std::string url = "http://127.0.0.1:" + std::to_string(api);
    json ex;
    QVERIFY2(waitUntil([&] {
               try {
                 ex = json::parse(weir::cluster::httpRequest(url, "GET", "/v1/jobs/00000000000000aa/exceptions").body);
                 return true;
               } catch (const std::exception&) {
                 return false;
               }
             }, 30000),
             "the JobManager on the old metadata did not answer");
    QVERIFY2(ex["exceptions"].size() == 1, ex.dump().c_str());
    QCOMPARE(ex["exceptions"][0].value("message", ""), std::string("src[0/1]: boom (on tm-1)"));
    QVERIFY(ex["exceptions"][0].value("root_cause", false));
    QVERIFY(ex["exceptions"][0]["node"].is_null());
    const json runs = json::parse(weir::cluster::httpRequest(url, "GET", "/v1/jobs?name=old-job").body);
    QVERIFY2(runs["jobs"].size() == 1, runs.dump().c_str());
    QCOMPARE(runs["jobs"][0]["duration_ms"].get<std::int64_t>(), std::int64_t(3000));
    QCOMPARE(json::parse(weir::cluster::httpRequest(url, "GET", "/v1/jobs/00000000000000aa/metrics/history").body)["nodes"].size(),
             std::size_t(0));
    jm.terminate();
    QVERIFY(jm.waitForFinished(30000));

    QCOMPARE(sqlite3_open((dir + "/metadata.sqlite").toUtf8().constData(), &db), SQLITE_OK);
    int version = 0;
    sqlite3_exec(db, "SELECT version FROM schema_version",
                 [](void* v, int, char** cols, char**) {
                   *static_cast<int*>(v) = std::atoi(cols[0]);
                   return 0;
                 },
                 &version, nullptr);
    sqlite3_close(db);
    QCOMPARE(version, 5);
  }

  void hungTaskManagerTimesOut() {
    QProcess& tm = *tms_[0];
    QCOMPARE(tm.state(), QProcess::Running);
    const int before = get("/v1/overview").value("taskmanagers", -1);
    QCOMPARE(::kill(static_cast<pid_t>(tm.processId()), SIGSTOP), 0);
    const bool lost = waitUntil([&] {
      const json tms = get("/v1/taskmanagers");
      for (const auto& t : tms["taskmanagers"])
        if (t.value("state", "") == "LOST" && t.value("lost_reason", "").find("heartbeat") != std::string::npos)
          return true;
      return false;
    });
    QVERIFY2(lost, "the hung TaskManager was not marked LOST");
    QCOMPARE(get("/v1/overview").value("taskmanagers", -1), before - 1);
    // Resumed, it finds its connection closed, and connects and registers again.
    ::kill(static_cast<pid_t>(tm.processId()), SIGCONT);
    QVERIFY2(waitUntil([&] { return get("/v1/overview").value("taskmanagers", -1) == before; }),
             "the resumed TaskManager did not register again");
    QCOMPARE(tm.state(), QProcess::Running);
  }

  void sigtermStopsCleanly() {
    const int before = get("/v1/overview").value("taskmanagers", 0);
    startTaskManager();
    QProcess& tm = *tms_.back();
    QVERIFY(waitUntil([&] { return get("/v1/overview").value("taskmanagers", 0) == before + 1; }));
    tm.terminate();
    QVERIFY(tm.waitForFinished(30000));
    QCOMPARE(tm.exitStatus(), QProcess::NormalExit);
    QCOMPARE(tm.exitCode(), 0);
    jm_.terminate();
    QVERIFY(jm_.waitForFinished(30000));
    QCOMPARE(jm_.exitStatus(), QProcess::NormalExit);
    QCOMPARE(jm_.exitCode(), 0);
  }

  void cleanupTestCase() {
    for (auto& p : tms_) {
      p->kill();
      p->waitForFinished(5000);
    }
    jm_.kill();
    jm_.waitForFinished(5000);
  }
};

QTEST_GUILESS_MAIN(TestCluster)
#include "test_cluster.moc"
