#pragma once
// CheckpointCoordinator: decides when a job's checkpoints start, collects the subtasks'
// acknowledgements, completes a checkpoint (writes its _metadata: from then on it can be
// restored) or aborts it (timeout, a subtask declined), and applies retention. Pure: no
// threads, no sockets, time passed in. The JobManager drives one per running attempt (and
// carries out its triggers and notifications over the network); the LocalExecutor drives
// one in-process. docs/fault-tolerance.md, "Checkpoints".
//
// Rules (Flink's CheckpointCoordinator, in brief):
//   - a checkpoint starts when interval_ms has passed since the last one started, fewer
//     than max_concurrent are in progress, and min_pause_ms has passed since the last one
//     ended; its triggers go to every source subtask still there (finished ones too: they
//     still send barriers, see task.h);
//   - it completes when every subtask of the attempt has acknowledged, a subtask that has
//     left (finished, covered by an earlier checkpoint) counting with its last snapshot;
//   - it is aborted when a subtask declines or timeout_ms passes; its files are deleted;
//   - completing checkpoint n subsumes every older one still in progress (aborted);
//   - retention keeps the newest `retained` completed checkpoints and deletes older ones.
//
// Threading: one owner thread (the JobManager's io thread, or the executor's coordinator
// thread); not thread-safe.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/checkpoint_storage.h"
#include "runtime/execution_graph.h"
#include "runtime/plan.h"

namespace weir {

struct CheckpointSettings {
  std::int64_t intervalMs = 1000;
  bool exactlyOnce = true;
  std::int64_t timeoutMs = 600000;
  std::int64_t minPauseMs = 0;
  int maxConcurrent = 1;
  int retained = 3;
  /// From a job's normalized `checkpoint` object (validation filled the defaults).
  static CheckpointSettings fromJson(const nlohmann::json& j);
};

/// A subtask of the attempt, by execution vertex id and index.
struct CheckpointTask {
  std::string vertex;
  int subtask = 0;
  bool source = false;  // receives the triggers
  auto operator<=>(const CheckpointTask& o) const {
    if (auto c = vertex <=> o.vertex; c != 0) return c;
    return subtask <=> o.subtask;
  }
  bool operator==(const CheckpointTask& o) const { return vertex == o.vertex && subtask == o.subtask; }
};

/// Every subtask of `graph`; those of vertices without inputs are sources.
std::vector<CheckpointTask> checkpointTasks(const ExecutionGraph& graph);

enum class CheckpointStatus { InProgress, Completed, Failed };
std::string_view checkpointStatusName(CheckpointStatus s);  // "IN_PROGRESS", "COMPLETED", "FAILED"

/// One checkpoint as the API and the metadata database show it.
struct CheckpointRecord {
  std::int64_t id = 0;
  int attempt = 0;
  std::string kind = "checkpoint";
  CheckpointStatus status = CheckpointStatus::InProgress;
  std::int64_t triggeredAt = 0;  // ms since the epoch
  std::int64_t endedAt = 0;      // completed or failed
  std::string failure;
  std::int64_t bytes = 0;
  int acknowledged = 0;
  int total = 0;
  std::int64_t maxSyncMs = 0, maxAsyncMs = 0, maxAlignmentMs = 0;
  std::string slowest;  // "vertex[subtask]" of the last acknowledgement
  std::string path;     // its directory
  std::vector<SubtaskAck> acks;
  nlohmann::json toJson(bool withSubtasks) const;
};

class CheckpointCoordinator {
 public:
  /// For attempt `attempt` of job `jobId` running `plan` with `tasks`; checkpoints are
  /// numbered from `firstId` (one past the newest of earlier attempts, so ids never repeat
  /// within a job) and stored under `jobDir`.
  /// `restored`: the checkpoint the attempt restores from, if any: its subtasks that had
  /// finished restart finished and leave at once, counted with their snapshot there.
  CheckpointCoordinator(CheckpointSettings settings, const JobPlan& plan, std::vector<CheckpointTask> tasks,
                        std::filesystem::path jobDir, std::string jobId, int attempt, std::int64_t firstId,
                        const RestoreSource* restored = nullptr);

  struct Trigger {
    std::int64_t id = 0;
    std::int64_t timestamp = 0;
    std::vector<CheckpointTask> targets;
  };
  /// What happened to a checkpoint (the owner notifies the subtasks and records it).
  struct Outcome {
    std::int64_t id = 0;
    bool completed = false;
    std::string reason;  // why it failed
  };

  /// Starts a checkpoint when it is due (see the rules above); aborts timed-out ones into
  /// `aborted`.
  std::optional<Trigger> tick(std::int64_t nowMs, std::vector<Outcome>& aborted);
  /// Starts a savepoint now, whatever the interval (max_concurrent does not hold it back).
  /// Its subtasks write into chk-<id> like a checkpoint's; when it completes, the folder
  /// moves to <savepointRoot>/savepoint-<id>, which retention never touches. A savepoint
  /// is not used for automatic recovery (checkpoints are) and subsumes nothing.
  Trigger triggerSavepoint(std::int64_t nowMs, const std::filesystem::path& savepointRoot);
  /// A subtask's part is durable. Returns the completion when it was the last part, and
  /// older checkpoints it subsumed into `aborted`.
  std::optional<Outcome> acknowledge(const SubtaskAck& ack, std::int64_t nowMs, std::vector<Outcome>& aborted);
  /// A subtask could not take its part: the checkpoint is aborted.
  std::optional<Outcome> decline(std::int64_t id, const std::string& reason, std::int64_t nowMs);
  /// A subtask left for good after its end was covered by a completed checkpoint: later
  /// checkpoints count it with that snapshot. Returns completions this makes possible.
  std::vector<Outcome> subtaskLeft(const std::string& vertex, int subtask, std::int64_t nowMs);
  /// Aborts everything in progress (the attempt ends).
  std::vector<Outcome> abortAll(const std::string& reason, std::int64_t nowMs);

  /// Called as a checkpoint is about to complete, with its record as it will be: a
  /// non-empty answer (why not) aborts it instead. The JobManager records the checkpoint
  /// in its metadata here, so a checkpoint the metadata could not record never completes.
  using CompletionGuard = std::function<std::string(const CheckpointRecord&)>;
  void setCompletionGuard(CompletionGuard guard) { guard_ = std::move(guard); }

  std::int64_t latestCompleted() const { return latestCompleted_; }
  std::int64_t nextId() const { return nextId_; }
  int numInProgress() const;
  int numFailed() const { return failedCount_; }
  /// Every checkpoint of this attempt, oldest first (in progress ones included).
  const std::vector<CheckpointRecord>& history() const { return history_; }

 private:
  CheckpointRecord* find(std::int64_t id);
  std::optional<Outcome> completeIfDone(CheckpointRecord& r, std::int64_t nowMs, std::vector<Outcome>& aborted);
  Outcome fail(CheckpointRecord& r, const std::string& reason, std::int64_t nowMs);
  Trigger start(std::int64_t nowMs);
  void applyRetention();

  std::map<std::int64_t, std::filesystem::path> savepointTargets_;  // savepoint id -> where it goes
  CompletionGuard guard_;
  CheckpointSettings settings_;
  const JobPlan& plan_;
  std::vector<CheckpointTask> tasks_;
  std::filesystem::path jobDir_;
  std::string jobId_;
  int attempt_;
  std::int64_t nextId_;
  std::int64_t latestCompleted_ = -1;
  std::int64_t lastTriggerAt_ = INT64_MIN / 2;
  std::int64_t lastEndAt_ = INT64_MIN / 2;
  int failedCount_ = 0;
  std::vector<CheckpointRecord> history_;
  std::map<CheckpointTask, SubtaskAck> lastCompletedAck_;  // per task, from the newest completed checkpoint
  std::map<CheckpointTask, std::filesystem::path> lastCompletedDir_;  // where that checkpoint's files are
  std::map<CheckpointTask, bool> left_;
  std::vector<std::int64_t> completedIds_;  // for retention, oldest first
};

}  // namespace weir
