#pragma once
// Checkpoint storage: where snapshots live, in a directory any TaskManager of the job can
// write and the JobManager can read (local disk for one machine, a shared mount for remote
// TaskManagers; state never travels inside a control frame). docs/fault-tolerance.md,
// "Storage layout":
//
//   <root>/<job id>/chk-<n>/<node>.<subtask>.snap   one per operator instance (snapshot.h)
//   <root>/<job id>/chk-<n>/_metadata                written last by the coordinator: a
//                                                      checkpoint is complete iff it exists
//   <root>/<job id>/savepoint-<n>/...                 the same, never deleted by retention
//
// <node> is the node id with every byte outside [A-Za-z0-9_-] written as %XX, so any id
// is a safe file name. Files are written to a temporary and renamed (readers never see
// half a file); they are not fsynced: a checkpoint survives the death of any process, not
// a power loss of the machine.
//
// Acknowledgements: a subtask that has written its snapshots reports a SubtaskAck to its
// CheckpointResponder (the TaskManager sends it to the JobManager; in-process, the
// coordinator takes it directly).

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/plan.h"
#include "runtime/snapshot.h"

namespace weir {

/// One snapshot file a subtask wrote for a checkpoint.
struct SnapshotFile {
  std::string node;      // plan node id
  std::string file;      // name inside the checkpoint's directory
  std::int64_t bytes = 0;       // the file's size
  std::int64_t stateBytes = 0;  // of that, state (OperatorSnapshot::stateBytes)
};

/// What a subtask reports once its part of checkpoint `checkpointId` is durable.
struct SubtaskAck {
  std::int64_t checkpointId = 0;
  std::string job;     // the job and attempt it belongs to (the deployment's names)
  int attempt = 0;
  std::string vertex;  // execution vertex id (its head node's id)
  int subtask = 0;
  bool finished = false;  // its input had ended: the snapshot is of a finished subtask
  std::int64_t stateBytes = 0;
  std::int64_t syncMs = 0;       // snapshotting on the subtask's thread
  std::int64_t asyncMs = 0;      // writing the files
  std::int64_t alignmentMs = 0;  // first barrier to the last (0 for sources)
  std::vector<SnapshotFile> files;
  nlohmann::json toJson() const;
  static SubtaskAck fromJson(const nlohmann::json& j);  // throws std::runtime_error
};

class CheckpointResponder {
 public:
  virtual ~CheckpointResponder() = default;
  /// Any thread.
  virtual void acknowledge(const SubtaskAck& ack) = 0;
  /// The subtask `who` names (checkpoint, job, attempt, vertex, subtask) could not take
  /// or write its part: the checkpoint is aborted.
  virtual void decline(const SubtaskAck& who, const std::string& reason) = 0;
};

/// The directory of checkpoint `id` (kind "chk" or "savepoint") of a job.
std::filesystem::path checkpointDir(const std::filesystem::path& jobDir, std::int64_t id,
                                    const std::string& kind = "chk");
/// "<node>.<subtask>.snap" with the node id escaped as described above.
std::string snapshotFileName(const std::string& node, int subtask);

/// Writes snapshots off the subtask threads (the asynchronous part of a checkpoint), one
/// background thread per process, tasks in order. The destructor finishes what is queued.
class SnapshotUploader {
 public:
  SnapshotUploader();
  ~SnapshotUploader();
  SnapshotUploader(const SnapshotUploader&) = delete;
  SnapshotUploader& operator=(const SnapshotUploader&) = delete;
  void post(std::function<void()> task);

 private:
  void run();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;
};

/// A completed checkpoint as its _metadata file describes it (written by the coordinator).
struct CheckpointMetadata {
  std::string job;
  int attempt = 0;
  std::int64_t id = 0;
  std::string kind = "checkpoint";  // or "savepoint"
  std::int64_t triggeredAt = 0;     // ms since the epoch
  std::int64_t completedAt = 0;
  int maxParallelism = 128;
  struct Node {
    std::string type;
    int parallelism = 1;
    std::string key;     // its `key` param as JSON ("" when it has none): state is keyed by it
    std::string schema;  // its input schemas (Schema::toString, "; " between ports)
    std::int64_t stateBytes = 0;  // over its subtasks (0: it keeps no state)
    std::vector<std::string> files;  // by old subtask (empty name: that subtask has no state file)
  };
  std::map<std::string, Node> nodes;            // by node id
  std::vector<std::pair<std::string, int>> finished;  // (vertex, subtask) that had finished
  std::int64_t totalBytes = 0;

  nlohmann::json toJson() const;
  static CheckpointMetadata fromJson(const nlohmann::json& j);  // throws std::runtime_error
  bool isFinished(const std::string& vertex, int subtask) const;
};

/// Writes `meta` as <dir>/_metadata (atomically: the checkpoint becomes complete).
void writeCheckpointMetadata(const std::filesystem::path& dir, const CheckpointMetadata& meta);
/// Reads <dir>/_metadata; throws std::runtime_error naming the file when it is missing or bad.
CheckpointMetadata readCheckpointMetadata(const std::filesystem::path& dir);
/// A checkpoint folder under a job's folder: its id, path and whether it is complete
/// (has _metadata).
struct CheckpointFolder {
  std::int64_t id = 0;
  std::filesystem::path path;
  bool complete = false;
};
/// Every chk-N folder under `jobDir`, by id (none when the folder is missing).
std::vector<CheckpointFolder> checkpointFolders(const std::filesystem::path& jobDir);
/// The completed checkpoint (chk-N with _metadata) of largest N under `jobDir`, if any.
std::optional<std::filesystem::path> latestCompletedCheckpoint(const std::filesystem::path& jobDir);
/// Reads every snapshot of node `node` in the checkpoint at `dir` (one per old subtask).
std::vector<OperatorSnapshot> readNodeSnapshots(const std::filesystem::path& dir, const CheckpointMetadata& meta,
                                                const std::string& node);

/// The `key` param of a node as JSON text ("" without one) and its input schemas
/// (Schema::toString, "; " between ports): what its state is shaped by, as the metadata
/// records it and savepoint_check.h compares it.
std::string stateKeyText(const PlanNode& node);
std::string inputSchemaText(const PlanNode& node);

/// What a deployment restores from: the checkpoint's directory and its metadata.
struct RestoreSource {
  std::filesystem::path dir;
  CheckpointMetadata metadata;
};

}  // namespace weir
