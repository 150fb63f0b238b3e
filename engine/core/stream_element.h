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

/// Checkpoint barrier: cuts the stream for checkpoint `id` (docs/fault-tolerance.md). A
/// subtask with several input channels aligns on it (exactly_once) before it snapshots.
struct CheckpointBarrier {
  std::int64_t id;
  std::int64_t timestamp;
  bool operator==(const CheckpointBarrier&) const = default;
};

/// The producer of this channel has finished: nothing follows.
struct EndOfPartition {
  bool operator==(const EndOfPartition&) const = default;
};

/// The producer has no more records (its input ended), but the channel stays open for
/// checkpoint barriers: in a checkpointed job a finished subtask waits for the checkpoint
/// that covers its end before it leaves, and sends EndOfPartition only then. For the
/// consumer, EndOfData ends the channel's data exactly as EndOfPartition does.
struct EndOfData {
  bool operator==(const EndOfData&) const = default;
};

using StreamElement =
    std::variant<RecordBatch, Watermark, WatermarkStatus, CheckpointBarrier, EndOfPartition, EndOfData>;

}  // namespace weir
