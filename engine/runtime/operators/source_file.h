#pragma once
// source.file: reads CSV or JSON Lines files (a file, a folder or a glob) into batches.
//
// Params (normalized by validation; defaults in brackets):
//   path        file, folder or glob pattern, relative to the job file's folder
//   format      "csv" | "jsonl"                [from the file extension: .jsonl/.json -> jsonl]
//   header      CSV: the first line names the fields and is skipped     [true]
//   schema      [{name, type}]; the output schema (ctx.outputSchemas[0] when set)
//   timestamp   a field (timestamp or int64) whose value becomes each record's event time;
//               a record where it is null is a dead letter                    [none]
//   delimiter   CSV field separator, one character                            [","]
//   batch_size  rows per emitted batch                                        [1024]
//   follow      tail the files: at their end wait for appended lines instead of ending
//               (unbounded; each file is one split; files are taken when the job starts)
//
// Parallel reading: every subtask plans the same splits (runtime/io/split.h) and reads
// splits i with i % parallelism == subtask, one after another. emitNext emits at most one
// batch, from one split. Malformed records go to ctx.deadLetter (which may throw JobError
// when the job says on_bad_record = fail).
//
// Position (for checkpoints): position() lists every split of this subtask with where its
// next record starts; restorePosition() before open() makes the source continue exactly
// there.
//
// Checkpoints: snapshotState writes the whole plan's size and, per split of this subtask,
// the split (file, byte range, index) and where its next record starts (byte offset and
// line), or that it is done. restoreState takes the plan of the snapshot, not a new one
// (files added since are not read; a rescale does not change the byte ranges), and reads
// the splits i with i % parallelism == subtask from whichever old subtask had them, each
// from its saved position. The watermark generator starts afresh, as in Flink: the first
// batch after a restore raises the watermark again (docs/fault-tolerance.md).
//
// Watermarks (with `timestamp`): the `watermark` param {max_out_of_orderness_ms,
// idle_timeout_ms, interval_ms} drives a WatermarkGenerator (runtime/watermarks.h): a
// watermark after a batch that raised it, at most one per interval_ms of processing time
// (0: after every such batch; a held one goes out from onProcessingTime), idleness after
// idle_timeout_ms without records (a following source at the end of its files). A subtask with no split at all
// ends at once, which sends the maximum watermark: it never holds event time back.

#include <memory>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/io/reader.h"
#include "runtime/operator.h"
#include "runtime/watermarks.h"

namespace weir {

class FileSource final : public SourceOperator {
 public:
  /// Reads and checks the params; throws JobError naming the param on a bad one.
  explicit FileSource(const OperatorContext& ctx);
  ~FileSource() override;

  void open(OperatorContext& ctx) override;
  SourceStatus emitNext(Output& out) override;
  std::int64_t processingDeadline() const override;
  void onProcessingTime(std::int64_t nowMs, Output& out) override;
  void close() override;
  void snapshotState(std::int64_t checkpointId, ByteWriter& out) override;
  void restoreState(const std::vector<std::string>& states) override;

  /// {"splits": [{"split": i, "file": path, "offset": o, "line": l, "done": bool}, ...]};
  /// offset -1: not started.
  nlohmann::json position() const;
  /// Continue from a position() taken with the same files and parallelism. Call before open().
  void restorePosition(const nlohmann::json& position);

  const SchemaPtr& schema() const { return schema_; }

 private:
  std::unique_ptr<RecordReader> openReader(std::size_t k);
  /// Where split k (of this subtask) goes on: {-1, 0} when not started.
  ReadPosition positionOf(std::size_t k) const;
  SourceStatus emitFollowing(Output& out);
  void emitBatch(Output& out);

  std::string path_;
  FileFormat format_ = FileFormat::Csv;
  SchemaPtr schema_;
  ReaderOptions readerOptions_;
  std::size_t batchSize_ = 1024;
  bool follow_ = false;

  std::vector<FileSplit> splits_;
  std::size_t planSize_ = 0;  // splits in the whole plan (every subtask's)
  std::vector<std::unique_ptr<RecordReader>> readers_;  // per split; null: not open
  std::vector<bool> done_;
  std::vector<std::optional<ReadPosition>> resume_;
  std::size_t current_ = 0;  // bounded: the split being read; follow: where the round starts
  std::unique_ptr<BatchBuilder> builder_;
  nlohmann::json restored_;
  std::optional<WatermarkGenerator> watermarks_;  // with `timestamp` only
};

}  // namespace weir
