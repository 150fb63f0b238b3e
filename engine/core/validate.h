#pragma once
// Job validation: everything that can be known about a job before it runs (DESIGN.md §3).
//
// validateJob checks a parsed JobGraph against the operator catalog and reports every
// problem it finds, not just the first, each as a Diagnostic "node id: param path: message":
//   - the job's own fields: weir version, mode, parallelism, on_bad_record, checkpoint and
//     restart objects, unknown fields;
//   - nodes: empty and duplicate ids, unknown types and fields, params (unknown, missing,
//     wrong JSON kind, enum values, bounds, nested paths such as window.size_ms and
//     aggregates[1].fn), parallelism;
//   - edges (path "edges[3]", reported at the `to` node, or "job" when that is unknown):
//     unknown nodes and ports, edges into sources or out of sinks, several edges into a
//     one-edge port, duplicates, partitions that cannot work;
//   - the graph: unconnected required ports, cycles (naming the nodes on them);
//   - schemas, propagated in topological order through each operator's derivation
//     (OperatorSpec::derive): expressions, key fields, aggregate types, union inputs.
//     A node whose inputs could not be derived is not checked further, so one mistake is
//     reported once, not again at every node downstream of it.
// Diagnostics come sorted by the file order of the node they name (job-level first),
// each node's in the order they were found, so the output is stable.
//
// The result describes the job as the runtime needs it: normalized params (defaults
// filled in), resolved parallelism and partitioning, schemas on every port, a
// topological order. It is filled in as far as validation got even when there are errors
// (the workbench shows schemas of the healthy part of a job being edited); only a job with
// `ok` may run.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/catalog.h"
#include "core/job.h"
#include "core/schema.h"

namespace weir {

/// One edge of the job as it will run. Aligned with JobGraph::edges (same index).
struct ValidatedEdge {
  bool valid = false;            // both ends and ports exist; only valid edges carry data
  std::string from, fromPort, to, toPort;
  int fromNode = -1, toNode = -1;           // indices into ValidatedJob::nodes
  int fromPortIndex = -1, toPortIndex = -1; // catalog port order
  /// Resolved, never Auto: Hash into keyed ports, else the file's choice, else Forward
  /// when both ends have the same parallelism, else Rebalance.
  Partition partition = Partition::Forward;
  std::vector<std::string> keyFields;       // Hash: the fields hashed, in key order
  SchemaPtr schema;                         // what flows; null when not derived
};

/// One node as it will run. Aligned with JobGraph::nodes (same index).
struct ValidatedNode {
  std::string id;
  std::string type;
  const OperatorSpec* spec = nullptr;       // null for an unknown type
  nlohmann::json params = nlohmann::json::object();  // normalized: defaults filled in
  int parallelism = 1;                      // resolved
  bool failOnBadRecord = false;             // the node's on_bad_record, else the job's
  std::vector<std::string> inputPorts;      // catalog order
  std::vector<std::string> outputPorts;
  /// Per port, catalog order; null where not derived. A `multiple` port (union) has the
  /// common schema of its edges.
  std::vector<SchemaPtr> inputSchemas;
  std::vector<SchemaPtr> outputSchemas;
  std::vector<StreamProps> inputProps;
  std::vector<StreamProps> outputProps;
  /// Per port: indices into ValidatedJob::edges of the valid edges there, in file order.
  std::vector<std::vector<std::size_t>> inputEdges;
  std::vector<std::vector<std::size_t>> outputEdges;
  bool derived = false;                     // output schemas are known
};

struct ValidatedJob {
  bool ok = false;                          // no diagnostics: the job may run
  std::string name;
  JobMode mode = JobMode::Streaming;
  std::filesystem::path baseDir;
  std::string deadLetter;
  /// Normalized `checkpoint` (defaults filled), or null: checkpointing off.
  nlohmann::json checkpoint;
  /// Normalized `restart`; without one in the file, {"strategy": "none", ...}.
  nlohmann::json restart;
  std::vector<ValidatedNode> nodes;
  std::vector<ValidatedEdge> edges;
  /// Indices into `nodes`, sources first, each node after all its inputs, ties in file
  /// order. Nodes on or behind a cycle are missing from it.
  std::vector<std::size_t> order;

  const ValidatedNode* node(std::string_view id) const;
};

/// Validates `job` against `catalog`, appending every problem to `diags` (sorted as
/// described above). ok is true when it appended none.
ValidatedJob validateJob(const JobGraph& job, const Catalog& catalog, Diagnostics& diags);
/// The same against Catalog::builtin().
ValidatedJob validateJob(const JobGraph& job, Diagnostics& diags);

/// Checks `value` against `specs` as validation checks a node's params, reporting each
/// problem as (path, message) with paths under `prefix` ("window." ...); returns the
/// normalized copy (defaults filled in). For editors that check one object at a time.
nlohmann::json checkParams(const std::vector<ParamSpec>& specs, const nlohmann::json& value,
                           const std::string& prefix,
                           const std::function<void(std::string path, std::string message)>& report);

}  // namespace weir
