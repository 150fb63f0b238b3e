#include "runtime/barriers.h"

#include <chrono>

namespace weir {

BarrierAligner::BarrierAligner(InputGate& gate, bool exactlyOnce)
    : gate_(gate), exactlyOnce_(exactlyOnce),
      seen_(static_cast<std::size_t>(gate.numChannels()), false),
      closed_(static_cast<std::size_t>(gate.numChannels()), false) {}

std::optional<CheckpointBarrier> BarrierAligner::onBarrier(int ch, const CheckpointBarrier& barrier) {
  if (barrier.id <= lastDone_) return std::nullopt;
  if (current_ && barrier.id < current_->id) return std::nullopt;
  if (current_ && barrier.id > current_->id) {  // a newer checkpoint overtakes
    abandoned_ = current_->id;
    release();
  }
  if (!current_) {
    current_ = barrier;
    startNs_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  seen_[static_cast<std::size_t>(ch)] = true;
  if (exactlyOnce_) gate_.setBlocked(ch, true);
  return completeIfAligned();
}

std::optional<CheckpointBarrier> BarrierAligner::onClosed(int ch) {
  closed_[static_cast<std::size_t>(ch)] = true;
  gate_.setBlocked(ch, false);
  if (!current_) return std::nullopt;
  return completeIfAligned();
}

void BarrierAligner::abort(std::int64_t id) {
  if (current_ && current_->id == id) {
    lastDone_ = id;
    release();
  }
}

std::optional<CheckpointBarrier> BarrierAligner::completeIfAligned() {
  for (std::size_t c = 0; c < seen_.size(); ++c)
    if (!seen_[c] && !closed_[c]) return std::nullopt;
  const CheckpointBarrier done = *current_;
  lastDone_ = done.id;
  release();
  return done;
}

void BarrierAligner::release() {
  for (std::size_t c = 0; c < seen_.size(); ++c) {
    seen_[c] = false;
    if (exactlyOnce_) gate_.setBlocked(static_cast<int>(c), false);
  }
  current_.reset();
  startNs_ = 0;
}

}  // namespace weir
