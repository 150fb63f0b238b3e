#pragma once
// TimerService: event-time and processing-time timers per key and namespace (Flink's
// InternalTimerService), for windows and joins.
//
// A timer is (time, key, namespace). Registering the same timer twice keeps one.
// Event-time timers fire when the watermark reaches their time (time <= watermark),
// processing-time timers when the clock does; both in time order, ties in (key, namespace)
// order, so the firing order never depends on arrival order. A callback may register new
// timers; one that is already due fires in the same advance. Deleting a timer that has not
// fired cancels it.
//
// Key groups: each timer remembers its key's group, so the checkpoint issue can snapshot
// timers per group (timersOfGroup) as it does state.
//
// Processing time is driven from outside: the operator exposes nextProcessingTime() as
// its Operator::processingDeadline and calls advanceProcessingTime from
// onProcessingTime (operator.h), so timers fire on the subtask's thread.
//
// N is the namespace type (a window {start, end}; std::int64_t for plain uses); it needs
// operator<. Threading: one service per operator instance, its subtask's thread only.

#include <cstdint>
#include <set>

#include "runtime/state/key_dictionary.h"

namespace weir {

template <class N>
class TimerService {
 public:
  struct Timer {
    std::int64_t time;
    KeyId key;
    N ns;
    int keyGroup;
    bool operator<(const Timer& o) const {
      if (time != o.time) return time < o.time;
      if (key != o.key) return key < o.key;
      return ns < o.ns;
    }
  };

  void registerEventTimeTimer(KeyId key, int keyGroup, const N& ns, std::int64_t time) {
    eventTime_.insert(Timer{time, key, ns, keyGroup});
  }
  void deleteEventTimeTimer(KeyId key, const N& ns, std::int64_t time) {
    eventTime_.erase(Timer{time, key, ns, 0});
  }
  void registerProcessingTimeTimer(KeyId key, int keyGroup, const N& ns, std::int64_t time) {
    processingTime_.insert(Timer{time, key, ns, keyGroup});
  }
  void deleteProcessingTimeTimer(KeyId key, const N& ns, std::int64_t time) {
    processingTime_.erase(Timer{time, key, ns, 0});
  }

  /// Fires fn(timer) for every event-time timer with time <= watermark, in order.
  template <class F>
  void advanceWatermark(std::int64_t watermark, F&& fn) {
    if (watermark > watermark_) watermark_ = watermark;
    fire(eventTime_, watermark, fn);
  }
  /// Fires fn(timer) for every processing-time timer with time <= nowMs, in order.
  template <class F>
  void advanceProcessingTime(std::int64_t nowMs, F&& fn) {
    fire(processingTime_, nowMs, fn);
  }

  std::int64_t currentWatermark() const { return watermark_; }
  /// The earliest processing-time timer, or INT64_MAX.
  std::int64_t nextProcessingTime() const {
    return processingTime_.empty() ? INT64_MAX : processingTime_.begin()->time;
  }
  std::size_t numEventTimeTimers() const { return eventTime_.size(); }
  std::size_t numProcessingTimeTimers() const { return processingTime_.size(); }
  /// Timers of key group `group` (snapshots), event time then processing time.
  template <class F>
  void forEachTimerOfGroup(int group, F&& fn) const {
    for (const Timer& t : eventTime_)
      if (t.keyGroup == group) fn(t, true);
    for (const Timer& t : processingTime_)
      if (t.keyGroup == group) fn(t, false);
  }

 private:
  template <class F>
  static void fire(std::set<Timer>& timers, std::int64_t upTo, F& fn) {
    while (!timers.empty() && timers.begin()->time <= upTo) {
      const Timer t = *timers.begin();
      timers.erase(timers.begin());
      fn(t);
    }
  }

  std::set<Timer> eventTime_;
  std::set<Timer> processingTime_;
  std::int64_t watermark_ = INT64_MIN;
};

}  // namespace weir
