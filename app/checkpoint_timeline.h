#pragma once
// CheckpointTimeline: a job's checkpoints and restarts, for the timeline panel under the
// graph and the node cards (the workbench issue 14, item 5).
//
// It is fed two bodies of the JobManager's API (docs/api.md):
//   - GET /v1/jobs/{id}: `checkpointing` (whether the job has a checkpoint object),
//     `status`, `restart_history` [{attempt, time_ms, cause, delay_ms}], `restored_from`
//     and `chains` (each vertex, named by its head node, with the nodes chained in it);
//   - GET /v1/jobs/{id}/checkpoints: `counts`, `summary` (min/avg/max of duration and bytes
//     over the completed ones), `latest` and `history` (oldest first, with per-subtask
//     details of completed ones).
// RunController fetches both on its worker thread while the job runs (every poll interval)
// and once more when it has ended, and keeps the last for the run on screen; clear()
// forgets them when another run starts or is attached.
//
// Figures are true at the edges: a job without a checkpoint object has no checkpoints
// ("no checkpoints (the job has no checkpoint object)"), not zero of them; node figures
// exist only while the job runs and only from a completed checkpoint.
//
// Qt-free logic on JSON with a thin QML face; UI thread only.

#include <QObject>
#include <QString>
#include <QVariantList>
#include <QVariantMap>
#include <QtQml/qqmlregistration.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

class CheckpointTimeline : public QObject {
  Q_OBJECT
  QML_ELEMENT
  Q_PROPERTY(int revision READ revision NOTIFY updated FINAL)
  /// The job's description has been read (applyJob).
  Q_PROPERTY(bool known READ known NOTIFY updated FINAL)
  /// The job takes checkpoints (it has a checkpoint object).
  Q_PROPERTY(bool checkpointing READ checkpointing NOTIFY updated FINAL)
  /// The job is neither ended nor unknown: node figures are shown.
  Q_PROPERTY(bool running READ running NOTIFY updated FINAL)
  Q_PROPERTY(int completed READ completed NOTIFY updated FINAL)
  Q_PROPERTY(int failed READ failed NOTIFY updated FINAL)
  Q_PROPERTY(int inProgress READ inProgress NOTIFY updated FINAL)
  /// The summary line (see summaryText()).
  Q_PROPERTY(QString summary READ summaryText NOTIFY updated FINAL)
  /// The longest duration over the bars (ms; the timeline's scale), 0 without any.
  Q_PROPERTY(double maxDurationMs READ maxDurationMs NOTIFY updated FINAL)

 public:
  explicit CheckpointTimeline(QObject* parent = nullptr);

  /// The body of GET /v1/jobs/{id}; false (nothing changed) when it is not one.
  bool applyJob(const nlohmann::json& job);
  /// The body of GET /v1/jobs/{id}/checkpoints; false (nothing changed) when it is not one.
  bool applyCheckpoints(const nlohmann::json& body);
  Q_INVOKABLE bool applyJobText(const QString& json);
  Q_INVOKABLE bool applyCheckpointsText(const QString& json);
  /// Forgets everything (another run is shown).
  Q_INVOKABLE void clear();

  int revision() const { return revision_; }
  bool known() const { return known_; }
  bool checkpointing() const { return checkpointing_; }
  bool running() const;
  int completed() const { return completed_; }
  int failed() const { return failed_; }
  int inProgress() const { return inProgress_; }
  double maxDurationMs() const;

  /// "12 completed · 1 failed · 1 in progress · duration 8 ms / 14 ms / 40 ms · size 5.0 KB /
  /// 58.8 KB / 79.3 KB (min / avg / max) · restored from 7"; "no checkpoints (the job has
  /// no checkpoint object)"; "no checkpoint yet"; "" when nothing is known.
  QString summaryText() const;

  /// The checkpoints, oldest first: [{id, attempt, kind, status ("COMPLETED", "FAILED",
  /// "IN_PROGRESS"), triggeredMs, durationMs (-1: not ended), bytes, acknowledged, total,
  /// maxAlignmentMs, failure, label ("#13 · 12 ms · 58.8 KB · align 6 ms")}].
  Q_INVOKABLE QVariantList bars() const;
  /// The restarts: [{attempt, timeMs, cause, delayMs, before}] where `before` is the index
  /// in bars() of the first checkpoint triggered after it (bars().length: after the last).
  Q_INVOKABLE QVariantList restarts() const;
  /// One checkpoint's details: its bar's fields, plus endedMs, path, maxSyncMs, maxAsyncMs
  /// and subtasks [{vertex, subtask, bytes, syncMs, asyncMs, alignmentMs, finished}];
  /// empty when there is no such checkpoint.
  Q_INVOKABLE QVariantMap checkpoint(qint64 id) const;
  /// A node's part of the latest completed checkpoint while the job runs, over the
  /// subtasks of its vertex (the chain it is in): {checkpoint (id), bytes (sum), durationMs
  /// (max of sync + async), alignmentMs (max), slowestSubtask (the one with the largest
  /// alignment + sync + async), slowestMs, text ("chk 13 · 58.8 KB · 4 ms · align 6 ms ·
  /// slowest #1")}; empty when there is none (no checkpoint yet, the job ended, a node not
  /// in the job).
  Q_INVOKABLE QVariantMap node(const QString& nodeId) const;

 signals:
  void updated();

 private:
  struct Subtask {
    std::string vertex;
    int subtask = 0;
    std::int64_t bytes = 0, syncMs = 0, asyncMs = 0, alignmentMs = 0;
    bool finished = false;
  };
  struct Checkpoint {
    std::int64_t id = 0;
    int attempt = 0;
    std::string kind, status, failure, path;
    std::int64_t triggeredMs = 0, endedMs = -1, durationMs = -1, bytes = 0;
    int acknowledged = 0, total = 0;
    std::int64_t maxSyncMs = 0, maxAsyncMs = 0, maxAlignmentMs = 0;
    std::vector<Subtask> subtasks;
  };
  struct Restart {
    int attempt = 0;
    std::int64_t timeMs = 0, delayMs = 0;
    std::string cause;
  };
  struct Stat {
    bool present = false;
    std::int64_t min = 0, avg = 0, max = 0;
  };
  QVariantMap barOf(const Checkpoint& c) const;

  bool known_ = false, checkpointing_ = false, haveCheckpoints_ = false;
  std::string status_;
  std::int64_t restoredFrom_ = -1;
  std::map<std::string, std::string> vertexOf_;  // node id -> its vertex (head node) id
  std::vector<Restart> restarts_;
  std::vector<Checkpoint> history_;
  int completed_ = 0, failed_ = 0, inProgress_ = 0;
  Stat duration_, bytes_;
  std::int64_t latestCompleted_ = -1;
  int revision_ = 0;
};
