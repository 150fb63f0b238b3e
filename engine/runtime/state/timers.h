#pragma once
// TimerService: event-time and processing-time timers per key and namespace (Flink's
// InternalTimerService), for windows and joins.
//
// A timer is (time, key, namespace). Registering the same timer twice keeps one.
// Event-time timers fire when the watermark reaches their time (time <= watermark),
// processing-time timers when the clock does; both in time order, ties in the order of
// (key hash, key bytes, namespace): the key's partitioning hash and encoded bytes, never
// its KeyId, so the firing order depends neither on the order keys arrived in nor on the
// process (a restored operator fires ties in the same order as the one that took the
// snapshot). A callback may register new timers; one that is already due fires in the
// same advance. Deleting a timer that has not fired cancels it.
//
// State: the service is a KeyedTable of the operator's state backend, registered by name
// in open() (backend.table<TimerService<N>>("timers", ...)), so a checkpoint writes a key
// group's timers with the rest of its state and a rescaled job hands them over with their
// group. A timer holds a reference to its key (KeyDictionary::retain) until it fires or is
// deleted, so a key id a timer names is never reused for another key meanwhile.
//
// Snapshot of a key group (snapshotGroup): u32 count, then per timer u8 domain (0 event
// time, 1 processing time), i64 time, key bytes, namespace (StateCodec<N>).
//
// Processing time is driven from outside: the operator exposes nextProcessingTime() as
// its Operator::processingDeadline and calls advanceProcessingTime from
// onProcessingTime (operator.h), so timers fire on the subtask's thread.
//
// Cost: a timer is a node of a std::set ordered as above (register, delete and fire are
// O(log n)); the hash is kept in the timer, so comparing two timers reads no other memory
// unless two keys' 64-bit hashes are equal.
//
// N is the namespace type (a window {start, end}; std::int64_t for plain uses); it needs
// operator< and a StateCodec<N> (runtime/state/state_codec.h). Threading: one service per
// operator instance, its subtask's thread only.

#include <cstdint>
#include <set>
#include <vector>

#include "runtime/state/group_buckets.h"
#include "runtime/state/keyed_state.h"

namespace weir {

template <class N>
class TimerService final : public KeyedTable {
 public:
  struct Timer {
    std::int64_t time;
    std::uint64_t hash;  // the key's (KeyDictionary::hash)
    KeyId key;
    N ns;
  };

  explicit TimerService(KeyDictionary& keys)
      : keys_(keys), eventTime_(Order{&keys}), processingTime_(Order{&keys}),
        perGroup_(static_cast<std::size_t>(keys.maxParallelism()), 0) {}

  void registerEventTimeTimer(KeyId key, const N& ns, std::int64_t time) { add(eventTime_, key, ns, time); }
  void deleteEventTimeTimer(KeyId key, const N& ns, std::int64_t time) { remove(eventTime_, key, ns, time); }
  void registerProcessingTimeTimer(KeyId key, const N& ns, std::int64_t time) { add(processingTime_, key, ns, time); }
  void deleteProcessingTimeTimer(KeyId key, const N& ns, std::int64_t time) { remove(processingTime_, key, ns, time); }

  /// Fires fn(timer) for every event-time timer with time <= watermark, in order.
  template <class F>
  void advanceWatermark(std::int64_t watermark, F&& fn) {
    fire(eventTime_, watermark, fn);
  }
  /// Fires fn(timer) for every processing-time timer with time <= nowMs, in order.
  template <class F>
  void advanceProcessingTime(std::int64_t nowMs, F&& fn) {
    fire(processingTime_, nowMs, fn);
  }

  /// The earliest processing-time timer, or INT64_MAX.
  std::int64_t nextProcessingTime() const {
    return processingTime_.empty() ? INT64_MAX : processingTime_.begin()->time;
  }
  std::size_t numEventTimeTimers() const { return eventTime_.size(); }
  std::size_t numProcessingTimeTimers() const { return processingTime_.size(); }

  // KeyedTable
  std::size_t size() const override { return eventTime_.size() + processingTime_.size(); }
  std::size_t sizeOfGroup(int group) const override { return perGroup_[static_cast<std::size_t>(group)]; }
  void clearGroup(int group) override {
    for (auto* timers : {&eventTime_, &processingTime_})
      for (auto it = timers->begin(); it != timers->end();) {
        if (keys_.keyGroup(it->key) != group) {
          ++it;
          continue;
        }
        keys_.release(it->key);
        it = timers->erase(it);
      }
    perGroup_[static_cast<std::size_t>(group)] = 0;
    buckets_.changed();
  }
  void snapshotGroup(int group, ByteWriter& out) const override {
    const auto& timers = buckets_.of(group, keys_.maxParallelism(), [&](auto add) {
      for (const Timer& t : eventTime_) add(keys_.keyGroup(t.key), std::pair{std::uint8_t{0}, &t});
      for (const Timer& t : processingTime_) add(keys_.keyGroup(t.key), std::pair{std::uint8_t{1}, &t});
    });
    out.u32(static_cast<std::uint32_t>(timers.size()));
    for (const auto& [domain, t] : timers) {
      out.u8(domain);
      out.i64(t->time);
      out.bytes(keys_.bytes(t->key));
      StateCodec<N>::write(out, t->ns);
    }
  }
  void restoreGroup(int group, ByteReader& in) override {
    const std::uint32_t n = readCount(in);
    struct Read {
      std::uint8_t domain;
      std::int64_t time;
      N ns;
    };
    std::vector<std::string_view> keyBytes;
    std::vector<Read> read;
    for (std::uint32_t i = 0; i < n; ++i) {
      const std::uint8_t domain = in.u8();
      if (domain > 1) in.fail("a timer's domain is " + std::to_string(domain));
      const std::int64_t time = in.i64();
      keyBytes.push_back(in.bytes());
      read.push_back(Read{domain, time, StateCodec<N>::read(in)});
    }
    std::vector<KeyId> ids;
    keys_.internEncoded(keyBytes, group, in, ids);
    for (std::uint32_t i = 0; i < n; ++i)
      if (!add(read[i].domain == 0 ? eventTime_ : processingTime_, ids[i], read[i].ns, read[i].time))
        in.fail("timer " + std::to_string(i) + " is there twice");
  }

 private:
  struct Order {
    const KeyDictionary* keys;
    bool operator()(const Timer& a, const Timer& b) const {
      if (a.time != b.time) return a.time < b.time;
      if (a.key != b.key) {
        if (a.hash != b.hash) return a.hash < b.hash;
        return keys->bytes(a.key) < keys->bytes(b.key);  // two keys of one 64-bit hash
      }
      return a.ns < b.ns;
    }
  };
  using Set = std::set<Timer, Order>;

  bool add(Set& timers, KeyId key, const N& ns, std::int64_t time) {
    if (!timers.insert(Timer{time, keys_.hash(key), key, ns}).second) return false;
    keys_.retain(key);
    ++perGroup_[static_cast<std::size_t>(keys_.keyGroup(key))];
    buckets_.changed();
    return true;
  }
  void remove(Set& timers, KeyId key, const N& ns, std::int64_t time) {
    if (timers.erase(Timer{time, keys_.hash(key), key, ns}) == 0) return;
    --perGroup_[static_cast<std::size_t>(keys_.keyGroup(key))];
    buckets_.changed();
    keys_.release(key);
  }

  template <class F>
  void fire(Set& timers, std::int64_t upTo, F& fn) {
    while (!timers.empty() && timers.begin()->time <= upTo) {
      const Timer t = *timers.begin();
      timers.erase(timers.begin());
      --perGroup_[static_cast<std::size_t>(keys_.keyGroup(t.key))];
      buckets_.changed();
      fn(t);
      keys_.release(t.key);  // after the callback: the key stays valid while it runs
    }
  }

  KeyDictionary& keys_;
  Set eventTime_;
  Set processingTime_;
  std::vector<std::size_t> perGroup_;  // timers per key group (all maxParallelism groups)
  GroupBuckets<std::pair<std::uint8_t, const Timer*>> buckets_;  // by key group, for snapshots
};

}  // namespace weir
