// aggregate: running aggregates per key with no window (a SQL GROUP BY over an unbounded
// stream, Flink's GroupAggFunction), emitting an update stream.
//
// Streaming mode, record by record (so the changelog does not depend on how records were
// batched):
//   - the first record of a key emits its result as +I;
//   - every later record updates the key's accumulators; when the result changed, the
//     result emitted before is retracted (-U, the old values) and the new one emitted
//     (+U); when it did not change (a max that stays, a count_distinct of a value already
//     seen) nothing is emitted.
//   An output row's event time is that of the record that caused it (none when the input
//   has no event time). Watermarks pass through unchanged.
// Batch mode (ctx.batchMode, job "mode": "batch"): hash aggregation: batches are folded
// into the accumulators column by column (aggregates.h addBatch) with no per-record
// output, and finish() emits one +I per key, in key order of first appearance, with the
// largest event time the key saw. Its rows equal the final state of the streaming
// changelog (tests compare them).
//
// The input is insert-only (validation refuses an update stream), so no retraction of
// inputs is needed: min and max keep one value.
//
// State: one custom keyed table ("groups") in the operator's backend: a slot per key with
// one accumulator per aggregate and the result last emitted. Keys are never released in
// streaming mode: a key's result stays valid for ever (no state TTL yet). A checkpoint
// writes the table per key group; there is no operator state (watermarks pass through).
// Batch mode takes no checkpoints: a snapshot is refused.

#include <algorithm>

#include "runtime/operators/aggregates.h"
#include "runtime/partition.h"
#include "runtime/registry.h"
#include "runtime/state/group_buckets.h"
#include "runtime/state/state_codec.h"

namespace weir {
namespace {

constexpr std::uint32_t kNoSlot = UINT32_MAX;

/// The operator's keyed state: one slot per key.
///
/// Snapshot of a key group: u32 number of keys, then per key its bytes, u8 emitted, i64
/// largest event time, the values last emitted (StateCodec<std::vector<Value>>), and one
/// accumulator per aggregate (writeAcc).
class GroupTable final : public KeyedTable {
 public:
  struct Slot {
    KeyId key = kNoKey;
    bool emitted = false;
    std::int64_t maxTs = kNoTimestamp;
    std::vector<Value> last;  // the aggregates' values last emitted (streaming mode)
  };

  GroupTable(KeyDictionary& keys, std::vector<AggSpec> aggs)
      : keys_(keys), specs_(std::move(aggs)), aggs_(specs_.size()),
        perGroup_(static_cast<std::size_t>(keys.maxParallelism()), 0) {}

  std::uint32_t find(KeyId key) const {
    return key < slotOfKey_.size() ? slotOfKey_[key] : kNoSlot;
  }
  std::uint32_t findOrCreate(KeyId key) {
    if (key >= slotOfKey_.size()) slotOfKey_.resize(key + 1, kNoSlot);
    if (slotOfKey_[key] != kNoSlot) return slotOfKey_[key];
    std::uint32_t s;
    if (!free_.empty()) {
      s = free_.back();
      free_.pop_back();
    } else {
      s = static_cast<std::uint32_t>(slots_.size());
      slots_.emplace_back();
      accs_.resize(accs_.size() + aggs_);
    }
    slots_[s] = Slot{};
    slots_[s].key = key;
    slotOfKey_[key] = s;
    order_.push_back(s);
    keys_.retain(key);
    ++perGroup_[static_cast<std::size_t>(keys_.keyGroup(key))];
    buckets_.changed();
    ++live_;
    return s;
  }
  void erase(std::uint32_t s) {
    Slot& slot = slots_[s];
    slotOfKey_[slot.key] = kNoSlot;
    --perGroup_[static_cast<std::size_t>(keys_.keyGroup(slot.key))];
    buckets_.changed();
    keys_.release(slot.key);
    for (std::size_t a = 0; a < aggs_; ++a) accs_[s * aggs_ + a] = Acc{};
    slot = Slot{};
    std::erase(order_, s);
    free_.push_back(s);
    --live_;
  }

  Slot& slot(std::uint32_t s) { return slots_[s]; }
  Acc* accs(std::uint32_t s) { return accs_.data() + s * aggs_; }
  std::vector<Acc>& allAccs() { return accs_; }
  /// Live slots in the order their keys first appeared.
  const std::vector<std::uint32_t>& order() const { return order_; }

  std::size_t size() const override { return live_; }
  std::size_t sizeOfGroup(int group) const override { return perGroup_[static_cast<std::size_t>(group)]; }
  void clearGroup(int group) override {
    for (std::uint32_t s = 0; s < slots_.size(); ++s)
      if (slots_[s].key != kNoKey && keys_.keyGroup(slots_[s].key) == group) erase(s);
  }
  void snapshotGroup(int group, ByteWriter& out) const override {
    const auto& slots = buckets_.of(group, keys_.maxParallelism(), [&](auto add) {
      for (std::uint32_t s : order_) add(keys_.keyGroup(slots_[s].key), s);
    });
    out.u32(static_cast<std::uint32_t>(slots.size()));
    for (std::uint32_t s : slots) {
      const Slot& slot = slots_[s];
      out.bytes(keys_.bytes(slot.key));
      out.boolean(slot.emitted);
      out.i64(slot.maxTs);
      StateCodec<std::vector<Value>>::write(out, slot.last);
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
      slot.emitted = in.boolean();
      slot.maxTs = in.i64();
      slot.last = StateCodec<std::vector<Value>>::read(in);
      if (slot.emitted && slot.last.size() != aggs_)
        in.fail("key " + std::to_string(i) + " has " + std::to_string(slot.last.size()) + " results for " +
                std::to_string(aggs_) + " aggregates");
      read.push_back(std::move(slot));
      readAccs(specs_, in, accs.data() + i * aggs_);
    }
    std::vector<KeyId> ids;
    keys_.internEncoded(keyBytes, group, in, ids);
    for (std::uint32_t i = 0; i < n; ++i) {
      if (find(ids[i]) != kNoSlot) in.fail("key " + std::to_string(i) + " is there twice");
      const std::uint32_t s = findOrCreate(ids[i]);
      read[i].key = ids[i];
      slots_[s] = std::move(read[i]);
      for (std::size_t a = 0; a < aggs_; ++a) accs_[s * aggs_ + a] = std::move(accs[i * aggs_ + a]);
    }
  }

 private:
  KeyDictionary& keys_;
  std::vector<AggSpec> specs_;
  std::size_t aggs_;
  std::vector<Slot> slots_;
  std::vector<Acc> accs_;
  std::vector<std::uint32_t> slotOfKey_;  // by KeyId (ids are dense)
  std::vector<std::uint32_t> free_;
  std::vector<std::uint32_t> order_;
  std::vector<std::size_t> perGroup_;  // live slots per key group
  GroupBuckets<std::uint32_t> buckets_;  // slots by key group, for snapshots
  std::size_t live_ = 0;
};

class AggregateOperator final : public Operator {
 public:
  explicit AggregateOperator(const OperatorContext& ctx) {
    const Schema& in = *ctx.inputSchemas.at(0);
    for (const auto& k : ctx.params.value("key", nlohmann::json::array())) {
      const int i = in.indexOf(k.get<std::string>());
      if (i < 0) throw JobError("key: no field '" + k.get<std::string>() + "'");
      keyFields_.push_back(i);
      keyTypes_.push_back(in.field(static_cast<std::size_t>(i)).type);
    }
    aggs_ = parseAggregates(ctx.params.at("aggregates"), in);
    output_ = ctx.outputSchemas.at(0);
    batchMode_ = ctx.batchMode;
  }

  void open(OperatorContext& ctx) override {
    Operator::open(ctx);
    backend_ = &ctx.keyedState(keyTypes_);
    KeyDictionary& keys = backend_->keys();
    table_ = &backend_->table<GroupTable>("groups", [&] { return std::make_unique<GroupTable>(keys, aggs_); });
    builder_ = std::make_unique<BatchBuilder>(output_, 1024);
  }

  void processBatch(int, const RecordBatch& batch, Output& out) override {
    const std::size_t n = batch.numRows();
    const std::vector<KeyId>& ids = backend_->keys().internRows(batch, keyFields_);
    if (batchMode_) {
      // Hash aggregation: slots for the whole batch, then one loop per aggregate.
      rows_.resize(n);
      slots_.resize(n);
      for (std::size_t r = 0; r < n; ++r) {
        rows_[r] = static_cast<std::uint32_t>(r);
        slots_[r] = table_->findOrCreate(ids[r]);
        auto& slot = table_->slot(slots_[r]);
        slot.maxTs = std::max(slot.maxTs, batch.eventTime(r));
      }
      for (std::size_t a = 0; a < aggs_.size(); ++a)
        addBatch(aggs_[a], batch, rows_, slots_, table_->allAccs(), aggs_.size(), a);
    } else {
      for (std::size_t r = 0; r < n; ++r) {
        const std::uint32_t s = table_->findOrCreate(ids[r]);
        Acc* accs = table_->accs(s);
        for (std::size_t a = 0; a < aggs_.size(); ++a) addRow(aggs_[a], batch, r, accs[a]);
        update(s, batch.eventTime(r), out);
      }
      flush(out);
    }
    backend_->keys().sweep();
  }

  void snapshotState(std::int64_t, ByteWriter&) override {
    if (batchMode_) throw SnapshotError("aggregate '" + ctx_->nodeId + "': a batch job takes no checkpoints");
  }

  void finish(Output& out) override {
    if (!batchMode_) return;
    for (std::uint32_t s : table_->order()) {
      const auto& slot = table_->slot(s);
      startRow(slot.key);
      const Acc* accs = table_->accs(s);
      for (std::size_t a = 0; a < aggs_.size(); ++a)
        appendResult(aggs_[a], accs[a], builder_->column(keyFields_.size() + a));
      builder_->endRow(slot.maxTs, RowKind::Insert);
      if (builder_->numRows() >= 1024) flush(out);
    }
    flush(out);
  }

 private:
  /// Slot `s` took a record (event time `ts`): emit +I, or -U/+U when its result changed.
  void update(std::uint32_t s, std::int64_t ts, Output& out) {
    auto& slot = table_->slot(s);
    const Acc* accs = table_->accs(s);
    current_.clear();
    for (std::size_t a = 0; a < aggs_.size(); ++a) current_.push_back(resultValue(aggs_[a], accs[a]));
    if (slot.emitted) {
      if (sameValues(current_, slot.last)) return;
      emitRow(slot.key, slot.last, ts, RowKind::UpdateBefore, out);
      emitRow(slot.key, current_, ts, RowKind::UpdateAfter, out);
    } else {
      emitRow(slot.key, current_, ts, RowKind::Insert, out);
      slot.emitted = true;
    }
    std::swap(slot.last, current_);
  }

  static bool sameValues(const std::vector<Value>& a, const std::vector<Value>& b) {
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (a[i].isNull() != b[i].isNull()) return false;
      if (!a[i].isNull() && !(a[i] == b[i])) return false;
    }
    return true;
  }

  void startRow(KeyId key) {
    keyColumns_.clear();
    for (std::size_t i = 0; i < keyFields_.size(); ++i) keyColumns_.push_back(&builder_->column(i));
    backend_->keys().appendKey(key, keyColumns_);
  }

  void emitRow(KeyId key, const std::vector<Value>& values, std::int64_t ts, RowKind kind, Output& out) {
    startRow(key);
    for (std::size_t a = 0; a < values.size(); ++a) builder_->column(keyFields_.size() + a).append(values[a]);
    builder_->endRow(ts, kind);
    if (builder_->numRows() >= 1024) flush(out);
  }

  void flush(Output& out) {
    if (builder_->numRows() > 0) out.collect(0, builder_->finish());
  }

  std::vector<int> keyFields_;
  std::vector<Type> keyTypes_;
  std::vector<AggSpec> aggs_;
  SchemaPtr output_;
  bool batchMode_ = false;

  KeyedStateBackend* backend_ = nullptr;
  GroupTable* table_ = nullptr;
  std::unique_ptr<BatchBuilder> builder_;

  // Scratch, reused.
  std::vector<std::uint32_t> rows_, slots_;
  std::vector<Value> current_;
  std::vector<Column*> keyColumns_;
};

}  // namespace

void registerAggregateOperator(OperatorRegistry& r) {
  r.add("aggregate", [](const OperatorContext& ctx) { return std::make_unique<AggregateOperator>(ctx); });
}

}  // namespace weir
