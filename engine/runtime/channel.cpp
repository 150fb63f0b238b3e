#include "runtime/channel.h"

#include <algorithm>

namespace weir {

InputGate::InputGate(int channels, int capacity)
    : queues_(static_cast<std::size_t>(channels)), blocked_(static_cast<std::size_t>(channels), false),
      capacity_(std::max(1, capacity)) {}

std::int64_t InputGate::push(int ch, StreamElement element) {
  std::unique_lock lock(mu_);
  auto& q = queues_[static_cast<std::size_t>(ch)];
  std::int64_t blockedNs = 0;
  if (static_cast<int>(q.size()) >= capacity_ && !canceled_) {
    auto start = std::chrono::steady_clock::now();
    ++waitingProducers_;
    spaceReady_.wait(lock, [&] { return canceled_ || static_cast<int>(q.size()) < capacity_; });
    --waitingProducers_;
    blockedNs = std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::steady_clock::now() - start).count();
  }
  if (canceled_) throw ChannelCanceled{};
  append(ch, std::move(element), lock);
  return blockedNs;
}

void InputGate::append(int ch, StreamElement&& element, std::unique_lock<std::mutex>& lock) {
  auto& q = queues_[static_cast<std::size_t>(ch)];
  const bool wake = ready_ == 0 && !blocked_[static_cast<std::size_t>(ch)];
  q.push_back(std::move(element));
  ++total_;
  if (!blocked_[static_cast<std::size_t>(ch)]) ++ready_;
  maxSeen_ = std::max(maxSeen_, static_cast<int>(q.size()));
  lock.unlock();
  if (wake) dataReady_.notify_one();
}

bool InputGate::tryPush(int ch, StreamElement& element) {
  std::unique_lock lock(mu_);
  if (canceled_) throw ChannelCanceled{};
  auto& q = queues_[static_cast<std::size_t>(ch)];
  if (static_cast<int>(q.size()) >= capacity_) return false;
  append(ch, std::move(element), lock);
  return true;
}

std::optional<InputGate::Next> InputGate::next(std::chrono::nanoseconds timeout) {
  std::unique_lock lock(mu_);
  if (ready_ == 0 && !canceled_ && !interrupted_) {
    dataReady_.wait_for(lock, timeout, [&] { return canceled_ || interrupted_ || ready_ > 0; });
  }
  if (canceled_) throw ChannelCanceled{};
  if (interrupted_) {
    interrupted_ = false;
    return std::nullopt;
  }
  if (ready_ == 0) return std::nullopt;
  const int n = numChannels();
  for (int i = 0; i < n; ++i) {
    const int ch = (nextChannel_ + i) % n;
    auto& q = queues_[static_cast<std::size_t>(ch)];
    if (q.empty() || blocked_[static_cast<std::size_t>(ch)]) continue;
    const bool wasFull = static_cast<int>(q.size()) >= capacity_;
    Next result{ch, std::move(q.front())};
    q.pop_front();
    --total_;
    --ready_;
    // Stay on a channel while it has data in a row? No: rotate, so every producer
    // gets its share of the consumer and none is starved behind a busy one.
    nextChannel_ = (ch + 1) % n;
    const bool wake = wasFull && waitingProducers_ > 0;
    lock.unlock();
    // Several producers of different channels may wait on the one condition variable.
    if (wake) spaceReady_.notify_all();
    if (onTake_) onTake_(ch);
    return result;
  }
  return std::nullopt;  // unreachable: ready_ > 0 means some unblocked queue has an element
}

void InputGate::setBlocked(int ch, bool blocked) {
  std::unique_lock lock(mu_);
  auto b = blocked_[static_cast<std::size_t>(ch)];
  if (b == blocked) return;
  blocked_[static_cast<std::size_t>(ch)] = blocked;
  const int n = static_cast<int>(queues_[static_cast<std::size_t>(ch)].size());
  ready_ += blocked ? -n : n;
}

bool InputGate::isBlocked(int ch) const {
  std::lock_guard lock(mu_);
  return blocked_[static_cast<std::size_t>(ch)];
}

void InputGate::interrupt() {
  {
    std::lock_guard lock(mu_);
    interrupted_ = true;
  }
  dataReady_.notify_all();
}

void InputGate::cancel() {
  {
    std::lock_guard lock(mu_);
    canceled_ = true;
  }
  dataReady_.notify_all();
  spaceReady_.notify_all();
}

int InputGate::queued() const {
  std::lock_guard lock(mu_);
  return total_;
}

int InputGate::maxQueuedSeen() const {
  std::lock_guard lock(mu_);
  return maxSeen_;
}

double InputGate::usage() const {
  std::lock_guard lock(mu_);
  std::size_t fullest = 0;
  for (const auto& q : queues_) fullest = std::max(fullest, q.size());
  return static_cast<double>(fullest) / capacity_;
}

}  // namespace weir
