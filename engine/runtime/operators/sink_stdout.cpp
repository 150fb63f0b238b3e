// sink.stdout: prints its input to standard output as CSV (default) or JSON Lines, for
// looking at a job's results, not for machines: with parallelism > 1 the subtasks' batches
// interleave (each batch is written whole), and only subtask 0 prints a CSV header.
// Params: format "csv" | "jsonl", header (default true), limit (at most this many rows;
// absent: all). The CSV header is printed even when no record arrives, as sink.file does.

#include <unistd.h>

#include "runtime/io/params.h"
#include "runtime/io/writer.h"
#include "runtime/registry.h"

namespace weir {
namespace {

class StdoutSink final : public Operator {
 public:
  explicit StdoutSink(const OperatorContext& ctx)
      : format_(params::format(ctx.params, "")), limit_(params::int64(ctx.params, "limit", -1, 0)) {
    options_.header = params::boolean(ctx.params, "header", true) && ctx.subtask == 0;
    options_.borrowedFd = STDOUT_FILENO;
    options_.bufferBytes = 64 * 1024;
    // An update stream (set by the planner) prints its `op` column from the first row on.
    if (params::boolean(ctx.params, "changelog", false)) options_.opColumn = OpColumn::Always;
  }

  void open(OperatorContext& ctx) override {
    Operator::open(ctx);
    if (!ctx.inputSchemas.empty() && ctx.inputSchemas[0])
      writer_ = makeWriter(format_, "stdout", ctx.inputSchemas[0], options_);
  }

  void processBatch(int, const RecordBatch& batch, Output&) override {
    if (!writer_) writer_ = makeWriter(format_, "stdout", batch.schemaPtr(), options_);
    if (limit_ >= 0) {
      const std::int64_t left = limit_ - writer_->rowsWritten();
      if (left <= 0) return;
      if (static_cast<std::int64_t>(batch.numRows()) > left) {
        std::vector<std::uint32_t> rows(static_cast<std::size_t>(left));
        for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<std::uint32_t>(i);
        writer_->write(batch.select(rows));
        writer_->flush();
        return;
      }
    }
    writer_->write(batch);
    writer_->flush();  // one batch, one write: whole rows, promptly
  }
  void processWatermark(Watermark, Output&) override {}
  void finish(Output&) override {
    if (writer_) writer_->close();
  }

 private:
  FileFormat format_;
  std::int64_t limit_;
  WriterOptions options_;
  std::unique_ptr<RecordWriter> writer_;
};

}  // namespace

void registerStdoutSink(OperatorRegistry& r) {
  r.add("sink.stdout", [](const OperatorContext& ctx) { return std::make_unique<StdoutSink>(ctx); });
}

}  // namespace weir
