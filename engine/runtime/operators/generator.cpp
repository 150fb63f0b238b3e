#include "runtime/operators/generator.h"

#include <algorithm>
#include <cmath>

#include "runtime/io/params.h"
#include "runtime/registry.h"

namespace weir {
namespace {

NexmarkTable tableParam(const nlohmann::json& p) {
  const std::string name = params::string(p, "table", std::string("bid"));
  auto t = parseNexmarkTable(name);
  if (!t) params::fail("table", "must be \"bid\", \"auction\" or \"person\"");
  return *t;
}

NexmarkConfig configParam(const nlohmann::json& p) {
  NexmarkConfig c;
  c.seed = static_cast<std::uint64_t>(params::int64(p, "seed", 42));
  c.baseTime = params::timestamp(p, "base_time", c.baseTime);
  c.eventGapUs = params::int64(p, "event_gap_us", c.eventGapUs, 0);
  return c;
}

}  // namespace

GeneratorSource::GeneratorSource(const OperatorContext& ctx)
    : gen_(tableParam(ctx.params), configParam(ctx.params)),
      watermarks_(WatermarkStrategy::fromParams(ctx.params.value("watermark", nlohmann::json::object()),
                                                ctx.batchMode)) {
  events_ = params::int64(ctx.params, "events", 0, 0);
  rate_ = params::number(ctx.params, "rate", 0, 0);
  batchSize_ = static_cast<std::size_t>(params::int64(ctx.params, "batch_size", 1024, 1));
}

void GeneratorSource::open(OperatorContext& ctx) {
  Operator::open(ctx);
  parallelism_ = std::max(1, ctx.parallelism);
  next_ = ctx.subtask;
  builder_ = std::make_unique<BatchBuilder>(gen_.schema(), batchSize_);
  if (rate_ > 0) {
    perSecond_ = rate_ / parallelism_;
    capacity_ = std::max(static_cast<double>(batchSize_), perSecond_ / 10);
    tokens_ = 0;
  }
  watermarks_.start(wallClockMs());
}

SourceStatus GeneratorSource::emitNext(Output& out) {
  if (events_ > 0 && next_ >= events_) return SourceStatus::EndOfInput;
  std::int64_t n = static_cast<std::int64_t>(batchSize_);
  if (events_ > 0) n = std::min(n, (events_ - next_ + parallelism_ - 1) / parallelism_);
  if (rate_ > 0) {
    const auto now = std::chrono::steady_clock::now();
    if (!started_) {
      started_ = true;
      last_ = now;
      tokens_ = std::min(1.0, capacity_);  // the first event goes out at once
    } else {
      const double seconds = std::chrono::duration<double>(now - last_).count();
      last_ = now;
      tokens_ = std::min(capacity_, tokens_ + seconds * perSecond_);
    }
    const std::int64_t allowed = static_cast<std::int64_t>(std::floor(tokens_));
    if (allowed < 1) return SourceStatus::NothingAvailable;
    n = std::min(n, allowed);
    tokens_ -= static_cast<double>(n);
  }
  gen_.generate(next_, n, parallelism_, *builder_);
  next_ += n * parallelism_;
  watermarks_.collect(builder_->finish(), wallClockMs(), out);
  return SourceStatus::MoreAvailable;
}

nlohmann::json GeneratorSource::position() const { return {{"next", next_}}; }

void GeneratorSource::restorePosition(const nlohmann::json& position) {
  if (!position.is_object() || !position.contains("next") || !position["next"].is_number_integer())
    throw JobError("source.generator: a saved position must be {\"next\": integer}");
  next_ = position["next"].get<std::int64_t>();
}

void registerGeneratorOperators(OperatorRegistry& r) {
  r.add("source.generator", [](const OperatorContext& ctx) -> std::unique_ptr<Operator> {
    return std::make_unique<GeneratorSource>(ctx);
  });
}

}  // namespace weir
