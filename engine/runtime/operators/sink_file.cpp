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
  writer_ = makeWriter(format_, file_, std::move(schema), options_);
}

void FileSink::processBatch(int, const RecordBatch& batch, Output&) {
  if (!writer_) createWriter(batch.schemaPtr());
  writer_->write(batch);
}

void FileSink::finish(Output&) {
  if (writer_) writer_->close();
}

void FileSink::close() {
  writer_.reset();  // flushes what it can, without throwing
}

}  // namespace weir
