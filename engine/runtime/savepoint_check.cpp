#include "runtime/savepoint_check.h"

#include <set>

namespace weir {

std::string SavepointReport::toString() const {
  std::string out;
  for (const auto& n : nodes) out += n.node + ": " + n.verdict + (n.detail.empty() ? "" : " (" + n.detail + ")") + "\n";
  return out;
}

SavepointReport checkSavepoint(const JobPlan& plan, const CheckpointMetadata& savepoint, bool allowNonRestoredState) {
  SavepointReport report;
  std::set<std::string> inJob;
  if (savepoint.maxParallelism != plan.maxParallelism) {
    report.restorable = false;
    report.nodes.push_back({"(job)", "changed",
                            "max parallelism " + std::to_string(savepoint.maxParallelism) + " in the savepoint, " +
                                std::to_string(plan.maxParallelism) + " in the job: key groups cannot be remapped"});
  }
  for (const PlanNode& n : plan.nodes) {
    inJob.insert(n.id);
    auto it = savepoint.nodes.find(n.id);
    if (it == savepoint.nodes.end()) {
      report.nodes.push_back({n.id, "new", "not in the savepoint: starts empty"});
      continue;
    }
    const CheckpointMetadata::Node& old = it->second;
    if (old.stateBytes == 0) {
      report.nodes.push_back({n.id, "no state", ""});
      continue;
    }
    const std::string schema = inputSchemaText(n);
    const std::string key = stateKeyText(n);
    std::string why;
    if (old.type != n.type) why = "it was a " + old.type + ", it is now a " + n.type;
    else if (old.key != key) why = "its key was " + (old.key.empty() ? "none" : old.key) + ", it is now " + (key.empty() ? "none" : key);
    else if (old.schema != schema) why = "its input was " + old.schema + ", it is now " + schema;
    if (!why.empty()) {
      report.nodes.push_back({n.id, "changed", why + "; give the node a new id to start it empty"});
      report.restorable = false;
      continue;
    }
    std::string detail = std::to_string(old.stateBytes) + " bytes of state";
    if (old.parallelism != n.parallelism)
      detail += ", parallelism " + std::to_string(old.parallelism) + " -> " + std::to_string(n.parallelism);
    report.nodes.push_back({n.id, "restored", detail});
  }
  for (const auto& [id, old] : savepoint.nodes) {
    if (inJob.count(id)) continue;
    if (old.stateBytes == 0) {
      report.nodes.push_back({id, "dropped", "not in the job; it kept no state"});
      continue;
    }
    report.nodes.push_back({id, "dropped",
                            "not in the job: its " + std::to_string(old.stateBytes) + " bytes of state would be lost" +
                                (allowNonRestoredState ? " (allowed)" : "; allow it with --allow-non-restored-state")});
    if (!allowNonRestoredState) report.restorable = false;
  }
  return report;
}

}  // namespace weir
