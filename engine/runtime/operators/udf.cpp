// udf: runs a function of an operator plugin (core/plugin.h, plugins/weir_plugin.h) on each
// batch. The plugin reads the batch's columns in place (no copy) and writes output rows
// through an emitter backed by a BatchBuilder; each output row gets the event time and
// row kind of the input row it names in end_row. Records the plugin rejects go to the
// dead-letter file after the call (never from inside it: nothing may throw through
// plugin frames). A nonzero return, or a misused emitter, fails the job naming the node.

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "core/plugin.h"
#include "core/text.h"
#include "runtime/dead_letter.h"
#include "runtime/registry.h"

namespace weir {
namespace {

class UdfOperator final : public Operator {
 public:
  explicit UdfOperator(const OperatorContext& ctx)
      : input_(ctx.inputSchemas.at(0)), output_(ctx.outputSchemas.at(0)), inputView_(*input_) {
    const std::string plugin = ctx.params.at("plugin").get<std::string>();
    function_ = ctx.params.at("function").get<std::string>();
    std::string error;
    // `_library`: where a TaskManager put a shipped plugin (cluster/plugin_ship.h).
    std::filesystem::path path;
    if (auto it = ctx.params.find("_library"); it != ctx.params.end()) {
      path = it->get<std::string>();
    } else {
      auto found = findPlugin(plugin, ctx.baseDir, error);
      if (!found) throw JobError("plugin: " + error);
      path = *found;
    }
    lib_ = PluginLibrary::load(path, error);
    if (!lib_) throw JobError("plugin: " + error);
    fn_ = lib_->function(function_);
    if (!fn_) throw JobError("function: plugin " + lib_->name() + " has no function '" + function_ + "'");
    const nlohmann::json& params = ctx.params.contains("params") ? ctx.params.at("params") : nlohmann::json::object();
    SchemaPtr out = pluginOutputSchema(*fn_, *input_, params, error);
    if (!out) throw JobError("params: " + lib_->name() + "." + function_ + ": " + error);
    if (!(*out == *output_))
      throw JobError("plugin " + lib_->name() + ": function " + function_ + " now declares " + out->toString() +
                     ", not the validated " + output_->toString() + " (was the library replaced?)");
    weir_error err{};
    const std::string text = params.dump();
    state_ = fn_->create ? fn_->create(inputView_.get(), text.c_str(), &err) : nullptr;
    if (!state_) {
      err.message[WEIR_ERROR_CAPACITY - 1] = 0;
      throw JobError(lib_->name() + "." + function_ + ": cannot start: " +
                     (err.message[0] ? err.message : "create returned no state"));
    }
    emitter_ = {this,         &UdfOperator::appendNull, &UdfOperator::appendInt64, &UdfOperator::appendDouble,
                &UdfOperator::appendBool, &UdfOperator::appendString, &UdfOperator::appendInput,
                &UdfOperator::endRow, &UdfOperator::reject};
  }

  ~UdfOperator() override {
    if (state_ && fn_->destroy) fn_->destroy(state_);
  }

  void processBatch(int, const RecordBatch& batch, Output& out) override {
    if (batch.empty()) return;
    in_ = &batch;
    columns_.clear();
    for (std::size_t c = 0; c < batch.numColumns(); ++c) {
      const Column& col = batch.column(c);
      columns_.push_back({static_cast<std::int32_t>(col.type()), col.validity().data(),
                          isIntegerStored(col.type()) ? col.ints().data() : nullptr,
                          col.type() == Type::Double ? col.doubles().data() : nullptr,
                          col.type() == Type::Bool ? col.bools().data() : nullptr,
                          col.type() == Type::String ? col.offsets().data() : nullptr,
                          col.type() == Type::String ? col.chars().data() : nullptr});
    }
    const weir_batch view{batch.numRows(), columns_.size(), columns_.data()};
    if (!builder_) builder_.emplace(output_, batch.numRows());
    rowValues_.assign(output_->size(), 0);
    misuse_.clear();
    rejected_.clear();
    weir_error err{};
    const int rc = fn_->process(state_, &view, &emitter_, &err);
    in_ = nullptr;
    if (rc != 0) {
      err.message[WEIR_ERROR_CAPACITY - 1] = 0;
      builder_.reset();
      throw JobError(lib_->name() + "." + function_ + ": " + (err.message[0] ? err.message : "failed (no message)"));
    }
    for (std::uint8_t n : rowValues_)
      if (n != 0) fail("values appended after the last end_row");
    if (!misuse_.empty()) {
      builder_.reset();
      throw JobError(lib_->name() + "." + function_ + ": " + misuse_);
    }
    for (const auto& [row, reason] : rejected_) {
      DeadLetter d;
      d.file = ctx_->nodeId;
      d.reason = lib_->name() + "." + function_ + ": " + reason;
      d.record = recordJson(batch, *input_, row);
      ctx_->deadLetter(d);
    }
    if (builder_->numRows() > 0) out.collect(0, builder_->finish());
  }

 private:
  static UdfOperator& self(void* host) { return *static_cast<UdfOperator*>(host); }

  /// The column `c` may take a value of `type` for the current row; records misuse otherwise.
  Column* slot(std::uint32_t c, const char* what, bool typeOk) {
    if (c >= output_->size()) return fail("column " + std::to_string(c) + " does not exist (the output has " +
                                          std::to_string(output_->size()) + ")");
    if (!typeOk) return fail(std::string(what) + " into column " + std::to_string(c) + " ('" + output_->field(c).name +
                             "', " + std::string(typeName(output_->field(c).type)) + ")");
    if (rowValues_[c]++ != 0) return fail("two values for column '" + output_->field(c).name + "' in one row");
    return &builder_->column(c);
  }
  Column* fail(std::string message) {
    if (misuse_.empty()) misuse_ = "emitter misused: " + std::move(message);
    return nullptr;
  }

  static void appendNull(void* h, std::uint32_t c) {
    if (Column* col = self(h).slot(c, "null", true)) col->appendNull();
  }
  static void appendInt64(void* h, std::uint32_t c, std::int64_t v) {
    auto& s = self(h);
    if (Column* col = s.slot(c, "an int64", c < s.output_->size() && isIntegerStored(s.output_->field(c).type)))
      col->appendInt64(v);
  }
  static void appendDouble(void* h, std::uint32_t c, double v) {
    auto& s = self(h);
    if (Column* col = s.slot(c, "a double", c < s.output_->size() && s.output_->field(c).type == Type::Double))
      col->appendDouble(v);
  }
  static void appendBool(void* h, std::uint32_t c, int v) {
    auto& s = self(h);
    if (Column* col = s.slot(c, "a bool", c < s.output_->size() && s.output_->field(c).type == Type::Bool))
      col->appendBool(v != 0);
  }
  static void appendString(void* h, std::uint32_t c, const char* data, std::size_t n) {
    auto& s = self(h);
    if (Column* col = s.slot(c, "a string", c < s.output_->size() && s.output_->field(c).type == Type::String))
      col->appendString(std::string_view(data, n));
  }
  static void appendInput(void* h, std::uint32_t c, std::uint32_t inColumn, std::uint32_t inRow) {
    auto& s = self(h);
    if (!s.in_ || inColumn >= s.in_->numColumns() || inRow >= s.in_->numRows()) {
      s.fail("append_input of input column " + std::to_string(inColumn) + ", row " + std::to_string(inRow) +
             ", which does not exist");
      return;
    }
    const Column& src = s.in_->column(inColumn);
    if (Column* col = s.slot(c, "a copy of another type",
                             c < s.output_->size() && s.output_->field(c).type == src.type()))
      col->appendFrom(src, inRow);
  }
  static void endRow(void* h, std::uint32_t inRow) {
    auto& s = self(h);
    if (!s.in_ || inRow >= s.in_->numRows()) {
      s.fail("end_row names input row " + std::to_string(inRow) + ", which does not exist");
      return;
    }
    for (std::size_t c = 0; c < s.rowValues_.size(); ++c)
      if (s.rowValues_[c] != 1) {
        s.fail("row ended without a value for column '" + s.output_->field(c).name + "'");
        return;
      }
    if (!s.misuse_.empty()) return;
    s.builder_->endRow(s.in_->eventTime(inRow), s.in_->kind(inRow));
    std::fill(s.rowValues_.begin(), s.rowValues_.end(), 0);
  }
  static void reject(void* h, std::uint32_t inRow, const char* reason) {
    auto& s = self(h);
    if (!s.in_ || inRow >= s.in_->numRows()) {
      s.fail("reject names input row " + std::to_string(inRow) + ", which does not exist");
      return;
    }
    s.rejected_.emplace_back(inRow, reason && *reason ? reason : "rejected by the function");
  }


  SchemaPtr input_, output_;
  PluginSchemaView inputView_;
  std::string function_;
  std::shared_ptr<const PluginLibrary> lib_;
  const weir_function* fn_ = nullptr;
  void* state_ = nullptr;
  weir_emitter emitter_{};
  // Per call of process:
  const RecordBatch* in_ = nullptr;
  std::vector<weir_column> columns_;
  std::optional<BatchBuilder> builder_;
  std::vector<std::uint8_t> rowValues_;  // values appended per output column in the current row
  std::string misuse_;
  std::vector<std::pair<std::uint32_t, std::string>> rejected_;
};

}  // namespace

void registerUdfOperator(OperatorRegistry& r) {
  r.add("udf", [](const OperatorContext& ctx) { return std::make_unique<UdfOperator>(ctx); });
}

}  // namespace weir
