#pragma once
// Incremental aggregate functions (`aggregates` of window and aggregate): each keeps a
// small accumulator per group, updated record by record and merged when session windows
// merge; only count_distinct keeps a set (of the distinct values).
//
// Semantics (SQL's): nulls are skipped by every function except count without a field
// (which counts records); a function that saw no value gives null, except count and
// count_distinct, which give 0.
//   sum     int64 of int64 (wrapping on overflow), double of double
//   avg     double; of int64 fields the sum is kept as an exact integer and divided at the
//           end, so the result does not depend on the order records arrive in
//   min/max by value (strings bytewise, false < true)
//   first   the value of the record with the smallest event time; last: the largest.
//           Ties (equal event times) go to the smaller value for first and the larger for
//           last, so the result never depends on arrival order or parallelism.
//   Doubles: sum and avg of double fields add in arrival order, which differs with
//   parallelism and shuffling, so they may differ in the last bits of rounding; every
//   other result is exact.
//
// Batches are aggregated column by column: addBatch walks one aggregate over all
// (row, accumulator) pairs of a batch in a loop specialized for the field's type.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/batch.h"
#include "runtime/state/snapshot_io.h"

namespace weir {

enum class AggFn { CountRecords, Count, Sum, Min, Max, Avg, First, Last, CountDistinct };

struct AggSpec {
  AggFn fn = AggFn::CountRecords;
  int field = -1;          // input field; -1 for CountRecords
  Type inType = Type::Int64;
  Type outType = Type::Int64;
};

/// Parses `aggregates` params against the input schema (validated already; a mismatch
/// throws JobError).
std::vector<AggSpec> parseAggregates(const nlohmann::json& aggregates, const Schema& input);

/// One function's running state. Which members are used depends on the function. Kept
/// small (48 bytes): a window keeps one per aggregate per (key, window), so in batch mode,
/// where every window lives to the end of the input, its size is the state's size; string
/// values and distinct sets, which few functions need, live behind pointers.
struct Acc {
  std::int64_t n = 0;      // values seen (records, for CountRecords)
  std::int64_t i = 0;      // int64/timestamp/bool value, or integer sum
  double d = 0;            // double value or sum
  std::int64_t ts = 0;     // first/last: event time of the value kept
  std::unique_ptr<std::string> s;                              // string value (min/max/first/last)
  std::unique_ptr<std::unordered_set<std::string>> distinct;  // count_distinct

  const std::string& str() const {
    static const std::string empty;
    return s ? *s : empty;
  }
  void setStr(std::string_view v) {
    if (s) s->assign(v);
    else s = std::make_unique<std::string>(v);
  }
};
static_assert(sizeof(Acc) <= 48, "Acc is kept small: one per aggregate per window and key");

/// acc[accIndex[k] * stride + offset] += row rows[k] of `batch`, for every k.
void addBatch(const AggSpec& spec, const RecordBatch& batch, std::span<const std::uint32_t> rows,
              std::span<const std::uint32_t> accIndex, std::vector<Acc>& accs, std::size_t stride,
              std::size_t offset);
/// Adds one row (slow path: late records).
void addRow(const AggSpec& spec, const RecordBatch& batch, std::size_t row, Acc& acc);
/// Folds `from` into `into` (session windows merging).
void mergeAcc(const AggSpec& spec, Acc& into, Acc& from);
/// Appends the accumulator's state to `out` in a compact form holding only what spec.fn
/// uses (count: 8 bytes; sum, avg, min, max of a number: 16; first/last: 24; strings and
/// distinct sets by a u32 length or count and bytes), for state kept long in bulk (batch
/// mode's finished windows). Little-endian (the machine's order, asserted).
void encodeAcc(const AggSpec& spec, const Acc& acc, std::string& out);
/// Reads what encodeAcc wrote from the front of `in` into `acc` (replacing its state) and
/// advances `in` past it. Trusts its input (the process wrote it).
void decodeAcc(const AggSpec& spec, std::string_view& in, Acc& acc);
/// The same bytes as encodeAcc, into a snapshot (window and aggregate tables). A
/// count_distinct's values are kept as encoded (an int64 or double as its 8 bytes, a bool
/// as '0'/'1', a string as itself).
void writeAcc(const AggSpec& spec, const Acc& acc, ByteWriter& out);
/// Reads what writeAcc wrote, checking as it goes: SnapshotError (in.fail) on bytes that
/// end early or a count larger than what is left.
void readAcc(const AggSpec& spec, ByteReader& in, Acc& acc);
/// writeAcc / readAcc of one slot's accumulators, accs[i] for specs[i].
void writeAccs(std::span<const AggSpec> specs, const Acc* accs, ByteWriter& out);
void readAccs(std::span<const AggSpec> specs, ByteReader& in, Acc* accs);
/// Appends the function's result to `out` (a column of spec.outType).
void appendResult(const AggSpec& spec, const Acc& acc, Column& out);
/// The same result as a Value (of spec.outType; null as appendResult gives it), for
/// operators that compare a result with the one they emitted before (aggregate).
Value resultValue(const AggSpec& spec, const Acc& acc);

}  // namespace weir
