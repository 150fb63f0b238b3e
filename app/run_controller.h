#pragma once
// RunController: the workbench's Run button and clusters panel (the workbench issue, items
// 5 and 6). Its target is the embedded local cluster or a remote JobManager (URL and the
// cluster secret's file). For the local one it starts — a real weir-jobmanager and TaskManagers as child processes
// (cluster/local_cluster.h, the launcher of `weir cluster start`) — submits the open job
// through the JobManager's HTTP API, follows its status and metrics once a second into
// `live` (LiveMetrics), cancels it, and shows the daemons' logs.
//
// The cluster is started on the first run and kept for the next ones (so runs share one
// history in its metadata); it is stopped with the controller, and its processes get
// SIGTERM if the workbench dies without stopping them (PR_SET_PDEATHSIG is tied to the
// thread that started them: the controller's own worker thread, which lives as long as
// the controller).
//
// Live figures and status come from the JobManager's WebSocket /v1/jobs/{id}/live, read on
// a thread of its own; when it cannot be reached, GET /v1/jobs/{id} and /metrics are polled.
//
// Threading: every other blocking call (starting processes, HTTP) runs on that worker
// thread, one at a time, in order; results come back to the UI thread as queued calls.

#include <QObject>
#include <QString>
#include <QStringList>
#include <QThread>
#include <QTimer>
#include <QtQml/qqmlregistration.h>

#include <atomic>
#include <functional>

#include <nlohmann/json_fwd.hpp>
#include <memory>
#include <thread>

#include "checkpoint_timeline.h"
#include "live_metrics.h"

class JobDocument;
namespace weir::cluster {
class LocalCluster;
}

class RunController : public QObject {
  Q_OBJECT
  QML_ELEMENT
  Q_PROPERTY(QString clusterState READ clusterState NOTIFY changed FINAL)  // stopped starting running failed
  Q_PROPERTY(QString clusterUrl READ clusterUrl NOTIFY changed FINAL)
  Q_PROPERTY(QString jobId READ jobId NOTIFY changed FINAL)
  Q_PROPERTY(QString jobName READ jobName NOTIFY changed FINAL)
  Q_PROPERTY(QString jobStatus READ jobStatus NOTIFY changed FINAL)  // "" CREATED RUNNING FINISHED FAILED CANCELED
  Q_PROPERTY(QString failure READ failure NOTIFY changed FINAL)
  Q_PROPERTY(QString lastError READ lastError NOTIFY changed FINAL)
  Q_PROPERTY(bool jobActive READ jobActive NOTIFY changed FINAL)  // submitting, or a job not ended (CREATED RUNNING FAILING RESTARTING CANCELING)
  Q_PROPERTY(double elapsedS READ elapsedS NOTIFY changed FINAL)
  Q_PROPERTY(QStringList logNames READ logNames NOTIFY changed FINAL)
  Q_PROPERTY(LiveMetrics* live READ live CONSTANT FINAL)
  /// The current job's checkpoints and restarts (GET /v1/jobs/{id}/checkpoints and the
  /// job's restart_history), fetched every poll interval while it runs and once when it
  /// has ended; kept until another run starts or is attached.
  Q_PROPERTY(CheckpointTimeline* checkpoints READ checkpoints CONSTANT FINAL)
  Q_PROPERTY(int taskManagers MEMBER taskManagers_ NOTIFY settingsChanged FINAL)
  Q_PROPERTY(int slotsPerTaskManager MEMBER slots_ NOTIFY settingsChanged FINAL)
  Q_PROPERTY(QString dataDir MEMBER dataDir_ NOTIFY settingsChanged FINAL)  // "": the app's data folder
  Q_PROPERTY(int pollIntervalMs MEMBER pollMs_ NOTIFY settingsChanged FINAL)
  Q_PROPERTY(bool remote READ remote NOTIFY changed FINAL)  // the target is a remote JobManager
  Q_PROPERTY(QString targetUrl READ targetUrl NOTIFY changed FINAL)  // remote: its URL; local: clusterUrl
  // The target's TaskManagers ({name, state, slots, slotsAvailable, dataAddress}) and jobs
  // ({id, name, status, submittedMs, startedMs, endedMs}), newest first, as refreshCluster() found them.
  Q_PROPERTY(QVariantList taskManagerList READ taskManagerList NOTIFY clusterInfoChanged FINAL)
  Q_PROPERTY(QVariantList jobList READ jobList NOTIFY clusterInfoChanged FINAL)
  // History (item 9): the runs of a job name on the target ({id, status, startedMs,
  // endedMs, durationMs}, newest first) and the details of one run (loadRun): {id,
  // exceptions: [{rootCause, timeMs, node, subtask, taskmanager, message}], nodes: {node:
  // {timeMs: [], recordsInPerS: [], recordsOutPerS: [], busy: [], backpressured: [],
  // watermarkLagMs: []}}}.
  Q_PROPERTY(QVariantList runList READ runList NOTIFY historyChanged FINAL)
  Q_PROPERTY(QVariantMap runDetail READ runDetail NOTIFY historyChanged FINAL)
  // The live records of the watched edge (watchEdge) as DataPreview::sampleTable gives them.
  Q_PROPERTY(QVariantMap edgeSample READ edgeSample NOTIFY edgeSampleChanged FINAL)
  /// The document session (JobDocument::session) the current job was run from or attached
  /// to: its figures belong to that document only.
  Q_PROPERTY(int documentSession READ documentSession NOTIFY changed FINAL)
  /// The job as submitted (JobDocument::runText), to tell when the one on screen differs.
  Q_PROPERTY(QString submittedText READ submittedText NOTIFY changed FINAL)
  /// The current job's exceptions, root cause first (as runDetail's), loaded when it fails.
  Q_PROPERTY(QVariantList exceptions READ exceptions NOTIFY exceptionsChanged FINAL)
  Q_PROPERTY(int watchedEdge READ watchedEdge NOTIFY edgeSampleChanged FINAL)

 public:
  explicit RunController(QObject* parent = nullptr);
  ~RunController() override;

  QString clusterState() const { return clusterState_; }
  QString clusterUrl() const { return clusterUrl_; }
  QString jobId() const { return jobId_; }
  QString jobName() const { return jobName_; }
  QString jobStatus() const { return jobStatus_; }
  QString failure() const { return failure_; }
  QString lastError() const { return lastError_; }
  bool jobActive() const;
  double elapsedS() const { return elapsedS_; }
  QStringList logNames() const { return logNames_; }
  LiveMetrics* live() { return &live_; }
  CheckpointTimeline* checkpoints() { return &checkpoints_; }
  bool remote() const { return !remoteUrl_.isEmpty(); }
  QString targetUrl() const { return remote() ? remoteUrl_ : clusterUrl_; }
  QVariantList taskManagerList() const { return taskManagerList_; }
  QVariantList jobList() const { return jobList_; }
  QVariantList runList() const { return runList_; }
  QVariantMap runDetail() const { return runDetail_; }

  QVariantMap edgeSample() const { return edgeSample_; }
  int documentSession() const { return documentSession_; }
  QString submittedText() const { return submittedText_; }
  QVariantList exceptions() const { return exceptions_; }
  /// The job now followed belongs to `doc` as it is (after attach() opened its file).
  Q_INVOKABLE void adopt(JobDocument* doc);
  int watchedEdge() const { return watchedEdge_; }
  /// Shows the records flowing on edge `edgeIndex` (JobGraph order) of the running job:
  /// enables the engine's tap there and reads a sample every second (-1: stop watching,
  /// and switch the tap off).
  Q_INVOKABLE void watchEdge(int edgeIndex);

  /// Fetches the runs of `jobName` from the target's metadata (runList).
  Q_INVOKABLE void loadRuns(const QString& jobName);
  /// Fetches one run's exceptions and metric history (runDetail).
  Q_INVOKABLE void loadRun(const QString& jobId);

  /// Run on (and list) the embedded local cluster from now on.
  Q_INVOKABLE void useLocal();
  /// Run on (and list) the JobManager at `url` ("http://host:port", or "https://" with TLS);
  /// `secretFile` holds the cluster secret (empty: none, or WEIR_SECRET); `caFile` the CA an
  /// https JobManager's certificate must chain to (empty: WEIR_TLS_CA or the system's).
  /// Refreshes the cluster's lists.
  Q_INVOKABLE void useRemote(const QString& url, const QString& secretFile = QString(),
                             const QString& caFile = QString());
  /// Fetches the target's TaskManagers and jobs (local: only when it runs).
  Q_INVOKABLE void refreshCluster();
  /// Follows a job already on the target: its status and metrics, like a job run from
  /// here; `attached` gives its job file so the workbench can show its graph.
  Q_INVOKABLE void attach(const QString& jobId);

  /// Runs the document's job as it is now (unsaved edits included) on the local cluster,
  /// starting the cluster first if needed. Relative paths resolve against the document's
  /// folder (or the current folder for a job never saved). `parallelism` 0: the job's.
  Q_INVOKABLE void run(JobDocument* doc, int parallelism = 0);
  /// The same, for a job file's text.
  Q_INVOKABLE void runText(const QString& jobText, const QString& baseDir, int parallelism = 0);
  Q_INVOKABLE void cancel();
  Q_INVOKABLE void stopCluster();
  /// The last `lines` lines of a daemon's log ("jobmanager", "taskmanager-1", ...).
  Q_INVOKABLE QString logTail(const QString& name, int lines = 200) const;
  /// The daemons' process ids (empty when the cluster is not running).
  Q_INVOKABLE QList<int> processIds() const { return pids_; }

 signals:
  void changed();
  void settingsChanged();
  /// The job reached FINISHED, FAILED or CANCELED.
  void jobEnded(const QString& status);
  void clusterInfoChanged();
  void historyChanged();
  void exceptionsChanged();
  void edgeSampleChanged();
  /// attach() found the job: its submitted file and the folder its paths resolve against.
  void attached(const QString& jobText, const QString& baseDir);

 private:
  void onClusterStarted(const QString& url, const QStringList& logs, const QString& logDir, const QList<int>& pids);
  void onFailed(const QString& what);
  void poll();
  /// Follows the job through the WebSocket /v1/jobs/{id}/live on a thread of its own
  /// (messages come back as queued calls); falls back to polling when it cannot connect.
  void startLive(const std::string& url, const std::string& token, const QString& jobId, const std::string& caFile);
  void stopLive();
  void onLiveMessage(const QString& jobId, const QString& text);
  void setJob(const QString& status, const QString& failure);
  template <typename F>
  void onWorker(F&& f);
  /// Where calls go: the remote JobManager, or the local cluster (url filled in on the worker).
  struct Target {
    bool local = true;
    std::string url, token, secretFile, caFile;
  };
  Target target() const;
  /// On the worker: the target's URL (local: the running cluster's; throws if none).
  std::string urlOn(const Target& t) const;
  /// A request to the target on the worker; `onResult(json body or null, error)` runs on
  /// the UI thread.
  void call(const std::string& method, const std::string& target, const std::string& body,
            std::function<void(const nlohmann::json&, const QString&)> onResult);
  void getJson(const std::string& target, std::function<void(const nlohmann::json&, const QString&)> onResult) {
    call("GET", target, "", std::move(onResult));
  }

  QThread worker_;
  QObject* workerContext_ = nullptr;  // lives on worker_
  std::unique_ptr<weir::cluster::LocalCluster> cluster_;  // touched on worker_ only
  LiveMetrics live_;
  CheckpointTimeline checkpoints_;
  QTimer checkpointTimer_;
  bool checkpointsInFlight_ = false;
  bool checkpointsAgain_ = false;  // read once more when the one in flight is back
  /// Fetches the current job's description and checkpoints into checkpoints_ (one request
  /// pair at a time; a reply for an earlier job is dropped).
  void readCheckpoints();
  /// Forgets the previous job's figures (a run starts or a job is attached).
  void forgetJob();
  QTimer pollTimer_;
  std::thread liveThread_;
  std::atomic<bool> liveStop_{false};
  bool pollInFlight_ = false;
  QString clusterState_ = QStringLiteral("stopped");
  QString clusterUrl_, jobId_, jobName_, jobStatus_, failure_, lastError_, logDir_;
  QStringList logNames_;
  QString remoteUrl_, remoteSecretFile_, remoteCaFile_;
  QVariantList taskManagerList_, jobList_, runList_;
  QVariantMap runDetail_;
  QVariantMap edgeSample_;
  int watchedEdge_ = -1;
  QTimer sampleTimer_;
  void readSample();
  /// Fetches the current job's exceptions into exceptions_.
  void loadExceptions();
  /// GET /v1/jobs/{id}/exceptions as the list runDetail and exceptions give.
  static QVariantList exceptionList(const nlohmann::json& body);
  int documentSession_ = -1;
  QString submittedText_;
  QVariantList exceptions_;
  QList<int> pids_;
  double elapsedS_ = 0;
  qint64 startedMs_ = 0;
  bool submitting_ = false;
  int taskManagers_ = 2;
  int slots_ = 2;
  QString dataDir_;
  int pollMs_ = 1000;
};
