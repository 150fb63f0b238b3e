#pragma once
// Watermark generation: one implementation shared by every source with event time
// (source.file with `timestamp`, source.generator) and by the `watermark` operator that
// re-assigns event time mid-graph.
//
// Strategy (Flink's BoundedOutOfOrdernessWatermarks): the watermark is
//     max event time seen - max_out_of_orderness_ms - 1
// so a record whose time is at most `bound` behind the largest time seen so far is never
// late. Nothing is emitted before the first record. The watermark is monotonic: it only
// ever rises, and only a rise is emitted.
//
// When it is emitted (`interval_ms`, Flink's autoWatermarkInterval): after a batch that
// raised it, if no watermark was emitted yet or the last one went out at least
// interval_ms of processing time ago; otherwise the risen watermark is held and goes out,
// at its newest value, from onProcessingTime at last emission + interval_ms (or earlier,
// with a later batch that finds the interval passed). interval_ms = 0 (the default)
// emits after every batch that raises it: Weir's sources emit at most `batch_size`
// records per batch, so the watermark is never more than one batch behind the data and,
// unlike emission on a processing-time period, the sequence of watermarks depends only on
// the data and the batch boundaries, never on thread timing: a job's late records are the
// same on every run. With interval_ms > 0 fewer watermarks travel, but which records are
// late may depend on timing. A bounded source that ends always emits the final (maximum)
// watermark (Subtask::runSource), whatever the interval.
// In a batch job a risen watermark also waits for 16 batches since the last one
// (WatermarkStrategy::batchesPerWatermark): there they mostly free state early (windows
// set finished windows aside, joins drop what can no longer match); a window join's rows
// wait for them, but only the final one decides what a batch window emits.
//
// Idleness: when idle_timeout_ms > 0 and no record has been seen for that long of
// processing time (checked at last activity + idle_timeout_ms), the generator emits a
// held watermark, if any, then WatermarkStatus{idle = true}; downstream minimums then
// ignore this channel. The next batch first emits WatermarkStatus{idle = false}
// (before the batch, so the status never trails the records it concerns).
//
// Threading: one generator per subtask, used only on that subtask's thread. Processing
// time is passed in (ms since the epoch, wallClockMs() in the runtime), so tests can
// drive it with a fake clock.

#include <cstdint>
#include <algorithm>
#include <vector>
#include <optional>

#include <nlohmann/json.hpp>

#include "core/batch.h"
#include "core/stream_element.h"

namespace weir {

class Output;

/// No processing-time deadline (Operator::processingDeadline).
inline constexpr std::int64_t kNoDeadline = INT64_MAX;
inline constexpr std::int64_t kMinWatermark = INT64_MIN;
inline constexpr std::int64_t kMaxWatermark = INT64_MAX;
/// WatermarkStrategy::batchesPerWatermark in a batch job.
inline constexpr int kBatchJobBatchesPerWatermark = 16;

/// Processing time: the wall clock in milliseconds since the epoch (Flink's processing
/// time is the machine's clock too).
std::int64_t wallClockMs();

struct WatermarkStrategy {
  std::int64_t maxOutOfOrdernessMs = 0;
  std::int64_t idleTimeoutMs = 0;  // 0: never idle
  std::int64_t intervalMs = 0;  // 0: after every batch that raises the watermark
  /// A risen watermark is held until this many batches have gone out since the last one
  /// (1: after every batch). Batch jobs use kBatchJobBatchesPerWatermark: there
  /// watermarks mostly free state early, so fewer of them travel.
  int batchesPerWatermark = 1;
  /// From a normalized `watermark` param object (absent members keep the defaults), for a
  /// source or `watermark` operator of a batch job when `batchJob`.
  static WatermarkStrategy fromParams(const nlohmann::json& watermark, bool batchJob = false);
};

class WatermarkGenerator {
 public:
  explicit WatermarkGenerator(WatermarkStrategy strategy = {});

  /// Call once when the source opens: the idleness clock starts here (a subtask that never
  /// reads a record goes idle after idle_timeout_ms).
  void start(std::int64_t nowMs);
  /// Call right before `out.collect(batch)`: notes the batch's event times and, when the
  /// generator was idle, emits WatermarkStatus{false} first. Records without event time
  /// (kNoTimestamp) are ignored.
  void beforeBatch(const RecordBatch& batch, std::int64_t nowMs, Output& out);
  /// Call right after the batch was collected: emits the watermark if it rose and the
  /// interval allows (else holds it until nextDeadline()).
  void afterBatch(std::int64_t nowMs, Output& out);
  /// beforeBatch, out.collect(port, batch), afterBatch: what a source does with each batch.
  void collect(RecordBatch batch, std::int64_t nowMs, Output& out, int port = 0);
  /// The processing-time check, due at nextDeadline(): emits a held watermark once the
  /// interval has passed, and marks the generator idle after idle_timeout_ms without
  /// records.
  void onProcessingTime(std::int64_t nowMs, Output& out);
  /// When onProcessingTime is next due (kNoDeadline: never).
  std::int64_t nextDeadline() const { return deadline_; }
  /// The last watermark emitted (kMinWatermark before the first).
  std::int64_t currentWatermark() const { return emitted_; }
  bool idle() const { return idle_; }
  const WatermarkStrategy& strategy() const { return strategy_; }
  /// The largest event time seen (kMinWatermark before the first record): with
  /// currentWatermark(), what a snapshot of the `watermark` operator keeps.
  std::int64_t maxTimestamp() const { return maxTimestamp_; }
  /// Restore: the largest event time seen and the last watermark emitted, so the restored
  /// generator neither lowers nor repeats its watermark.
  void restore(std::int64_t maxTimestamp, std::int64_t emitted) {
    maxTimestamp_ = maxTimestamp;
    emitted_ = emitted;
  }

 private:
  void schedule(std::int64_t nowMs);
  /// What the watermark would be now: largest time seen - bound - 1 (saturating).
  std::int64_t candidate() const;
  /// Emits candidate() if it rose and `force` or the interval has passed since the last.
  void emitIfDue(std::int64_t nowMs, Output& out, bool force);

  WatermarkStrategy strategy_;
  std::int64_t maxTimestamp_ = kMinWatermark;
  std::int64_t emitted_ = kMinWatermark;
  std::int64_t lastActivityMs_ = 0;
  std::int64_t lastEmitMs_ = 0;  // processing time of the last emission (none: emitted_ is min)
  int batchesSinceEmit_ = 0;
  std::int64_t deadline_ = kNoDeadline;
  bool idle_ = false;
};

/// The input watermark of a subtask with several input channels (Flink's
/// StatusWatermarkValve): one watermark per channel, monotonic; the combined watermark is
/// the minimum over channels that are neither ended nor idle. With none such it advances
/// only when every channel has ended (to +inf); when every open channel is idle, none holds
/// the others back, so it moves to the largest an open channel reached (ended channels do
/// not count there: their +inf would release everything). Each call returns the combined
/// watermark when it rose (the subtask then calls its head's processWatermark), nullopt
/// otherwise. allIdle() says whether the subtask is idle itself (every open channel idle),
/// which it tells its consumers. The subtask's thread only.
class WatermarkValve {
 public:
  explicit WatermarkValve(int channels)
      : wm_(static_cast<std::size_t>(channels), kMinWatermark), idle_(static_cast<std::size_t>(channels), false),
        ended_(static_cast<std::size_t>(channels), false) {}

  std::optional<std::int64_t> onWatermark(int ch, std::int64_t timestamp) {
    auto& w = wm_[static_cast<std::size_t>(ch)];
    if (timestamp <= w) return std::nullopt;  // an older one is ignored
    w = timestamp;
    return recompute();
  }
  std::optional<std::int64_t> onStatus(int ch, bool idle) {
    idle_[static_cast<std::size_t>(ch)] = idle;
    return recompute();
  }
  std::optional<std::int64_t> onEnded(int ch) {
    ended_[static_cast<std::size_t>(ch)] = true;
    wm_[static_cast<std::size_t>(ch)] = kMaxWatermark;
    return recompute();
  }
  bool allIdle() const {
    bool anyOpen = false;
    for (std::size_t c = 0; c < wm_.size(); ++c) {
      if (ended_[c]) continue;
      anyOpen = true;
      if (!idle_[c]) return false;
    }
    return anyOpen;
  }
  std::int64_t combined() const { return combined_; }

 private:
  std::optional<std::int64_t> recompute() {
    std::int64_t minWm = kMaxWatermark;
    bool anyActive = false, allEnded = true;
    for (std::size_t c = 0; c < wm_.size(); ++c) {
      if (ended_[c]) continue;
      allEnded = false;
      if (idle_[c]) continue;
      minWm = std::min(minWm, wm_[c]);
      anyActive = true;
    }
    if (!anyActive && !allEnded) {
      minWm = kMinWatermark;
      for (std::size_t c = 0; c < wm_.size(); ++c)
        if (!ended_[c]) minWm = std::max(minWm, wm_[c]);
      anyActive = minWm != kMinWatermark;
    }
    if ((anyActive || allEnded) && minWm > combined_) {
      combined_ = minWm;
      return combined_;
    }
    return std::nullopt;
  }

  std::vector<std::int64_t> wm_;
  std::vector<bool> idle_;
  std::vector<bool> ended_;
  std::int64_t combined_ = kMinWatermark;
};

}  // namespace weir
