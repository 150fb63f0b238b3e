#pragma once
// Snapshots of operator instances: what one chain member of one subtask writes at a
// checkpoint, how it is encoded in its file, and how a fresh instance is restored from the
// snapshots of its node's old subtasks (docs/fault-tolerance.md, "Snapshot format").
//
// A snapshot has two parts:
//   operator state  the bytes Operator::snapshotState wrote (source positions, staged
//                   sink files); restored by Operator::restoreState, which gets every old
//                   subtask's and decides what it takes when the parallelism changed;
//   keyed state     per key group the subtask owned, the backend's tables (timers
//                   included); a restored subtask takes exactly the groups it owns now,
//                   from whichever old subtask had them, so rescaling is by key group.
//
// File format, version 1 (snapshot_io.h byte order):
//   "WEIRSNAP" u32 version
//   str node id, str operator type, u32 subtask, u32 parallelism, u32 max parallelism,
//   i64 checkpoint id
//   blob operator state
//   u32 number of key groups, then per group (ascending): u32 group, blob group bytes
//   (KeyedStateBackend::snapshotGroup)
//   u32 "DONE" trailer (a file cut short is refused, not half restored)

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/operator.h"

namespace weir {

inline constexpr std::uint32_t kSnapshotVersion = 1;

struct OperatorSnapshot {
  std::string nodeId;
  std::string type;
  int subtask = 0;
  int parallelism = 1;
  int maxParallelism = 128;
  std::int64_t checkpointId = 0;
  std::string operatorState;
  std::vector<std::pair<int, std::string>> keyGroups;  // (group, bytes), ascending, non-empty groups

  std::string encode() const;
  /// Throws SnapshotError naming `what` (the file) and the byte offset on a bad file.
  static OperatorSnapshot decode(std::string_view bytes, const std::string& what);
  /// Bytes of state (operator state and key groups), for checkpoint statistics.
  std::int64_t stateBytes() const;
};

/// Takes the snapshot of one opened operator instance (the synchronous part of a
/// checkpoint: it copies the state into bytes; writing them out can happen elsewhere).
OperatorSnapshot snapshotOperator(Operator& op, OperatorContext& ctx, std::int64_t checkpointId);

/// Restores an opened, fresh operator instance from the snapshots of its node's old
/// subtasks (all of them, any order; one per old subtask). Keyed state: the groups ctx
/// owns now; operator state: Operator::restoreState with every old subtask's, by index.
/// Throws SnapshotError when the snapshots do not belong to this node or disagree.
void restoreOperator(Operator& op, OperatorContext& ctx, const std::vector<OperatorSnapshot>& old);

}  // namespace weir
