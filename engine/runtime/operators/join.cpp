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
// State: one custom keyed table ("interval-join") in the operator's backend: per side and
// key, the buffered records ordered by time. A buffered record is (batch, row): the
// batches it came in are shared, not copied; a batch is freed when its last buffered row
// is dropped. The table's size() is the number of buffered records (0 once the watermark
// passed them all; tests check it through KeyedStateBackend::numEntries).
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
// State: one custom keyed table ("window-join"): per (key, window start), both sides'
// buffered records, as (batch, row) like the interval join's.

#include <algorithm>
#include <map>
#include <unordered_map>

#include "runtime/partition.h"
#include "runtime/registry.h"
#include "runtime/state/timers.h"
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

/// The buffered records of both sides, per key, ordered by event time.
class JoinTable final : public KeyedTable {
 public:
  struct Entry {
    std::shared_ptr<const RecordBatch> batch;
    std::uint32_t row;
  };
  using Buffer = std::multimap<std::int64_t, Entry>;

  explicit JoinTable(KeyDictionary& keys) : keys_(keys) {}

  /// Side `side`'s buffer of `key`, or nullptr.
  const Buffer* find(int side, KeyId key) const {
    auto it = sides_[side].find(key);
    return it == sides_[side].end() ? nullptr : &it->second;
  }
  void add(int side, KeyId key, std::int64_t ts, Entry e) {
    auto [it, inserted] = sides_[side].try_emplace(key);
    if (inserted) keys_.retain(key);
    it->second.emplace(ts, std::move(e));
    ++size_;
  }
  /// Drops side `side`'s records of `key` with time <= upTo.
  void dropUpTo(int side, KeyId key, std::int64_t upTo) {
    auto it = sides_[side].find(key);
    if (it == sides_[side].end()) return;
    Buffer& b = it->second;
    const auto end = b.upper_bound(upTo);
    size_ -= static_cast<std::size_t>(std::distance(b.begin(), end));
    b.erase(b.begin(), end);
    if (b.empty()) {
      sides_[side].erase(it);
      keys_.release(key);
    }
  }

  std::size_t size() const override { return size_; }
  std::size_t sizeOfGroup(int group) const override {
    std::size_t n = 0;
    for (const auto& side : sides_)
      for (const auto& [key, b] : side)
        if (keys_.keyGroup(key) == group) n += b.size();
    return n;
  }
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
  }

 private:
  KeyDictionary& keys_;
  std::unordered_map<KeyId, Buffer> sides_[2];
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
    table_ = &backend_->table<JoinTable>("interval-join", [&keys] { return std::make_unique<JoinTable>(keys); });
    builder_ = std::make_unique<BatchBuilder>(output_, 1024);
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
      timers_.registerEventTimeTimer(key, backend_->keys().keyGroup(key), side, cleanup);
    }
    flush(out);
    if (late > 0 && ctx_ && ctx_->counters) OperatorCounters::add(ctx_->counters->lateRecords, late);
    backend_->keys().sweep();
  }

  void processWatermark(Watermark wm, Output& out) override {
    if (wm.timestamp > watermark_) watermark_ = wm.timestamp;
    timers_.advanceWatermark(watermark_, [&](const auto& t) {
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
  TimerService<std::int64_t> timers_;  // namespace: the side (kLeft, kRight)
  std::int64_t watermark_ = INT64_MIN;
  std::unique_ptr<BatchBuilder> builder_;
};

/// A window join's buffered records: per (key, window), each side's, in arrival order.
class WindowJoinTable final : public KeyedTable {
 public:
  struct Pane {
    std::int64_t end = 0;
    std::vector<JoinTable::Entry> sides[2];
  };

  explicit WindowJoinTable(KeyDictionary& keys) : keys_(keys) {}

  /// The pane of (key, start), created (end = start + size) when absent; second: created.
  std::pair<Pane*, bool> pane(KeyId key, std::int64_t start, std::int64_t end) {
    auto [it, inserted] = panes_.try_emplace(KeyTime{key, start});
    if (inserted) {
      it->second.end = end;
      keys_.retain(key);
    }
    return {&it->second, inserted};
  }
  void add(Pane& p, int side, JoinTable::Entry e) {
    p.sides[side].push_back(std::move(e));
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
    if (inserted) keys_.retain(key);
    size_ += p.sides[0].size() + p.sides[1].size();
    it->second = std::move(p);
    return it->second;
  }
  /// Takes the pane of (key, start) out of the table (empty when there is none).
  Pane take(KeyId key, std::int64_t start) {
    auto it = panes_.find(KeyTime{key, start});
    if (it == panes_.end()) return {};
    Pane p = std::move(it->second);
    panes_.erase(it);
    size_ -= p.sides[0].size() + p.sides[1].size();
    keys_.release(key);
    return p;
  }

  std::size_t size() const override { return size_; }
  std::size_t sizeOfGroup(int group) const override {
    std::size_t n = 0;
    for (const auto& [k, p] : panes_)
      if (keys_.keyGroup(k.key) == group) n += p.sides[0].size() + p.sides[1].size();
    return n;
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
  }

 private:
  KeyDictionary& keys_;
  std::unordered_map<KeyTime, Pane, KeyTimeHash> panes_;  // (key id, window start) -> pane
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
    table_ = &backend_->table<WindowJoinTable>("window-join",
                                                [&keys] { return std::make_unique<WindowJoinTable>(keys); });
    builder_ = std::make_unique<BatchBuilder>(output_, 1024);
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
          if (created) timers_.registerEventTimeTimer(ids[r], backend_->keys().keyGroup(ids[r]), start, end - 1);
          table_->add(*pane, side, JoinTable::Entry{shared, static_cast<std::uint32_t>(r)});
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
    timers_.advanceWatermark(watermark_, [&](const auto& t) {
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
    table_->add(pane, side, std::move(e));
    sessions[start] = end;
    timers_.registerEventTimeTimer(key, backend_->keys().keyGroup(key), start, end - 1);
    return true;
  }

  JoinKeys keys_;
  std::int64_t size_ = 0, slide_ = 0, gap_ = 0;  // gap_ > 0: session windows
  SchemaPtr output_;

  KeyedStateBackend* backend_ = nullptr;
  WindowJoinTable* table_ = nullptr;
  TimerService<std::int64_t> timers_;  // namespace: the window's start
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
