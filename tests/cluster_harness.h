#pragma once
// A real cluster for the multi-process suites: one weir-jobmanager and weir-taskmanager
// processes on free loopback ports, talked to over the HTTP API and the `weir` CLI, as a
// user would. A suite derives from Cluster (beside QObject) and calls its helpers; every
// process is killed by stopAll() (call it in cleanupTestCase).

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cluster/http_client.h"
#include "process_harness.h"

namespace weir::test {

class Cluster {
 public:
  using json = nlohmann::json;

  QTemporaryDir tmp_;
  std::unique_ptr<QProcess> jm_;
  std::vector<std::unique_ptr<QProcess>> tms_;
  int apiPort_ = 0, rpcPort_ = 0;
  std::string url_;
  QStringList jobManagerArgs_{"--heartbeat-timeout-ms", "3000"};  // beside ports and data dir

  static QString bin() { return QStringLiteral(WEIR_BIN_DIR); }

  /// Picks the ports, starts the JobManager and `taskManagers` TaskManagers (2 slots each)
  /// and waits until they registered.
  bool startCluster(int taskManagers) {
    if (!tmp_.isValid()) return false;
    apiPort_ = freePort();
    rpcPort_ = freePort();
    url_ = "http://127.0.0.1:" + std::to_string(apiPort_);
    if (!startJobManager()) return false;
    for (int i = 0; i < taskManagers; ++i)
      if (!startTaskManager()) return false;
    return clusterHas(taskManagers);
  }

  json get(const std::string& target) {
    try {
      return json::parse(weir::cluster::httpRequest(url_, "GET", target).body, nullptr, false);
    } catch (const std::exception&) {
      return json();
    }
  }
  std::string status(const QString& id) {
    const json j = get("/v1/jobs/" + id.toStdString());
    return j.is_object() ? j.value("status", "") : "";
  }

  bool startJobManager() {
    jm_ = std::make_unique<QProcess>();
    jm_->setProcessChannelMode(QProcess::ForwardedErrorChannel);
    jm_->start(bin() + "/weir-jobmanager", QStringList{"--rpc-port", QString::number(rpcPort_), "--api-port",
                                                       QString::number(apiPort_), "--data-dir", tmp_.path() + "/data"} +
                                               jobManagerArgs_);
    return jm_->waitForStarted();
  }
  bool startTaskManager() {
    auto p = std::make_unique<QProcess>();
    p->setProcessChannelMode(QProcess::ForwardedErrorChannel);
    p->start(bin() + "/weir-taskmanager", {"--jobmanager", QString("127.0.0.1:%1").arg(rpcPort_), "--slots", "2",
                                           "--heartbeat-interval-ms", "200", "--connect-timeout-ms", "60000"});
    if (!p->waitForStarted()) return false;
    tms_.push_back(std::move(p));
    return true;
  }
  /// Waits until the JobManager counts `taskmanagers` registered TaskManagers.
  bool clusterHas(int taskmanagers) {
    return waitUntil([&] {
      const json o = get("/v1/overview");
      return o.is_object() && o.value("taskmanagers", 0) == taskmanagers;
    });
  }

  QString writeJob(const QString& folder, const json& job) { return writeJobFile(tmp_.path(), folder, job.dump(2)); }
  /// `weir submit FILE`: the job id, empty when refused.
  QString submit(const QString& file) {
    QProcess p;
    p.start(bin() + "/weir", {"submit", file, "--jobmanager", QString::fromStdString(url_)});
    if (!p.waitForFinished(60000)) return {};
    if (p.exitCode() != 0) qWarning() << p.readAllStandardError();
    return QString::fromUtf8(p.readAllStandardOutput()).trimmed();
  }
  bool waitForStatus(const QString& id, const std::string& want, int ms = 120000) {
    return waitUntil([&] { return status(id) == want; }, ms);
  }
  /// Every line of the job's *.jsonl outputs in <job folder>/out, sorted.
  QStringList output(const QString& jobFile) { return sortedFileLines(QFileInfo(jobFile).path() + "/out", "*.jsonl"); }
  /// The same job run by `weir run --in-process` in its own folder: its output.
  QStringList inProcessOutput(const QString& folder, const json& job) {
    const QString file = writeJob(folder, job);
    QProcess local;
    local.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    local.start(bin() + "/weir", {"run", file, "--quiet", "--in-process"});
    if (!local.waitForFinished(120000) || local.exitCode() != 0) return {};
    return output(file);
  }

  /// Every live TaskManager holds no channel and no attempt, and every slot is free.
  bool everythingReleased() {
    return waitUntil([&] {
      const json t = get("/v1/taskmanagers");
      if (!t.is_object()) return false;
      int live = 0;
      for (const auto& tm : t["taskmanagers"]) {
        if (tm.value("state", "") == "LOST") continue;
        ++live;
        if (tm.value("channels", -1) != 0 || tm.value("attempts", -1) != 0) return false;
        if (tm.value("slots_available", -1) != tm.value("slots", -2)) return false;
      }
      return live > 0;
    });
  }

  void stopAll() {
    for (auto& p : tms_) {
      p->kill();
      p->waitForFinished(5000);
    }
    if (jm_) {
      jm_->kill();
      jm_->waitForFinished(5000);
    }
  }
};

}  // namespace weir::test
