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

#include "runtime/plan.h"

namespace weir::cluster {

nlohmann::json planToJson(const JobPlan& plan);
/// Throws std::runtime_error naming the field when the JSON is not a plan.
JobPlan planFromJson(const nlohmann::json& j);

}  // namespace weir::cluster
