#pragma once
// The input watermark of an event-time keyed operator (window, join) as its operator state
// (Operator::snapshotState / restoreState): what it had seen decides which records are
// late, so a restored instance must start from it, not from the minimum.
//
// Bytes: u8 version (1), i64 watermark. On restore every old subtask's is read and the
// smallest taken: at the same parallelism under aligned barriers they are all equal (each
// old subtask saw exactly the records and watermarks before the barrier on every channel);
// after rescaling the smallest never makes late a record that was on time for the subtask
// that would have had it. An old subtask that wrote nothing counts for nothing; with none
// the watermark is INT64_MIN.

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/state/snapshot_io.h"

namespace weir {

inline void writeWatermarkState(ByteWriter& out, std::int64_t watermark) {
  out.u8(1);
  out.i64(watermark);
}

/// `what` names the operator in errors ("window 'w'").
inline std::int64_t restoreWatermarkState(const std::vector<std::string>& states, const std::string& what) {
  std::int64_t wm = INT64_MAX;
  bool any = false;
  for (std::size_t i = 0; i < states.size(); ++i) {
    if (states[i].empty()) continue;
    ByteReader r(states[i], what + ", operator state of old subtask " + std::to_string(i));
    const std::uint8_t version = r.u8();
    if (version != 1) r.fail("version " + std::to_string(version) + " of the watermark state");
    wm = std::min(wm, r.i64());
    if (!r.atEnd()) r.fail(std::to_string(r.remaining()) + " bytes left over");
    any = true;
  }
  return any ? wm : INT64_MIN;
}

}  // namespace weir
