#pragma once
// source.generator: Nexmark-style events (runtime/io/nexmark.h), deterministic by seed
// whatever the parallelism.
//
// Params (defaults in brackets):
//   table         "bid" | "auction" | "person"                                  [bid]
//   events        how many events in all; 0 = unbounded                          [0]
//   rate          events per second over all subtasks; 0 = as fast as possible   [0]
//   seed          int64                                                          [42]
//   batch_size    rows per emitted batch                                         [1024]
//   base_time     date_time of event 0: ms or ISO-8601           [2026-01-01T00:00:00Z]
//   event_gap_us  event time between consecutive events, microseconds           [1000]
//
// Subtask k of p produces events k, k+p, k+2p, ... (below `events`). With a rate, each
// subtask paces itself to rate/p events/s with a token bucket (bursts up to one batch or a
// tenth of a second of events, whichever is more) and returns NothingAvailable when ahead.
// Each row's event time is its date_time. Watermarks: the `watermark` param drives a
// WatermarkGenerator (runtime/watermarks.h) as for source.file; the generated times are in
// order, so the default bound 0 is exact. A subtask with no events (events < parallelism)
// ends at once and so never holds the watermark back.
//
// Checkpoints: a subtask produces one or more arithmetic sequences of event numbers
// ("streams": next, next + stride, ...; at first the single stream subtask, p). The
// snapshot writes the table, the seed, every stream's next number and stride, and the
// token bucket's fill. A restore at the same parallelism continues each subtask's own
// streams (and token bucket). A restore at another parallelism is exact too: the old
// subtasks' unfinished streams are listed in subtask order, each split into f streams (next + j*stride, stride*f) when there are fewer
// streams than new subtasks (f = ceil(new p / streams)), and stream t goes to new subtask
// t % p. So every event not emitted before the checkpoint is emitted once after it. A
// subtask with several streams emits their events merged by number, so its event times stay
// in order. The watermark generator starts afresh (docs/fault-tolerance.md).

#include <chrono>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/io/nexmark.h"
#include "runtime/operator.h"
#include "runtime/watermarks.h"

namespace weir {

class GeneratorSource final : public SourceOperator {
 public:
  explicit GeneratorSource(const OperatorContext& ctx);

  void open(OperatorContext& ctx) override;
  SourceStatus emitNext(Output& out) override;
  std::int64_t processingDeadline() const override { return watermarks_.nextDeadline(); }
  void onProcessingTime(std::int64_t nowMs, Output& out) override {
    watermarks_.onProcessingTime(nowMs, out);
  }

  /// {"next": i}: the next event number this subtask produces (its first stream's).
  nlohmann::json position() const;
  /// Continue from a position() taken with the same parallelism. Call after open().
  void restorePosition(const nlohmann::json& position);

  void snapshotState(std::int64_t checkpointId, ByteWriter& out) override;
  void restoreState(const std::vector<std::string>& states) override;

 private:
  /// Event numbers next, next + stride, next + 2 * stride, ...
  struct Stream {
    std::int64_t next = 0;
    std::int64_t stride = 1;
  };
  /// Events left in `s` (bounded only).
  std::int64_t remaining(const Stream& s) const { return (events_ - s.next + s.stride - 1) / s.stride; }

  NexmarkGenerator gen_;
  std::int64_t events_ = 0;
  double rate_ = 0;
  std::size_t batchSize_ = 1024;
  int parallelism_ = 1;
  std::vector<Stream> streams_;  // unfinished ones, in the order they were assigned
  // Token bucket (rate > 0).
  double tokens_ = 0;
  double capacity_ = 0;
  double perSecond_ = 0;
  std::chrono::steady_clock::time_point last_{};
  bool started_ = false;
  std::unique_ptr<BatchBuilder> builder_;
  WatermarkGenerator watermarks_;
};

}  // namespace weir
