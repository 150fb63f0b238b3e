#pragma once
// JobPlan: a validated job in the form the runtime executes, with every name resolved to
// an index: nodes with their normalized params, resolved parallelism and port schemas;
// edges with their partitioning and, for hash edges, the key field indices in the
// producer's output schema. Built from a validated job graph (runtime/planner.h); the
// cluster issue ships it to TaskManagers as JSON.

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/job.h"
#include "core/schema.h"

namespace weir {

struct PlanNode {
  std::string id;
  std::string type;
  nlohmann::json params;
  int parallelism = 1;
  std::vector<std::string> inputPorts;
  std::vector<SchemaPtr> inputSchemas;
  std::vector<std::string> outputPorts;
  std::vector<SchemaPtr> outputSchemas;
  bool failOnBadRecord = false;
};

struct PlanEdge {
  int from = 0;
  int fromPort = 0;
  int to = 0;
  int toPort = 0;
  Partition partition = Partition::Forward;  // never Auto here
  std::vector<int> keyFields;                // Hash: indices into from's output schema
};

struct JobPlan {
  std::string name;
  bool batchMode = false;
  std::filesystem::path baseDir;
  std::filesystem::path deadLetterPath;
  int maxParallelism = 128;
  /// The job's normalized `restart` object (validation fills it; {"strategy": "none"} by
  /// default). The deployment layer applies it (cluster/job_state.h).
  nlohmann::json restart = {{"strategy", "none"}};
  /// The job's normalized `checkpoint` object, null when the job takes no checkpoints
  /// (batch jobs never do). The deployment layer runs the coordinator from it.
  nlohmann::json checkpoint;
  bool checkpointing() const { return checkpoint.is_object(); }
  std::vector<PlanNode> nodes;  // in topological order
  std::vector<PlanEdge> edges;
};

}  // namespace weir
