// join: interval join on event time (Flink's IntervalJoinOperator), or, with a `window`
// param, window join (Flink's DataStream window join); inner joins only.
//
// ---- Interval join ----
//
// Emits left ⋈ right for every pair with equal keys (left_key = right_key, field by
// field) and left.ts + lower_ms <= right.ts <= left.ts + upper_ms. An output row is the
// left fields then the right fields (ctx.outputSchemas[0]: the catalog renames clashing
// right fields right_<name>); its event time is max(left.ts, right.ts), as Flink's.
//
// Each arriving record is matched against the other side's buffer of its key (a range
// lookup by time) and then buffered itself, so every pair is emitted once, by the later
// of its two records. Watermarks pass through unchanged: an output's time is at least
// its later record's, which was not late, so outputs are never late downstream.
//
// Lateness (Flink's): a record whose time is below the operator's input watermark (the
// minimum over both inputs), or that has no event time, is dropped and counted in
// OperatorCounters::lateRecords; the join has no late port. Every partner a record that
// is not late could have is still buffered (see cleanup), so the output does not depend
// on arrival order within the inputs' out-of-orderness bounds, nor on parallelism.
//
// Cleanup by watermark: a left record can match no record to come once the watermark
// passes left.ts + upper_ms, a right one once it passes right.ts - lower_ms; an
// event-time timer per (key, side, time) (runtime/state/timers.h) drops them then.
//
// State: two tables of the operator's keyed backend: "interval-join", per side and key the
// buffered records ordered by time, and "timers", the cleanup timers (both written per key
// group at a checkpoint; the operator state is the input watermark). A buffered record is
// (batch, row): the batches it came in are shared, not copied; a batch is freed when its
// last buffered row is dropped. The table's size() is the number of buffered records (0
// once the watermark passed them all; tests check it through
// KeyedStateBackend::numEntries).
//
// ---- Window join ----
//
// Pairs every left and right record of equal key that fall in the same window (tumbling,
// or sliding: a record is in every window of `size_ms` starting at a multiple of
// `slide_ms` that contains its time, as the window operator assigns them; or session:
// both sides' records of a key together make the sessions, [t, t + gap) merged with every
// session it touches, buffers included, as Flink's window join windows the union of its
// inputs; a session's timer is stale once it grew, and it fires at its final end). A window's
// pairs are emitted when the watermark reaches its end - 1 (an event-time timer per key
// and window), each row the left fields, the right fields, then window_start and
// window_end, with event time window_end - 1; for one window, left records in arrival
// order, each with the right records in arrival order. A window with records on one side
// only emits nothing. The buffered records are dropped when the window fires.
//
// Lateness: a record none of whose windows is still open (end - 1 > the watermark) is
// dropped and counted in lateRecords; in a sliding window join a record late for some of
// its windows joins only in the others. A watermark is forwarded after the windows it
// closes have emitted their rows (time end - 1 <= it, but above the watermark before), so
// no row is late downstream, as with the window operator's results.
//
// State: "window-join", per (key, window start) both sides' buffered records, as (batch,
// row) like the interval join's, and "timers", one per pane; the operator state is the
// input watermark; the sessions per key (session windows) are derived from the panes.

#include <algorithm>
#include <map>
#include <unordered_map>

#include "runtime/partition.h"
#include "runtime/registry.h"
#include "runtime/state/group_buckets.h"
#include "runtime/state/state_codec.h"
#include "runtime/state/timers.h"
#include "runtime/state/watermark_state.h"
#include "runtime/time_math.h"

namespace weir {
namespace {

constexpr int kLeft = 0;
constexpr int kRight = 1;

/// The join's keys: which fields of each side, their types (the left's, equal to the
/// right's: validated), and each side's width.
struct JoinKeys {
  std::vector<int> fields[2];
  std::vector<Type> types;
  std::size_t width[2] = {0, 0};

  explicit JoinKeys(const OperatorContext& ctx) {
    const char* keyParams[2] = {"left_key", "right_key"};
    for (int side : {kLeft, kRight}) {
      const Schema& in = *ctx.inputSchemas.at(static_cast<std::size_t>(side));
      for (const auto& k : ctx.params.at(keyParams[side])) {
        const int i = in.indexOf(k.get<std::string>());
        if (i < 0) throw JobError(std::string(keyParams[side]) + ": no field '" + k.get<std::string>() + "'");
        fields[side].push_back(i);
        if (side == kLeft) types.push_back(in.field(static_cast<std::size_t>(i)).type);
      }
      width[side] = in.size();
    }
    if (fields[kLeft].size() != fields[kRight].size()) throw JobError("left_key and right_key differ in length");
  }
};

/// Appends row l of `left` then row r of `right` to the first columns of `b` (the caller
/// appends any further columns and ends the row).
void appendPair(BatchBuilder& b, const std::size_t (&width)[2], const RecordBatch& left, std::size_t l,
                const RecordBatch& right, std::size_t r) {
  for (std::size_t c = 0; c < width[kLeft]; ++c) b.column(c).appendFrom(left.column(c), l);
  for (std::size_t c = 0; c < width[kRight]; ++c) b.column(width[kLeft] + c).appendFrom(right.column(c), r);
}

/// A buffered record in a snapshot: i64 event time, then each field of its side's input
/// (StateCodec<Value>: type tag, present flag, value).
void writeRecord(ByteWriter& out, std::int64_t ts, const RecordBatch& batch, std::size_t row) {
  out.i64(ts);
  for (std::size_t c = 0; c < batch.numColumns(); ++c) StateCodec<Value>::write(out, batch.column(c).value(row));
}

/// Reads what writeRecord wrote as the next row of `b` (the side's input schema); a field
/// of another type than the input's now is an error naming it. Returns the event time.
std::int64_t readRecord(ByteReader& in, BatchBuilder& b, const Schema& schema) {
  const std::int64_t ts = in.i64();
  for (std::size_t c = 0; c < schema.size(); ++c) {
    const Value v = StateCodec<Value>::read(in);
    if (v.type() != schema.field(c).type)
      in.fail("a buffered record's field '" + schema.field(c).name + "' is a " + std::string(typeName(v.type())) +
              ", the input now has a " + std::string(typeName(schema.field(c).type)));
    b.column(c).append(v);
  }
  b.endRow(ts);
  return ts;
}

/// The buffered records of both sides, per key, ordered by event time.
///
/// Snapshot of a key group: per side (left, then right) a u32 number of keys, then per key
/// its bytes, a u32 number of records and the records (writeRecord) in buffer order (time,
/// then arrival). A restored group's records of one side share one new batch.
class JoinTable final : public KeyedTable {
 public:
  struct Entry {
    std::shared_ptr<const RecordBatch> batch;
    std::uint32_t row;
  };
  using Buffer = std::multimap<std::int64_t, Entry>;

  JoinTable(KeyDictionary& keys, std::vector<SchemaPtr> inputs)
      : keys_(keys), inputs_(std::move(inputs)), perGroup_(static_cast<std::size_t>(keys.maxParallelism()), 0) {}

  /// Side `side`'s buffer of `key`, or nullptr.
  const Buffer* find(int side, KeyId key) const {
    auto it = sides_[side].find(key);
    return it == sides_[side].end() ? nullptr : &it->second;
  }
  void add(int side, KeyId key, std::int64_t ts, Entry e) {
    auto [it, inserted] = sides_[side].try_emplace(key);
    if (inserted) {
      keys_.retain(key);
      buckets_.changed();
    }
    it->second.emplace(ts, std::move(e));
    ++perGroup_[static_cast<std::size_t>(keys_.keyGroup(key))];
    ++size_;
  }
  /// Drops side `side`'s records of `key` with time <= upTo.
  void dropUpTo(int side, KeyId key, std::int64_t upTo) {
    auto it = sides_[side].find(key);
    if (it == sides_[side].end()) return;
    Buffer& b = it->second;
    const auto end = b.upper_bound(upTo);
    const auto dropped = static_cast<std::size_t>(std::distance(b.begin(), end));
    size_ -= dropped;
    perGroup_[static_cast<std::size_t>(keys_.keyGroup(key))] -= dropped;
    b.erase(b.begin(), end);
    if (b.empty()) {
      sides_[side].erase(it);
      buckets_.changed();
      keys_.release(key);
    }
  }

  std::size_t size() const override { return size_; }
  std::size_t sizeOfGroup(int group) const override { return perGroup_[static_cast<std::size_t>(group)]; }
  void clearGroup(int group) override {
    for (auto& side : sides_)
      for (auto it = side.begin(); it != side.end();) {
        if (keys_.keyGroup(it->first) != group) {
          ++it;
          continue;
        }
        size_ -= it->second.size();
        keys_.release(it->first);
        it = side.erase(it);
      }
    perGroup_[static_cast<std::size_t>(group)] = 0;
    buckets_.changed();
  }
  void snapshotGroup(int group, ByteWriter& out) const override {
    const auto& keys = buckets_.of(group, keys_.maxParallelism(), [&](auto add) {
      for (int side : {kLeft, kRight})
        for (const auto& e : sides_[side]) add(keys_.keyGroup(e.first), std::pair{side, e.first});
    });
    for (int side : {kLeft, kRight}) {
      const std::size_t count = out.placeholderU32();
      std::uint32_t n = 0;
      for (const auto& [s, key] : keys) {
        if (s != side) continue;
        ++n;
        const Buffer& b = sides_[side].at(key);
        out.bytes(keys_.bytes(key));
        out.u32(static_cast<std::uint32_t>(b.size()));
        for (const auto& [ts, e] : b) writeRecord(out, ts, *e.batch, e.row);
      }
      out.patchU32(count, n);
    }
  }
  void restoreGroup(int group, ByteReader& in) override {
    struct Read {
      int side;
      std::uint32_t key;  // index into keyBytes
      std::int64_t ts;
      std::uint32_t row;  // in its side's new batch
    };
    std::vector<std::string_view> keyBytes;
    std::vector<Read> read;
    std::vector<int> keySide;
    std::shared_ptr<const RecordBatch> batches[2];
    for (int side : {kLeft, kRight}) {
      BatchBuilder b(inputs_[static_cast<std::size_t>(side)]);
      const std::uint32_t keys = readCount(in);
      for (std::uint32_t k = 0; k < keys; ++k) {
        keyBytes.push_back(in.bytes());
        keySide.push_back(side);
        const std::uint32_t n = readCount(in);
        for (std::uint32_t i = 0; i < n; ++i) {
          const auto row = static_cast<std::uint32_t>(b.numRows());
          const std::int64_t ts = readRecord(in, b, *inputs_[static_cast<std::size_t>(side)]);
          read.push_back(Read{side, static_cast<std::uint32_t>(keyBytes.size() - 1), ts, row});
        }
      }
      batches[side] = std::make_shared<const RecordBatch>(b.finish());
    }
    std::vector<KeyId> ids;
    keys_.internEncoded(keyBytes, group, in, ids);
    for (std::size_t k = 0; k < ids.size(); ++k)
      if (find(keySide[k], ids[k]) != nullptr) in.fail("key " + std::to_string(k) + " is there twice");
    for (const Read& r : read) add(r.side, ids[r.key], r.ts, Entry{batches[r.side], r.row});
  }

 private:
  KeyDictionary& keys_;
  std::vector<SchemaPtr> inputs_;  // left, right
  std::unordered_map<KeyId, Buffer> sides_[2];
  std::vector<std::size_t> perGroup_;  // buffered records per key group
  GroupBuckets<std::pair<int, KeyId>> buckets_;  // (side, key) by key group, for snapshots
  std::size_t size_ = 0;
};

class JoinOperator final : public Operator {
 public:
  explicit JoinOperator(const OperatorContext& ctx) : keys_(ctx) {
    const auto& p = ctx.params;
    lower_ = p.at("lower_ms").get<std::int64_t>();
    upper_ = p.at("upper_ms").get<std::int64_t>();
    if (lower_ > upper_) throw JobError("upper_ms must be at least lower_ms");
    output_ = ctx.outputSchemas.at(0);
  }

  void open(OperatorContext& ctx) override {
    Operator::open(ctx);
    backend_ = &ctx.keyedState(keys_.types);
    KeyDictionary& keys = backend_->keys();
    table_ = &backend_->table<JoinTable>("interval-join",
                                         [&] { return std::make_unique<JoinTable>(keys, ctx.inputSchemas); });
    timers_ = &backend_->table<TimerService<std::int64_t>>(
        "timers", [&keys] { return std::make_unique<TimerService<std::int64_t>>(keys); });
    builder_ = std::make_unique<BatchBuilder>(output_, 1024);
  }

  // Snapshots: the buffers and the cleanup timers are tables of the backend; the operator
  // state is the input watermark (it decides which records are late).
  void snapshotState(std::int64_t, ByteWriter& out) override { writeWatermarkState(out, watermark_); }
  void restoreState(const std::vector<std::string>& states) override {
    watermark_ = restoreWatermarkState(states, "join '" + ctx_->nodeId + "'");
  }

  void processBatch(int port, const RecordBatch& batch, Output& out) override {
    const int side = port == 0 ? kLeft : kRight;
    const std::size_t n = batch.numRows();
    const std::vector<KeyId>& ids = backend_->keys().internRows(batch, keys_.fields[side]);
    auto shared = std::make_shared<const RecordBatch>(batch);
    std::int64_t late = 0;
    for (std::size_t r = 0; r < n; ++r) {
      const std::int64_t t = batch.eventTime(r);
      if (t == kNoTimestamp || t < watermark_) {
        ++late;
        continue;
      }
      const KeyId key = ids[r];
      if (const JoinTable::Buffer* other = table_->find(1 - side, key)) {
        // Partner times: right in [t + lower, t + upper] for a left record, left in
        // [t - upper, t - lower] for a right one.
        const std::int64_t from = side == kLeft ? saturatingAdd(t, lower_) : saturatingAdd(t, -upper_);
        const std::int64_t to = side == kLeft ? saturatingAdd(t, upper_) : saturatingAdd(t, -lower_);
        for (auto it = other->lower_bound(from); it != other->end() && it->first <= to; ++it) {
          if (side == kLeft) emitPair(batch, r, *it->second.batch, it->second.row, std::max(t, it->first), out);
          else emitPair(*it->second.batch, it->second.row, batch, r, std::max(t, it->first), out);
        }
      }
      table_->add(side, key, t, JoinTable::Entry{shared, static_cast<std::uint32_t>(r)});
      // Dropped once the watermark passes t + upper (left) or t - lower (right).
      const std::int64_t cleanup = saturatingAdd(side == kLeft ? saturatingAdd(t, upper_) : saturatingAdd(t, -lower_), 1);
      timers_->registerEventTimeTimer(key, side, cleanup);
    }
    flush(out);
    if (late > 0 && ctx_ && ctx_->counters) OperatorCounters::add(ctx_->counters->lateRecords, late);
    backend_->keys().sweep();
  }

  void processWatermark(Watermark wm, Output& out) override {
    if (wm.timestamp > watermark_) watermark_ = wm.timestamp;
    timers_->advanceWatermark(watermark_, [&](const auto& t) {
      // Records of this key and side whose cleanup time (time + upper + 1, or
      // time - lower + 1) is at most the timer's.
      const std::int64_t upTo = t.ns == kLeft ? saturatingAdd(t.time, -upper_ - 1) : saturatingAdd(t.time, lower_ - 1);
      table_->dropUpTo(static_cast<int>(t.ns), t.key, upTo);
    });
    backend_->keys().sweep();
    out.emitWatermark(wm);
  }

 private:
  void emitPair(const RecordBatch& left, std::size_t l, const RecordBatch& right, std::size_t r, std::int64_t ts,
                Output& out) {
    appendPair(*builder_, keys_.width, left, l, right, r);
    builder_->endRow(ts, RowKind::Insert);
    if (builder_->numRows() >= 1024) flush(out);
  }

  void flush(Output& out) {
    if (builder_->numRows() > 0) out.collect(0, builder_->finish());
  }

  JoinKeys keys_;
  std::int64_t lower_ = 0, upper_ = 0;
  SchemaPtr output_;

  KeyedStateBackend* backend_ = nullptr;
  JoinTable* table_ = nullptr;
  TimerService<std::int64_t>* timers_ = nullptr;  // backend table "timers"; namespace: the side
  std::int64_t watermark_ = INT64_MIN;
  std::unique_ptr<BatchBuilder> builder_;
};

/// A window join's buffered records: per (key, window), each side's, in arrival order.
///
/// Snapshot of a key group: u32 number of panes, then per pane the key's bytes, i64 window
/// start, i64 end, and per side (left, right) a u32 count and the records (writeRecord) in
/// arrival order.
class WindowJoinTable final : public KeyedTable {
 public:
  struct Pane {
    std::int64_t end = 0;
    std::vector<JoinTable::Entry> sides[2];
  };

  WindowJoinTable(KeyDictionary& keys, std::vector<SchemaPtr> inputs)
      : keys_(keys), inputs_(std::move(inputs)), perGroup_(static_cast<std::size_t>(keys.maxParallelism()), 0) {}

  /// The pane of (key, start), created (end = start + size) when absent; second: created.
  std::pair<Pane*, bool> pane(KeyId key, std::int64_t start, std::int64_t end) {
    auto [it, inserted] = panes_.try_emplace(KeyTime{key, start});
    if (inserted) {
      it->second.end = end;
      keys_.retain(key);
      buckets_.changed();
    }
    return {&it->second, inserted};
  }
  void add(KeyId key, Pane& p, int side, JoinTable::Entry e) {
    p.sides[side].push_back(std::move(e));
    ++perGroup_[static_cast<std::size_t>(keys_.keyGroup(key))];
    ++size_;
  }
  /// The pane of (key, start), or nullptr.
  Pane* find(KeyId key, std::int64_t start) {
    auto it = panes_.find(KeyTime{key, start});
    return it == panes_.end() ? nullptr : &it->second;
  }
  /// Puts `p` in as the pane of (key, start) (there is none yet: a merged session).
  Pane& put(KeyId key, std::int64_t start, Pane p) {
    auto [it, inserted] = panes_.try_emplace(KeyTime{key, start});
    if (inserted) {
      keys_.retain(key);
      buckets_.changed();
    }
    size_ += p.sides[0].size() + p.sides[1].size();
    perGroup_[static_cast<std::size_t>(keys_.keyGroup(key))] += p.sides[0].size() + p.sides[1].size();
    it->second = std::move(p);
    return it->second;
  }
  /// Takes the pane of (key, start) out of the table (empty when there is none).
  Pane take(KeyId key, std::int64_t start) {
    auto it = panes_.find(KeyTime{key, start});
    if (it == panes_.end()) return {};
    Pane p = std::move(it->second);
    panes_.erase(it);
    buckets_.changed();
    size_ -= p.sides[0].size() + p.sides[1].size();
    perGroup_[static_cast<std::size_t>(keys_.keyGroup(key))] -= p.sides[0].size() + p.sides[1].size();
    keys_.release(key);
    return p;
  }
  /// Visits every pane: fn(key, start, pane).
  template <class F>
  void forEachPane(F&& fn) const {
    for (const auto& [k, p] : panes_) fn(k.key, k.time, p);
  }

  std::size_t size() const override { return size_; }
  std::size_t sizeOfGroup(int group) const override { return perGroup_[static_cast<std::size_t>(group)]; }
  void snapshotGroup(int group, ByteWriter& out) const override {
    const auto& panes = buckets_.of(group, keys_.maxParallelism(), [&](auto add) {
      for (const auto& e : panes_) add(keys_.keyGroup(e.first.key), e.first);
    });
    out.u32(static_cast<std::uint32_t>(panes.size()));
    for (const KeyTime& k : panes) {
      const Pane& p = panes_.at(k);
      out.bytes(keys_.bytes(k.key));
      out.i64(k.time);
      out.i64(p.end);
      for (const auto& side : p.sides) {
        out.u32(static_cast<std::uint32_t>(side.size()));
        for (const JoinTable::Entry& e : side) writeRecord(out, e.batch->eventTime(e.row), *e.batch, e.row);
      }
    }
  }
  void restoreGroup(int group, ByteReader& in) override {
    struct Read {
      std::int64_t start;
      std::vector<std::uint32_t> rows[2];  // in each side's new batch
      std::int64_t end;
    };
    BatchBuilder builders[2] = {BatchBuilder(inputs_[0]), BatchBuilder(inputs_[1])};
    const std::uint32_t n = readCount(in);
    std::vector<std::string_view> keyBytes;
    std::vector<Read> read(n);
    for (std::uint32_t i = 0; i < n; ++i) {
      keyBytes.push_back(in.bytes());
      read[i].start = in.i64();
      read[i].end = in.i64();
      if (read[i].end <= read[i].start) in.fail("window " + std::to_string(i) + " ends before it starts");
      for (int side : {kLeft, kRight}) {
        const std::uint32_t records = readCount(in);
        for (std::uint32_t r = 0; r < records; ++r) {
          read[i].rows[side].push_back(static_cast<std::uint32_t>(builders[side].numRows()));
          readRecord(in, builders[side], *inputs_[static_cast<std::size_t>(side)]);
        }
      }
    }
    std::shared_ptr<const RecordBatch> batches[2] = {std::make_shared<const RecordBatch>(builders[0].finish()),
                                                     std::make_shared<const RecordBatch>(builders[1].finish())};
    std::vector<KeyId> ids;
    keys_.internEncoded(keyBytes, group, in, ids);
    for (std::uint32_t i = 0; i < n; ++i) {
      if (find(ids[i], read[i].start) != nullptr) in.fail("window " + std::to_string(i) + " is there twice");
      Pane p;
      p.end = read[i].end;
      for (int side : {kLeft, kRight})
        for (std::uint32_t row : read[i].rows[side]) p.sides[side].push_back(JoinTable::Entry{batches[side], row});
      put(ids[i], read[i].start, std::move(p));
    }
  }
  void clearGroup(int group) override {
    for (auto it = panes_.begin(); it != panes_.end();) {
      if (keys_.keyGroup(it->first.key) != group) {
        ++it;
        continue;
      }
      size_ -= it->second.sides[0].size() + it->second.sides[1].size();
      keys_.release(it->first.key);
      it = panes_.erase(it);
    }
    perGroup_[static_cast<std::size_t>(group)] = 0;
    buckets_.changed();
  }

 private:
  KeyDictionary& keys_;
  std::vector<SchemaPtr> inputs_;  // left, right
  std::unordered_map<KeyTime, Pane, KeyTimeHash> panes_;  // (key id, window start) -> pane
  std::vector<std::size_t> perGroup_;                     // buffered records per key group
  GroupBuckets<KeyTime> buckets_;                         // panes by key group, for snapshots
  std::size_t size_ = 0;
};

class WindowJoinOperator final : public Operator {
 public:
  explicit WindowJoinOperator(const OperatorContext& ctx) : keys_(ctx) {
    const auto& w = ctx.params.at("window");
    const std::string type = w.value("type", std::string("tumbling"));
    if (type == "session") {
      gap_ = w.value("gap_ms", std::int64_t{0});
      if (gap_ <= 0) throw JobError("window: gap_ms must be positive");
    } else {
      size_ = w.value("size_ms", std::int64_t{0});
      slide_ = type == "sliding" ? w.value("slide_ms", size_) : size_;
      if (size_ <= 0 || slide_ <= 0) throw JobError("window: size_ms and slide_ms must be positive");
    }
    output_ = ctx.outputSchemas.at(0);
  }

  void open(OperatorContext& ctx) override {
    Operator::open(ctx);
    backend_ = &ctx.keyedState(keys_.types);
    KeyDictionary& keys = backend_->keys();
    table_ = &backend_->table<WindowJoinTable>(
        "window-join", [&] { return std::make_unique<WindowJoinTable>(keys, ctx.inputSchemas); });
    timers_ = &backend_->table<TimerService<std::int64_t>>(
        "timers", [&keys] { return std::make_unique<TimerService<std::int64_t>>(keys); });
    builder_ = std::make_unique<BatchBuilder>(output_, 1024);
  }

  // Snapshots: the panes and their timers are tables of the backend; the operator state is
  // the input watermark. The sessions per key are derived from the panes and rebuilt.
  void snapshotState(std::int64_t, ByteWriter& out) override { writeWatermarkState(out, watermark_); }
  void restoreState(const std::vector<std::string>& states) override {
    watermark_ = restoreWatermarkState(states, "join '" + ctx_->nodeId + "'");
    if (gap_ <= 0) return;
    table_->forEachPane([&](KeyId key, std::int64_t start, const WindowJoinTable::Pane& p) {
      sessions_[key][start] = p.end;
    });
  }

  void processBatch(int port, const RecordBatch& batch, Output&) override {
    const int side = port == 0 ? kLeft : kRight;
    const std::vector<KeyId>& ids = backend_->keys().internRows(batch, keys_.fields[side]);
    auto shared = std::make_shared<const RecordBatch>(batch);
    std::int64_t late = 0;
    for (std::size_t r = 0; r < batch.numRows(); ++r) {
      const std::int64_t t = batch.eventTime(r);
      if (gap_ > 0) {
        if (t == kNoTimestamp || !addToSession(ids[r], t, side, JoinTable::Entry{shared, static_cast<std::uint32_t>(r)}))
          ++late;
        continue;
      }
      bool added = false, inAWindow = false;
      if (t != kNoTimestamp)
        forEachWindow(t, size_, slide_, [&](std::int64_t start, std::int64_t end) {
          inAWindow = true;
          if (end - 1 <= watermark_) return;  // this window fired already
          auto [pane, created] = table_->pane(ids[r], start, end);
          if (created) timers_->registerEventTimeTimer(ids[r], start, end - 1);
          table_->add(ids[r], *pane, side, JoinTable::Entry{shared, static_cast<std::uint32_t>(r)});
          added = true;
        });
      // Late: every window it is in fired already (or it has no time). A record in the
      // gap between sliding windows (slide_ms > size_ms) is in none: not late, just unused.
      if (!added && (inAWindow || t == kNoTimestamp)) ++late;
    }
    if (late > 0 && ctx_ && ctx_->counters) OperatorCounters::add(ctx_->counters->lateRecords, late);
    backend_->keys().sweep();
  }

  void processWatermark(Watermark wm, Output& out) override {
    if (wm.timestamp > watermark_) watermark_ = wm.timestamp;
    timers_->advanceWatermark(watermark_, [&](const auto& t) {
      if (gap_ > 0) {
        // A session's timer is stale when the session grew (or merged) since.
        const WindowJoinTable::Pane* pane = table_->find(t.key, t.ns);
        if (pane == nullptr || pane->end - 1 != t.time) return;
        auto it = sessions_.find(t.key);
        it->second.erase(t.ns);
        if (it->second.empty()) sessions_.erase(it);
      }
      WindowJoinTable::Pane p = table_->take(t.key, t.ns);
      for (const JoinTable::Entry& l : p.sides[kLeft])
        for (const JoinTable::Entry& r : p.sides[kRight]) {
          appendPair(*builder_, keys_.width, *l.batch, l.row, *r.batch, r.row);
          builder_->column(keys_.width[kLeft] + keys_.width[kRight]).appendInt64(t.ns);
          builder_->column(keys_.width[kLeft] + keys_.width[kRight] + 1).appendInt64(p.end);
          builder_->endRow(p.end - 1, RowKind::Insert);
          if (builder_->numRows() >= 1024) out.collect(0, builder_->finish());
        }
    });
    if (builder_->numRows() > 0) out.collect(0, builder_->finish());
    backend_->keys().sweep();
    out.emitWatermark(wm);
  }

 private:
  /// Session windows: the record at t opens [t, t + gap) and merges with every session of
  /// its key that this touches (both sides' records decide the sessions, as Flink's window
  /// join windows the union of its inputs), buffers and all. False: the merged session
  /// has fired already (the record is late; nothing changes).
  bool addToSession(KeyId key, std::int64_t t, int side, JoinTable::Entry e) {
    auto& sessions = sessions_[key];  // start -> end, neither overlapping nor touching
    std::int64_t start = t, end = saturatingAdd(t, gap_);
    touching_.clear();
    for (auto it = sessions.upper_bound(end); it != sessions.begin();) {
      --it;
      if (it->second < start) break;
      touching_.push_back(it->first);
      start = std::min(start, it->first);
      end = std::max(end, it->second);
    }
    if (end - 1 <= watermark_) {
      if (sessions.empty()) sessions_.erase(key);
      return false;
    }
    WindowJoinTable::Pane merged;
    merged.end = end;
    for (auto s = touching_.rbegin(); s != touching_.rend(); ++s) {  // earliest first
      WindowJoinTable::Pane p = table_->take(key, *s);
      for (int k : {kLeft, kRight})
        merged.sides[k].insert(merged.sides[k].end(), std::make_move_iterator(p.sides[k].begin()),
                               std::make_move_iterator(p.sides[k].end()));
      sessions.erase(*s);
    }
    WindowJoinTable::Pane& pane = table_->put(key, start, std::move(merged));
    table_->add(key, pane, side, std::move(e));
    sessions[start] = end;
    timers_->registerEventTimeTimer(key, start, end - 1);
    return true;
  }

  JoinKeys keys_;
  std::int64_t size_ = 0, slide_ = 0, gap_ = 0;  // gap_ > 0: session windows
  SchemaPtr output_;

  KeyedStateBackend* backend_ = nullptr;
  WindowJoinTable* table_ = nullptr;
  TimerService<std::int64_t>* timers_ = nullptr;  // backend table "timers"; namespace: the window's start
  std::int64_t watermark_ = INT64_MIN;
  std::unique_ptr<BatchBuilder> builder_;
  std::unordered_map<KeyId, std::map<std::int64_t, std::int64_t>> sessions_;  // per key: start -> end
  std::vector<std::int64_t> touching_;
};

}  // namespace

void registerJoinOperator(OperatorRegistry& r) {
  r.add("join", [](const OperatorContext& ctx) -> std::unique_ptr<Operator> {
    if (ctx.params.contains("window") && ctx.params["window"].is_object())
      return std::make_unique<WindowJoinOperator>(ctx);
    return std::make_unique<JoinOperator>(ctx);
  });
}

}  // namespace weir
