#pragma once
// The job graph: what a `*.weir.json` file says (DESIGN.md §3), parsed but not yet checked.
//
// Parsing (parseJob) only reads the JSON into these structs. It fails only when it cannot
// build them at all: malformed JSON (reported with line and column), a top level, node or
// edge that is not a JSON object, a duplicate key. Any member it cannot read into its typed
// field (an unknown name, the wrong JSON kind, a value out of range such as "mode": "fast")
// is kept verbatim in the struct's `unread` object, so that nothing is lost when the job
// is written back, and validateJob (core/validate.h) reports it together with every other
// problem (unknown types and params, ports, cycles, schemas, expressions, keys).
//
// Params stay JSON here: the operator catalog (core/catalog.h) says what each type's
// params are, and validation produces a normalized copy with defaults filled in.

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace weir {

/// One problem with a job, reported as "node id: param path: message" (DESIGN.md §3).
/// `node` is the node's id, or "job" for job-level fields, parse errors and anything not
/// attributable to a node; `path` is the param path inside the node ("window.size_ms",
/// "aggregates[1].fn") or the job-level path ("edges[2].to", "checkpoint.mode"), possibly
/// empty. toString(): "node: path: message", or "node: message" when path is empty.
struct Diagnostic {
  std::string node;
  std::string path;
  std::string message;
  std::string toString() const;
  bool operator==(const Diagnostic&) const = default;
};
using Diagnostics = std::vector<Diagnostic>;

enum class JobMode { Streaming, Batch };
std::string_view jobModeName(JobMode m);  // "streaming", "batch"

/// How records travel along an edge. A job file may say auto (the default), forward,
/// rebalance or broadcast; Hash is only chosen by validation, for edges into keyed inputs.
enum class Partition { Auto, Forward, Rebalance, Broadcast, Hash };
std::string_view partitionName(Partition p);  // "auto", "forward", ...
/// The job-file spellings auto/forward/rebalance/broadcast; nullopt for anything else
/// (including "hash", which a file may not ask for).
std::optional<Partition> parsePartition(std::string_view name);

/// Names of the members a struct was read from ("mode", "params", ...). jobToJson writes a
/// field that is at its default value only if it is in this set, so that saving a job
/// keeps what its author wrote explicitly and adds nothing else.
using PresentFields = std::set<std::string, std::less<>>;

struct JobNode {
  std::string id;
  std::string type;
  nlohmann::json params = nlohmann::json::object();
  std::optional<int> parallelism;           // unset: the job's
  nlohmann::json ui;                        // layout only; null when absent
  std::string description;                  // free text for people; never interpreted
  nlohmann::json unread = nlohmann::json::object();  // members not read above, verbatim
  PresentFields present;

  bool operator==(const JobNode&) const = default;
};

struct JobEdge {
  std::string from;
  std::string fromPort = "out";
  std::string to;
  std::string toPort = "in";
  Partition partition = Partition::Auto;    // Auto: hash for keyed inputs, else forward/rebalance
  nlohmann::json unread = nlohmann::json::object();
  PresentFields present;

  bool operator==(const JobEdge&) const = default;
};

struct JobGraph {
  int version = 1;                          // "weir"; 0 when the file has none
  std::string name;
  std::string description;
  JobMode mode = JobMode::Streaming;
  int parallelism = 1;
  std::string onBadRecord = "skip";         // "skip" (dead-letter and count) or "fail"
  std::string deadLetter;                   // dead-letter file; empty: the default place
  nlohmann::json checkpoint;                // null when absent (checkpointing off)
  nlohmann::json restart;                   // null when absent
  std::vector<JobNode> nodes;
  std::vector<JobEdge> edges;
  nlohmann::json unread = nlohmann::json::object();
  PresentFields present;
  std::filesystem::path baseDir;            // relative paths resolve against this

  const JobNode* node(std::string_view id) const;
  JobNode* node(std::string_view id);
  bool operator==(const JobGraph&) const = default;
};

/// Parses job JSON text. On failure returns nullopt and appends diagnostics
/// {"job", "", "bids.weir.json:3:14: message"}; `fileName` names the file in messages.
std::optional<JobGraph> parseJob(std::string_view text, const std::string& fileName,
                                 Diagnostics& diags);
/// Reads and parses a job file; baseDir is set to the file's folder (absolute).
std::optional<JobGraph> loadJobFile(const std::filesystem::path& path, Diagnostics& diags);
/// The job as JSON, the same in meaning as what was parsed: parseJob of its text gives an
/// equal JobGraph (baseDir aside). Fields at their default are written only if they were
/// present in the source; `ui`, `description` and `unread` members are written back.
nlohmann::json jobToJson(const JobGraph& job);
/// jobToJson as the text of a job file: members in the documented order (weir, name, ...,
/// nodes, edges; id, type first in a node), two-space indent, each value on one line when
/// it fits in 100 columns, ending with a newline.
std::string formatJob(const JobGraph& job);

}  // namespace weir
