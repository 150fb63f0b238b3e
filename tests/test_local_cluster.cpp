// The local cluster launcher (cluster/local_cluster.h) and what the daemons share about
// their command lines (cluster/daemon_args.h), with real processes:
//
//   startRunStop             `weir cluster start` (2 TaskManagers) returns once both
//                            registered; `weir submit` and `weir status --follow` find
//                            the cluster without --jobmanager; the job's output has
//                            exactly the generated rows; `weir cluster stop` ends all
//                            three processes and a second start/stop works
//   startRefusedWhenRunning  a second `weir cluster start` on the same folder exits 2
//   ownedClusterStopsWithObject  a LocalCluster that goes out of scope leaves no process
//   childrenDieWithParent    the daemons of a process killed with SIGKILL end too
//                            (PR_SET_PDEATHSIG)
//   configFile               --config F.json sets flags, the command line overrides
//                            them, a bad value or unknown key names the file
//   secretFromEnvironment    WEIR_SECRET protects the API like --secret-file
//   taskManagerRegistersAgain  the JobManager killed with SIGKILL and started again on
//                            the same ports: the TaskManager cancels what it ran, connects
//                            and registers again, and the new JobManager runs a job on it
//   tlsCluster               `weir cluster start --tls-cert/--tls-key/--tls-ca`: an https
//                            API; `weir submit/list` use the cluster's own CA; a half TLS
//                            configuration is refused
//
// No timing assertions: every wait polls with a generous deadline.

#include <QtTest>

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "cluster/http_client.h"
#include "cluster/local_cluster.h"
#include "process_harness.h"
#include "tls_certs.h"

using nlohmann::json;
using weir::cluster::LocalCluster;
using weir::cluster::LocalClusterOptions;
using weir::test::pidAlive;

namespace {

const QString kBin = QStringLiteral(WEIR_BIN_DIR);

/// Waits at most 20 s for `f`.
bool eventually(const std::function<bool()>& f) { return weir::test::waitUntil(f, 20000); }

/// Kills the cluster's JobManager with SIGKILL and starts `replacement`, a plain
/// weir-jobmanager (no TLS, no secret) on the same ports and data folder.
void replaceJobManager(const LocalCluster& c, const LocalClusterOptions& o, QProcess& replacement) {
  const auto jm = c.processes()[0];
  QCOMPARE(QString::fromStdString(jm.role), QString("jobmanager"));
  const QString apiPort = QString::fromStdString(c.url()).section(':', -1);
  ::kill(jm.pid, SIGKILL);
  QVERIFY(eventually([&] { return !pidAlive(jm.pid); }));
  replacement.start(kBin + "/weir-jobmanager", {"--rpc-port", QString::number(c.rpcPort()), "--api-port", apiPort,
                                               "--data-dir", QString::fromStdString(o.dataDir.string())});
  QVERIFY(replacement.waitForStarted());
}

struct Result {
  int code = -1;
  QString out, err;
};

Result runWeir(const QStringList& args, const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment()) {
  QProcess p;
  p.setProcessEnvironment(env);
  p.start(kBin + "/weir", args);
  Result r;
  if (!p.waitForFinished(60000)) return r;
  r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = QString::fromUtf8(p.readAllStandardOutput());
  r.err = QString::fromUtf8(p.readAllStandardError());
  return r;
}

void writeFile(const QString& path, const std::string& text) {
  std::ofstream out(path.toStdString(), std::ios::trunc);
  out << text;
}

}  // namespace

class TestLocalCluster : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;

  QProcessEnvironment envWithDir(const QString& dir) {
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert("WEIR_CLUSTER_DIR", dir);
    env.remove("WEIR_JOBMANAGER");
    env.remove("WEIR_SECRET");
    return env;
  }

  /// The pids `weir cluster status` lists as running.
  std::vector<pid_t> statusPids(const QProcessEnvironment& env) {
    const Result r = runWeir({"cluster", "status"}, env);
    std::vector<pid_t> pids;
    for (const QString& line : r.out.split('\n')) {
      const auto f = line.simplified().split(' ');
      if (f.size() >= 4 && f[1] == "pid" && f[3] == "running") pids.push_back(f[2].toInt());
    }
    return pids;
  }

 private slots:
  void cleanupTestCase() {  // whatever a failed test left running
    for (const char* d : {"cluster-a", "cluster-b", "cluster-e", "cluster-tls"}) runWeir({"cluster", "stop"}, envWithDir(tmp_.filePath(d)));
  }

  void startRunStop() {
    const QString dir = tmp_.filePath("cluster-a");
    const auto env = envWithDir(dir);
    for (int round = 0; round < 2; ++round) {
      const Result start = runWeir({"cluster", "start", "--taskmanagers", "2", "--slots", "2"}, env);
      QCOMPARE(start.code, 0);
      const std::string url = start.out.trimmed().toStdString();
      QVERIFY2(url.starts_with("http://127.0.0.1:"), qPrintable(start.out + start.err));
      const auto overview = json::parse(weir::cluster::httpRequest(url, "GET", "/v1/overview").body);
      QCOMPARE(overview["taskmanagers"].get<int>(), 2);
      QCOMPARE(overview["slots_total"].get<int>(), 4);
      const auto pids = statusPids(env);
      QCOMPARE(pids.size(), std::size_t{3});

      const QString out = tmp_.filePath(QString("bids-%1.csv").arg(round));
      writeFile(tmp_.filePath("job.weir.json"), json{
          {"weir", 1}, {"name", "gen"},
          {"nodes", {{{"id", "bids"}, {"type", "source.generator"}, {"params", {{"table", "bid"}, {"events", 5000}}}},
                     {{"id", "out"}, {"type", "sink.file"},
                      {"params", {{"path", out.toStdString()}, {"format", "csv"}}}}}},
          {"edges", {{{"from", "bids"}, {"to", "out"}}}}}.dump(2));
      const Result submit = runWeir({"submit", tmp_.filePath("job.weir.json")}, env);
      QVERIFY2(submit.code == 0, qPrintable(submit.err));
      const Result follow = runWeir({"status", submit.out.trimmed(), "--follow"}, env);
      QVERIFY2(follow.code == 0 && follow.out.contains("FINISHED"), qPrintable(follow.out + follow.err));
      std::ifstream in(out.toStdString());
      int lines = 0;
      for (std::string l; std::getline(in, l);) ++lines;
      QCOMPARE(lines, 5001);  // header + every generated bid

      const Result stop = runWeir({"cluster", "stop"}, env);
      QVERIFY2(stop.code == 0 && stop.err.contains("3 processes"), qPrintable(stop.err));
      QVERIFY(!stop.err.contains("killed"));
      for (pid_t pid : pids) QVERIFY2(eventually([&] { return !pidAlive(pid); }), "a daemon outlived cluster stop");
      QCOMPARE(runWeir({"cluster", "status"}, env).code, 1);
    }
  }

  void startRefusedWhenRunning() {
    const auto env = envWithDir(tmp_.filePath("cluster-b"));
    QCOMPARE(runWeir({"cluster", "start", "--taskmanagers", "1"}, env).code, 0);
    const Result again = runWeir({"cluster", "start"}, env);
    QCOMPARE(again.code, 2);
    QVERIFY(again.err.contains("already running"));
    QCOMPARE(runWeir({"cluster", "stop"}, env).code, 0);
    const Result none = runWeir({"cluster", "stop"}, env);
    QCOMPARE(none.code, 0);
    QVERIFY(none.err.contains("no local cluster"));
  }

  void ownedClusterStopsWithObject() {
    std::vector<pid_t> pids;
    {
      LocalClusterOptions o;
      o.taskManagers = 2;
      o.slotsPerTaskManager = 1;
      o.dataDir = tmp_.filePath("cluster-c").toStdString();
      o.binDir = WEIR_BIN_DIR;
      LocalCluster c = LocalCluster::start(o);
      QCOMPARE(c.alive(), 3);
      for (const auto& p : c.processes()) pids.push_back(p.pid);
      const auto tms = json::parse(weir::cluster::httpRequest(c.url(), "GET", "/v1/taskmanagers").body);
      QCOMPARE(tms["taskmanagers"].size(), std::size_t{2});
      std::set<std::string> names;
      for (const auto& tm : tms["taskmanagers"]) names.insert(tm["name"].get<std::string>());
      QCOMPARE(names, (std::set<std::string>{"taskmanager-1", "taskmanager-2"}));
    }
    for (pid_t pid : pids) QVERIFY(!pidAlive(pid));  // stop() waited for each of them
  }

  void childrenDieWithParent() {
    // A helper process starts a cluster (the LocalCluster default: die with parent) and
    // prints the pids; we SIGKILL it, so nothing of it runs its destructors.
    const QString dir = tmp_.filePath("cluster-d");
    const QString stateFile = dir + "/pids";
    QProcess helper;
    auto env = envWithDir(dir);
    helper.setProcessEnvironment(env);
    helper.start(QCoreApplication::applicationFilePath(), {"--launch-and-wait", dir});
    QVERIFY(helper.waitForStarted());
    QVERIFY(eventually([&] { return QFile::exists(stateFile); }));
    std::vector<pid_t> pids;
    std::ifstream in(stateFile.toStdString());
    for (pid_t pid; in >> pid;) pids.push_back(pid);
    QCOMPARE(pids.size(), std::size_t{3});
    for (pid_t pid : pids) QVERIFY(pidAlive(pid));
    ::kill(static_cast<pid_t>(helper.processId()), SIGKILL);
    QVERIFY(helper.waitForFinished(10000));
    for (pid_t pid : pids) QVERIFY2(eventually([&] { return !pidAlive(pid); }), "a daemon outlived its parent");
  }

  void configFile() {
    const QString dir = tmp_.filePath("config");
    QDir().mkpath(dir);
    const QString ports = dir + "/ports.json";
    writeFile(dir + "/jm.json", json{{"bind", "127.0.0.1"}, {"rpc-port", 0}, {"api-port", 0},
                                     {"data-dir", (dir + "/data").toStdString()},
                                     {"ports-file", ports.toStdString()}, {"heartbeat-timeout-ms", 3000}}
                                     .dump());
    QProcess jm;
    jm.start(kBin + "/weir-jobmanager", {"--config", dir + "/jm.json"});
    QVERIFY(eventually([&] { return QFile::exists(ports); }));
    std::ifstream pin(ports.toStdString());
    const json p = json::parse(pin);
    const std::string url = "http://127.0.0.1:" + std::to_string(p["api_port"].get<int>());
    QCOMPARE(weir::cluster::httpRequest(url, "GET", "/v1/overview").status, 200);
    jm.terminate();
    QVERIFY(jm.waitForFinished(10000));
    QCOMPARE(jm.exitCode(), 0);
    const QByteArray log = jm.readAllStandardError();
    QVERIFY2(log.contains("heartbeat_timeout_ms=3000"), log.constData());

    // The command line wins over the file, wherever --config stands.
    QFile::remove(ports);
    QProcess jm2;
    jm2.start(kBin + "/weir-jobmanager", {"--heartbeat-timeout-ms", "4000", "--config", dir + "/jm.json"});
    QVERIFY(eventually([&] { return QFile::exists(ports); }));
    jm2.terminate();
    QVERIFY(jm2.waitForFinished(10000));
    QVERIFY(jm2.readAllStandardError().contains("heartbeat_timeout_ms=4000"));

    writeFile(dir + "/bad.json", R"({"api-port": "eighty"})");
    QProcess bad;
    bad.start(kBin + "/weir-jobmanager", {"--config", dir + "/bad.json"});
    QVERIFY(bad.waitForFinished(10000));
    QCOMPARE(bad.exitCode(), 2);
    QVERIFY(bad.readAllStandardError().contains("--api-port (from " + (dir + "/bad.json").toUtf8() + ") must be"));

    writeFile(dir + "/unknown.json", R"({"colour": "blue"})");
    QProcess unknown;
    unknown.start(kBin + "/weir-taskmanager", {"--config", dir + "/unknown.json"});
    QVERIFY(unknown.waitForFinished(10000));
    QCOMPARE(unknown.exitCode(), 2);
    QVERIFY(unknown.readAllStandardError().contains("unknown option --colour (from"));

    writeFile(dir + "/broken.json", "{\"bind\": ");
    QProcess broken;
    broken.start(kBin + "/weir-jobmanager", {"--config", dir + "/broken.json"});
    QVERIFY(broken.waitForFinished(10000));
    QCOMPARE(broken.exitCode(), 2);
    QVERIFY(broken.readAllStandardError().contains("broken.json: not JSON"));
  }

  void secretFromEnvironment() {
    auto env = envWithDir(tmp_.filePath("cluster-e"));
    env.insert("WEIR_SECRET", "correct horse");
    QCOMPARE(runWeir({"cluster", "start", "--taskmanagers", "1"}, env).code, 0);  // the TaskManager authenticated
    const Result list = runWeir({"list"}, env);
    QVERIFY2(list.code == 0, qPrintable(list.err));
    auto noSecret = env;
    noSecret.remove("WEIR_SECRET");
    const Result refused = runWeir({"list"}, noSecret);
    QCOMPARE(refused.code, 2);
    QVERIFY2(refused.err.contains("401"), qPrintable(refused.err));
    QCOMPARE(runWeir({"cluster", "stop"}, env).code, 0);
  }

  void taskManagerRegistersAgain() {
    LocalClusterOptions o;
    o.taskManagers = 1;
    o.slotsPerTaskManager = 2;
    o.dataDir = tmp_.filePath("cluster-again").toStdString();
    o.binDir = WEIR_BIN_DIR;
    LocalCluster c = LocalCluster::start(o);
    QProcess again;
    again.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    replaceJobManager(c, o, again);
    if (QTest::currentTestFailed()) return;
    json tms;
    QVERIFY2(eventually([&] {
               try {
                 tms = json::parse(weir::cluster::httpRequest(c.url(), "GET", "/v1/taskmanagers").body);
                 return tms["taskmanagers"].size() == 1 && tms["taskmanagers"][0]["state"] == "REGISTERED";
               } catch (const std::exception&) {
                 return false;
               }
             }),
             tms.dump().c_str());
    QCOMPARE(tms["taskmanagers"][0]["name"].get<std::string>(), std::string("taskmanager-1"));
    QVERIFY(c.alive() >= 1);  // the TaskManager is still the one started first

    const QString job = tmp_.filePath("again.weir.json");
    writeFile(job, json{{"weir", 1}, {"name", "again"},
                        {"nodes", {{{"id", "bids"}, {"type", "source.generator"}, {"params", {{"table", "bid"}, {"events", 500}}}},
                                   {{"id", "out"}, {"type", "sink.discard"}}}},
                        {"edges", {{{"from", "bids"}, {"to", "out"}}}}}
                       .dump());
    auto env = envWithDir(tmp_.filePath("unused"));
    env.insert("WEIR_JOBMANAGER", QString::fromStdString(c.url()));
    const Result submit = runWeir({"submit", job}, env);
    QVERIFY2(submit.code == 0, qPrintable(submit.err));
    const Result follow = runWeir({"status", submit.out.trimmed(), "--follow"}, env);
    QVERIFY2(follow.code == 0 && follow.out.contains("FINISHED"), qPrintable(follow.out + follow.err));
    again.terminate();
    QVERIFY(again.waitForFinished(10000));
  }

  /// A TaskManager reconnecting to a JobManager that accepts and then hangs up every time
  /// (here: restarted without TLS, while the TaskManager uses TLS) takes it as a refusal
  /// after a few tries and exits, instead of retrying for --connect-timeout-ms (30 s).
  void repeatedHangUpsAreARefusal() {
    TestCertificates certs;
    QVERIFY2(certs.make(tmp_.filePath("tls-hangup")), qPrintable(certs.error));
    LocalClusterOptions o;
    o.taskManagers = 1;
    o.dataDir = tmp_.filePath("cluster-hangup").toStdString();
    o.binDir = WEIR_BIN_DIR;
    certs.applyTo(o);
    LocalCluster c = LocalCluster::start(o);
    const auto tm = c.processes()[1];
    QCOMPARE(QString::fromStdString(tm.role), QString("taskmanager"));
    QProcess plain;
    replaceJobManager(c, o, plain);  // without TLS
    if (QTest::currentTestFailed()) return;
    QElapsedTimer waited;
    waited.start();
    QVERIFY(weir::test::waitUntil([&] { return !pidAlive(tm.pid); }, 15000));
    QVERIFY2(waited.elapsed() < 15000, qPrintable(QString::number(waited.elapsed())));
    const QString log = QString::fromStdString(weir::cluster::logTail(tm.log, 40));
    QVERIFY2(log.contains("JobManager refused the connection"), qPrintable(log));
    plain.terminate();
    QVERIFY(plain.waitForFinished(10000));
  }

  void tlsCluster() {
    TestCertificates certs;
    QVERIFY2(certs.make(tmp_.filePath("tls")), qPrintable(certs.error));
    const auto env = envWithDir(tmp_.filePath("cluster-tls"));
    const Result half = runWeir({"cluster", "start", "--tls-cert", certs.node}, env);
    QCOMPARE(half.code, 2);
    QVERIFY(half.err.contains("needs all of --tls-cert, --tls-key and --tls-ca"));
    const Result start = runWeir({"cluster", "start", "--taskmanagers", "1", "--tls-cert", certs.node, "--tls-key",
                                  certs.nodeKey, "--tls-ca", certs.ca}, env);
    QVERIFY2(start.code == 0, qPrintable(start.err));
    QVERIFY2(start.out.startsWith("https://127.0.0.1:"), qPrintable(start.out));
    writeFile(tmp_.filePath("tls-job.weir.json"),
              json{{"weir", 1}, {"name", "tls-gen"},
                   {"nodes", {{{"id", "bids"}, {"type", "source.generator"}, {"params", {{"table", "bid"}, {"events", 100}}}},
                              {{"id", "out"}, {"type", "sink.discard"}}}},
                   {"edges", {{{"from", "bids"}, {"to", "out"}}}}}
                  .dump());
    const Result submit = runWeir({"submit", tmp_.filePath("tls-job.weir.json")}, env);  // the CA from the state file
    QVERIFY2(submit.code == 0, qPrintable(submit.err));
    const Result follow = runWeir({"status", submit.out.trimmed(), "--follow"}, env);
    QVERIFY2(follow.code == 0 && follow.out.contains("FINISHED"), qPrintable(follow.out + follow.err));
    const Result foreign = runWeir({"list", "--tls-ca", certs.otherCa}, env);
    QVERIFY(foreign.code != 0);
    QCOMPARE(runWeir({"cluster", "stop"}, env).code, 0);
  }
};

int main(int argc, char** argv) {
  // Helper mode of childrenDieWithParent: start a cluster, write its pids, wait to be killed.
  if (argc == 3 && std::string(argv[1]) == "--launch-and-wait") {
    LocalClusterOptions o;
    o.taskManagers = 2;
    o.slotsPerTaskManager = 1;
    o.dataDir = argv[2];
    o.binDir = WEIR_BIN_DIR;
    LocalCluster c = LocalCluster::start(o);
    {
      std::ofstream out(std::string(argv[2]) + "/pids.tmp");
      for (const auto& p : c.processes()) out << p.pid << "\n";
    }
    std::rename((std::string(argv[2]) + "/pids.tmp").c_str(), (std::string(argv[2]) + "/pids").c_str());
    ::pause();
    return 0;
  }
  QCoreApplication app(argc, argv);
  TestLocalCluster t;
  return QTest::qExec(&t, argc, argv);
}

#include "test_local_cluster.moc"
