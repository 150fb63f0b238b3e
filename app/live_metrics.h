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
//     back, and its lag behind the message's wall-clock time; the end-of-input watermark
//     (INT64_MAX) reads "end of input", and event time far behind the wall clock (replayed
//     or generated historical data) is shown as its progress and rate rather than a lag,
//   - once the job has ended, its totals (records in and out, dead letters, late records)
//     instead of its last rates,
// and per edge the records per second (from the message's `edges` when it has them,
// otherwise the producing node's output rate when it has a single consumer) and how full
// the queue it feeds is (the consumer's input queue; none on a chained edge).
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

#include "format.h"

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
  /// What a node's card shows, cheaper than node() (no subtasks), with its texts made here
  /// rather than in QML: {level, pill ("25k/s  busy 2%  bp 100%": records in per second,
  /// out for a source), rate ("25k/s"), busy ("busy 2%"), bp ("bp 100%"), busyLevel,
  /// bpLevel, pressure ("busy", "backpressured" or "" when neither is above 10%: which one
  /// the level is about), watermarkText (whole, on up to two lines: "wm 12:00:03 (#1)\nlag
  /// 3.2 s"; "wm 2026-01-01 00:01:29\nevent time +2.0 min/s" for historical event time;
  /// "wm end of input"; "" without a watermark), ended (the job has ended: pill is then its
  /// totals, "in 1,200 · out 300 · 2 dead letters · 7 late")}; empty when the node has not
  /// reported.
  Q_INVOKABLE QVariantMap overlay(const QString& id) const;
  /// An edge's label: its records per second and, when it feeds a queue, how full that
  /// queue is ("26k/s · 80%"); its total once the job has ended ("41,230"); "" when unknown.
  Q_INVOKABLE QString edgeLabel(const QString& from, const QString& fromPort, const QString& to,
                                const QString& toPort) const;

  /// Records per second on the edge, or -1 when unknown.
  Q_INVOKABLE double edgeRate(const QString& from, const QString& fromPort, const QString& to,
                              const QString& toPort) const;
  /// The last values of one of a node's figures ("recordsOutPerS", "recordsInPerS",
  /// "busy", "backpressured", "watermarkLagMs"), oldest first.
  Q_INVOKABLE QVariantList history(const QString& id, const QString& field) const;

  /// How full the queue fed by the edge is (0..1), or -1 when unknown or chained.
  Q_INVOKABLE double edgeQueue(const QString& from, const QString& fromPort, const QString& to,
                               const QString& toPort) const;

  static QString level(double msPerS);
  static constexpr int historyLength = 300;
  static constexpr std::int64_t endOfInputMs = Format::endOfInputMs;
  /// Event time is "historical" (its lag behind the wall clock means nothing) when it lags
  /// by more than a day, or by more than an hour while running faster than the wall clock.
  static bool historical(double lagMs, double eventRate);
  /// Whether the status is an end (FINISHED, FAILED, CANCELED).
  bool ended() const;

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
    double eventRate = -1;   // event ms per wall ms of the watermark (-1: not known yet)
    double inputQueue = 0;   // the fullest input queue of its subtasks (0..1)
    bool hasInputs = false;
    bool fromVertex = false;  // totals from the WebSocket's `vertices`
    std::vector<SubtaskStats> subtasks;
  };
  struct Sample {
    double recordsInPerS, recordsOutPerS, busy, backpressured, watermarkLagMs;
    std::int64_t nowMs = 0;
    std::optional<std::int64_t> watermark;
  };
  struct EdgeStats {
    double rate = 0;
    std::int64_t records = -1;
    bool chained = false;
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
  std::map<EdgeKey, EdgeStats> edges_;
  std::map<std::string, std::deque<Sample>> history_;
  QString status_;
  int revision_ = 0;
};
