// The stateless operators: filter, map, union, and the sinks that need no format
// (sink.discard). Each is a few dozen lines over SimpleTransform / Operator.

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "core/expr.h"
#include "runtime/registry.h"

namespace weir {
namespace {

/// Compiles an expression that validation already accepted; a failure here means the
/// plan and the validator disagree, which is reported as a job error, not a crash.
std::unique_ptr<Expr> compileOrThrow(const std::string& text, const Schema& schema,
                                     const std::string& param) {
  CompiledExpr c = compileExpression(text, schema);
  if (!c) throw JobError(param + ": " + c.error->toString());
  return std::move(c.expr);
}

/// filter: keeps the records whose `where` is TRUE (not FALSE, not NULL). When the planner
/// pushed a projection into it (`_project`, runtime/planner.h), only those fields are kept.
class FilterOperator final : public SimpleTransform {
 public:
  explicit FilterOperator(const OperatorContext& ctx)
      : where_(compileOrThrow(ctx.params.at("where").get<std::string>(), *ctx.inputSchemas.at(0), "where")) {
    if (auto it = ctx.params.find("_project"); it != ctx.params.end()) {
      output_ = ctx.outputSchemas.at(0);
      for (const auto& name : *it) project_.push_back(ctx.inputSchemas[0]->indexOf(name.get<std::string>()));
    }
  }

  RecordBatch transform(const RecordBatch& batch) override {
    rows_.clear();
    where_->selectTrue(batch, rows_);
    if (rows_.empty()) return {};
    const RecordBatch* in = &batch;
    RecordBatch projected;
    if (output_) {
      std::vector<ColumnPtr> columns;
      columns.reserve(project_.size());
      for (int i : project_) columns.push_back(batch.columnPtr(static_cast<std::size_t>(i)));
      projected = batch.withColumns(output_, std::move(columns));
      in = &projected;
    }
    if (rows_.size() == batch.numRows()) return *in;  // every record kept: share the columns
    return in->select(rows_);
  }

 private:
  std::unique_ptr<Expr> where_;
  SchemaPtr output_;          // set when projecting
  std::vector<int> project_;  // input field of each output field
  std::vector<std::uint32_t> rows_;
};

/// map: computes `fields` [{name, expr}], after the input's fields when keep_input.
class MapOperator final : public SimpleTransform {
 public:
  explicit MapOperator(const OperatorContext& ctx)
      : output_(ctx.outputSchemas.at(0)), keepInput_(ctx.params.value("keep_input", false)) {
    const Schema& in = *ctx.inputSchemas.at(0);
    const auto& fields = ctx.params.at("fields");
    for (std::size_t i = 0; i < fields.size(); ++i)
      exprs_.push_back(compileOrThrow(fields[i].at("expr").get<std::string>(), in,
                                      "fields[" + std::to_string(i) + "].expr"));
  }

  RecordBatch transform(const RecordBatch& batch) override {
    std::vector<ColumnPtr> columns;
    columns.reserve(output_->size());
    if (keepInput_) columns = batch.columns();
    for (const auto& e : exprs_) columns.push_back(e->evaluate(batch));
    return batch.withColumns(output_, std::move(columns));
  }

 private:
  SchemaPtr output_;
  bool keepInput_;
  std::vector<std::unique_ptr<Expr>> exprs_;
};

/// union: passes on the records of every input edge (validation checked the schemas match).
class UnionOperator final : public Operator {
 public:
  void processBatch(int, const RecordBatch& batch, Output& out) override { out.collect(0, batch); }
};

/// sink.discard: consumes and drops (benchmarks, dry runs); the runtime still counts records in.
/// With throttle_records_per_s > 0 it is slow on purpose (load shaping, backpressure tests):
/// after each batch it sleeps until this subtask's records so far fit the rate since its
/// first batch. The sleep counts as busy time, and a full input queue backpressures the
/// producers, as a really slow sink would.
class DiscardSink final : public Operator {
 public:
  explicit DiscardSink(const OperatorContext& ctx) : rate_(ctx.params.value("throttle_records_per_s", std::int64_t{0})) {}
  void processBatch(int, const RecordBatch& batch, Output&) override {
    if (rate_ <= 0) return;
    const auto now = std::chrono::steady_clock::now();
    if (records_ == 0) start_ = now;
    records_ += static_cast<std::int64_t>(batch.numRows());
    const auto due = start_ + std::chrono::microseconds(records_ * 1000000 / rate_);
    if (due > now) std::this_thread::sleep_until(due);
  }

 private:
  std::int64_t rate_;
  std::int64_t records_ = 0;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

void registerBasicOperators(OperatorRegistry& r) {
  r.add("filter", [](const OperatorContext& ctx) { return std::make_unique<FilterOperator>(ctx); });
  r.add("map", [](const OperatorContext& ctx) { return std::make_unique<MapOperator>(ctx); });
  r.add("union", [](const OperatorContext&) { return std::make_unique<UnionOperator>(); });
  r.add("sink.discard", [](const OperatorContext& ctx) { return std::make_unique<DiscardSink>(ctx); });
}

}  // namespace weir
