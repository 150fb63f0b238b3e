// window: keyed tumbling, sliding and session windows on event time (or processing time),
// with incremental aggregates (operators/aggregates.h), allowed lateness and a late port.
//
// Semantics follow Flink's WindowOperator with its EventTimeTrigger:
//   - assignment: tumbling [k*size, (k+1)*size); sliding: every window of `size` starting
//     at a multiple of `slide` that contains the record; session: [t, t + gap), merged
//     with every session of the key it touches (Flink's TimeWindow.intersects, so windows
//     that meet end to start merge too);
//   - a window fires when the watermark reaches its maxTimestamp = end - 1; the result's
//     event time is end - 1;
//   - a window is late when end - 1 + allowed_lateness <= watermark: it is not updated;
//     a record all of whose windows are late goes to port `late` (counted in
//     OperatorCounters::lateRecords), never silently dropped;
//   - a record for a window that already fired, within the lateness, fires it again at
//     once: the earlier result is retracted (-U) and the new one emitted (+U). When a late
//     record merges sessions that had fired, each of them is deleted (-D, its bounds no
//     longer exist) and the merged session inserted (+I) when it fires. So with
//     allowed_lateness_ms > 0 the output is an update stream (the planner makes file
//     sinks write their `op` column);
//   - state of a window is dropped when the watermark reaches end - 1 + lateness (with no
//     lateness: right after it fires).
// Processing time (window.time = processing): a record's time is the processing-time clock
// when it arrives (the backend's, KeyedStateBackend::now(): the wall clock, or a test's); windows fire on the clock (processing-time timers through the task loop's
// deadline hook, operator.h); no lateness; at the end of the input the open windows fire.
// Batch mode (ctx.batchMode, job "mode": "batch", event time only): every source is
// bounded, so nothing is late and nothing needs to fire early. Records are accumulated per
// (key, window) exactly as in streaming (sessions merged the same way) but no timers are
// registered and watermarks are not passed on; at the end of the input (the maximum
// watermark, or finish() if that never came) every window emits its final result once,
// as +I with event time end - 1, then the maximum watermark follows. allowed_lateness_ms
// plays no part. With allowed_lateness_ms = 0 and no late records the rows equal
// streaming mode's (tests/test_windows.cpp compares them); a record that streaming would
// send to `late` counts in batch mode. A record without event time still goes to `late`.
// Watermarks still serve one purpose (tumbling and sliding windows): a window the
// watermark has passed is frozen (freeze()): taken out of the table, its key released,
// its accumulators kept encoded (encodeAcc) and its result row built at once, while the
// input still runs. So the table that every record looks up holds only the open windows,
// as in streaming mode (the frozen windows still take memory to the end, about 120 bytes
// each with their rows), and the end of the input only sends the rows built already. A record that comes for a
// frozen window (input later than the sources' bound) goes into a new slot, and at the
// end all rows are rebuilt from the frozen accumulators with those slots folded in.
// Order of the rows: by window end; within one end, the frozen windows in the order of
// their first records, then the others (sessions, windows that only such late records
// reached) by start and key. The same input at parallelism 1 gives the same order.
//
// State: two tables of the operator's keyed backend: "windows" (WindowTable, a custom
// KeyedTable): window slots indexed by (key id, window start), each with one accumulator
// per aggregate; and "timers" (runtime/state/timers.h) per (key, window). Both are written
// per key group at a checkpoint; the operator state is the input watermark. Derived, and
// rebuilt on restore: for sessions, each key's sessions ordered by start (they never
// overlap, so also by end), so a record finds the sessions it touches with one ordered
// lookup however many a key holds. A batch is processed
// column by column: key hashes (hashKeys) and key ids once per batch, then the slot of
// every (record, window) pair, then one tight loop per aggregate over those pairs.

#include <algorithm>
#include <cstring>
#include <deque>
#include <memory>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "runtime/operators/aggregates.h"
#include "runtime/partition.h"
#include "runtime/registry.h"
#include "runtime/state/group_buckets.h"
#include "runtime/state/flat_index.h"
#include "runtime/state/timers.h"
#include "runtime/state/watermark_state.h"
#include "runtime/time_math.h"
#include "runtime/watermarks.h"

namespace weir {
namespace {

constexpr std::uint32_t kNoSlot = UINT32_MAX;

struct WindowNs {
  std::int64_t start;
  std::int64_t end;
  bool cleanup;  // false: fire at end - 1; true: drop state at end - 1 + lateness
  bool operator<(const WindowNs& o) const {
    if (start != o.start) return start < o.start;
    if (end != o.end) return end < o.end;
    return cleanup < o.cleanup;
  }
};

}  // namespace

/// A window timer's namespace in snapshots: i64 start, i64 end, u8 cleanup.
template <>
struct StateCodec<WindowNs> {
  static void write(ByteWriter& w, const WindowNs& ns) {
    w.i64(ns.start);
    w.i64(ns.end);
    w.boolean(ns.cleanup);
  }
  static WindowNs read(ByteReader& r) {
    WindowNs ns{};
    ns.start = r.i64();
    ns.end = r.i64();
    ns.cleanup = r.boolean();
    return ns;
  }
};

namespace {

/// The operator's keyed state: window slots and their accumulators.
///
/// Snapshot of a key group: u32 number of windows, then per window key bytes, i64 start,
/// i64 end, u8 fired (its result went out: a later record updates it, -U/+U), and one
/// accumulator per aggregate (writeAcc, in the order of `aggregates`).
class WindowTable final : public KeyedTable {
 public:
  struct Slot {
    KeyId key = kNoKey;
    std::int64_t start = 0, end = 0;
    bool fired = false;
  };

  WindowTable(KeyDictionary& keys, std::vector<AggSpec> aggs)
      : keys_(keys), specs_(std::move(aggs)), aggs_(specs_.size()),
        perGroup_(static_cast<std::size_t>(keys.maxParallelism()), 0) {}

  std::uint32_t find(KeyId key, std::int64_t start) const { return index_.find(KeyTime{key, start}); }
  /// Starts loading what find(key, start) reads first.
  void prefetch(KeyId key, std::int64_t start) const { index_.prefetch(KeyTime{key, start}); }
  std::uint32_t create(KeyId key, std::int64_t start, std::int64_t end) {
    std::uint32_t s;
    if (!free_.empty()) {
      s = free_.back();
      free_.pop_back();
    } else {
      s = static_cast<std::uint32_t>(slots_.size());
      slots_.emplace_back();
      accs_.resize(accs_.size() + aggs_);
    }
    slots_[s] = Slot{key, start, end, false};
    index_.tryEmplace(KeyTime{key, start}, s);
    keys_.retain(key);
    ++perGroup_[static_cast<std::size_t>(keys_.keyGroup(key))];
    buckets_.changed();
    ++live_;
    return s;
  }
  void erase(std::uint32_t s) {
    Slot& slot = slots_[s];
    index_.erase(KeyTime{slot.key, slot.start});
    --perGroup_[static_cast<std::size_t>(keys_.keyGroup(slot.key))];
    buckets_.changed();
    keys_.release(slot.key);
    for (std::size_t a = 0; a < aggs_; ++a) accs_[s * aggs_ + a] = Acc{};
    slot.key = kNoKey;
    free_.push_back(s);
    --live_;
  }
  /// Changes a slot's bounds (a session that grew by merging).
  void rebound(std::uint32_t s, std::int64_t start, std::int64_t end) {
    Slot& slot = slots_[s];
    if (start != slot.start) {
      index_.erase(KeyTime{slot.key, slot.start});
      index_.tryEmplace(KeyTime{slot.key, start}, s);
    }
    slot.start = start;
    slot.end = end;
  }
  Slot& slot(std::uint32_t s) { return slots_[s]; }
  Acc* accs(std::uint32_t s) { return accs_.data() + s * aggs_; }
  std::vector<Acc>& allAccs() { return accs_; }
  /// Appends the index of every live slot to `out`.
  void liveSlots(std::vector<std::uint32_t>& out) const {
    for (std::uint32_t s = 0; s < slots_.size(); ++s)
      if (slots_[s].key != kNoKey) out.push_back(s);
  }

  std::size_t size() const override { return live_; }
  std::size_t sizeOfGroup(int group) const override { return perGroup_[static_cast<std::size_t>(group)]; }
  void clearGroup(int group) override {
    for (std::uint32_t s = 0; s < slots_.size(); ++s)
      if (slots_[s].key != kNoKey && keys_.keyGroup(slots_[s].key) == group) erase(s);
  }
  void snapshotGroup(int group, ByteWriter& out) const override {
    const auto& slots = buckets_.of(group, keys_.maxParallelism(), [&](auto add) {
      for (std::uint32_t s = 0; s < slots_.size(); ++s)
        if (slots_[s].key != kNoKey) add(keys_.keyGroup(slots_[s].key), s);
    });
    out.u32(static_cast<std::uint32_t>(slots.size()));
    for (std::uint32_t s : slots) {
      const Slot& slot = slots_[s];
      out.bytes(keys_.bytes(slot.key));
      out.i64(slot.start);
      out.i64(slot.end);
      out.boolean(slot.fired);
      writeAccs(specs_, accs_.data() + s * aggs_, out);
    }
  }
  void restoreGroup(int group, ByteReader& in) override {
    const std::uint32_t n = readCount(in);
    std::vector<std::string_view> keyBytes;
    std::vector<Slot> read;
    std::vector<Acc> accs(static_cast<std::size_t>(n) * aggs_);
    for (std::uint32_t i = 0; i < n; ++i) {
      keyBytes.push_back(in.bytes());
      Slot slot;
      slot.start = in.i64();
      slot.end = in.i64();
      slot.fired = in.boolean();
      if (slot.end <= slot.start) in.fail("window " + std::to_string(i) + " ends before it starts");
      read.push_back(slot);
      readAccs(specs_, in, accs.data() + i * aggs_);
    }
    std::vector<KeyId> ids;
    keys_.internEncoded(keyBytes, group, in, ids);
    for (std::uint32_t i = 0; i < n; ++i) {
      if (find(ids[i], read[i].start) != kNoSlot) in.fail("window " + std::to_string(i) + " is there twice");
      const std::uint32_t s = create(ids[i], read[i].start, read[i].end);
      slots_[s].fired = read[i].fired;
      for (std::size_t a = 0; a < aggs_; ++a) accs_[s * aggs_ + a] = std::move(accs[i * aggs_ + a]);
    }
  }
  /// Drops every slot at once (batch mode's end), releasing their keys.
  void clearAll() {
    for (const Slot& s : slots_)
      if (s.key != kNoKey) keys_.release(s.key);
    std::vector<Slot>().swap(slots_);
    std::vector<Acc>().swap(accs_);
    std::vector<std::uint32_t>().swap(free_);
    index_.clear();
    std::fill(perGroup_.begin(), perGroup_.end(), 0);
    buckets_.changed();
    live_ = 0;
  }

 private:
  KeyDictionary& keys_;
  std::vector<AggSpec> specs_;
  std::size_t aggs_;
  std::vector<Slot> slots_;
  std::vector<Acc> accs_;
  std::vector<std::uint32_t> free_;
  FlatIndex<KeyTime, KeyTimeHash> index_;  // (key id, window start) -> slot
  std::vector<std::size_t> perGroup_;      // live slots per key group
  GroupBuckets<std::uint32_t> buckets_;    // slots by key group, for snapshots
  std::size_t live_ = 0;
};

enum class WindowType { Tumbling, Sliding, Session };

/// Batch mode: a window the watermark has passed, kept to the end of the input.
struct Frozen {
  std::int64_t start, end;
  std::uint64_t hash;  // its key's
  // Its key's encoded bytes (KeyDictionary), then its accumulators (encodeAcc), in a
  // ByteArena.
  const char* bytes;
  std::uint32_t keySize, accsSize;
  std::string_view key() const { return {bytes, keySize}; }
  std::string_view accs() const { return {bytes + keySize, accsSize}; }
};

/// Append-only bytes in chunks that never move, so what append() returns stays valid
/// until clear(); no copying as it grows, unlike one std::string.
class ByteArena {
 public:
  std::string_view append(std::string_view b) {
    if (room_ < b.size()) {
      const std::size_t size = std::max(kChunk, b.size());
      chunks_.push_back(std::make_unique_for_overwrite<char[]>(size));
      next_ = chunks_.back().get();
      room_ = size;
    }
    char* at = next_;
    std::memcpy(at, b.data(), b.size());
    next_ += b.size();
    room_ -= b.size();
    return {at, b.size()};
  }
  void clear() {
    chunks_.clear();
    next_ = nullptr;
    room_ = 0;
  }

 private:
  static constexpr std::size_t kChunk = 1 << 20;
  std::vector<std::unique_ptr<char[]>> chunks_;
  char* next_ = nullptr;
  std::size_t room_ = 0;
};

class WindowOperator final : public Operator {
 public:
  explicit WindowOperator(const OperatorContext& ctx) {
    const auto& p = ctx.params;
    const Schema& in = *ctx.inputSchemas.at(0);
    for (const auto& k : p.value("key", nlohmann::json::array())) {
      const int i = in.indexOf(k.get<std::string>());
      if (i < 0) throw JobError("key: no field '" + k.get<std::string>() + "'");
      keyFields_.push_back(i);
      keyTypes_.push_back(in.field(static_cast<std::size_t>(i)).type);
    }
    const auto& w = p.at("window");
    const std::string type = w.at("type").get<std::string>();
    type_ = type == "tumbling" ? WindowType::Tumbling : type == "sliding" ? WindowType::Sliding
                                                                         : WindowType::Session;
    size_ = w.value("size_ms", std::int64_t{0});
    slide_ = type_ == WindowType::Sliding ? w.value("slide_ms", size_) : size_;
    if (type_ == WindowType::Session) size_ = slide_ = 1;  // unused
    gap_ = w.value("gap_ms", std::int64_t{0});
    processingTime_ = w.value("time", std::string("event")) == "processing";
    lateness_ = processingTime_ ? 0 : p.value("allowed_lateness_ms", std::int64_t{0});
    if ((type_ != WindowType::Session && size_ <= 0) || slide_ <= 0 ||
        (type_ == WindowType::Session && gap_ <= 0))
      throw JobError("window: size_ms, slide_ms and gap_ms must be positive");
    aggs_ = parseAggregates(p.at("aggregates"), in);
    output_ = ctx.outputSchemas.at(0);
    batchMode_ = ctx.batchMode && !processingTime_;
    if (batchMode_) lateness_ = 0;
  }

  void open(OperatorContext& ctx) override {
    Operator::open(ctx);
    backend_ = &ctx.keyedState(keyTypes_);
    KeyDictionary& keys = backend_->keys();
    table_ = &backend_->table<WindowTable>("windows",
                                           [&] { return std::make_unique<WindowTable>(keys, aggs_); });
    timers_ = &backend_->table<TimerService<WindowNs>>(
        "timers", [&keys] { return std::make_unique<TimerService<WindowNs>>(keys); });
    builder_ = std::make_unique<BatchBuilder>(output_, 1024);
    if (batchMode_) frozenRows_ = std::make_unique<BatchBuilder>(output_, 1024);
  }

  void processBatch(int, const RecordBatch& batch, Output& out) override {
    const std::size_t n = batch.numRows();
    const std::vector<KeyId>& ids = backend_->keys().internRows(batch, keyFields_);
    pairRows_.clear();
    pairSlots_.clear();
    lateRows_.clear();
    const std::int64_t now = processingTime_ ? backend_->now() : 0;

    if (type_ == WindowType::Session) {
      for (std::size_t r = 0; r < n; ++r) {
        const std::int64_t t = processingTime_ ? now : batch.eventTime(r);
        if (t == kNoTimestamp || (!processingTime_ && !batchMode_ && isLate(t, t + gap_))) {
          lateRows_.push_back(static_cast<std::uint32_t>(r));
          continue;
        }
        addToSession(batch, r, ids[r], t, out);
      }
    } else {
      KeyId lastKey = kNoKey;
      std::int64_t lastStart = 0;
      std::uint32_t lastSlot = kNoSlot;
      // The start of each record's last window first (one division per record), so the
      // slot lookups below can prefetch a few records ahead.
      constexpr std::size_t kAhead = 8;  // rows between a prefetch and its lookup
      lastStarts_.resize(n);
      for (std::size_t r = 0; r < n; ++r) {
        const std::int64_t t = processingTime_ ? now : batch.eventTime(r);
        lastStarts_[r] = t == kNoTimestamp ? kNoTimestamp : lastWindowStart(t, slide_);
      }
      for (std::size_t r = 0; r < n; ++r) {
        if (r + kAhead < n && lastStarts_[r + kAhead] != kNoTimestamp)
          table_->prefetch(ids[r + kAhead], lastStarts_[r + kAhead]);
        const std::int64_t t = processingTime_ ? now : batch.eventTime(r);
        if (t == kNoTimestamp) {
          lateRows_.push_back(static_cast<std::uint32_t>(r));
          continue;
        }
        bool skipped = true;
        const std::int64_t last = lastStarts_[r];
        for (std::int64_t start = last; start > t - size_; start -= slide_) {
          const std::int64_t end = start + size_;
          const bool eventTime = !processingTime_ && !batchMode_;
          if (eventTime && isLate(start, end)) continue;
          skipped = false;
          if (eventTime && end - 1 <= watermark_) {
            // Its window already fired (or is due): the slow path, record by record.
            updateFired(batch, r, ids[r], start, end, out);
            continue;
          }
          std::uint32_t s;
          if (ids[r] == lastKey && start == lastStart) {
            s = lastSlot;
          } else {
            s = table_->find(ids[r], start);
            if (s == kNoSlot) s = createSlot(ids[r], start, end);
            lastKey = ids[r];
            lastStart = start;
            lastSlot = s;
          }
          pairRows_.push_back(static_cast<std::uint32_t>(r));
          pairSlots_.push_back(s);
        }
        if (skipped) lateRows_.push_back(static_cast<std::uint32_t>(r));
      }
      for (std::size_t a = 0; a < aggs_.size(); ++a)
        addBatch(aggs_[a], batch, pairRows_, pairSlots_, table_->allAccs(), aggs_.size(), a);
    }
    flush(out);
    if (!lateRows_.empty()) {
      if (ctx_ && ctx_->counters)
        OperatorCounters::add(ctx_->counters->lateRecords, static_cast<std::int64_t>(lateRows_.size()));
      out.collect(1, batch.select(lateRows_));
    }
    backend_->keys().sweep();
  }

  void processWatermark(Watermark wm, Output& out) override {
    if (batchMode_) {
      // Nothing fires before the end; the results then go out ahead of the maximum
      // watermark, so downstream event-time operators see none of them as late. Windows
      // the watermark passed are frozen meanwhile, so the table stays as small as in
      // streaming mode.
      if (type_ != WindowType::Session && !emittedAll_) {
        freeze(wm.timestamp);
        backend_->keys().sweep();
      }
      if (wm.timestamp == kMaxWatermark && !emittedAll_) {
        emitAll(out);
        out.emitWatermark(wm);
      }
      return;
    }
    if (wm.timestamp > watermark_) watermark_ = wm.timestamp;
    if (!processingTime_) {
      timers_->advanceWatermark(watermark_, [&](const auto& t) { onTimer(t, out); });
      flush(out);
      pruneSessions();
      backend_->keys().sweep();
    }
    out.emitWatermark(wm);
  }

  std::int64_t processingDeadline() const override {
    return processingTime_ ? timers_->nextProcessingTime() : kNoDeadline;
  }

  // Snapshots (docs/fault-tolerance.md, "Keyed state in snapshots"): the windows and the
  // timers are tables of the backend, written per key group by the runtime; the operator
  // state is the input watermark (watermark_state.h). Everything else is derived: the
  // sessions per key are rebuilt from the windows on restore. Emitted rows never wait
  // between elements (every call flushes), so there is nothing pending to write.
  // Batch mode takes no checkpoints, and its frozen windows are not in the table: refused.
  void snapshotState(std::int64_t, ByteWriter& out) override {
    if (batchMode_) throw SnapshotError("window '" + ctx_->nodeId + "': a batch job takes no checkpoints");
    writeWatermarkState(out, watermark_);
  }

  void restoreState(const std::vector<std::string>& states) override {
    watermark_ = restoreWatermarkState(states, "window '" + ctx_->nodeId + "'");
    if (type_ != WindowType::Session) return;
    std::vector<std::uint32_t> live;
    table_->liveSlots(live);
    for (std::uint32_t s : live) {
      const auto& slot = table_->slot(s);
      if (!sessions_[slot.key].emplace(slot.start, s).second)
        throw SnapshotError("window '" + ctx_->nodeId + "': two sessions of one key start together");
    }
  }

  void onProcessingTime(std::int64_t nowMs, Output& out) override {
    timers_->advanceProcessingTime(nowMs, [&](const auto& t) { onTimer(t, out); });
    flush(out);
    pruneSessions();
    backend_->keys().sweep();
  }

  void finish(Output& out) override {
    // Processing-time windows still open at the end of the input fire now, so no result
    // is lost (event-time windows already fired on the maximum watermark).
    if (processingTime_) onProcessingTime(INT64_MAX, out);
    if (batchMode_ && !emittedAll_) emitAll(out);
  }

 private:
  using Timer = TimerService<WindowNs>::Timer;

  bool isLate(std::int64_t /*start*/, std::int64_t end) const {
    return saturatingAdd(end - 1, lateness_) <= watermark_;
  }

  void registerTimers(KeyId key, std::int64_t start, std::int64_t end) {
    if (processingTime_) {
      timers_->registerProcessingTimeTimer(key, WindowNs{start, end, false}, end - 1);
      return;
    }
    timers_->registerEventTimeTimer(key, WindowNs{start, end, false}, end - 1);
    if (lateness_ > 0)
      timers_->registerEventTimeTimer(key, WindowNs{start, end, true}, saturatingAdd(end - 1, lateness_));
  }

  std::uint32_t createSlot(KeyId key, std::int64_t start, std::int64_t end) {
    const std::uint32_t s = table_->create(key, start, end);
    if (!batchMode_) registerTimers(key, start, end);
    else if (end - 1 > frozenUpTo_) bucket(end).push_back(s);  // else: late, kept to the end
    return s;
  }

  /// Batch mode: the live windows that end at `end` (freeze() takes them in end order).
  std::vector<std::uint32_t>& bucket(std::int64_t end) {
    if (lastBucket_ == nullptr || lastBucketEnd_ != end) {
      lastBucket_ = &byEnd_[end];
      lastBucketEnd_ = end;
    }
    return *lastBucket_;
  }

  /// Batch mode (tumbling, sliding): every window with end - 1 <= wm moves out of the
  /// table into frozen_ (so windows go out in end order, and windows of one end in the
  /// order their first records arrived), and its key is released. Its accumulators are
  /// kept, encoded compactly (encodeAcc), not its result: a record for it may still come,
  /// and then goes to a new slot that emitAll() folds into this one.
  void freeze(std::int64_t wm) {
    const KeyDictionary& keys = backend_->keys();
    lastBucket_ = nullptr;  // points into byEnd_, whose nodes go
    while (!byEnd_.empty() && byEnd_.begin()->first - 1 <= wm) {
      // Out of the map first, so that a throw part way (out of memory) leaves no list of
      // slots some of which are gone.
      const std::vector<std::uint32_t> slots = std::move(byEnd_.begin()->second);
      byEnd_.erase(byEnd_.begin());
      for (std::uint32_t s : slots) {
        const auto& slot = table_->slot(s);
        const std::string_view key = keys.bytes(slot.key);
        scratch_.assign(key);
        const Acc* accs = table_->accs(s);
        for (std::size_t a = 0; a < aggs_.size(); ++a) encodeAcc(aggs_[a], accs[a], scratch_);
        appendRow(*frozenRows_, key, slot.start, slot.end, accs, RowKind::Insert);
        if (frozenRows_->numRows() >= 1024) frozenBatches_.push_back(frozenRows_->finish());
        frozen_.push_back(Frozen{slot.start, slot.end, keys.hash(slot.key), frozenBytes_.append(scratch_).data(),
                                 static_cast<std::uint32_t>(key.size()),
                                 static_cast<std::uint32_t>(scratch_.size() - key.size())});
        table_->erase(s);
      }
    }
    frozenUpTo_ = std::max(frozenUpTo_, wm);
  }

  /// Batch mode, at the end of the input: every window's final result, then the state is
  /// dropped. Windows go out in end order; within one end, the frozen windows in freezing
  /// order, then the windows still in the table (sessions, and windows that only records
  /// coming after the watermark had passed them reached) by start and key (hash, then
  /// bytes). So the same input at parallelism 1 always gives the same rows in the same
  /// order. A table slot of a frozen window (its late records) is folded into it.
  void emitAll(Output& out) {
    emittedAll_ = true;
    if (type_ != WindowType::Session) freeze(kMaxWatermark);
    const KeyDictionary& keys = backend_->keys();
    std::vector<std::uint32_t> live;
    table_->liveSlots(live);
    if (live.empty()) {
      // Nothing came late, so the results built while freezing are final: the end of
      // the input only sends them.
      if (frozenRows_->numRows() > 0) frozenBatches_.push_back(frozenRows_->finish());
      for (RecordBatch& b : frozenBatches_) out.collect(0, std::move(b));
      dropState();
      return;
    }
    // Otherwise they are rebuilt from the frozen accumulators, with the late ones folded
    // in.
    std::vector<RecordBatch>().swap(frozenBatches_);
    frozenRows_->finish();
    std::sort(live.begin(), live.end(), [&](std::uint32_t a, std::uint32_t b) {
      const auto& x = table_->slot(a);
      const auto& y = table_->slot(b);
      if (x.end != y.end) return x.end < y.end;
      if (x.start != y.start) return x.start < y.start;
      if (keys.hash(x.key) != keys.hash(y.key)) return keys.hash(x.key) < keys.hash(y.key);
      return keys.bytes(x.key) < keys.bytes(y.key);
    });
    std::unordered_set<std::uint32_t> folded;  // live slots folded into their frozen window
    const std::size_t n = aggs_.size();
    decoded_.resize(n);
    std::size_t f = 0, l = 0;
    while (f < frozen_.size() || l < live.size()) {
      const std::int64_t end = l == live.size() || (f < frozen_.size() && frozen_[f].end <= table_->slot(live[l]).end)
                                   ? frozen_[f].end
                                   : table_->slot(live[l]).end;
      for (; f < frozen_.size() && frozen_[f].end == end; ++f) {
        const Frozen& w = frozen_[f];
        std::string_view in = w.accs();
        for (std::size_t a = 0; a < n; ++a) decodeAcc(aggs_[a], in, decoded_[a]);
        if (!live.empty()) {
          const KeyId id = keys.find(w.key(), w.hash);
          const std::uint32_t s = id == kNoKey ? kNoSlot : table_->find(id, w.start);
          if (s != kNoSlot) {
            Acc* late = table_->accs(s);
            for (std::size_t a = 0; a < n; ++a) mergeAcc(aggs_[a], decoded_[a], late[a]);
            folded.insert(s);
          }
        }
        emitRow(w.key(), w.start, w.end, decoded_.data(), RowKind::Insert, out);
      }
      for (; l < live.size() && table_->slot(live[l]).end == end; ++l)
        if (!folded.contains(live[l])) emitResult(live[l], RowKind::Insert, out);
    }
    flush(out);
    dropState();
  }

  /// Batch mode's end: every window dropped wholesale; the released keys are forgotten by
  /// the dictionary's next sweep (none comes: this is the end), so no per-key unlinking is
  /// paid here.
  void dropState() {
    table_->clearAll();
    sessions_.clear();
    std::deque<Frozen>().swap(frozen_);
    frozenBytes_.clear();
    std::vector<RecordBatch>().swap(frozenBatches_);
    byEnd_.clear();
  }

  void onTimer(const Timer& t, Output& out) {
    const std::uint32_t s = table_->find(t.key, t.ns.start);
    if (s == kNoSlot || table_->slot(s).end != t.ns.end) return;  // merged away or gone
    if (t.ns.cleanup) {
      eraseSlot(s);
      return;
    }
    if (!table_->slot(s).fired) {
      emitResult(s, RowKind::Insert, out);
      table_->slot(s).fired = true;
    }
    if (lateness_ == 0) eraseSlot(s);
  }

  void eraseSlot(std::uint32_t s) {
    table_->erase(s);
    sessionsErased_ = true;
  }

  /// A record for window [start, end) whose end - 1 the watermark has passed, within the
  /// lateness: update and fire again at once.
  void updateFired(const RecordBatch& batch, std::size_t r, KeyId key, std::int64_t start,
                   std::int64_t end, Output& out) {
    std::uint32_t s = table_->find(key, start);
    if (s == kNoSlot) s = createSlot(key, start, end);  // first record of this window
    const bool fired = table_->slot(s).fired;
    if (fired) emitResult(s, RowKind::UpdateBefore, out);
    Acc* accs = table_->accs(s);
    for (std::size_t a = 0; a < aggs_.size(); ++a) addRow(aggs_[a], batch, r, accs[a]);
    emitResult(s, fired ? RowKind::UpdateAfter : RowKind::Insert, out);
    table_->slot(s).fired = true;
  }

  void addToSession(const RecordBatch& batch, std::size_t r, KeyId key, std::int64_t t, Output& out) {
    auto& sessions = sessions_[key];
    std::int64_t start = t, end = t + gap_;
    // Every session of the key that the new one touches merges with it. A key's sessions
    // neither overlap nor touch, so in start order their ends increase too: the touching
    // ones are those just before the first session starting after `end`.
    touching_.clear();
    for (auto it = sessions.upper_bound(end); it != sessions.begin();) {
      --it;
      if (table_->slot(it->second).end < start) break;
      touching_.push_back(it->second);
    }
    std::uint32_t target;
    if (touching_.empty()) {
      target = table_->create(key, start, end);
      sessions.emplace(start, target);
    } else {
      // Merge into the earliest-starting one (touching_ is in descending start order).
      std::reverse(touching_.begin(), touching_.end());
      target = touching_.front();
      for (std::uint32_t s : touching_) {
        start = std::min(start, table_->slot(s).start);
        end = std::max(end, table_->slot(s).end);
      }
      const bool boundsChange = start != table_->slot(target).start || end != table_->slot(target).end ||
                                touching_.size() > 1;
      if (!boundsChange) {
        if (table_->slot(target).fired) {
          emitResult(target, RowKind::UpdateBefore, out);
          Acc* accs = table_->accs(target);
          for (std::size_t a = 0; a < aggs_.size(); ++a) addRow(aggs_[a], batch, r, accs[a]);
          emitResult(target, RowKind::UpdateAfter, out);
          return;
        }
        Acc* accs = table_->accs(target);
        for (std::size_t a = 0; a < aggs_.size(); ++a) addRow(aggs_[a], batch, r, accs[a]);
        return;
      }
      for (std::uint32_t s : touching_)
        if (table_->slot(s).fired) emitResult(s, RowKind::Delete, out);
      Acc* into = table_->accs(target);
      for (std::size_t i = 1; i < touching_.size(); ++i) {
        Acc* from = table_->accs(touching_[i]);
        for (std::size_t a = 0; a < aggs_.size(); ++a) mergeAcc(aggs_[a], into[a], from[a]);
        sessions.erase(table_->slot(touching_[i]).start);
        table_->erase(touching_[i]);
      }
      if (start != table_->slot(target).start) {
        sessions.erase(table_->slot(target).start);
        sessions.emplace(start, target);
      }
      table_->rebound(target, start, end);
      table_->slot(target).fired = false;
    }
    Acc* accs = table_->accs(target);
    for (std::size_t a = 0; a < aggs_.size(); ++a) addRow(aggs_[a], batch, r, accs[a]);
    if (batchMode_) return;  // no timers: everything is emitted at the end
    registerTimers(key, start, end);
    if (!processingTime_ && end - 1 <= watermark_) {  // late but within the lateness: fire now
      emitResult(target, RowKind::Insert, out);
      table_->slot(target).fired = true;
    }
  }

  void emitResult(std::uint32_t s, RowKind kind, Output& out) {
    const auto& slot = table_->slot(s);
    emitRow(backend_->keys().bytes(slot.key), slot.start, slot.end, table_->accs(s), kind, out);
  }

  /// One result row: the key (encoded bytes), the window's bounds, then each aggregate.
  void emitRow(std::string_view key, std::int64_t start, std::int64_t end, const Acc* accs, RowKind kind,
               Output& out) {
    appendRow(*builder_, key, start, end, accs, kind);
    if (builder_->numRows() >= 1024) flush(out);
  }
  void appendRow(BatchBuilder& b, std::string_view key, std::int64_t start, std::int64_t end, const Acc* accs,
                 RowKind kind) {
    const std::size_t k = keyFields_.size();
    keyColumns_.clear();
    for (std::size_t i = 0; i < k; ++i) keyColumns_.push_back(&b.column(i));
    KeyDictionary::appendKey(keyTypes_, key, keyColumns_);
    b.column(k).appendInt64(start);
    b.column(k + 1).appendInt64(end);
    for (std::size_t a = 0; a < aggs_.size(); ++a) appendResult(aggs_[a], accs[a], b.column(k + 2 + a));
    b.endRow(end - 1, kind);
  }

  void flush(Output& out) {
    if (builder_->numRows() > 0) out.collect(0, builder_->finish());
  }

  /// After timers erased sessions: drop them from their key's list (and empty lists).
  /// Called between elements only, never while a session list is being worked on.
  void pruneSessions() {
    if (type_ != WindowType::Session || !sessionsErased_) return;
    sessionsErased_ = false;
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      std::erase_if(it->second, [&](const auto& e) {
        const auto& slot = table_->slot(e.second);
        return slot.key != it->first || slot.start != e.first;
      });
      it = it->second.empty() ? sessions_.erase(it) : std::next(it);
    }
  }

  std::vector<int> keyFields_;
  std::vector<Type> keyTypes_;
  WindowType type_ = WindowType::Tumbling;
  std::int64_t size_ = 0, slide_ = 0, gap_ = 0, lateness_ = 0;
  bool processingTime_ = false;
  std::vector<AggSpec> aggs_;
  SchemaPtr output_;

  KeyedStateBackend* backend_ = nullptr;
  WindowTable* table_ = nullptr;
  TimerService<WindowNs>* timers_ = nullptr;  // a table of the backend ("timers")
  // Session slots per key, by start.
  std::unordered_map<KeyId, std::map<std::int64_t, std::uint32_t>> sessions_;
  bool sessionsErased_ = false;
  bool batchMode_ = false;   // job "mode": "batch" (event time): emit everything at the end
  bool emittedAll_ = false;  // batch mode: the final results went out
  // Batch mode, tumbling and sliding: the table's windows by end, and the windows the
  // watermark has passed (frozen_, in output order; their keys and accumulators in
  // frozenBytes_).
  std::map<std::int64_t, std::vector<std::uint32_t>> byEnd_;
  std::int64_t lastBucketEnd_ = 0;
  std::vector<std::uint32_t>* lastBucket_ = nullptr;
  std::int64_t frozenUpTo_ = kMinWatermark;  // every window with end - 1 <= this is frozen
  std::deque<Frozen> frozen_;  // appended to without moving what it holds
  // Their results, built as they freeze (while the input still runs), final unless a
  // record comes for one of them later.
  std::unique_ptr<BatchBuilder> frozenRows_;
  std::vector<RecordBatch> frozenBatches_;
  ByteArena frozenBytes_;
  std::string scratch_;
  std::vector<Acc> decoded_;
  std::int64_t watermark_ = kMinWatermark;
  std::unique_ptr<BatchBuilder> builder_;

  // Per-batch scratch, reused.
  std::vector<std::uint32_t> pairRows_, pairSlots_, lateRows_, touching_;
  std::vector<std::int64_t> lastStarts_;
  std::vector<Column*> keyColumns_;
};

}  // namespace

void registerWindowOperator(OperatorRegistry& r) {
  r.add("window", [](const OperatorContext& ctx) { return std::make_unique<WindowOperator>(ctx); });
}

}  // namespace weir
