#pragma once
// Key groups (Flink's): the unit in which keyed state is owned, snapshotted and, when a
// job is rescaled from a snapshot, moved between subtasks.
//
// A key's group is hash(key) % maxParallelism (runtime/partition.h: keyGroupForHash over
// hashKeys), fixed for the life of the job. Subtask k of p owns the contiguous range
// [ceil(k * maxP / p), ceil((k + 1) * maxP / p)), exactly the groups that hash
// partitioning sends it (subtaskForKeyGroup is the inverse).

#include <cassert>

#include "runtime/partition.h"

namespace weir {

/// A contiguous range of key groups [first, end).
struct KeyGroupRange {
  int first = 0;
  int end = 0;
  int size() const { return end - first; }
  bool contains(int group) const { return group >= first && group < end; }
  /// Index of `group` within the range (0-based), for per-group arrays.
  int offset(int group) const {
    assert(contains(group));
    return group - first;
  }
  bool operator==(const KeyGroupRange&) const = default;
};

/// The groups subtask `index` of `parallelism` owns (Flink's
/// computeKeyGroupRangeForOperatorIndex).
inline KeyGroupRange keyGroupRangeForSubtask(int maxParallelism, int parallelism, int index) {
  return {(index * maxParallelism + parallelism - 1) / parallelism,
          ((index + 1) * maxParallelism + parallelism - 1) / parallelism};
}

}  // namespace weir
