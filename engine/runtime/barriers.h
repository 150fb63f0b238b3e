#pragma once
// BarrierAligner: what a subtask with input channels does with checkpoint barriers
// (asynchronous barrier snapshots, as Flink's CheckpointBarrierHandler).
//
// exactly_once (aligned): the first barrier of checkpoint n blocks its channel
// (InputGate::setBlocked), so records that follow it wait; each further channel's barrier
// n blocks that one too; when every channel has delivered barrier n (or is closed for good:
// EndOfPartition) alignment is complete: the subtask snapshots, every channel is
// unblocked, and the barrier goes on. So the snapshot holds exactly the records before the
// barriers on every channel.
//
// at_least_once: channels are never blocked; the snapshot is taken when the last channel's
// barrier arrives, so records that came after an earlier channel's barrier are already in
// it and are replayed after a restore (duplicates, never loss).
//
// A barrier of a newer checkpoint while one is being aligned abandons the older one (its
// coordinator times it out or has already aborted it); a barrier older than the one being
// aligned, or of a checkpoint already done here, is dropped.
//
// Channels that ended their data (EndOfData) still carry barriers: a finished producer
// waits for the checkpoint that covers its end. Only a closed channel stops counting.
//
// Threading: the subtask's thread only.

#include <cstdint>
#include <optional>
#include <vector>

#include "core/stream_element.h"
#include "runtime/channel.h"

namespace weir {

class BarrierAligner {
 public:
  BarrierAligner(InputGate& gate, bool exactlyOnce);

  /// A barrier arrived on channel `ch`. Returns it when it completes an alignment: the
  /// subtask must snapshot now, then send it on.
  std::optional<CheckpointBarrier> onBarrier(int ch, const CheckpointBarrier& barrier);
  /// Channel `ch` is closed (EndOfPartition): it will never deliver a barrier again.
  /// Returns the barrier whose alignment this completes, if any.
  std::optional<CheckpointBarrier> onClosed(int ch);
  /// Checkpoint `id` was aborted: stop aligning it (unblock every channel).
  void abort(std::int64_t id);

  /// The checkpoint whose alignment the last onBarrier abandoned for a newer one, once
  /// (the subtask declines it, so its coordinator aborts it at once, as Flink's does).
  std::optional<std::int64_t> takeAbandoned() {
    auto a = abandoned_;
    abandoned_.reset();
    return a;
  }

  /// The checkpoint being aligned, -1 when none.
  std::int64_t aligning() const { return current_ ? current_->id : -1; }
  /// Steady-clock ns when the current alignment began (the first barrier), 0 when none.
  std::int64_t alignmentStartNs() const { return startNs_; }

 private:
  std::optional<CheckpointBarrier> completeIfAligned();
  void release();

  InputGate& gate_;
  bool exactlyOnce_;
  std::vector<bool> seen_;
  std::vector<bool> closed_;
  std::optional<CheckpointBarrier> current_;
  std::optional<std::int64_t> abandoned_;
  std::int64_t lastDone_ = -1;
  std::int64_t startNs_ = 0;
};

}  // namespace weir
