#pragma once
// Partitioning: which downstream subtask gets which record.
//
// Hash partitioning follows Flink's key groups, so that keyed state can later be
// redistributed when a job is rescaled from a snapshot: a key's hash picks one of
// `maxParallelism` key groups (fixed for the life of the job), and subtask k of p owns the
// contiguous range of groups [ceil(k*maxP/p), ceil((k+1)*maxP/p)). A key's group never
// depends on the parallelism; only the group-to-subtask assignment does.

#include <cstdint>
#include <span>
#include <vector>

#include "core/batch.h"

namespace weir {

inline constexpr int kDefaultMaxParallelism = 128;

/// Hash of the key fields `keys` of every row of `batch`, appended to `out`. Nulls hash
/// to a fixed value; int64 and timestamp of equal value hash alike; doubles hash by
/// value with -0.0 == 0.0.
void hashKeys(const RecordBatch& batch, std::span<const int> keys, std::vector<std::uint64_t>& out);

inline int keyGroupForHash(std::uint64_t hash, int maxParallelism) {
  return static_cast<int>(hash % static_cast<std::uint64_t>(maxParallelism));
}
/// The subtask of `parallelism` that owns key group `keyGroup` (Flink's
/// computeOperatorIndexForKeyGroup).
inline int subtaskForKeyGroup(int keyGroup, int maxParallelism, int parallelism) {
  return keyGroup * parallelism / maxParallelism;
}

/// Splits `batch` by target subtask: rows[t] gets the row indices for subtask t.
void partitionByKey(const RecordBatch& batch, std::span<const int> keys, int maxParallelism,
                    std::vector<std::vector<std::uint32_t>>& rows);

}  // namespace weir
