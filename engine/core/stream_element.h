#pragma once
// What travels on a channel between subtasks, in order: record batches and the in-band
// control events that must never overtake them (as in Flink's network stack).

#include <cstdint>
#include <variant>

#include "core/batch.h"

namespace weir {

/// Event time has reached `timestamp`: no record with a smaller timestamp should follow.
struct Watermark {
  std::int64_t timestamp;
  bool operator==(const Watermark&) const = default;
};

/// A channel turns idle (no data for a while; not holding back watermarks) or active again.
struct WatermarkStatus {
  bool idle;
  bool operator==(const WatermarkStatus&) const = default;
};

/// Checkpoint barrier (the checkpoint issue aligns on these).
struct CheckpointBarrier {
  std::int64_t id;
  std::int64_t timestamp;
  bool operator==(const CheckpointBarrier&) const = default;
};

/// The producer of this channel has finished: nothing follows.
struct EndOfPartition {
  bool operator==(const EndOfPartition&) const = default;
};

using StreamElement = std::variant<RecordBatch, Watermark, WatermarkStatus, CheckpointBarrier, EndOfPartition>;

}  // namespace weir
