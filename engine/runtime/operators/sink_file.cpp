#include "runtime/operators/sink_file.h"

#include <system_error>

#include "runtime/io/params.h"

namespace weir {

FileSink::FileSink(const OperatorContext& ctx) {
  const nlohmann::json& p = ctx.params;
  path_ = params::string(p, "path");
  format_ = params::format(p, path_);
  options_.header = params::boolean(p, "header", true);
  if (const nlohmann::json* c = params::find(p, "changelog")) {
    if (!c->is_boolean()) params::fail("changelog", "must be true or false");
    options_.opColumn = c->get<bool>() ? OpColumn::Always : OpColumn::Never;
  }
}

void FileSink::open(OperatorContext& ctx) {
  Operator::open(ctx);
  file_ = partFilePath(ctx.resolve(path_), ctx.subtask, ctx.parallelism);
  if (file_.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(file_.parent_path(), ec);
    if (ec)
      throw JobError(file_.parent_path().string() + ": cannot create folder: " + ec.message());
  }
  if (!ctx.inputSchemas.empty() && ctx.inputSchemas[0]) createWriter(ctx.inputSchemas[0]);
}

void FileSink::createWriter(SchemaPtr schema) {
  writer_ = makeWriter(format_, inProgressPath(), std::move(schema), options_);
}

std::filesystem::path FileSink::inProgressPath() const {
  std::filesystem::path p = file_;
  p += ".inprogress";
  return p;
}

void FileSink::processBatch(int, const RecordBatch& batch, Output&) {
  if (!writer_) createWriter(batch.schemaPtr());
  writer_->write(batch);
}

void FileSink::finish(Output&) {
  if (!writer_) return;
  writer_->close();
  // Only a finished run replaces the output: a failed or canceled one leaves its partial
  // data in FILE.inprogress and the previous FILE untouched.
  std::error_code ec;
  std::filesystem::rename(inProgressPath(), file_, ec);
  if (ec) throw JobError(file_.string() + ": cannot move the finished output into place: " + ec.message());
}

void FileSink::close() {
  writer_.reset();  // flushes what it can, without throwing
}

}  // namespace weir
