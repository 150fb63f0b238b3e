#pragma once
// LocalExecutor: runs a JobPlan inside this process, every subtask on its own thread,
// channels in memory. It is the deployment layer of the runtime for `weir run` and the
// tests; the cluster issue's TaskManager does the same wiring with network channels
// between processes and reuses Subtask, InputGate and EdgeWriter unchanged.
//
// Wiring: nodes are grouped into chains (runtime/task.h); each chain has `parallelism`
// subtasks; a plan edge between two chains becomes, per producer subtask, a EdgeWriter
// with one channel per consumer subtask (forward: just the one with the same index).
//
// Status moves CREATED -> RUNNING -> FINISHED | FAILED | CANCELED. The first failure of
// any subtask cancels the others and is kept (operator, subtask, message).
//
// Taps (runtime/tap.h): every plan edge has a tap, disabled until enableTap(); producing
// subtasks copy a bounded sample of the records they send into an enabled edge, and
// tapSnapshot() reads it from any thread, while the job runs or after it ended.

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "runtime/checkpoint_coordinator.h"
#include "runtime/dead_letter.h"
#include "runtime/plan.h"
#include "runtime/registry.h"
#include "runtime/tap.h"
#include "runtime/task.h"

namespace weir {

enum class JobStatus { Created, Running, Finished, Failed, Canceled };
std::string_view jobStatusName(JobStatus s);  // "CREATED", ... as DESIGN.md §2

struct ExecutorOptions {
  int queueCapacity = 4;  // elements (batches or events) per channel
  TapOptions taps;        // how the edge taps sample (enableTap)
  /// Dead letters kept in memory (deadLetters().kept(), at most this many) instead of
  /// written to the plan's dead-letter file; 0: the file. With it, the executor touches
  /// no file of its own (the preview).
  std::size_t deadLettersInMemory = 0;
  /// Where a checkpointed job (plan.checkpoint set) keeps its checkpoints: chk-N folders
  /// (runtime/checkpoint_storage.h). Empty: "<plan.baseDir>/.weir-checkpoints/<plan.name>".
  std::filesystem::path checkpointDir;
  /// Restore every subtask from this checkpoint before it starts (null: a fresh start).
  std::shared_ptr<const RestoreSource> restore;
};

/// A point-in-time view of a running or finished job, for progress lines and summaries.
struct NodeMetrics {
  std::string id;
  std::string type;
  int parallelism = 1;
  std::int64_t recordsIn = 0, recordsOut = 0, bytesIn = 0, bytesOut = 0, deadLetters = 0;
  std::int64_t lateRecords = 0;  // window: records later than the allowed lateness
};
struct SubtaskMetricsView {
  std::string chain;  // "a -> b"
  int subtask = 0;
  double busyMs = 0, backpressuredMs = 0, idleMs = 0;  // cumulative
  double inputUsage = 0, outputUsage = 0;              // 0..1 now
  int maxQueued = 0;                                   // most elements ever queued on one input channel
  std::int64_t inputWatermark = INT64_MIN, outputWatermark = INT64_MIN;
  std::vector<NodeMetrics> operators;  // counters of each chain member (this subtask only), head to tail
  std::vector<EdgeTraffic> edgesOut;   // per plan edge this subtask sends into (chained ones too)
  std::vector<EdgeTraffic> edgesIn;    // per plan edge it takes from
};
/// One plan edge, totals over the subtasks a JobMetrics covers (task.h, "Edge accounting").
struct EdgeMetrics {
  int edge = 0;  // index into JobPlan::edges
  std::string from, fromPort, to, toPort;
  std::string partition;  // "forward", "rebalance", "broadcast", "hash"
  bool chained = false;   // a direct call inside one subtask, no channel
  std::int64_t recordsSent = 0, bytesSent = 0, recordsReceived = 0, bytesReceived = 0;
};
struct JobMetrics {
  std::vector<NodeMetrics> nodes;  // plan order
  std::vector<SubtaskMetricsView> subtasks;
  std::vector<EdgeMetrics> edges;  // plan edge order
  std::int64_t deadLetters = 0;
};

class LocalExecutor final : private CheckpointResponder {
 public:
  explicit LocalExecutor(JobPlan plan, ExecutorOptions options = {},
                         const OperatorRegistry& registry = OperatorRegistry::builtin());
  ~LocalExecutor();  // cancels and joins if still running
  LocalExecutor(const LocalExecutor&) = delete;
  LocalExecutor& operator=(const LocalExecutor&) = delete;

  /// Starts every subtask's thread.
  void start();
  /// Waits up to `timeout` for the end; true when the job has ended.
  bool waitFor(std::chrono::milliseconds timeout);
  void wait();
  /// Stops every subtask; status becomes CANCELED unless the job already ended.
  void cancel();

  JobStatus status() const;
  /// The failure that stopped the job (FAILED only).
  std::optional<SubtaskFailure> failure() const;
  JobMetrics metrics() const;
  const JobPlan& plan() const { return plan_; }
  const std::filesystem::path& deadLetterPath() const { return plan_.deadLetterPath; }
  const DeadLetterSink& deadLetters() const { return *deadLetters_; }

  /// Turns the tap of plan edge `edge` on or off (any thread, before or while the job
  /// runs); false when there is no such edge.
  bool enableTap(int edge, bool on);
  /// What the tap of plan edge `edge` holds now, with the edge's schema (tapSampleToJson
  /// gives the API's JSON); nullopt when there is no such edge.
  std::optional<TapSample> tapSnapshot(int edge, std::size_t maxRows = SIZE_MAX) const;

  /// The checkpoints of this run so far (a checkpointed job; empty otherwise), oldest first.
  std::vector<CheckpointRecord> checkpoints() const;
  /// The newest completed checkpoint's id, -1 when none.
  std::int64_t latestCheckpoint() const;
  const std::filesystem::path& checkpointDir() const { return options_.checkpointDir; }

 private:
  void build();
  void onFailure(const SubtaskFailure& f);
  void onSubtaskDone(Subtask* task, bool failed);
  void coordinate();
  void carryOut(const CheckpointCoordinator::Outcome& o);
  void acknowledge(const SubtaskAck& ack) override;
  void decline(const SubtaskAck& who, const std::string& reason) override;

  JobPlan plan_;
  ExecutorOptions options_;
  const OperatorRegistry& registry_;
  std::unique_ptr<DeadLetterSink> deadLetters_;
  std::unique_ptr<JobTaps> taps_;
  std::vector<std::unique_ptr<Subtask>> subtasks_;
  std::vector<std::pair<std::string, int>> subtaskIds_;  // (vertex, index) of subtasks_[i]
  std::vector<std::thread> threads_;
  // Checkpoints: the coordinator runs on its own thread and takes events from here.
  std::unique_ptr<SnapshotUploader> uploader_;
  std::unique_ptr<CheckpointCoordinator> coordinator_;
  std::thread coordinatorThread_;
  std::vector<std::function<void(std::int64_t now)>> events_;  // under mu_
  std::vector<CheckpointRecord> checkpointHistory_;            // under mu_, copied after each event
  std::int64_t latestCheckpoint_ = -1;                         // under mu_
  std::atomic<bool> canceled_{false};

  mutable std::mutex mu_;
  std::condition_variable done_;
  int running_ = 0;
  JobStatus status_ = JobStatus::Created;
  std::optional<SubtaskFailure> failure_;
};

/// The metrics of `subtasks` (all of a job's, or those one TaskManager runs) at this
/// moment: node totals over the given subtasks (every plan node listed, in plan order) and
/// one row per subtask with its members' counters. Shared by LocalExecutor::metrics() and
/// the TaskManager's metric reports.
JobMetrics collectMetrics(const JobPlan& plan, const std::vector<const Subtask*>& subtasks);

}  // namespace weir
