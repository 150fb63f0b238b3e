// watermark: re-assigns event time mid-graph and generates watermarks anew.
//
// Each record's event time becomes the value of the `timestamp` field; a record where it is
// null is a dead letter (reported through ctx.deadLetter and not passed on). Watermarks
// come from a WatermarkGenerator (runtime/watermarks.h) over the new times, exactly as at
// a source; those arriving from upstream are dropped, except the maximum one that marks
// the end of the input (so event-time work downstream still completes).
//
// Snapshots: the operator state is the generator's largest event time and last watermark
// (u8 version 1, i64 max time, i64 watermark), so a restored instance goes on from where
// it was instead of starting over from nothing (which could emit a watermark below the
// one already sent). At the same parallelism subtask i takes old subtask i's (the same
// channels feed it); after rescaling, the smallest of all (no record becomes late that
// was not). Idleness restarts with the restored instance.

#include "runtime/io/params.h"
#include "runtime/registry.h"
#include "runtime/watermarks.h"

namespace weir {
namespace {

class WatermarkOperator final : public Operator {
 public:
  explicit WatermarkOperator(const OperatorContext& ctx)
      : watermarks_(WatermarkStrategy::fromParams(ctx.params.value("watermark", nlohmann::json::object()),
                                                  ctx.batchMode)) {
    const std::string name = params::string(ctx.params, "timestamp");
    field_ = ctx.inputSchemas.at(0)->indexOf(name);
    if (field_ < 0) params::fail("timestamp", "no field '" + name + "' in the input");
    fieldName_ = name;
  }

  void open(OperatorContext& ctx) override {
    Operator::open(ctx);
    watermarks_.start(wallClockMs());
  }

  void processBatch(int, const RecordBatch& batch, Output& out) override {
    const Column& c = batch.column(static_cast<std::size_t>(field_));
    const auto valid = c.validity();
    const auto values = c.ints();
    times_.assign(values.begin(), values.end());
    if (c.nullCount() == 0) {
      watermarks_.collect(batch.withEventTime(std::move(times_)), wallClockMs(), out);
      return;
    }
    rows_.clear();
    for (std::size_t i = 0; i < batch.numRows(); ++i) {
      if (valid[i]) {
        rows_.push_back(static_cast<std::uint32_t>(i));
        continue;
      }
      DeadLetter d;
      d.file = ctx_->nodeId;
      d.reason = "field '" + fieldName_ + "' (the event time) is null";
      ctx_->deadLetter(d);
    }
    if (rows_.empty()) return;
    RecordBatch kept = batch.select(rows_);
    std::vector<std::int64_t> times;
    times.reserve(rows_.size());
    for (std::uint32_t r : rows_) times.push_back(values[r]);
    watermarks_.collect(kept.withEventTime(std::move(times)), wallClockMs(), out);
  }

  void processWatermark(Watermark wm, Output& out) override {
    if (wm.timestamp == kMaxWatermark) out.emitWatermark(wm);
  }

  void snapshotState(std::int64_t, ByteWriter& out) override {
    out.u8(1);
    out.i64(watermarks_.maxTimestamp());
    out.i64(watermarks_.currentWatermark());
  }

  void restoreState(const std::vector<std::string>& states) override {
    std::int64_t maxTs = kMaxWatermark, emitted = kMaxWatermark;
    bool any = false;
    const bool same = static_cast<int>(states.size()) == ctx_->parallelism;
    for (std::size_t i = 0; i < states.size(); ++i) {
      if (states[i].empty() || (same && static_cast<int>(i) != ctx_->subtask)) continue;
      ByteReader r(states[i], "watermark '" + ctx_->nodeId + "', operator state of old subtask " + std::to_string(i));
      if (const std::uint8_t version = r.u8(); version != 1) r.fail("version " + std::to_string(version));
      maxTs = std::min(maxTs, r.i64());
      emitted = std::min(emitted, r.i64());
      if (!r.atEnd()) r.fail(std::to_string(r.remaining()) + " bytes left over");
      any = true;
    }
    if (any) watermarks_.restore(maxTs, emitted);
  }

  std::int64_t processingDeadline() const override { return watermarks_.nextDeadline(); }
  void onProcessingTime(std::int64_t nowMs, Output& out) override {
    watermarks_.onProcessingTime(nowMs, out);
  }

 private:
  WatermarkGenerator watermarks_;
  int field_ = -1;
  std::string fieldName_;
  std::vector<std::int64_t> times_;
  std::vector<std::uint32_t> rows_;
};

}  // namespace

void registerWatermarkOperator(OperatorRegistry& r) {
  r.add("watermark", [](const OperatorContext& ctx) { return std::make_unique<WatermarkOperator>(ctx); });
}

}  // namespace weir
