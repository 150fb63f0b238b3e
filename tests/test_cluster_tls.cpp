// The multi-process engine with TLS: a real weir-jobmanager and two weir-taskmanager
// processes (2 slots each), all started with --tls-cert/--tls-key/--tls-ca (the second
// TaskManager from a --config file), certificates made at test time with `openssl`
// (tests/tls_certs.h).
//
//            weir submit/status --tls-ca (https)      TLS + HMAC         TLS + HMAC
//   test ---------------------------------------> JobManager <------ tm-a, tm-b (data: tm-a <-> tm-b)
//
//   runsLikeTheLocalRuntime   nexmark-q1 at parallelism 4 with a rebalance between
//                             processes (filter p=3, sink p=2): the sorted output equals
//                             `weir run` of the same job; the control and the data
//                             connections were TLS (the daemons' logs say so)
//   apiOverHttps              `weir status`/`weir list` over https with --tls-ca and with
//                             WEIR_TLS_CA; without the CA the certificate is refused; the
//                             live WebSocket over wss:// streams until the job ends
//   plainPeersAreRefused      plain HTTP on the API port gets a 400 naming https://; raw
//                             bytes are closed; a TaskManager without TLS is refused with
//                             the reason on both sides; a plain Transport is refused by a
//                             TaskManager's data port; the JobManager keeps serving
//   foreignCertificatesAreRefused  a TaskManager with a certificate of another CA, one
//                             that trusts only another CA, an API client with another CA,
//                             and a Transport with the other CA's certificate on a data
//                             port: all refused; the cluster keeps serving
//   badTlsFilesExit2          a missing key file or a missing --tls-ca: exit 2 naming it
//
// No timing assertions: every wait polls with a generous deadline. Every process is
// killed in cleanup.

#include <QtTest>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <set>

#include <nlohmann/json.hpp>

#include "cluster/http_client.h"
#include "process_harness.h"
#include "net/transport.h"
#include "tls_certs.h"

using nlohmann::json;
using weir::test::freePort;
using weir::test::waitUntil;

namespace {

const QString kBin = QStringLiteral(WEIR_BIN_DIR);

QString readAll(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QString::fromUtf8(f.readAll());
}

/// Every line of the job's part files "q1*.jsonl" in `dir`, sorted.
QStringList outputLines(const QString& dir) { return weir::test::sortedFileLines(dir, "q1*.jsonl"); }

struct Ran {
  int code = -1;
  QString out, err;
};

Ran run(const QString& program, const QStringList& args, const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment(),
        int ms = 60000) {
  QProcess p;
  p.setProcessEnvironment(env);
  p.start(program, args);
  Ran r;
  if (!p.waitForFinished(ms)) {
    p.kill();
    p.waitForFinished(5000);
    r.err = "timed out";
    return r;
  }
  r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = QString::fromUtf8(p.readAllStandardOutput());
  r.err = QString::fromUtf8(p.readAllStandardError());
  return r;
}

}  // namespace

class TestClusterTls : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir tmp_;
  TestCertificates certs_;
  QProcess jm_;
  std::vector<std::unique_ptr<QProcess>> tms_;
  int apiPort_ = 0, rpcPort_ = 0;
  QString url_;  // https://127.0.0.1:P

  QString log(const QString& name) const { return tmp_.path() + "/" + name + ".log"; }
  QStringList tlsFlags() const { return {"--tls-cert", certs_.node, "--tls-key", certs_.nodeKey, "--tls-ca", certs_.ca}; }

  json get(const std::string& target) {
    const auto r = weir::cluster::httpRequest(url_.toStdString(), "GET", target, "", "", certs_.ca.toStdString());
    return json::parse(r.body, nullptr, false);
  }

  bool clusterServes() {
    try {
      const json o = get("/v1/overview");
      return o.value("taskmanagers", 0) == 2 && o.value("slots_total", 0) == 4;
    } catch (const std::exception&) {
      return false;
    }
  }

  QString writeJob(const QString& folder, const json& job) {
    return weir::test::writeJobFile(tmp_.path(), folder, job.dump(2));
  }

  QString submit(const QString& jobFile, int parallelism) {
    const Ran r = run(kBin + "/weir", {"submit", jobFile, "--jobmanager", url_, "--tls-ca", certs_.ca, "--parallelism",
                                       QString::number(parallelism)});
    if (r.code != 0) qWarning() << r.err;
    return r.out.trimmed();
  }

  std::string status(const QString& id) { return get("/v1/jobs/" + id.toStdString()).value("status", ""); }

  json shuffledJob() {
    std::ifstream in(WEIR_SOURCE_DIR "/samples/nexmark-q1.weir.json");
    json job = json::parse(in);
    for (auto& n : job["nodes"]) {
      if (n["id"] == "sampled") n["parallelism"] = 3;
      if (n["id"] == "out") n["parallelism"] = 2;
    }
    return job;
  }

  /// A TaskManager started with `extra`, expected to be refused: its exit code and log.
  Ran refusedTaskManager(const QString& name, const QStringList& extra) {
    const Ran r = run(kBin + "/weir-taskmanager", QStringList{"--jobmanager", QString("127.0.0.1:%1").arg(rpcPort_),
                                                              "--slots", "1", "--name", name, "--connect-timeout-ms",
                                                              "5000"} + extra,
                      QProcessEnvironment::systemEnvironment(), 30000);
    return r;
  }

  /// A TaskManager's data address from the API ("127.0.0.1", port).
  std::pair<std::string, std::uint16_t> dataAddress() {
    const json t = get("/v1/taskmanagers")["taskmanagers"][0];
    const std::string a = t.value("data_address", "");
    const auto colon = a.rfind(':');
    return {a.substr(0, colon), static_cast<std::uint16_t>(std::stoi(a.substr(colon + 1)))};
  }

 private slots:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    QVERIFY2(certs_.make(tmp_.path() + "/pki"), qPrintable(certs_.error));
    apiPort_ = freePort();
    rpcPort_ = freePort();
    url_ = QString("https://127.0.0.1:%1").arg(apiPort_);
    jm_.setStandardErrorFile(log("jm"));
    jm_.start(kBin + "/weir-jobmanager",
              QStringList{"--bind", "127.0.0.1", "--rpc-port", QString::number(rpcPort_), "--api-port",
                          QString::number(apiPort_), "--data-dir", tmp_.path() + "/data"} +
                  tlsFlags());
    QVERIFY(jm_.waitForStarted());
    // tm-a with flags, tm-b from a config file holding the same flags as keys.
    const QString config = tmp_.path() + "/tm-b.json";
    std::ofstream(config.toStdString()) << json{{"jobmanager", "127.0.0.1:" + std::to_string(rpcPort_)},
                                                {"slots", 2},
                                                {"name", "tm-b"},
                                                {"tls-cert", certs_.node.toStdString()},
                                                {"tls-key", certs_.nodeKey.toStdString()},
                                                {"tls-ca", certs_.ca.toStdString()}}
                                                .dump();
    for (const QStringList& args :
         {QStringList{"--jobmanager", QString("127.0.0.1:%1").arg(rpcPort_), "--slots", "2", "--name", "tm-a"} +
              tlsFlags(),
          QStringList{"--config", config}}) {
      auto p = std::make_unique<QProcess>();
      p->setStandardErrorFile(log(tms_.empty() ? "tm-a" : "tm-b"));
      p->start(kBin + "/weir-taskmanager", args);
      QVERIFY(p->waitForStarted());
      tms_.push_back(std::move(p));
    }
    QVERIFY2(waitUntil([&] { return clusterServes(); }),
             qPrintable("the TaskManagers did not register over TLS:\n" + readAll(log("jm")) + readAll(log("tm-a")) +
                        readAll(log("tm-b"))));
    QVERIFY2(readAll(log("jm")).contains("security=\"TLSv1."), qPrintable(readAll(log("jm"))));
  }

  void runsLikeTheLocalRuntime() {
    const json job = shuffledJob();
    const QString clusterFile = writeJob("q1-cluster", job);
    const QString localFile = writeJob("q1-local", job);
    const QString id = submit(clusterFile, 4);
    QVERIFY2(!id.isEmpty(), "weir submit printed no job id");
    QVERIFY2(waitUntil([&] {
               const auto s = status(id);
               return s == "FINISHED" || s == "FAILED" || s == "CANCELED";
             }, 120000),
             "the job did not end");
    const json j = get("/v1/jobs/" + id.toStdString());
    QVERIFY2(j.value("status", "") == "FINISHED", j.dump().c_str());
    std::set<std::string> tms;
    for (const auto& s : j["subtasks"]) tms.insert(s.value("taskmanager", ""));
    QCOMPARE(tms.size(), std::size_t(2));

    const Ran local = run(kBin + "/weir", {"run", localFile, "--parallelism", "4", "--quiet"}, 
                          QProcessEnvironment::systemEnvironment(), 120000);
    QVERIFY2(local.code == 0, qPrintable(local.err));
    const QStringList a = outputLines(QFileInfo(clusterFile).path() + "/out");
    const QStringList b = outputLines(QFileInfo(localFile).path() + "/out");
    QVERIFY(!a.isEmpty());
    QCOMPARE(a.size(), b.size());
    QVERIFY(a == b);

    // The data connection between the TaskManagers was TLS, with the peer's certificate.
    const QString logs = readAll(log("tm-a")) + readAll(log("tm-b"));
    QVERIFY2(logs.contains(QRegularExpression("connected to tm-. .* over TLSv1\\.[23], peer CN=weir node")),
             qPrintable(logs));
  }

  void apiOverHttps() {
    const QString id = submit(writeJob("q1-api", shuffledJob()), 2);
    QVERIFY(!id.isEmpty());
    // The live WebSocket over wss://, until the job ends with a normal close.
    {
      weir::cluster::WebSocketClient ws(QString("wss://127.0.0.1:%1").arg(apiPort_).toStdString(),
                                        "/v1/jobs/" + id.toStdString() + "/live", "", std::chrono::seconds(30),
                                        certs_.ca.toStdString());
      int messages = 0;
      std::string last;
      QVERIFY(waitUntil([&] {
        if (auto m = ws.next(std::chrono::milliseconds(200))) {
          ++messages;
          last = *m;
        }
        return ws.closed();
      }, 120000));
      QVERIFY(messages >= 1);
      QCOMPARE(ws.closeCode(), 1000);
      QVERIFY2(last.find("FINISHED") != std::string::npos, last.c_str());
    }
    const Ran st = run(kBin + "/weir", {"status", id, "--jobmanager", url_, "--tls-ca", certs_.ca});
    QVERIFY2(st.code == 0, qPrintable(st.err));
    QVERIFY2(st.out.contains("FINISHED"), qPrintable(st.out));
    // The CA from the environment.
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert("WEIR_TLS_CA", certs_.ca);
    const Ran list = run(kBin + "/weir", {"list", "--jobmanager", url_}, env);
    QVERIFY2(list.code == 0, qPrintable(list.err));
    QVERIFY2(list.out.contains(id), qPrintable(list.out));
    // Without it (the system's CAs do not know ours), and with another CA: refused.
    env.remove("WEIR_TLS_CA");
    const Ran noCa = run(kBin + "/weir", {"list", "--jobmanager", url_}, env);
    QVERIFY(noCa.code != 0);
    QVERIFY2(noCa.err.contains("certificate verify failed"), qPrintable(noCa.err));
    const Ran otherCa = run(kBin + "/weir", {"list", "--jobmanager", url_, "--tls-ca", certs_.otherCa}, env);
    QVERIFY(otherCa.code != 0);
    QVERIFY2(otherCa.err.contains("certificate verify failed"), qPrintable(otherCa.err));
  }

  void plainPeersAreRefused() {
    // Plain HTTP on the TLS API port: a 400 that says what to do.
    const auto r = weir::cluster::httpRequest(QString("http://127.0.0.1:%1").arg(apiPort_).toStdString(), "GET",
                                              "/v1/overview");
    QCOMPARE(r.status, 400);
    QVERIFY2(r.body.find("https://") != std::string::npos, r.body.c_str());
    // Raw bytes on both ports: closed.
    for (int port : {apiPort_, rpcPort_}) {
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<std::uint16_t>(port));
      QCOMPARE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
      const std::string junk(300, '\xab');
      QVERIFY(::write(fd, junk.data(), junk.size()) > 0);
      timeval tv{20, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      char buf[512];
      ssize_t n = 0;
      while ((n = ::read(fd, buf, sizeof buf)) > 0) {
      }
      QVERIFY2(n == 0 || errno == ECONNRESET, "the connection was not closed");
      ::close(fd);
    }
    // A TaskManager without TLS: refused, and both sides say why.
    const Ran plain = refusedTaskManager("tm-plain", {});
    QCOMPARE(plain.code, 1);
    QVERIFY2(plain.err.contains("TLS is required"), qPrintable(plain.err));
    QVERIFY2(waitUntil([&] { return readAll(log("jm")).contains("TLS is required here"); }, 10000),
             qPrintable(readAll(log("jm"))));
    // A plain Transport on a TaskManager's data port.
    const auto [host, port] = dataAddress();
    weir::net::TransportOptions o;
    o.nodeName = "plain-peer";
    o.log = [](std::string_view) {};
    weir::net::Transport t(o);
    try {
      t.connect(host, port);
      QFAIL("a plain connection to a TLS data port was accepted");
    } catch (const weir::net::NetworkError& e) {
      QVERIFY2(std::string(e.what()).find("TLS is required") != std::string::npos, e.what());
    }
    QVERIFY(clusterServes());
    QCOMPARE(jm_.state(), QProcess::Running);
  }

  void foreignCertificatesAreRefused() {
    // A certificate of another CA (this cluster's CA trusted).
    const Ran rogue = refusedTaskManager(
        "tm-rogue", {"--tls-cert", certs_.rogue, "--tls-key", certs_.rogueKey, "--tls-ca", certs_.ca});
    QCOMPARE(rogue.code, 1);
    QVERIFY2(waitUntil([&] { return readAll(log("jm")).contains("certificate verify failed"); }, 10000),
             qPrintable(readAll(log("jm"))));
    // Our certificate, but trusting only the other CA: it refuses the JobManager.
    const Ran distrust = refusedTaskManager(
        "tm-distrust", {"--tls-cert", certs_.node, "--tls-key", certs_.nodeKey, "--tls-ca", certs_.otherCa});
    QCOMPARE(distrust.code, 1);
    QVERIFY2(distrust.err.contains("certificate verify failed"), qPrintable(distrust.err));
    // The other CA's certificate on a data port.
    const auto [host, port] = dataAddress();
    weir::net::TransportOptions o;
    o.nodeName = "rogue-peer";
    o.tls = {certs_.rogue.toStdString(), certs_.rogueKey.toStdString(), certs_.otherCa.toStdString()};
    o.log = [](std::string_view) {};
    weir::net::Transport t(o);
    QVERIFY_EXCEPTION_THROWN(t.connect(host, port), weir::net::NetworkError);
    // An API client trusting the other CA.
    QVERIFY_EXCEPTION_THROWN(weir::cluster::httpRequest(url_.toStdString(), "GET", "/v1/overview", "", "",
                                                        certs_.otherCa.toStdString()),
                             std::runtime_error);
    QVERIFY(clusterServes());
    QCOMPARE(get("/v1/taskmanagers")["taskmanagers"].size(), std::size_t(2));
  }

  void badTlsFilesExit2() {
    const Ran noKey = run(kBin + "/weir-jobmanager", {"--rpc-port", "0", "--api-port", "0", "--data-dir",
                                                      tmp_.path() + "/bad", "--tls-cert", certs_.node, "--tls-key",
                                                      tmp_.path() + "/missing.key", "--tls-ca", certs_.ca});
    QCOMPARE(noKey.code, 2);
    QVERIFY2(noKey.err.contains("--tls-key") && noKey.err.contains("missing.key"), qPrintable(noKey.err));
    const Ran noCa = run(kBin + "/weir-taskmanager", {"--jobmanager", "127.0.0.1:1", "--slots", "1", "--tls-cert",
                                                      certs_.node, "--tls-key", certs_.nodeKey});
    QCOMPARE(noCa.code, 2);
    QVERIFY2(noCa.err.contains("--tls-ca"), qPrintable(noCa.err));
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

QTEST_GUILESS_MAIN(TestClusterTls)
#include "test_cluster_tls.moc"
