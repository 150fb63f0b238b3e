#include "run_controller.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

#include <nlohmann/json.hpp>

#include "cluster/daemon_args.h"
#include "cluster/http_client.h"
#include "cluster/local_cluster.h"
#include "cluster/local_cluster.h"
#include "data_preview.h"
#include "job_document.h"

using nlohmann::json;

namespace {

bool ended(const QString& status) {
  return status == "FINISHED" || status == "FAILED" || status == "CANCELED";
}

/// The error of an API response: its "error" and each of its "problems" on a line.
QString apiError(const weir::cluster::HttpResponse& r) {
  const json j = json::parse(r.body, nullptr, false);
  QString msg = j.is_object() && j.contains("error") ? QString::fromStdString(j["error"].get<std::string>())
                                                     : QString::fromStdString(r.body);
  if (j.is_object() && j.contains("problems") && j["problems"].is_array())
    for (const auto& p : j["problems"])
      if (p.is_string()) msg += "\n" + QString::fromStdString(p.get<std::string>());
  return msg;
}

}  // namespace

RunController::RunController(QObject* parent) : QObject(parent) {
  worker_.setObjectName("weir-run");
  workerContext_ = new QObject;
  workerContext_->moveToThread(&worker_);
  connect(&worker_, &QThread::finished, workerContext_, &QObject::deleteLater);
  worker_.start();
  pollTimer_.setInterval(pollMs_);
  connect(&pollTimer_, &QTimer::timeout, this, &RunController::poll);
  sampleTimer_.setInterval(1000);
  connect(&sampleTimer_, &QTimer::timeout, this, &RunController::readSample);
  checkpointTimer_.setInterval(pollMs_);
  connect(&checkpointTimer_, &QTimer::timeout, this, &RunController::readCheckpoints);
  connect(this, &RunController::settingsChanged, this, [this] {
    pollTimer_.setInterval(pollMs_);
    checkpointTimer_.setInterval(pollMs_);
  });
}

RunController::~RunController() {
  pollTimer_.stop();
  checkpointTimer_.stop();
  stopLive();
  // Stop the daemons on the thread that started them, then end that thread.
  QMetaObject::invokeMethod(workerContext_, [this] { cluster_.reset(); }, Qt::BlockingQueuedConnection);
  worker_.quit();
  worker_.wait();
}

template <typename F>
void RunController::onWorker(F&& f) {
  QMetaObject::invokeMethod(workerContext_, std::forward<F>(f), Qt::QueuedConnection);
}

bool RunController::jobActive() const {
  return submitting_ || (!jobStatus_.isEmpty() && !ended(jobStatus_));  // RESTARTING, FAILING, ... too
}

void RunController::run(JobDocument* doc, int parallelism) {
  if (!doc) return;
  const QString base = doc->path().isEmpty() ? QDir::currentPath() : QFileInfo(doc->path()).absolutePath();
  runText(doc->toText(), base, parallelism);
  if (submitting_) adopt(doc);
}

void RunController::adopt(JobDocument* doc) {
  if (!doc) return;
  documentSession_ = doc->session();
  submittedText_ = doc->runText();
  emit changed();
}

void RunController::runText(const QString& jobText, const QString& baseDir, int parallelism) {
  if (jobActive()) {
    lastError_ = QStringLiteral("A job is already running; cancel it first.");
    emit changed();
    return;
  }
  forgetJob();
  documentSession_ = -1;
  submittedText_.clear();
  submitting_ = true;
  jobId_.clear();
  jobName_.clear();
  jobStatus_.clear();
  failure_.clear();
  lastError_.clear();
  elapsedS_ = 0;
  startedMs_ = QDateTime::currentMSecsSinceEpoch();
  if (!remote() && clusterState_ != "running") clusterState_ = QStringLiteral("starting");
  emit changed();

  weir::cluster::LocalClusterOptions o;
  o.taskManagers = taskManagers_;
  o.slotsPerTaskManager = slots_;
  o.dataDir = (dataDir_.isEmpty()
                   ? QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) + "/cluster"
                   : dataDir_)
                  .toStdString();
  const std::string text = jobText.toStdString();
  const std::string base = baseDir.toStdString();
  const Target t = target();
  onWorker([this, o, text, base, parallelism, t] {
    try {
      if (!t.local) {
        // A remote JobManager: nothing to start.
      } else if (cluster_ && cluster_->alive() < static_cast<int>(cluster_->processes().size())) {
        cluster_->stop(std::chrono::seconds(2));  // a daemon died: start afresh
        cluster_.reset();
      }
      if (t.local && !cluster_) {
        cluster_ = std::make_unique<weir::cluster::LocalCluster>(weir::cluster::LocalCluster::start(o));
        QStringList logs;
        QList<int> pids;
        for (const auto& p : cluster_->processes()) {
          logs << QString::fromStdString(p.name);
          pids << static_cast<int>(p.pid);
        }
        const QString url = QString::fromStdString(cluster_->url());
        const QString logDir = QString::fromStdString((cluster_->dataDir() / "logs").string());
        QMetaObject::invokeMethod(this, [this, url, logs, logDir, pids] { onClusterStarted(url, logs, logDir, pids); },
                                  Qt::QueuedConnection);
      }
      std::string target = "/v1/jobs?base_dir=" + weir::cluster::urlEncode(base);
      if (parallelism > 0) target += "&parallelism=" + std::to_string(parallelism);
      const auto r = weir::cluster::httpRequest(urlOn(t), "POST", target, text, t.token, t.caFile);
      if (r.status >= 300) {
        const QString err = apiError(r);
        QMetaObject::invokeMethod(this, [this, err] { onFailed("The JobManager refused the job: " + err); },
                                  Qt::QueuedConnection);
        return;
      }
      const json j = json::parse(r.body);
      const QString id = QString::fromStdString(j.value("id", ""));
      const QString name = QString::fromStdString(j.value("name", ""));
      const QString status = QString::fromStdString(j.value("status", ""));
      const std::string url = urlOn(t);
      QMetaObject::invokeMethod(
          this,
          [this, id, name, status, url, t] {
            submitting_ = false;
            jobId_ = id;
            jobName_ = name;
            setJob(status, {});
            startLive(url, t.token, id, t.caFile);
          },
          Qt::QueuedConnection);
    } catch (const std::exception& e) {
      const QString err = QString::fromUtf8(e.what());
      QMetaObject::invokeMethod(this, [this, err] { onFailed(err); }, Qt::QueuedConnection);
    }
  });
}

void RunController::onClusterStarted(const QString& url, const QStringList& logs, const QString& logDir,
                                     const QList<int>& pids) {
  clusterState_ = QStringLiteral("running");
  pids_ = pids;
  clusterUrl_ = url;
  logNames_ = logs;
  logDir_ = logDir;
  emit changed();
}

void RunController::onFailed(const QString& what) {
  submitting_ = false;
  lastError_ = what;
  if (clusterState_ == "starting") clusterState_ = QStringLiteral("failed");
  emit changed();
}

void RunController::setJob(const QString& status, const QString& failure) {
  const bool wasEnded = ended(jobStatus_);
  jobStatus_ = status;
  failure_ = failure;
  if (!wasEnded) elapsedS_ = (QDateTime::currentMSecsSinceEpoch() - startedMs_) / 1000.0;
  emit changed();
  if (!ended(status) && !jobId_.isEmpty() && !checkpointTimer_.isActive()) {
    checkpointTimer_.start();
    readCheckpoints();
  }
  if (ended(status) && !wasEnded) {
    pollTimer_.stop();
    checkpointTimer_.stop();
    checkpointsAgain_ = true;  // the last word: in-progress checkpoints have ended too
    readCheckpoints();
    if (status == "FAILED") loadExceptions();
    emit jobEnded(status);
  }
}

void RunController::poll() {
  if (pollInFlight_ || jobId_.isEmpty()) return;
  pollInFlight_ = true;
  const std::string id = weir::cluster::urlEncode(jobId_.toStdString());
  const Target t = target();
  onWorker([this, id, t] {
    QString status, failure, metrics, error;
    try {
      const std::string url = urlOn(t);
      const std::string& token = t.token;
      const auto s = weir::cluster::httpRequest(url, "GET", "/v1/jobs/" + id, "", token, t.caFile);
      const json j = json::parse(s.body, nullptr, false);
      if (s.status != 200 || !j.is_object()) throw std::runtime_error("status of job: " + apiError(s).toStdString());
      status = QString::fromStdString(j.value("status", ""));
      failure = QString::fromStdString(j.value("failure", ""));
      const auto m = weir::cluster::httpRequest(url, "GET", "/v1/jobs/" + id + "/metrics", "", token, t.caFile);
      if (m.status == 200) metrics = QString::fromStdString(m.body);
    } catch (const std::exception& e) {
      error = QString::fromUtf8(e.what());
    }
    QMetaObject::invokeMethod(
        this,
        [this, status, failure, metrics, error] {
          pollInFlight_ = false;
          if (!error.isEmpty()) {
            lastError_ = error;
            pollTimer_.stop();
            emit changed();
            return;
          }
          if (!metrics.isEmpty()) live_.applyText(metrics);
          setJob(status, failure);
        },
        Qt::QueuedConnection);
  });
}

void RunController::cancel() {
  if (jobId_.isEmpty() || ended(jobStatus_)) return;
  const std::string id = weir::cluster::urlEncode(jobId_.toStdString());
  const Target t = target();
  onWorker([this, id, t] {
    try {
      weir::cluster::httpRequest(urlOn(t), "POST", "/v1/jobs/" + id + "/cancel", "", t.token, t.caFile);
    } catch (const std::exception& e) {
      const QString err = QString::fromUtf8(e.what());
      QMetaObject::invokeMethod(this, [this, err] { onFailed(err); }, Qt::QueuedConnection);
    }
  });
  poll();
}

void RunController::forgetJob() {
  live_.clear();
  checkpoints_.clear();
  checkpointTimer_.stop();
  exceptions_.clear();
  emit exceptionsChanged();
}

void RunController::readCheckpoints() {
  if (jobId_.isEmpty()) return;
  if (checkpointsInFlight_) return;  // checkpointsAgain_ asks for one more when it is back
  checkpointsInFlight_ = true;
  checkpointsAgain_ = false;
  const QString job = jobId_;
  const std::string id = weir::cluster::urlEncode(job.toStdString());
  const Target t = target();
  onWorker([this, id, t, job] {
    auto jobBody = std::make_shared<json>(), checkpointsBody = std::make_shared<json>();
    try {
      const std::string url = urlOn(t);
      const auto r = weir::cluster::httpRequest(url, "GET", "/v1/jobs/" + id, "", t.token, t.caFile);
      if (r.status == 200) *jobBody = json::parse(r.body, nullptr, false);
      // A job without a checkpoint object has none to list.
      if (jobBody->is_object() && jobBody->value("checkpointing", false)) {
        const auto c = weir::cluster::httpRequest(url, "GET", "/v1/jobs/" + id + "/checkpoints", "", t.token, t.caFile);
        if (c.status == 200) *checkpointsBody = json::parse(c.body, nullptr, false);
      }
    } catch (const std::exception&) {
      // unreachable for now: the next tick asks again; the status poll reports the error
    }
    QMetaObject::invokeMethod(
        this,
        [this, job, jobBody, checkpointsBody] {
          checkpointsInFlight_ = false;
          if (job != jobId_) return;  // a reply about an earlier job
          checkpoints_.applyJob(*jobBody);
          checkpoints_.applyCheckpoints(*checkpointsBody);
          if (checkpointsAgain_) readCheckpoints();
        },
        Qt::QueuedConnection);
  });
}

void RunController::stopCluster() {
  pollTimer_.stop();
  checkpointTimer_.stop();
  stopLive();
  onWorker([this] {
    if (cluster_) cluster_->stop();
    cluster_.reset();
    QMetaObject::invokeMethod(
        this,
        [this] {
          clusterState_ = QStringLiteral("stopped");
          clusterUrl_.clear();
          pids_.clear();
          submitting_ = false;
          if (!ended(jobStatus_) && !jobStatus_.isEmpty()) jobStatus_ = QStringLiteral("CANCELED");
          emit changed();
        },
        Qt::QueuedConnection);
  });
}

QString RunController::logTail(const QString& name, int lines) const {
  if (logDir_.isEmpty() || name.contains('/')) return {};
  return QString::fromStdString(weir::cluster::logTail((logDir_ + "/" + name + ".log").toStdString(), lines));
}

RunController::Target RunController::target() const {
  Target t;
  t.local = !remote();
  t.url = remoteUrl_.toStdString();
  t.secretFile = remoteSecretFile_.toStdString();
  t.caFile = remoteCaFile_.toStdString();
  try {
    t.token = weir::cluster::clusterSecret(t.secretFile);
  } catch (const std::exception&) {
    // an unreadable secret file: the request goes without a token and the JobManager says 401
  }
  return t;
}

std::string RunController::urlOn(const Target& t) const {
  if (!t.local) return t.url;
  if (!cluster_) throw std::runtime_error("the local cluster is not running");
  return cluster_->url();
}

void RunController::useLocal() {
  remoteUrl_.clear();
  remoteSecretFile_.clear();
  remoteCaFile_.clear();
  taskManagerList_.clear();
  jobList_.clear();
  emit changed();
  emit clusterInfoChanged();
  refreshCluster();
}

void RunController::useRemote(const QString& url, const QString& secretFile, const QString& caFile) {
  QString u = url.trimmed();
  if (!u.contains("://")) u = "http://" + u;
  while (u.endsWith('/')) u.chop(1);
  remoteUrl_ = u;
  remoteSecretFile_ = secretFile;
  remoteCaFile_ = caFile;
  lastError_.clear();
  if (!secretFile.isEmpty()) {
    try {
      weir::cluster::clusterSecret(secretFile.toStdString());
    } catch (const std::exception& e) {
      lastError_ = QString::fromUtf8(e.what());
    }
  }
  taskManagerList_.clear();
  jobList_.clear();
  emit changed();
  emit clusterInfoChanged();
  refreshCluster();
}

void RunController::refreshCluster() {
  const Target t = target();
  onWorker([this, t] {
    QVariantList tms, jobs;
    QString error;
    try {
      if (t.local && !cluster_) return;  // nothing to list before the local cluster runs
      const std::string url = urlOn(t);
      const auto r = weir::cluster::httpRequest(url, "GET", "/v1/taskmanagers", "", t.token, t.caFile);
      if (r.status != 200) throw std::runtime_error(url + ": " + std::to_string(r.status) + " " + apiError(r).toStdString());
      const json j = json::parse(r.body, nullptr, false);
      if (j.is_object() && j.contains("taskmanagers"))
        for (const auto& tm : j["taskmanagers"])
          tms.push_back(QVariantMap{{"name", QString::fromStdString(tm.value("name", ""))},
                                    {"state", QString::fromStdString(tm.value("state", ""))},
                                    {"slots", tm.value("slots", 0)},
                                    {"slotsAvailable", tm.value("slots_available", 0)},
                                    {"dataAddress", QString::fromStdString(tm.value("data_address", ""))}});
      const auto jr = weir::cluster::httpRequest(url, "GET", "/v1/jobs", "", t.token, t.caFile);
      const json jj = json::parse(jr.body, nullptr, false);
      if (jr.status == 200 && jj.is_object() && jj.contains("jobs"))
        for (const auto& job : jj["jobs"])
          jobs.push_front(QVariantMap{{"id", QString::fromStdString(job.value("id", ""))},
                                      {"name", QString::fromStdString(job.value("name", ""))},
                                      {"status", QString::fromStdString(job.value("status", ""))},
                                      {"submittedMs", QVariant::fromValue<qint64>(job.value("submitted_ms", 0LL))},
                                      {"startedMs", QVariant::fromValue<qint64>(job.value("started_ms", 0LL))},
                                      {"endedMs", QVariant::fromValue<qint64>(job.value("ended_ms", 0LL))}});
    } catch (const std::exception& e) {
      error = QString::fromUtf8(e.what());
    }
    QMetaObject::invokeMethod(
        this,
        [this, tms, jobs, error] {
          taskManagerList_ = tms;
          jobList_ = jobs;
          if (!error.isEmpty()) lastError_ = error;
          emit clusterInfoChanged();
          if (!error.isEmpty()) emit changed();
        },
        Qt::QueuedConnection);
  });
}

void RunController::attach(const QString& jobId) {
  if (jobActive()) {
    lastError_ = QStringLiteral("A job is already running; cancel it first.");
    emit changed();
    return;
  }
  const Target t = target();
  const std::string id = weir::cluster::urlEncode(jobId.toStdString());
  onWorker([this, t, id] {
    QString error, name, status, failure, text, base;
    std::string url;
    try {
      url = urlOn(t);
      const auto r = weir::cluster::httpRequest(url, "GET", "/v1/jobs/" + id, "", t.token, t.caFile);
      if (r.status != 200) throw std::runtime_error(apiError(r).toStdString());
      const json j = json::parse(r.body);
      name = QString::fromStdString(j.value("name", ""));
      status = QString::fromStdString(j.value("status", ""));
      failure = QString::fromStdString(j.value("failure", ""));
      if (j.contains("job")) text = QString::fromStdString(j["job"].dump(2));
      base = QString::fromStdString(j.value("base_dir", ""));
    } catch (const std::exception& e) {
      error = QString::fromUtf8(e.what());
    }
    const QString qid = QString::fromStdString(id);
    QMetaObject::invokeMethod(
        this,
        [this, qid, error, name, status, failure, text, base, url, t] {
          if (!error.isEmpty()) {
            onFailed("Cannot attach to job " + qid + ": " + error);
            return;
          }
          forgetJob();
          jobId_ = qid;
          jobName_ = name;
          lastError_.clear();
          startedMs_ = QDateTime::currentMSecsSinceEpoch();
          jobStatus_.clear();
          if (!text.isEmpty()) emit attached(text, base);
          setJob(status, failure);
          startLive(url, t.token, qid, t.caFile);  // an ended job's last figures come at once
        },
        Qt::QueuedConnection);
  });
}

void RunController::startLive(const std::string& url, const std::string& token, const QString& jobId,
                              const std::string& caFile) {
  stopLive();
  liveStop_ = false;
  const std::string target = "/v1/jobs/" + weir::cluster::urlEncode(jobId.toStdString()) + "/live";
  liveThread_ = std::thread([this, url, token, target, jobId, caFile] {
    std::unique_ptr<weir::cluster::WebSocketClient> ws;
    try {
      ws = std::make_unique<weir::cluster::WebSocketClient>(url, target, token, std::chrono::seconds(10), caFile);
    } catch (const std::exception& e) {
      // No live endpoint (an older JobManager, a proxy): poll instead.
      QMetaObject::invokeMethod(this, [this] { pollTimer_.start(); poll(); }, Qt::QueuedConnection);
      return;
    }
    while (!liveStop_.load()) {
      auto msg = ws->next(std::chrono::milliseconds(250));
      if (msg) {
        const QString text = QString::fromStdString(*msg);
        QMetaObject::invokeMethod(this, [this, jobId, text] { onLiveMessage(jobId, text); }, Qt::QueuedConnection);
      } else if (ws->closed()) {
        break;
      }
    }
    const bool stopped = liveStop_.load();
    ws->close();
    // The connection ended before the job's end was heard of: poll from now on.
    if (!stopped)
      QMetaObject::invokeMethod(
          this,
          [this, jobId] {
            if (jobId == jobId_ && !ended(jobStatus_)) {
              pollTimer_.start();
              poll();
            }
          },
          Qt::QueuedConnection);
  });
}

void RunController::stopLive() {
  liveStop_ = true;
  if (liveThread_.joinable()) liveThread_.join();
}

void RunController::onLiveMessage(const QString& jobId, const QString& text) {
  if (jobId != jobId_) return;  // a message of an earlier job, still queued
  const json m = json::parse(text.toStdString(), nullptr, false);
  if (!m.is_object()) return;
  const QString status = QString::fromStdString(m.value("status", ""));
  const QString failure = QString::fromStdString(m.value("failure", ""));
  if (m.value("type", "") == "metrics") live_.applyMessage(m);
  const bool isStatus = m.value("type", "") == "status";
  // The end comes with the status message (it names the failure), after the last metrics.
  if (!status.isEmpty() && (isStatus || (status != jobStatus_ && !ended(status)))) setJob(status, failure);
}

void RunController::call(const std::string& method, const std::string& target, const std::string& requestBody,
                         std::function<void(const nlohmann::json&, const QString&)> onResult) {
  const Target t = this->target();
  onWorker([this, t, method, target, requestBody, onResult] {
    auto body = std::make_shared<json>();
    QString error;
    try {
      const auto r = weir::cluster::httpRequest(urlOn(t), method, target, requestBody, t.token, t.caFile);
      if (r.status != 200) throw std::runtime_error(std::to_string(r.status) + " " + apiError(r).toStdString());
      *body = json::parse(r.body);
    } catch (const std::exception& e) {
      error = QString::fromUtf8(e.what());
    }
    QMetaObject::invokeMethod(this, [body, error, onResult] { onResult(*body, error); }, Qt::QueuedConnection);
  });
}

namespace {
QVariant msOrNull(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? QVariant::fromValue<qint64>(it->get<qint64>()) : QVariant();
}
}  // namespace

void RunController::loadRuns(const QString& jobName) {
  getJson("/v1/jobs?name=" + weir::cluster::urlEncode(jobName.toStdString()), [this](const json& j, const QString& error) {
    runList_.clear();
    if (error.isEmpty() && j.contains("jobs"))
      for (const auto& r : j["jobs"])
        runList_.push_back(QVariantMap{{"id", QString::fromStdString(r.value("id", ""))},
                                       {"status", QString::fromStdString(r.value("status", ""))},
                                       {"startedMs", msOrNull(r, "started_ms")},
                                       {"endedMs", msOrNull(r, "ended_ms")},
                                       {"durationMs", msOrNull(r, "duration_ms")}});
    if (!error.isEmpty()) lastError_ = "Runs: " + error;
    emit historyChanged();
    if (!error.isEmpty()) emit changed();
  });
}

QVariantList RunController::exceptionList(const json& ex) {
  QVariantList exceptions;
  if (ex.is_object() && ex.contains("exceptions") && ex["exceptions"].is_array())
    for (const auto& e : ex["exceptions"])
      exceptions.push_back(QVariantMap{
          {"rootCause", e.value("root_cause", false)},
          {"timeMs", msOrNull(e, "time_ms")},
          {"node", e.contains("node") && e["node"].is_string() ? QString::fromStdString(e["node"].get<std::string>()) : QString()},
          {"subtask", e.contains("subtask") && e["subtask"].is_number() ? QVariant(e["subtask"].get<int>()) : QVariant()},
          {"taskmanager", e.contains("taskmanager") && e["taskmanager"].is_string()
                              ? QString::fromStdString(e["taskmanager"].get<std::string>()) : QString()},
          {"message", QString::fromStdString(e.value("message", ""))}});
  return exceptions;
}

void RunController::loadExceptions() {
  if (jobId_.isEmpty()) return;
  const QString job = jobId_;
  getJson("/v1/jobs/" + weir::cluster::urlEncode(job.toStdString()) + "/exceptions",
          [this, job](const json& ex, const QString& error) {
            if (job != jobId_) return;
            exceptions_ = error.isEmpty() ? exceptionList(ex) : QVariantList{};
            emit exceptionsChanged();
          });
}

void RunController::loadRun(const QString& jobId) {
  const std::string id = weir::cluster::urlEncode(jobId.toStdString());
  getJson("/v1/jobs/" + id + "/exceptions", [this, id, jobId](const json& ex, const QString& error) {
    const QVariantList exceptions = error.isEmpty() ? exceptionList(ex) : QVariantList{};
    getJson("/v1/jobs/" + id + "/metrics/history", [this, jobId, exceptions](const json& h, const QString& error2) {
      QVariantMap nodes;
      if (error2.isEmpty() && h.contains("nodes"))
        for (const auto& n : h["nodes"]) {
          QVariantList time, in, out, busy, bp, lag;
          const auto& t = n["time_ms"];
          for (std::size_t i = 0; i < t.size(); ++i) {
            auto at = [&](const char* f) { return n.contains(f) && i < n[f].size() ? n[f][i] : json(); };
            time.push_back(QVariant::fromValue<qint64>(t[i].get<qint64>()));
            in.push_back(at("records_in_per_s").is_number() ? at("records_in_per_s").get<double>() : 0.0);
            out.push_back(at("records_out_per_s").is_number() ? at("records_out_per_s").get<double>() : 0.0);
            busy.push_back(at("busy_ms_per_s_max").is_number() ? at("busy_ms_per_s_max").get<double>() : 0.0);
            bp.push_back(at("backpressured_ms_per_s_max").is_number() ? at("backpressured_ms_per_s_max").get<double>() : 0.0);
            const json wm = at("watermark");
            lag.push_back(wm.is_number() ? QVariant(static_cast<double>(t[i].get<qint64>() - wm.get<qint64>())) : QVariant());
          }
          nodes[QString::fromStdString(n.value("node", ""))] =
              QVariantMap{{"timeMs", time}, {"recordsInPerS", in}, {"recordsOutPerS", out},
                          {"busy", busy}, {"backpressured", bp}, {"watermarkLagMs", lag}};
        }
      runDetail_ = QVariantMap{{"id", jobId}, {"exceptions", exceptions}, {"nodes", nodes}};
      if (!error2.isEmpty()) lastError_ = "History: " + error2;
      emit historyChanged();
    });
  });
}

void RunController::watchEdge(int edgeIndex) {
  if (edgeIndex == watchedEdge_) return;
  const std::string job = weir::cluster::urlEncode(jobId_.toStdString());
  if (watchedEdge_ >= 0 && !job.empty() && !ended(jobStatus_))
    call("POST", "/v1/jobs/" + job + "/edges/" + std::to_string(watchedEdge_) + "/tap", R"({"enable": false})",
         [](const json&, const QString&) {});
  watchedEdge_ = edgeIndex;
  edgeSample_.clear();
  sampleTimer_.stop();
  emit edgeSampleChanged();
  if (edgeIndex < 0 || job.empty() || ended(jobStatus_)) return;
  const int edge = edgeIndex;
  call("POST", "/v1/jobs/" + job + "/edges/" + std::to_string(edge) + "/tap", R"({"enable": true})",
       [this, edge](const json&, const QString& error) {
         if (edge != watchedEdge_) return;
         if (!error.isEmpty()) {
           edgeSample_ = {{"note", "No live records: " + error}};
           emit edgeSampleChanged();
           return;
         }
         sampleTimer_.start();
         readSample();
       });
}

void RunController::readSample() {
  if (watchedEdge_ < 0 || jobId_.isEmpty()) return;
  if (ended(jobStatus_)) sampleTimer_.stop();  // one last read, then the last sample stays
  const int edge = watchedEdge_;
  getJson("/v1/jobs/" + weir::cluster::urlEncode(jobId_.toStdString()) + "/edges/" + std::to_string(edge) + "/sample?rows=50",
          [this, edge](const json& sample, const QString& error) {
            if (edge != watchedEdge_ || !error.isEmpty()) return;
            edgeSample_ = DataPreview::sampleTable(sample);
            emit edgeSampleChanged();
          });
}
