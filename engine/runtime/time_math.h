#pragma once
// Event-time arithmetic shared by the operators that assign records to windows or
// intervals (window, join): saturating addition at the int64 ends, and the windows of a
// record's time.

#include <cstdint>

namespace weir {

/// a + b, held at INT64_MAX / INT64_MIN instead of overflowing.
inline std::int64_t saturatingAdd(std::int64_t a, std::int64_t b) {
  if (b > 0 && a > INT64_MAX - b) return INT64_MAX;
  if (b < 0 && a < INT64_MIN - b) return INT64_MIN;
  return a + b;
}

/// a mod b in [0, b) for b > 0, also for negative a.
inline std::int64_t floorMod(std::int64_t a, std::int64_t b) {
  const std::int64_t m = a % b;
  return m < 0 ? m + b : m;
}

/// The start of the last window of length `size`, starting at multiples of `slide`, that
/// contains time t (tumbling: slide = size). Every window of t starts at this minus a
/// multiple of slide, down to (but excluding) t - size, as Flink's
/// SlidingEventTimeWindows assigns them (offset 0).
inline std::int64_t lastWindowStart(std::int64_t t, std::int64_t slide) { return t - floorMod(t, slide); }

/// Calls fn(start, end) for every window [start, end) of length `size` starting at a
/// multiple of `slide` that contains t, latest first.
template <class F>
void forEachWindow(std::int64_t t, std::int64_t size, std::int64_t slide, F&& fn) {
  for (std::int64_t start = lastWindowStart(t, slide); start > t - size; start -= slide) fn(start, start + size);
}

}  // namespace weir
