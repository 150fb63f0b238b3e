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

WatermarkStrategy WatermarkStrategy::fromParams(const nlohmann::json& w, bool batchJob) {
  WatermarkStrategy s;
  if (batchJob) s.batchesPerWatermark = kBatchJobBatchesPerWatermark;
  if (!w.is_object()) return s;
  auto get = [&](const char* key, std::int64_t fallback) {
    auto it = w.find(key);
    return it != w.end() && it->is_number_integer() ? it->get<std::int64_t>() : fallback;
  };
  s.maxOutOfOrdernessMs = std::max<std::int64_t>(0, get("max_out_of_orderness_ms", 0));
  s.idleTimeoutMs = std::max<std::int64_t>(0, get("idle_timeout_ms", 0));
  s.intervalMs = std::max<std::int64_t>(0, get("interval_ms", 0));
  return s;
}

WatermarkGenerator::WatermarkGenerator(WatermarkStrategy strategy) : strategy_(strategy) {}

void WatermarkGenerator::schedule(std::int64_t nowMs) {
  deadline_ = kNoDeadline;
  // A held watermark is due when the interval since the last emission has passed (one
  // held for want of batches waits for them, or for the end of the input).
  if (candidate() > emitted_ && batchesSinceEmit_ >= strategy_.batchesPerWatermark)
    deadline_ = std::max(nowMs + 1, lastEmitMs_ + strategy_.intervalMs);
  // Idleness is checked at last activity + timeout; without a timeout, never.
  if (strategy_.idleTimeoutMs > 0 && !idle_)
    deadline_ = std::min(deadline_, std::max(nowMs + 1, lastActivityMs_ + strategy_.idleTimeoutMs));
}

std::int64_t WatermarkGenerator::candidate() const {
  if (maxTimestamp_ == kMinWatermark) return kMinWatermark;
  // Saturating: a bound larger than the timestamps cannot wrap around.
  const std::int64_t bound = strategy_.maxOutOfOrdernessMs;
  return maxTimestamp_ < kMinWatermark + bound + 1 ? kMinWatermark : maxTimestamp_ - bound - 1;
}

void WatermarkGenerator::emitIfDue(std::int64_t nowMs, Output& out, bool force) {
  const std::int64_t wm = candidate();
  if (wm <= emitted_) return;
  const bool first = emitted_ == kMinWatermark;
  if (!force && !first &&
      (nowMs - lastEmitMs_ < strategy_.intervalMs || batchesSinceEmit_ < strategy_.batchesPerWatermark))
    return;  // held
  emitted_ = wm;
  lastEmitMs_ = nowMs;
  batchesSinceEmit_ = 0;
  out.emitWatermark(Watermark{wm});
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

void WatermarkGenerator::afterBatch(std::int64_t nowMs, Output& out) {
  if (batchesSinceEmit_ < strategy_.batchesPerWatermark) ++batchesSinceEmit_;  // saturates
  emitIfDue(nowMs, out, false);
  schedule(nowMs);
}

void WatermarkGenerator::collect(RecordBatch batch, std::int64_t nowMs, Output& out, int port) {
  if (batch.empty()) return;
  beforeBatch(batch, nowMs, out);
  out.collect(port, std::move(batch));
  afterBatch(nowMs, out);
}

void WatermarkGenerator::onProcessingTime(std::int64_t nowMs, Output& out) {
  const bool goesIdle = strategy_.idleTimeoutMs > 0 && !idle_ &&
                        nowMs - lastActivityMs_ >= strategy_.idleTimeoutMs;
  // A held watermark goes out when its interval has passed, and always before the idle
  // status: the channel's last watermark then covers every record it sent.
  emitIfDue(nowMs, out, goesIdle);
  if (goesIdle) {
    idle_ = true;
    out.emitWatermarkStatus(WatermarkStatus{true});
  }
  schedule(nowMs);
}

}  // namespace weir
