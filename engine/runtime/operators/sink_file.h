#pragma once
// sink.file: writes its input to a CSV or JSON Lines file.
//
// Params: path (relative to the job file's folder), format "csv" | "jsonl" (default: from the
// extension, .jsonl/.json -> jsonl, else csv), header (CSV, default true), and the optional
// changelog (true: always an `op` field, false: never; absent: decided by the first batch).
//
// Files: with parallelism 1 the sink writes exactly `path`; with parallelism p > 1 subtask K
// writes the part file "stem-K.ext" beside it (out.csv -> out-0.csv, out-1.csv, ...), see
// partFilePath. The parent folder is created when missing. Records are written to
// FILE.inprogress, renamed to FILE when the sink finishes: an existing FILE is replaced only
// by a complete result, and a failed or canceled run leaves FILE.inprogress instead.
//
// Lifecycle: open() creates the file, processBatch() formats into a 1 MiB buffer, finish()
// flushes and closes, reporting errors (disk full) as JobError; close() after a failure
// writes what it can without throwing.

#include <memory>

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

  /// The file this subtask writes (set by open()).
  const std::filesystem::path& filePath() const { return file_; }

 private:
  void createWriter(SchemaPtr schema);
  std::filesystem::path inProgressPath() const;

  std::string path_;
  FileFormat format_ = FileFormat::Csv;
  WriterOptions options_;
  std::filesystem::path file_;
  std::unique_ptr<RecordWriter> writer_;
};

}  // namespace weir
