#pragma once
// Whether a job can start from a savepoint (or a retained checkpoint), node by node, and
// why not (`weir savepoint check JOB SAVEPOINT`; the JobManager checks the same when a job
// is submitted with --from-savepoint). State is matched by node id:
//
//   restored    the node is in both, of the same type, keyed by the same fields over the
//               same input schema (its parallelism may differ: keyed state moves by key
//               group, sources take their splits)
//   no state    the node is in both but kept no state: nothing to restore, nothing lost
//   new         the node is only in the job: it starts empty
//   dropped     the node is only in the savepoint and kept state: that state would be
//               lost, so the restore is refused unless allowNonRestoredState
//   changed     the node is in both but its state no longer fits (another operator type,
//               another key, another input schema): always refused; give the node a new
//               id to start it empty on purpose
//
// Pure: the plan and the savepoint's metadata in, the report out.

#include <string>
#include <vector>

#include "runtime/checkpoint_storage.h"
#include "runtime/plan.h"

namespace weir {

struct SavepointNodeVerdict {
  std::string node;
  std::string verdict;  // "restored", "no state", "new", "dropped", "changed"
  std::string detail;   // why, in words
};

struct SavepointReport {
  std::vector<SavepointNodeVerdict> nodes;  // the job's nodes in plan order, then those only in the savepoint
  bool restorable = true;                   // nothing changed, and nothing dropped unless allowed
  /// One line per node: "per_auction: restored (parallelism 2 -> 4)".
  std::string toString() const;
};

SavepointReport checkSavepoint(const JobPlan& plan, const CheckpointMetadata& savepoint, bool allowNonRestoredState);

}  // namespace weir
