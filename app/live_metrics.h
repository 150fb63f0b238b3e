#pragma once
// LiveMetrics: what a running (or finished) job is doing, per node and per edge, for the
// canvas overlay and the run panel (the workbench issue, item 7).
//
// It is fed the JobManager's metric messages as they arrive: a "metrics" message of the
// WebSocket /v1/jobs/{id}/live (`vertices` with node totals, one `subtasks` entry per node
// and subtask) or the body of GET /v1/jobs/{id}/metrics (`nodes`, and `subtasks` per chain
// with the `operators` of the chain); docs/api.md. From them it derives, per node:
//   - records in/out per second (sum over the node's subtasks),
//   - busy and backpressured milliseconds per second: the maximum over the subtasks that
//     run the node (a chain's subtask runs several nodes; they share its figures), with
//     Flink's scale: ok below 10%, low to 50%, high above,
//   - the watermark: the minimum input watermark over its subtasks, which subtask holds it
//     back, and its lag behind the message's wall-clock time,
// and per edge the records per second (from the message's `edges` when it has them,
// otherwise the producing node's output rate when it has a single consumer).
// A short history (the last `historyLength` messages) of each node's figures feeds the
// detail charts.
//
// Qt-free logic (applyMessage on a JSON object) with a thin QML face; tests feed it
// recorded messages (tests/data/live/).

#include <QObject>
#include <QVariantList>
#include <QVariantMap>
#include <QtQml/qqmlregistration.h>

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

class LiveMetrics : public QObject {
  Q_OBJECT
  QML_ELEMENT
  Q_PROPERTY(int revision READ revision NOTIFY updated FINAL)
  Q_PROPERTY(bool active READ active NOTIFY updated FINAL)
  Q_PROPERTY(QString status READ status NOTIFY updated FINAL)
  Q_PROPERTY(double recordsOutPerS READ sourceRate NOTIFY updated FINAL)

 public:
  explicit LiveMetrics(QObject* parent = nullptr);

  /// One metric message (see the header comment); returns false, changing nothing, when it
  /// is not one (a status message only updates `status`).
  bool applyMessage(const nlohmann::json& message);
  Q_INVOKABLE bool applyText(const QString& json);
  /// Forgets everything (a new run starts).
  Q_INVOKABLE void clear();

  int revision() const { return revision_; }
  bool active() const { return !nodes_.empty(); }
  QString status() const { return status_; }
  /// Records per second leaving the job's sources (sum over nodes without inputs).
  double sourceRate() const;

  /// {recordsInPerS, recordsOutPerS, recordsIn, recordsOut, busy, backpressured, idle
  /// (ms per s), level ("ok"/"low"/"high"), watermark (ms since epoch or null),
  /// watermarkLagMs, holdingSubtask (-1: none), deadLetters, lateRecords, parallelism,
  /// subtasks: [{subtask, taskmanager, busy, backpressured, idle, inputWatermark,
  /// outputWatermark, recordsInPerS, recordsOutPerS, inputUsage, outputUsage}]}; empty
  /// when the node has not reported.
  Q_INVOKABLE QVariantMap node(const QString& id) const;
  /// What a node's card shows, cheaper than node() (no subtasks, no counters), with its
  /// texts made here rather than in QML: {level, pill ("25k/s  busy 2%  bp 100%": records
  /// in per second, out for a source), watermarkText ("lag 3.2 s (#1) · wm 12:00:03", ""
  /// without a watermark)}; empty when the node has not reported.
  Q_INVOKABLE QVariantMap overlay(const QString& id) const;
  /// An edge's label: its records per second ("26k/s"), or "" when unknown.
  Q_INVOKABLE QString edgeLabel(const QString& from, const QString& fromPort, const QString& to,
                                const QString& toPort) const;

  /// Records per second on the edge, or -1 when unknown.
  Q_INVOKABLE double edgeRate(const QString& from, const QString& fromPort, const QString& to,
                              const QString& toPort) const;
  /// The last values of one of a node's figures ("recordsOutPerS", "recordsInPerS",
  /// "busy", "backpressured", "watermarkLagMs"), oldest first.
  Q_INVOKABLE QVariantList history(const QString& id, const QString& field) const;

  static QString level(double msPerS);
  static constexpr int historyLength = 300;

 signals:
  void updated();

 private:
  struct SubtaskStats {
    int subtask = 0;
    std::string taskmanager;
    double busy = 0, backpressured = 0, idle = 0;
    std::optional<std::int64_t> inputWatermark, outputWatermark;
    double recordsInPerS = 0, recordsOutPerS = 0, inputUsage = 0, outputUsage = 0;
  };
  struct NodeStats {
    double recordsInPerS = 0, recordsOutPerS = 0;
    std::int64_t recordsIn = 0, recordsOut = 0, deadLetters = 0, lateRecords = 0;
    double busy = 0, backpressured = 0, idle = 0;
    std::optional<std::int64_t> watermark;
    int holdingSubtask = -1;
    double watermarkLagMs = 0;
    std::int64_t nowMs = 0;  // the message's clock
    bool hasInputs = false;
    bool fromVertex = false;  // totals from the WebSocket's `vertices`
    std::vector<SubtaskStats> subtasks;
  };
  struct Sample {
    double recordsInPerS, recordsOutPerS, busy, backpressured, watermarkLagMs;
  };
  struct EdgeKey {
    std::string from, fromPort, to, toPort;
    auto operator<=>(const EdgeKey&) const = default;
  };

  /// A subtask's figures; the two message forms name the input watermark and the queues
  /// differently (/metrics: input_watermark, input_usage, output_usage; live: watermark,
  /// input_queue, output_queue).
  static SubtaskStats subtaskStats(const nlohmann::json& st, const char* watermarkKey, const char* inputKey,
                                   const char* outputKey);
  /// The WebSocket's form: `vertices` (node totals) and one `subtasks` entry per node and subtask.
  void applyLiveFormat(const nlohmann::json& m, std::map<std::string, NodeStats>& next);
  /// Sorts subtasks, computes lag, appends history.
  void finish(std::map<std::string, NodeStats>& next, std::int64_t now);

  std::map<std::string, NodeStats> nodes_;
  std::map<EdgeKey, double> edges_;
  std::map<std::string, std::deque<Sample>> history_;
  QString status_;
  int revision_ = 0;
};
