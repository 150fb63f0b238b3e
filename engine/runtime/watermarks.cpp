#include "runtime/watermarks.h"

#include <algorithm>
#include <chrono>

#include "runtime/operator.h"

namespace weir {

std::int64_t wallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

WatermarkStrategy WatermarkStrategy::fromParams(const nlohmann::json& w) {
  WatermarkStrategy s;
  if (!w.is_object()) return s;
  auto get = [&](const char* key, std::int64_t fallback) {
    auto it = w.find(key);
    return it != w.end() && it->is_number_integer() ? it->get<std::int64_t>() : fallback;
  };
  s.maxOutOfOrdernessMs = std::max<std::int64_t>(0, get("max_out_of_orderness_ms", 0));
  s.idleTimeoutMs = std::max<std::int64_t>(0, get("idle_timeout_ms", 0));
  s.intervalMs = std::max<std::int64_t>(1, get("interval_ms", 200));
  return s;
}

WatermarkGenerator::WatermarkGenerator(WatermarkStrategy strategy) : strategy_(strategy) {}

void WatermarkGenerator::schedule(std::int64_t nowMs) {
  // Only idleness needs the clock: without a timeout there is nothing to check.
  deadline_ = strategy_.idleTimeoutMs > 0 && !idle_
                  ? std::max(nowMs + 1, lastActivityMs_ + strategy_.idleTimeoutMs)
                  : kNoDeadline;
}

void WatermarkGenerator::start(std::int64_t nowMs) {
  lastActivityMs_ = nowMs;
  schedule(nowMs);
}

void WatermarkGenerator::beforeBatch(const RecordBatch& batch, std::int64_t nowMs, Output& out) {
  if (batch.empty()) return;
  if (idle_) {
    idle_ = false;
    out.emitWatermarkStatus(WatermarkStatus{false});
  }
  if (batch.hasEventTime()) {
    std::int64_t m = maxTimestamp_;
    for (std::int64_t t : batch.eventTimes())
      if (t != kNoTimestamp && t > m) m = t;
    maxTimestamp_ = m;
  }
  lastActivityMs_ = nowMs;
  schedule(nowMs);
}

void WatermarkGenerator::afterBatch(Output& out) {
  if (maxTimestamp_ == kMinWatermark) return;
  // Saturating: a bound larger than the timestamps cannot wrap around.
  const std::int64_t bound = strategy_.maxOutOfOrdernessMs;
  const std::int64_t wm = maxTimestamp_ < kMinWatermark + bound + 1 ? kMinWatermark
                                                                     : maxTimestamp_ - bound - 1;
  if (wm > emitted_) {
    emitted_ = wm;
    out.emitWatermark(Watermark{wm});
  }
}

void WatermarkGenerator::collect(RecordBatch batch, std::int64_t nowMs, Output& out, int port) {
  if (batch.empty()) return;
  beforeBatch(batch, nowMs, out);
  out.collect(port, std::move(batch));
  afterBatch(out);
}

void WatermarkGenerator::onProcessingTime(std::int64_t nowMs, Output& out) {
  if (strategy_.idleTimeoutMs > 0 && !idle_ &&
      nowMs - lastActivityMs_ >= strategy_.idleTimeoutMs) {
    idle_ = true;
    out.emitWatermarkStatus(WatermarkStatus{true});
  }
  schedule(nowMs);
}

}  // namespace weir
