#pragma once
// Checks of control messages (docs/protocol.md, "Control plane") that do not need a
// connection: what the JobManager requires of a TaskManager's messages before it believes
// them. Asio-free, so the fuzz target (tests/fuzz/fuzz_inputs.cpp) runs them too.

#include <string>

#include <nlohmann/json.hpp>

namespace weir::cluster {

/// Why a `register` message cannot be accepted, "" when it can: name a string of 1 to
/// kMaxNodeName bytes, slots a whole number from 1 to kMaxSlots, data_host (optional) a
/// string of at most kMaxNodeName bytes, data_port (optional) 0 to 65535, plugin_hashes
/// (optional) an array of at most 4096 strings (cluster/limits.h).
std::string registerProblem(const nlohmann::json& m);

}  // namespace weir::cluster
