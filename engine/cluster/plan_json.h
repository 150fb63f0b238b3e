#pragma once
// JobPlan <-> JSON: how the JobManager ships a planned job to TaskManagers (the deploy
// message of docs/protocol.md, "Control plane"). Every field of the plan travels,
// schemas included, so a TaskManager runs exactly the plan the JobManager made (file
// splits, pushed-down projections) without planning again.
//
//   {"name", "batch_mode", "base_dir", "dead_letter_path", "max_parallelism",
//    "nodes": [{"id", "type", "params", "parallelism", "fail_on_bad_record",
//               "inputs": [{"port", "schema"}], "outputs": [{"port", "schema"}]}],
//    "edges": [{"from", "from_port", "to", "to_port", "partition", "key_fields"}]}
//   schema: [{"name", "type"}]  (type as core/types.h spells it)

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <vector>

#include "runtime/execution_graph.h"
#include "runtime/plan.h"

namespace weir::cluster {

nlohmann::json planToJson(const JobPlan& plan);
/// Throws std::runtime_error naming the field when the JSON is not a plan.
JobPlan planFromJson(const nlohmann::json& j);

/// An upper bound of the bytes of the deploy message of `plan` laid out as `graph`, with
/// `pluginBytes` of plugin libraries (base64 on the wire), whatever the placement: the
/// plan's and the graph's JSON, and the longest TaskManager names. The JobManager refuses at
/// submission a job whose bound is over the control message limit (cluster/control.h),
/// since no TaskManager could take its deployment.
std::size_t deployMessageBound(const JobPlan& plan, const ExecutionGraph& graph, std::size_t pluginBytes);

}  // namespace weir::cluster
