#pragma once
// The job graph: what a `*.weir.json` file says (DESIGN.md §3), parsed but not yet checked.
//
// Parsing (parseJob) only reads the JSON into these structs and reports what it cannot
// read at all (malformed JSON with line and column, a member of the wrong JSON kind).
// Everything about meaning (unknown types and params, ports, cycles, schemas,
// expressions, keys) is validateJob's (core/validate.h), which reports every problem it
// finds instead of stopping at the first.
//
// Params stay JSON here: the operator catalog (core/catalog.h) says what each type's
// params are, and validation produces a normalized copy with defaults filled in.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace weir {

/// One problem with a job, reported as "node id: param path: message" (DESIGN.md §3).
/// `node` is the node's id, or "job" for job-level fields and parse errors; `path` is the
/// param path inside the node ("params.window.size_ms", "edges[2].to"), possibly empty.
struct Diagnostic {
  std::string node;
  std::string path;
  std::string message;
  std::string toString() const;
  bool operator==(const Diagnostic&) const = default;
};
using Diagnostics = std::vector<Diagnostic>;

enum class JobMode { Streaming, Batch };
enum class Partition { Auto, Forward, Rebalance, Broadcast, Hash };
std::string_view partitionName(Partition p);  // "auto", "forward", ...

struct JobNode {
  std::string id;
  std::string type;
  nlohmann::json params = nlohmann::json::object();
  std::optional<int> parallelism;           // unset: the job's
  nlohmann::json ui;                        // layout only; null when absent
};

struct JobEdge {
  std::string from;
  std::string fromPort = "out";
  std::string to;
  std::string toPort = "in";
  Partition partition = Partition::Auto;    // Auto: hash for keyed inputs, else forward/rebalance
};

struct JobGraph {
  int version = 1;                          // "weir"
  std::string name;
  JobMode mode = JobMode::Streaming;
  int parallelism = 1;
  std::string onBadRecord = "skip";         // "skip" (dead-letter and count) or "fail"
  std::string deadLetter;                   // dead-letter file; empty: the default place
  nlohmann::json checkpoint;                // null when absent (checkpoint issue)
  nlohmann::json restart;                   // null when absent (cluster issue)
  std::vector<JobNode> nodes;
  std::vector<JobEdge> edges;
  std::filesystem::path baseDir;            // relative paths resolve against this

  const JobNode* node(std::string_view id) const;
  JobNode* node(std::string_view id);
};

/// Parses job JSON text. On failure returns nullopt and appends diagnostics; `fileName`
/// names the file in messages ("bids.weir.json:3:14: ...").
std::optional<JobGraph> parseJob(std::string_view text, const std::string& fileName,
                                 Diagnostics& diags);
/// Reads and parses a job file; baseDir is set to the file's folder.
std::optional<JobGraph> loadJobFile(const std::filesystem::path& path, Diagnostics& diags);
/// The job as JSON, the same in meaning as what was parsed (round trip); fields at
/// their default are written only if they were present in the source.
nlohmann::json jobToJson(const JobGraph& job);

}  // namespace weir
