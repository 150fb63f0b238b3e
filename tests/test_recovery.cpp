// Attempts, restarts and the lifecycle of what a TaskManager wires for a job, end to end
// with real processes: a weir-jobmanager and three weir-taskmanager (2 slots each) on free
// loopback ports.
//
//   channelsReleasedAfterEveryAttempt  a p=2 -> p=3 -> p=1 job (two shuffles across
//                          processes) runs to FINISHED; every TaskManager then reports 0
//                          channels and 0 attempts, and every slot is free again
//   restartedJobManagerStartsClean  the JobManager killed with SIGKILL while a job runs,
//                          started again on the same ports and data dir: the TaskManagers
//                          register again, the open run is settled FAILED with a cause,
//                          and the same p=2 -> p=3 -> p=1 job runs again to FINISHED (it
//                          used to fail with "channel 2 already has a writer")
//   restartsAfterTaskManagerLoss  a job with a fixed_delay restart strategy needing all 6
//                          slots; one TaskManager killed with SIGKILL: the job is RESTARTING
//                          and waits for slots, saying so; a replacement joins; attempt 2
//                          runs to FINISHED and its output equals `weir run --in-process`
//                          row for row (a restart starts over from the sources: no row lost,
//                          none twice); the restart and attempt 1's root cause are recorded
//   strategyExhaustedFails  a job that always fails, restart fixed_delay with 2 attempts:
//                          3 attempts, each with its root cause, 2 restarts, then FAILED
//                          naming the exhausted strategy; its slots are free again
//   reportsOnlyFromWhereTheSubtaskRuns  a control client registers as a TaskManager and
//                          reports the running job's subtask FAILED: the JobManager ignores
//                          it and the job finishes
//   cancelWhileRestarting  a job waiting in RESTARTING for slots is canceled: CANCELED
//
// Bounded waits only (no timing assertions). Every process is killed in cleanup.

#include <QtTest>

#include <signal.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fstream>
#include <future>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "cluster/control.h"
#include "cluster/http_client.h"
#include "cluster_harness.h"

using nlohmann::json;
using weir::test::freePort;
using weir::test::waitUntil;

namespace {

const QString kBin = QStringLiteral(WEIR_BIN_DIR);

bool ended(const std::string& s) { return s == "FINISHED" || s == "FAILED" || s == "CANCELED"; }

}  // namespace

class TestRecovery final : public QObject, private weir::test::Cluster {
  Q_OBJECT

  /// Generated bids (deterministic by seed whatever the parallelism) through two shuffles:
  /// bids (p1) -rebalance-> pricey (filter, p2) -rebalance-> out (sink.file, jsonl, p=1).
  /// events 0: unbounded; `rate` > 0 makes it last events/rate seconds.
  static json shuffleJob(int events, int rate, int p1, int p2, json restart = nullptr) {
    json j = {{"weir", 1},
              {"name", "shuffles"},
              {"nodes",
               {{{"id", "bids"}, {"type", "source.generator"}, {"parallelism", p1},
                 {"params", {{"table", "bid"}, {"events", events}, {"rate", rate}, {"seed", 7}}}},
                {{"id", "pricey"}, {"type", "filter"}, {"parallelism", p2},
                 {"params", {{"where", "price > 1000"}}}},
                {{"id", "out"}, {"type", "sink.file"}, {"parallelism", 1},
                 {"params", {{"path", "out/bids.jsonl"}, {"format", "jsonl"}}}}}},
              {"edges", {{{"from", "bids"}, {"to", "pricey"}, {"partition", "rebalance"}},
                         {{"from", "pricey"}, {"to", "out"}}}}};
    if (!restart.is_null()) j["restart"] = restart;
    return j;
  }

 private slots:
  void initTestCase() { QVERIFY2(startCluster(3), "the cluster did not start"); }

  void channelsReleasedAfterEveryAttempt() {
    const QString file = writeJob("release", shuffleJob(20000, 0, 2, 3));
    const QString id = submit(file);
    QVERIFY(!id.isEmpty());
    QVERIFY2(waitForStatus(id, "FINISHED"), status(id).c_str());
    QVERIFY2(everythingReleased(), get("/v1/taskmanagers").dump().c_str());
    QCOMPARE(get("/v1/overview").value("slots_available", -1), 6);
    QCOMPARE(output(file), inProcessOutput("release-local", shuffleJob(20000, 0, 2, 3)));
  }

  void restartedJobManagerStartsClean() {
    // A job still running when the JobManager dies.
    const QString longFile = writeJob("orphan", shuffleJob(0, 2000, 2, 3));
    const QString orphan = submit(longFile);
    QVERIFY(!orphan.isEmpty());
    QVERIFY(waitForStatus(orphan, "RUNNING"));
    jm_->kill();  // SIGKILL
    QVERIFY(jm_->waitForFinished(10000));
    startJobManager();
    QVERIFY2(clusterHas(3), "the TaskManagers did not register with the new JobManager");
    // The run the dead JobManager left open is settled, with the reason.
    const json runs = get("/v1/jobs?name=shuffles");
    bool settled = false;
    for (const auto& r : runs["jobs"])
      if (r.value("id", "") == orphan.toStdString()) settled = r.value("status", "") == "FAILED";
    QVERIFY2(settled, runs.dump().c_str());
    const json ex = get("/v1/jobs/" + orphan.toStdString() + "/exceptions");
    QVERIFY2(ex["exceptions"].size() >= 1 &&
                 ex["exceptions"][0].value("message", "").find("JobManager stopped") != std::string::npos,
             ex.dump().c_str());
    // The TaskManagers dropped the orphan's attempt, and the same job runs again.
    QVERIFY2(everythingReleased(), get("/v1/taskmanagers").dump().c_str());
    const QString file = writeJob("again", shuffleJob(20000, 0, 2, 3));
    const QString id = submit(file);
    QVERIFY(!id.isEmpty());
    QVERIFY2(waitForStatus(id, "FINISHED"), get("/v1/jobs/" + id.toStdString()).dump().c_str());
    QCOMPARE(output(file), inProcessOutput("again-local", shuffleJob(20000, 0, 2, 3)));
  }

  void restartsAfterTaskManagerLoss() {
    const json restart = {{"strategy", "fixed_delay"}, {"max_attempts", 3}, {"delay_ms", 200}};
    // 6 slots: every TaskManager has a part; 40,000 bids at 8,000/s take about 5 s.
    const json job = shuffleJob(40000, 8000, 6, 3, restart);
    const QString file = writeJob("restart", job);
    const QString id = submit(file);
    QVERIFY(!id.isEmpty());
    QVERIFY(waitUntil([&] {
      const json j = get("/v1/jobs/" + id.toStdString());
      if (j.value("status", "") != "RUNNING") return false;
      for (const auto& s : j["subtasks"])
        if (s.value("state", "") != "RUNNING") return false;
      return true;
    }));
    QTest::qWait(1000);  // records are flowing, part of the output written
    QCOMPARE(status(id), std::string("RUNNING"));
    tms_[0]->kill();  // SIGKILL
    QVERIFY(tms_[0]->waitForFinished(10000));
    // 4 slots left of the 6 it needs: it waits, and says why.
    QVERIFY2(waitUntil([&] {
               const json j = get("/v1/jobs/" + id.toStdString());
               return j.value("status", "") == "RESTARTING" &&
                      j.value("waiting_reason", "").find("waiting for slots: needs 6, 4 available") !=
                          std::string::npos;
             }),
             get("/v1/jobs/" + id.toStdString()).dump().c_str());
    startTaskManager();  // the replacement
    QVERIFY2(waitForStatus(id, "FINISHED"), get("/v1/jobs/" + id.toStdString()).dump().c_str());
    const json j = get("/v1/jobs/" + id.toStdString());
    QCOMPARE(j.value("attempt", 0), 2);
    QCOMPARE(j.value("restarts", 0), 1);
    QVERIFY2(j["restart_history"].size() == 1 && j["restart_history"][0].value("attempt", 0) == 2,
             j.dump().c_str());
    const std::string killedPid = "-" + std::to_string(tms_[0]->processId());
    const json ex = get("/v1/jobs/" + id.toStdString() + "/exceptions");
    QVERIFY2(!ex["exceptions"].empty() && ex["exceptions"][0].value("root_cause", false) &&
                 ex["exceptions"][0].value("attempt", 0) == 1,
             ex.dump().c_str());
    QCOMPARE(output(file), inProcessOutput("restart-local", job));
    QVERIFY2(everythingReleased(), get("/v1/taskmanagers").dump().c_str());
  }

  void strategyExhaustedFails() {
    const json job = {{"weir", 1},
                      {"name", "always-fails"},
                      {"parallelism", 1},
                      {"on_bad_record", "fail"},
                      {"restart", {{"strategy", "fixed_delay"}, {"max_attempts", 2}, {"delay_ms", 50}}},
                      {"nodes", {{{"id", "src"}, {"type", "source.file"},
                                  {"params", {{"path", "in.csv"}, {"format", "csv"}, {"header", true},
                                              {"schema", {{{"name", "a"}, {"type", "int64"}}}}}}},
                                 {{"id", "out"}, {"type", "sink.discard"}, {"params", json::object()}}}},
                      {"edges", {{{"from", "src"}, {"to", "out"}}}}};
    const QString file = writeJob("fails", job);
    std::ofstream(QFileInfo(file).path().toStdString() + "/in.csv") << "a\n1\nnot-a-number\n3\n";
    const QString id = submit(file);
    QVERIFY(!id.isEmpty());
    QVERIFY2(waitForStatus(id, "FAILED"), status(id).c_str());
    const json j = get("/v1/jobs/" + id.toStdString());
    QCOMPARE(j.value("attempt", 0), 3);
    QCOMPARE(j.value("restarts", 0), 2);
    QVERIFY2(j.value("failure", "").find("exhausted") != std::string::npos, j.dump().c_str());
    const json ex = get("/v1/jobs/" + id.toStdString() + "/exceptions");
    std::set<int> rootAttempts;
    for (const auto& e : ex["exceptions"])
      if (e.value("root_cause", false)) {
        rootAttempts.insert(e.value("attempt", 0));
        QCOMPARE(e.value("node", json()).get<std::string>(), std::string("src"));
      }
    QCOMPARE(rootAttempts, (std::set<int>{1, 2, 3}));
    QCOMPARE(ex["exceptions"][0].value("attempt", 0), 3);  // the newest root cause first
    QVERIFY2(everythingReleased(), get("/v1/taskmanagers").dump().c_str());
  }

  void reportsOnlyFromWhereTheSubtaskRuns() {
    const QString file = writeJob("honest", shuffleJob(20000, 5000, 2, 3));
    const QString id = submit(file);
    QVERIFY(!id.isEmpty());
    QVERIFY(waitForStatus(id, "RUNNING"));
    // A control client that registers as a TaskManager without slots and claims that a
    // subtask of the job (placed elsewhere) failed.
    namespace asio = boost::asio;
    asio::io_context io;
    std::promise<std::string> sent;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          asio::ip::tcp::socket socket(io);
          asio::ip::tcp::resolver resolver(io);
          auto results = co_await resolver.async_resolve("127.0.0.1", std::to_string(rpcPort_), asio::use_awaitable);
          co_await asio::async_connect(socket, results, asio::use_awaitable);
          auto conn = std::make_shared<weir::cluster::ControlConnection>(
              std::move(socket), weir::cluster::ControlOptions{"weir", "liar", ""});
          std::string err = co_await conn->clientHandshake();
          if (!err.empty()) {
            sent.set_value("handshake: " + err);
            co_return;
          }
          conn->start();
          conn->send({{"type", "register"}, {"name", "liar"}, {"slots", 0}, {"data_host", "127.0.0.1"},
                      {"data_port", 1}});
          for (const char* vertex : {"bids", "pricey"})
            conn->send({{"type", "subtask_state"}, {"job", id.toStdString()}, {"attempt", 1}, {"vertex", vertex},
                        {"subtask", 0}, {"state", "FAILED"}, {"cause", "I say so"}});
          asio::steady_timer t(io, std::chrono::milliseconds(500));
          co_await t.async_wait(asio::use_awaitable);
          sent.set_value("");
          conn->close();
        },
        asio::detached);
    auto done = sent.get_future();
    std::thread runner([&] { io.run(); });
    const std::string result = done.get();
    runner.join();
    QVERIFY2(result.empty(), result.c_str());
    QVERIFY2(waitForStatus(id, "FINISHED"), get("/v1/jobs/" + id.toStdString()).dump().c_str());
    QCOMPARE(get("/v1/jobs/" + id.toStdString()).value("attempt", 0), 1);
  }

  void cancelWhileRestarting() {
    const json restart = {{"strategy", "fixed_delay"}, {"max_attempts", 5}, {"delay_ms", 100}};
    const QString id = submit(writeJob("cancel-restarting", shuffleJob(0, 1000, 6, 3, restart)));
    QVERIFY(!id.isEmpty());
    QVERIFY(waitForStatus(id, "RUNNING"));
    tms_.back()->kill();
    QVERIFY(tms_.back()->waitForFinished(10000));
    QVERIFY2(waitForStatus(id, "RESTARTING"), status(id).c_str());
    QProcess cancel;
    cancel.start(kBin + "/weir", {"cancel", id, "--jobmanager", QString::fromStdString(url_)});
    QVERIFY(cancel.waitForFinished(30000));
    QCOMPARE(cancel.exitCode(), 0);
    QCOMPARE(status(id), std::string("CANCELED"));
    QVERIFY2(everythingReleased(), get("/v1/taskmanagers").dump().c_str());
  }

  void cleanupTestCase() { stopAll(); }
};

QTEST_GUILESS_MAIN(TestRecovery)
#include "test_recovery.moc"
