#pragma once
// sink.file: writes its input to a CSV or JSON Lines file.
//
// Params: path (relative to the job file's folder), format "csv" | "jsonl" (default: from the
// extension, .jsonl/.json -> jsonl, else csv), header (CSV, default true), and the optional
// changelog (true: always an `op` field, false: never; absent: decided by the first batch).
//
// Files: with parallelism 1 the sink writes exactly `path`; with parallelism p > 1 subtask K
// writes the part file "stem-K.ext" beside it (out.csv -> out-0.csv, out-1.csv, ...), see
// partFilePath. The parent folder is created when missing.
//
// Without checkpoints (ctx.checkpointing false): records are written to FILE.inprogress,
// renamed to FILE when the sink finishes: an existing FILE is replaced only by a complete
// result, and a failed or canceled run leaves FILE.inprogress instead.
//
// With checkpoints, a two-phase commit (docs/fault-tolerance.md, "Sources and sinks under
// checkpoints"). FILE only ever holds rows of completed checkpoints, each once:
//   - records go to FILE.inprogress (created at the first record after a snapshot);
//   - snapshotState(n) syncs and closes it and renames it FILE.pending-n: staged for n. The
//     state records FILE, its committed length and the staged files (checkpoint, name, size);
//   - notifyCheckpointComplete(m) publishes the staged files of checkpoints <= m in order:
//     FILE is cut to its committed length, the staged bytes are written after it and
//     synced, the staged file is removed, the committed length grows. The CSV header is in
//     the first staged file only. finish() only flushes: the final checkpoint publishes.
//   - restoreState publishes what the restored state lists, idempotently: a staged file
//     still there is written at its recorded place, one already gone must already be in
//     FILE (it was published before the crash); FILE is then cut to the end of the last
//     one, and every other FILE.inprogress / FILE.pending-* is removed (data written after
//     the checkpoint by the failed attempt). A subtask restores the states of old subtasks
//     i with i % parallelism == subtask, each into the final file that old subtask wrote
//     (after a rescale the committed rows stay in the old parallelism's files); it goes on
//     appending to its own final file, or starts it empty.
//   A fresh run (no restore) replaces an existing FILE at its first published checkpoint.
//
// Lifecycle: open() creates the file (with checkpoints: the first record does),
// processBatch() formats into a 1 MiB buffer, finish() flushes and closes (with
// checkpoints: flushes), reporting errors (disk full) as JobError; close() after a failure
// writes what it can without throwing.

#include <memory>
#include <vector>

#include "runtime/io/writer.h"
#include "runtime/operator.h"

namespace weir {

class FileSink final : public Operator {
 public:
  explicit FileSink(const OperatorContext& ctx);

  void open(OperatorContext& ctx) override;
  void processBatch(int port, const RecordBatch& batch, Output& out) override;
  void processWatermark(Watermark, Output&) override {}
  void finish(Output& out) override;
  void close() override;

  void snapshotState(std::int64_t checkpointId, ByteWriter& out) override;
  void restoreState(const std::vector<std::string>& states) override;
  void notifyCheckpointComplete(std::int64_t checkpointId) override;

  /// The file this subtask writes (set by open()).
  const std::filesystem::path& filePath() const { return file_; }

  /// A file staged for a checkpoint, not yet published.
  struct Staged {
    std::int64_t checkpointId = 0;
    std::filesystem::path file;
    std::int64_t size = 0;
  };
  /// A final file with its committed length and what is staged for it.
  struct Target {
    std::filesystem::path file;
    std::int64_t committed = 0;
    bool headerStaged = false;  // the staged or committed bytes begin with the header
    bool withOp = false;        // ... which has the `op` field
    std::vector<Staged> staged;
  };

 private:
  void createWriter(SchemaPtr schema);
  std::filesystem::path inProgressPath() const;
  /// Makes sure a writer is open on FILE.inprogress (checkpointing).
  void ensureWriter(SchemaPtr schema);

  std::string path_;
  FileFormat format_ = FileFormat::Csv;
  WriterOptions options_;
  std::filesystem::path file_;
  std::unique_ptr<RecordWriter> writer_;

  bool checkpointing_ = false;
  Target own_;            // file_, when checkpointing
  bool cleaned_ = false;  // leftovers of earlier attempts removed (restore, or first snapshot)
  bool finished_ = false;
};

}  // namespace weir
