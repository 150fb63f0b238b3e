#pragma once
// Nexmark-style event generator: the `source.generator` operator's rows, and a plain API the
// benchmarks call to produce exactly the same rows in a hand-written loop.
//
// Determinism: event number i (0-based) of a table is a pure function of (seed, i): its
// fields come from a splitmix64 stream seeded by mixing the seed, the table and i. How events
// are spread over subtasks (i -> subtask i % p) therefore never changes what is generated:
// the union of all subtasks' rows is the same for every parallelism.
//
// Event time: date_time(i) = base_time + (i * event_gap_us) / 1000 (milliseconds; integer
// division), so event time grows with i. Each row's event time is its date_time.
//
// Id spaces follow Nexmark's: the three tables are views of one virtual stream of
// 50 events per "epoch" (1 person, 3 auctions, 46 bids), so person i has id 1000 + i,
// auction i has id 1000 + i, and bid i refers to auctions and people that exist (or are
// about to: a small lead) at its place in that stream. Skew as in Nexmark's defaults: half
// of the bids go to a "hot" auction, three quarters come from a "hot" bidder, three
// quarters of the auctions from a "hot" seller. docs/formats.md lists every column's
// distribution.
//
// Speed: rows are written straight into the BatchBuilder's columns; strings are built in a
// small stack buffer; nothing is allocated per row.

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/batch.h"

namespace weir {

enum class NexmarkTable { Bid, Auction, Person };
/// "bid" / "auction" / "person"; nullopt otherwise.
std::optional<NexmarkTable> parseNexmarkTable(std::string_view name);
std::string_view nexmarkTableName(NexmarkTable table);

/// The table's output schema (one shared instance per table):
///   bid:     auction, bidder, price (int64), channel, url (string), date_time (timestamp),
///            extra (string)
///   auction: id, item_name, description, initial_bid, reserve, date_time, expires, seller,
///            category, extra
///   person:  id, name, email_address, credit_card, city, state, date_time, extra
SchemaPtr nexmarkSchema(NexmarkTable table);

struct NexmarkConfig {
  std::uint64_t seed = 42;
  std::int64_t baseTime = 1767225600000;  // 2026-01-01T00:00:00.000Z
  std::int64_t eventGapUs = 1000;         // event time between consecutive events
};

class NexmarkGenerator {
 public:
  explicit NexmarkGenerator(NexmarkTable table, NexmarkConfig config = {});

  NexmarkTable table() const { return table_; }
  const SchemaPtr& schema() const { return schema_; }
  const NexmarkConfig& config() const { return config_; }
  /// date_time of event i.
  std::int64_t dateTime(std::int64_t i) const {
    return config_.baseTime + (i * config_.eventGapUs) / 1000;
  }
  /// Appends events first, first + stride, first + 2*stride, ... (`count` of them) to `out`,
  /// which must have schema(); each row's event time is its date_time. Thread-safe (const).
  void generate(std::int64_t first, std::int64_t count, std::int64_t stride,
                BatchBuilder& out) const;

 private:
  void bid(std::int64_t i, BatchBuilder& out) const;
  void auction(std::int64_t i, BatchBuilder& out) const;
  void person(std::int64_t i, BatchBuilder& out) const;

  NexmarkTable table_;
  NexmarkConfig config_;
  SchemaPtr schema_;
};

/// Shorthand for NexmarkGenerator(Bid, {seed}).generate(first, count, stride, out).
void generateBids(std::uint64_t seed, std::int64_t first, std::int64_t count, std::int64_t stride,
                  BatchBuilder& out);

/// The 64-bit finalizer of splitmix64 (a bijective mixer).
inline std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace weir
