#pragma once
// Channels: how stream elements (record batches and in-band events) travel from one
// producing subtask to one consuming subtask, in order, with a bound on what is queued.
//
// The consumer side is an InputGate: it owns one bounded queue per input channel of a
// subtask and hands the subtask the next element from any channel that has one (round
// robin, so no channel starves). The producer side is a ChannelWriter:
//   - LocalChannelWriter (this file) pushes straight into the gate's queue of a subtask in
//     the same process and blocks while that queue is full;
//   - engine/net adds a network writer that serializes elements into frames, and a
//     network reader that calls InputGate::tryPush when data arrives, with the queue's free
//     space as the channel's credit (setOnTake tells it when a slot frees).
//
// Bounds: a queue holds at most `capacity` elements (batches are themselves bounded by
// the sources' batch_size), so memory between two subtasks is bounded; a full queue
// blocks its producer, which is backpressure, and is measured as such.
//
// Threading: push() from producer threads, next() from the consumer's thread, cancel()
// from anywhere. All of them take the gate's one mutex for a few instructions.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "core/stream_element.h"

namespace weir {

/// Thrown by blocking channel calls once the job is canceled; the task loop catches it.
struct ChannelCanceled {};

class InputGate {
 public:
  /// `channels` queues of at most `capacity` elements each.
  InputGate(int channels, int capacity);
  InputGate(const InputGate&) = delete;
  InputGate& operator=(const InputGate&) = delete;

  int numChannels() const { return static_cast<int>(queues_.size()); }
  int capacity() const { return capacity_; }

  /// Appends an element to channel `ch`, waiting while its queue is full. Returns the
  /// nanoseconds spent waiting (backpressure). Throws ChannelCanceled after cancel().
  std::int64_t push(int ch, StreamElement element);
  /// Appends without waiting; false when the queue is full (network readers use this
  /// with credits, so it should not happen there).
  bool tryPush(int ch, StreamElement& element);

  struct Next {
    int channel;
    StreamElement element;
  };
  /// The next element of any channel, waiting up to `timeout` for one; nullopt on
  /// timeout. Throws ChannelCanceled after cancel().
  std::optional<Next> next(std::chrono::nanoseconds timeout);

  /// Called by next(), on the consumer's thread and without the gate's lock, after it
  /// took an element from channel `ch`: a network receiver turns the freed slot into a
  /// credit for that channel's remote producer. Set before the gate is used; must not
  /// block. Empty (the default) costs one branch.
  void setOnTake(std::function<void(int ch)> onTake) { onTake_ = std::move(onTake); }

  /// Wakes every waiter; from now on push/next throw ChannelCanceled.
  void cancel();

  /// Blocks or unblocks channel `ch` (consumer's thread): next() skips a blocked channel,
  /// whose elements wait in its queue (and, once it is full, hold back its producer),
  /// while the other channels flow. Barrier alignment blocks a channel that delivered a
  /// checkpoint's barrier until every channel has (runtime/barriers.h).
  void setBlocked(int ch, bool blocked);
  bool isBlocked(int ch) const;
  /// Makes a waiting (or the next) next() return nullopt at once: the subtask's mailbox
  /// wakes its thread this way when mail arrives (runtime/mailbox.h). Any thread.
  void interrupt();

  /// Elements queued now on every channel together, and the most ever queued on one
  /// channel (tests assert it never exceeds capacity).
  int queued() const;
  int maxQueuedSeen() const;
  /// Usage 0..1 of the fullest channel (metrics: input buffer usage).
  double usage() const;

 private:
  /// Appends under `lock` (held), then releases it and wakes the consumer if it may wait.
  void append(int ch, StreamElement&& element, std::unique_lock<std::mutex>& lock);

  mutable std::mutex mu_;
  std::condition_variable dataReady_;
  std::condition_variable spaceReady_;
  std::vector<std::deque<StreamElement>> queues_;
  std::vector<bool> blocked_;
  int capacity_;
  int ready_ = 0;           // elements queued on channels that are not blocked
  bool interrupted_ = false;
  int nextChannel_ = 0;     // round robin start
  int total_ = 0;
  int maxSeen_ = 0;
  bool canceled_ = false;
  int waitingProducers_ = 0;
  std::function<void(int)> onTake_;
};

/// The producing end of one channel.
class ChannelWriter {
 public:
  virtual ~ChannelWriter() = default;
  /// Sends an element; may block (backpressure). Returns nanoseconds spent blocked.
  virtual std::int64_t write(StreamElement element) = 0;
  /// Usage 0..1 of the receiving queue, when known (metrics: output buffer usage).
  virtual double usage() const = 0;
};

class LocalChannelWriter final : public ChannelWriter {
 public:
  LocalChannelWriter(InputGate& gate, int channel) : gate_(gate), channel_(channel) {}
  std::int64_t write(StreamElement element) override { return gate_.push(channel_, std::move(element)); }
  double usage() const override { return gate_.usage(); }

 private:
  InputGate& gate_;
  int channel_;
};

}  // namespace weir
