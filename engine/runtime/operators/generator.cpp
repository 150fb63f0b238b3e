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
  streams_ = {Stream{ctx.subtask, parallelism_}};
  builder_ = std::make_unique<BatchBuilder>(gen_.schema(), batchSize_);
  if (rate_ > 0) {
    perSecond_ = rate_ / parallelism_;
    capacity_ = std::max(static_cast<double>(batchSize_), perSecond_ / 10);
    tokens_ = 0;
  }
  watermarks_.start(wallClockMs());
}

SourceStatus GeneratorSource::emitNext(Output& out) {
  if (events_ > 0)
    std::erase_if(streams_, [&](const Stream& s) { return s.next >= events_; });
  if (streams_.empty()) return SourceStatus::EndOfInput;
  std::int64_t n = static_cast<std::int64_t>(batchSize_);
  if (events_ > 0) {
    std::int64_t left = 0;
    for (const Stream& s : streams_) left += remaining(s);
    n = std::min(n, left);
  }
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
  if (streams_.size() == 1) {
    Stream& s = streams_.front();
    gen_.generate(s.next, n, s.stride, *builder_);
    s.next += n * s.stride;
  } else {
    // Several streams (after a rescale): their events merged by number, so that event
    // time stays in order.
    for (std::int64_t k = 0; k < n; ++k) {
      Stream* low = nullptr;
      for (Stream& s : streams_)
        if ((events_ <= 0 || s.next < events_) && (!low || s.next < low->next)) low = &s;
      gen_.generate(low->next, 1, 1, *builder_);
      low->next += low->stride;
    }
  }
  watermarks_.collect(builder_->finish(), wallClockMs(), out);
  return SourceStatus::MoreAvailable;
}

nlohmann::json GeneratorSource::position() const {
  return {{"next", streams_.empty() ? events_ : streams_.front().next}};
}

void GeneratorSource::restorePosition(const nlohmann::json& position) {
  if (!position.is_object() || !position.contains("next") || !position["next"].is_number_integer())
    throw JobError("source.generator: a saved position must be {\"next\": integer}");
  streams_ = {Stream{position["next"].get<std::int64_t>(), parallelism_}};
}

namespace {
constexpr std::uint8_t kStateVersion = 1;
}  // namespace

void GeneratorSource::snapshotState(std::int64_t, ByteWriter& out) {
  out.u8(kStateVersion);
  out.u8(static_cast<std::uint8_t>(gen_.table()));
  out.u64(gen_.config().seed);
  out.u32(static_cast<std::uint32_t>(parallelism_));
  out.u32(static_cast<std::uint32_t>(streams_.size()));
  for (const Stream& s : streams_) {
    out.i64(s.next);
    out.i64(s.stride);
  }
  out.f64(tokens_);
}

void GeneratorSource::restoreState(const std::vector<std::string>& states) {
  if (std::all_of(states.begin(), states.end(), [](const std::string& s) { return s.empty(); })) return;
  std::vector<Stream> all, own;
  double tokens = 0;
  for (std::size_t i = 0; i < states.size(); ++i) {
    ByteReader r(states[i], ctx_->nodeId + " (source.generator) state of old subtask " + std::to_string(i));
    if (states[i].empty()) r.fail("missing (every subtask of a generator writes its position)");
    if (const std::uint8_t v = r.u8(); v != kStateVersion) r.fail("unknown state version " + std::to_string(v));
    const std::uint8_t table = r.u8();
    if (table != static_cast<std::uint8_t>(gen_.table()))
      r.fail("saved for another table than " + std::string(nexmarkTableName(gen_.table())));
    if (const std::uint64_t seed = r.u64(); seed != gen_.config().seed)
      r.fail("saved with seed " + std::to_string(static_cast<std::int64_t>(seed)) + ", the job now has " +
             std::to_string(static_cast<std::int64_t>(gen_.config().seed)));
    const std::uint32_t oldP = r.u32();
    if (oldP != states.size()) r.fail("saved at parallelism " + std::to_string(oldP) + ", but " + std::to_string(states.size()) + " subtasks saved");
    const std::uint32_t n = r.u32();
    if (n > r.remaining() / 16) r.fail(std::to_string(n) + " streams do not fit");
    for (std::uint32_t k = 0; k < n; ++k) {
      Stream s;
      s.next = r.i64();
      s.stride = r.i64();
      // Bounds keep every later step (splitting, next += n * stride) far from overflow.
      if (s.next < 0 || s.next > (std::int64_t{1} << 62) || s.stride < 1 || s.stride > (std::int64_t{1} << 32))
        r.fail("a bad event stream (" + std::to_string(s.next) + ", " + std::to_string(s.stride) + ")");
      all.push_back(s);
      if (static_cast<int>(i) == ctx_->subtask) own.push_back(s);
    }
    const double t = r.f64();
    if (!(t >= 0) || t > 1e18) r.fail("a bad token count");
    if (static_cast<int>(i) == ctx_->subtask) tokens = t;
    if (!r.atEnd()) r.fail(std::to_string(r.remaining()) + " bytes left over");
  }
  const std::size_t p = static_cast<std::size_t>(parallelism_);
  if (states.size() == p) {
    // Same parallelism: each subtask goes on with its own streams.
    streams_ = std::move(own);
    if (rate_ > 0) {
      // The bucket goes on as it was (its clock restarts now).
      tokens_ = std::min(tokens, capacity_);
      started_ = true;
      last_ = std::chrono::steady_clock::now();
    }
    return;
  }
  if (events_ > 0) std::erase_if(all, [&](const Stream& s) { return s.next >= events_; });
  if (!all.empty() && all.size() < p) {
    // Fewer streams than subtasks: split each into f interleaved ones.
    const std::int64_t f = static_cast<std::int64_t>((p + all.size() - 1) / all.size());
    std::vector<Stream> split;
    for (const Stream& s : all)
      for (std::int64_t j = 0; j < f; ++j) split.push_back(Stream{s.next + j * s.stride, s.stride * f});
    all = std::move(split);
  }
  streams_.clear();
  for (std::size_t t = 0; t < all.size(); ++t)
    if (t % p == static_cast<std::size_t>(ctx_->subtask)) streams_.push_back(all[t]);
}

void registerGeneratorOperators(OperatorRegistry& r) {
  r.add("source.generator", [](const OperatorContext& ctx) -> std::unique_ptr<Operator> {
    return std::make_unique<GeneratorSource>(ctx);
  });
}

}  // namespace weir
