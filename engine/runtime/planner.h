#pragma once
// From a job file to a JobPlan: load, apply overrides, validate, plan. This is the one
// path every front end takes (the CLI, the tests, later the JobManager), so a job means
// the same thing wherever it is run.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/job.h"
#include "runtime/plan.h"

namespace weir {

struct ValidatedJob;  // core/validate.h

/// Changes a run asks for on top of the file (CLI flags).
struct JobOverrides {
  std::optional<int> parallelism;  // the job's default parallelism (--parallelism)
  /// "node.param.path=value" (--set): value read as JSON when it parses, else as a string.
  std::vector<std::string> sets;
};

/// Applies overrides to a parsed job; problems (unknown node, malformed assignment) are
/// added to `diags` with node "job" and path "--set".
void applyOverrides(JobGraph& job, const JobOverrides& overrides, Diagnostics& diags);

/// The plan of a job that validated without errors. Plan-time rewrites that do not change
/// results are applied here (pushProjectionsIntoFilters).
JobPlan planJob(const JobGraph& job, const ValidatedJob& validated);

/// Projection pushdown: a filter whose only consumer is a map (keep_input false) passes on
/// only the fields the map's expressions read, so the records it keeps are copied column by
/// column for those fields alone. Sets the filter's internal param `_project` (field names)
/// and the schemas on both sides; the job's meaning is unchanged.
void pushProjectionsIntoFilters(JobPlan& plan);

/// Enumerates the input files of every source.file once, for all its subtasks (internal
/// param `_splits`), so that every subtask cuts the input the same way even when a file
/// grows or a glob changes while the job starts. A pattern that matches nothing is left
/// to the source, which fails naming its subtask and the path.
void planFileSplits(JobPlan& plan);

/// Load + overrides + validate + plan. nullopt when anything failed; every problem is in
/// `diags`.
std::optional<JobPlan> prepareJob(const std::filesystem::path& file, const JobOverrides& overrides,
                                  Diagnostics& diags);

/// Where the dead-letter file of a job goes when the job does not say: next to the
/// output of the first sink.file, named "<job name>.dead-letters.jsonl", else in the job's
/// folder.
std::filesystem::path defaultDeadLetterPath(const JobGraph& job);

}  // namespace weir
