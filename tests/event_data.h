#pragma once
// Generated event-time test data for the window, aggregate and join suites: events
// (t, k, v) a fixed step apart, shuffled within a bound, written as CSV.

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/batch.h"

namespace weir::test {

struct Event {
  std::int64_t t;
  std::string k;
  std::int64_t v;
};

/// N events `step` ms apart (starting at salt % 5) over `keys` keys "k0".."k<keys-1>"; v in
/// [-10, 40) repeats, so count_distinct is not just count. Another `salt` gives another
/// sequence of keys and values.
inline std::vector<Event> makeEvents(int n, int keys = 13, std::int64_t step = 7, std::uint64_t salt = 0) {
  std::vector<Event> e;
  for (int i = 0; i < n; ++i) {
    const std::uint64_t h = (static_cast<std::uint64_t>(i) + salt) * 0x9e3779b97f4a7c15ULL;
    e.push_back({static_cast<std::int64_t>(i) * step + static_cast<std::int64_t>(salt % 5),
                 "k" + std::to_string((h >> 33) % static_cast<std::uint64_t>(keys)),
                 static_cast<std::int64_t>((h >> 17) % 50) - 10});
  }
  return e;
}

/// Shuffles inside blocks whose time span is at most `bound`: no event ends up more than
/// `bound` behind the largest time before it, so none is late.
inline std::vector<Event> shuffledWithin(std::vector<Event> e, std::int64_t bound, unsigned seed) {
  std::mt19937 rng(seed);
  std::size_t i = 0;
  while (i < e.size()) {
    std::size_t j = i;
    while (j < e.size() && e[j].t - e[i].t <= bound) ++j;
    std::shuffle(e.begin() + static_cast<std::ptrdiff_t>(i), e.begin() + static_cast<std::ptrdiff_t>(j), rng);
    i = j;
  }
  return e;
}

/// The events as CSV with header "t,k,<valueName>".
inline void writeEvents(const std::filesystem::path& p, const std::vector<Event>& events,
                        const std::string& valueName = "v") {
  std::ofstream out(p);
  out << "t,k," << valueName << "\n";
  for (const auto& e : events) out << e.t << "," << e.k << "," << e.v << "\n";
}

/// The events as one batch of (t int64, k string, v int64) rows of `schema`, each with its
/// t as event time.
inline RecordBatch rowsOf(const SchemaPtr& schema, const std::vector<Event>& events) {
  BatchBuilder b(schema);
  for (const auto& e : events) {
    b.column(0).appendInt64(e.t);
    b.column(1).appendString(e.k);
    b.column(2).appendInt64(e.v);
    b.endRow(e.t);
  }
  return b.finish();
}

}  // namespace weir::test
