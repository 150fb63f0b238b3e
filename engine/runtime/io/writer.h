#pragma once
// Record writers: RecordBatches to a text file (CSV or JSON Lines) through a large buffer.
//
// Contract:
//   - The constructor creates (truncates) the file; the parent folder must exist.
//   - write() formats a batch into the buffer and writes the buffer out when it passes
//     WriterOptions::bufferBytes. flush() writes what is buffered. close() flushes and
//     closes; it is idempotent. All three throw JobError naming the file when the system
//     refuses (disk full, I/O error): data is never dropped silently.
//   - The destructor closes without throwing; a writer that was not close()d may lose its
//     last buffered bytes' error report (not the bytes, if the write succeeds).
//   - Changelogs: a batch with row kinds (RecordBatch::hasKinds) is written with a leading
//     `op` field holding rowKindName (+I/-U/+U/-D). Whether the file has that field is
//     decided once (WriterOptions::opColumn); in Auto, by the first batch written.
//   - Not thread-safe; one writer per subtask.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "core/batch.h"
#include "runtime/io/reader.h"

namespace weir {

/// A file written through a buffer with plain write(2); errors become JobError.
class FileOutput {
 public:
  explicit FileOutput(std::filesystem::path path, std::size_t bufferBytes = std::size_t{1} << 20);
  /// Writes to a descriptor that is already open and stays open (stdout), named `name` in
  /// messages. Several FileOutputs may share one such descriptor: each flush() writes its
  /// whole buffer under a process-wide lock, so what one flush writes is never interleaved.
  FileOutput(int borrowedFd, std::string name, std::size_t bufferBytes);
  FileOutput(const FileOutput&) = delete;
  FileOutput& operator=(const FileOutput&) = delete;
  ~FileOutput();

  /// Append text here, then call maybeFlush().
  std::string& buffer() { return buf_; }
  std::size_t buffered() const { return buf_.size(); }
  void maybeFlush() { if (buf_.size() >= threshold_) flush(); }
  void flush();
  /// flush(), then fsync(2): the bytes are on disk.
  void sync();
  void close();
  /// Creates the file afresh at path() after close() (a new part of a rolling output);
  /// bytesWritten() starts again at 0.
  void reopen();
  bool isOpen() const { return fd_ >= 0; }
  std::int64_t bytesWritten() const { return written_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::string buf_;
  std::size_t threshold_;
  int fd_ = -1;
  bool borrowed_ = false;
  std::int64_t written_ = 0;
};

enum class OpColumn {
  Auto,    // an `op` field exactly when the first batch written has row kinds
  Always,  // always an `op` field (+I for batches without kinds)
  Never,   // never; writing a batch that has non-insert rows then throws JobError
};

struct WriterOptions {
  bool header = true;        // CSV only: a first line with the field names
  char delimiter = ',';      // CSV only
  OpColumn opColumn = OpColumn::Auto;
  std::size_t bufferBytes = std::size_t{1} << 20;
  /// >= 0: write to this open descriptor (e.g. STDOUT_FILENO) instead of creating the
  /// file; the descriptor is not closed (FileOutput's borrowed mode).
  int borrowedFd = -1;
};

class RecordWriter {
 public:
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;
  virtual ~RecordWriter() = default;

  virtual void write(const RecordBatch& batch) = 0;
  /// Writes the buffered bytes to the file.
  void flush();
  /// Writes the header if nothing was written yet, flushes and closes. Idempotent.
  void close();

  // ---- Rolling output (sink.file under checkpoints: runtime/operators/sink_file.h). One
  // writer goes on over several files; the header is in the first only.
  /// Writes the header now if nothing was written yet (an output without rows).
  void start();
  /// flush() and fsync(2).
  void sync();
  /// Closes the current file without writing a header (the header belongs to the first).
  void closeFile();
  /// Creates the file afresh at path() after closeFile(); bytesWritten() counts from 0.
  void reopen();
  bool isOpen() const { return out_.isOpen(); }
  /// This writer continues an output whose header (with or without the `op` field, as
  /// decided by its first batch) is already written: it writes no header.
  void resumeAfterHeader(bool withOp);
  /// Whether the header was written (or resumeAfterHeader said so), and with `op`.
  bool started() const { return started_; }
  bool withOp() const { return withOp_; }
  std::int64_t bytesWritten() const {
    return out_.bytesWritten() + static_cast<std::int64_t>(out_.buffered());
  }
  std::int64_t rowsWritten() const { return rows_; }
  const std::filesystem::path& path() const { return out_.path(); }

 protected:
  RecordWriter(const std::filesystem::path& path, SchemaPtr schema, WriterOptions options);
  /// Decides the op field on the first call and writes the header once; returns whether
  /// rows of this batch carry an `op` value.
  bool begin(const RecordBatch& batch);
  virtual void writeHeader(bool withOp) = 0;

  FileOutput out_;
  SchemaPtr schema_;
  WriterOptions opts_;
  std::int64_t rows_ = 0;

 private:
  bool started_ = false;
  bool withOp_ = false;
};

/// A CSV or JSON Lines writer (runtime/io/csv.h, runtime/io/jsonl.h).
std::unique_ptr<RecordWriter> makeWriter(FileFormat format, const std::filesystem::path& path,
                                         SchemaPtr schema, WriterOptions options = {});

/// The file subtask `subtask` of a sink writes: `path` itself when parallelism is 1, else a
/// part file beside it, "stem-K.ext" (out.csv -> out-0.csv, out-1.csv; out -> out-0).
std::filesystem::path partFilePath(const std::filesystem::path& path, int subtask,
                                   int parallelism);

}  // namespace weir
