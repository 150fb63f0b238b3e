// Several hosts on one machine: the JobManager on 127.0.0.1 and one TaskManager on each of
// 127.0.0.2 and 127.0.0.3 (distinct loopback addresses, so every data connection between
// them is a real TCP connection between two hosts' addresses), all with a cluster secret:
//
//   jobAcrossHosts   nexmark-q1-like job at parallelism 4 with a rebalance between
//                    subtasks on both hosts: the TaskManagers announce their own hosts'
//                    data addresses, subtasks are placed on both, and the sorted output
//                    equals the in-process runtime's (no loss, no duplicates)
//   peerWithoutSecretRefused  a TaskManager on a third host with a wrong secret never
//                    registers; the cluster keeps serving

#include <QtTest>

#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "cluster/http_client.h"
#include "cluster/local_cluster.h"
#include "job_harness.h"

using nlohmann::json;
using weir::test::Collected;
using weir::test::runText;

namespace {

std::vector<std::filesystem::path> partFiles(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path());
  return out;
}

json jobFor(const std::string& outPath) {
  return {{"weir", 1},
          {"name", "hosts"},
          {"parallelism", 4},
          {"nodes",
           {{{"id", "bids"}, {"type", "source.generator"}, {"params", {{"table", "bid"}, {"events", 40000}}}},
            {{"id", "pricey"}, {"type", "filter"}, {"parallelism", 3}, {"params", {{"where", "price > 1000"}}}},
            {{"id", "out"}, {"type", "sink.file"}, {"parallelism", 2},
             {"params", {{"path", outPath}, {"format", "jsonl"}}}}}},
          {"edges", {{{"from", "bids"}, {"to", "pricey"}}, {{"from", "pricey"}, {"to", "out"}}}}};
}

}  // namespace

class TestMultiHost : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;

 private slots:
  void jobAcrossHosts() {
    const std::filesystem::path dir = tmp_.path().toStdString();
    std::ofstream(dir / "secret") << "hosts-secret\n";
    weir::cluster::LocalClusterOptions o;
    o.taskManagers = 2;
    o.slotsPerTaskManager = 2;
    o.dataDir = dir / "cluster";
    o.binDir = WEIR_BIN_DIR;
    o.secretFile = (dir / "secret").string();
    o.taskManagerHosts = {"127.0.0.2", "127.0.0.3"};
    auto cluster = weir::cluster::LocalCluster::start(o);
    const std::string token = "hosts-secret";

    const auto tms = json::parse(weir::cluster::httpRequest(cluster.url(), "GET", "/v1/taskmanagers", "", token).body);
    std::set<std::string> hosts;
    for (const auto& tm : tms["taskmanagers"]) {
      const std::string addr = tm["data_address"];
      hosts.insert(addr.substr(0, addr.rfind(':')));
    }
    QCOMPARE(hosts, (std::set<std::string>{"127.0.0.2", "127.0.0.3"}));

    std::filesystem::create_directories(dir / "cluster-out");
    std::filesystem::create_directories(dir / "local-out");
    const std::string clusterJob = jobFor((dir / "cluster-out" / "o.jsonl").string()).dump();
    const auto r = weir::cluster::httpRequest(cluster.url(), "POST", "/v1/jobs", clusterJob, token);
    QVERIFY2(r.status == 200 || r.status == 201, r.body.c_str());
    const std::string id = json::parse(r.body)["id"];
    json status;
    QTRY_VERIFY_WITH_TIMEOUT(
        (status = json::parse(weir::cluster::httpRequest(cluster.url(), "GET", "/v1/jobs/" + id, "", token).body),
         status["status"] == "FINISHED" || status["status"] == "FAILED"),
        60000);
    QVERIFY2(status["status"] == "FINISHED", status.dump().c_str());
    std::set<std::string> placed;
    for (const auto& s : status["subtasks"]) placed.insert(s["taskmanager"].get<std::string>());
    QCOMPARE(placed.size(), std::size_t{2});  // subtasks on both hosts

    Collected c;
    QCOMPARE(runText(jobFor((dir / "local-out" / "o.jsonl").string()).dump(), dir, c), std::string("FINISHED"));
    const auto expected = weir::test::sortedFileLines(partFiles(dir / "local-out"));
    const auto got = weir::test::sortedFileLines(partFiles(dir / "cluster-out"));
    QVERIFY(expected.size() > 1000);
    QCOMPARE(got.size(), expected.size());
    QVERIFY(got == expected);
  }

  void peerWithoutSecretRefused() {
    const std::filesystem::path dir = tmp_.filePath("refused").toStdString();
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "secret") << "right\n";
    std::ofstream(dir / "wrong") << "wrong\n";
    weir::cluster::LocalClusterOptions o;
    o.taskManagers = 1;
    o.dataDir = dir / "cluster";
    o.binDir = WEIR_BIN_DIR;
    o.secretFile = (dir / "secret").string();
    o.taskManagerHosts = {"127.0.0.2"};
    auto cluster = weir::cluster::LocalCluster::start(o);
    QProcess intruder;
    intruder.start(WEIR_BIN_DIR "/weir-taskmanager",
                   {"--jobmanager", "127.0.0.1:" + QString::number(cluster.rpcPort()), "--slots", "2", "--bind",
                    "127.0.0.4", "--secret-file", QString::fromStdString((dir / "wrong").string()), "--name",
                    "intruder", "--connect-timeout-ms", "2000"});
    QVERIFY(intruder.waitForFinished(30000));
    QVERIFY(intruder.exitCode() != 0);
    const QByteArray why = intruder.readAllStandardError();
    QVERIFY2(why.contains("secret") || why.contains("authentic") || why.contains("handshake"), why.constData());
    const auto tms = json::parse(weir::cluster::httpRequest(cluster.url(), "GET", "/v1/taskmanagers", "", "right").body);
    QCOMPARE(tms["taskmanagers"].size(), std::size_t{1});
    QCOMPARE(tms["taskmanagers"][0]["name"].get<std::string>(), std::string("taskmanager-1"));
  }
};

QTEST_GUILESS_MAIN(TestMultiHost)
#include "test_multihost.moc"
