#pragma once
// The operator catalog: every operator type a job may use, as data (DESIGN.md §3).
//
// For each type the catalog says what its ports and params are (names, kinds, defaults,
// docs, allowed values) and how its output schemas follow from its input schemas. It is
// what validation (core/validate.h) checks a job against, and what the workbench builds its
// palette and inspector from (catalogToJson, printed by `weir catalog --json`; the shape is
// in docs/operators.md). The runtime's OperatorRegistry (runtime/registry.h) says how to
// *run* a type; the catalog says what it *is*.
//
// Built-in operators are in Catalog::builtin(); a plugin adds its own types to a copy
// (Catalog::add) and validates against that. A Catalog is immutable once built and may be
// read from any thread.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/job.h"
#include "core/schema.h"

namespace weir {

/// What JSON a param takes. Spelled in catalog JSON as paramKindName gives.
enum class ParamKind {
  Int,         // "int": a JSON integer, within min/max when given
  Double,      // "double": any JSON number, within min/max when given
  Bool,        // "bool"
  String,      // "string"
  Enum,        // "enum": a string, one of ParamSpec::enumValues
  Path,        // "path": a non-empty string; relative paths resolve against the job's folder
  Expression,  // "expression": a string in the expression language (DESIGN.md §4)
  Timestamp,   // "timestamp": integer ms since the epoch or an ISO-8601 string
  Field,       // "field": a string naming a field of a schema the operator sees
  FieldList,   // "field_list": an array of distinct field names
  Schema,      // "schema": an array of {"name": string, "type": int64|double|string|bool|timestamp}
  Object,      // "object": an object whose members are ParamSpec::children
  ObjectList,  // "object_list": an array of such objects
  Json,        // "json": any JSON, passed on untouched (udf params)
};
std::string_view paramKindName(ParamKind k);

struct ParamSpec {
  std::string name;
  ParamKind kind = ParamKind::String;
  bool required = false;
  /// Filled in by validation when the param is absent; null: no default (absent stays
  /// absent). An Object param's default is usually {} so that its children's defaults
  /// are filled in.
  nlohmann::json defaultValue;
  std::string doc;
  std::vector<std::string> enumValues;     // Enum
  std::optional<double> min, max;          // Int, Double: inclusive bounds
  std::vector<ParamSpec> children;         // Object, ObjectList: the members
};

struct PortSpec {
  std::string name;
  std::string doc;
  /// Input: the port must have an edge. Output: the port must have an edge (a node's main
  /// output `out`; side outputs such as `late` may stay unconnected, their records dropped).
  bool required = true;
  /// Input only: the port accepts any number of edges (union's `in`); otherwise one.
  bool multiple = false;
};

enum class OperatorCategory { Source, Transform, Sink };
std::string_view categoryName(OperatorCategory c);  // "source", "transform", "sink"

/// Key groups of every job (Flink's max parallelism; fixed, a job cannot set it). Keys are
/// hashed into this many groups and each subtask of a keyed operator owns a range of them,
/// so a keyed operator runs as at most this many subtasks (runtime/partition.h).
inline constexpr int kKeyGroups = 128;
/// The most subtasks any node (and the job's default parallelism) may ask for: no more
/// than there are key groups, and far more than a cluster of this kind runs; a job asking
/// for more is refused (docs/security.md) rather than waiting for ever for slots.
inline constexpr int kMaxParallelism = kKeyGroups;

/// A keyed input: records reaching `port` are hash-partitioned on the fields that the
/// (field_list) param `param` names.
struct KeyedInput {
  std::string port;
  std::string param;
};

/// What flows on one port besides its schema.
struct StreamProps {
  bool eventTime = false;  // records carry event timestamps (a source with `timestamp`)
  bool updates = false;    // an update (changelog) stream: records may retract earlier ones
  bool bounded = true;     // the stream ends (every source upstream is bounded)
  bool operator==(const StreamProps&) const = default;
};

/// One edge arriving at an input port, as schema derivation sees it.
struct PortInput {
  std::size_t edge = 0;  // index into JobGraph::edges
  SchemaPtr schema;
  StreamProps props;
};

/// The arguments and results of one operator's schema derivation. The function reads
/// `params` (normalized, so defaults are present) and `inputs`, and either fills `outputs`
/// (one schema per output port, in catalog order) and `outputProps`, or reports errors
/// with error(); any error means the outputs are not used.
struct SchemaDerivation {
  const JobGraph* job = nullptr;
  std::string nodeId;
  const nlohmann::json* params = nullptr;
  /// Per input port, in catalog order: every edge into it (one, unless the port is
  /// `multiple`), in the order of the job's edges. Never empty for a required port.
  std::vector<std::vector<PortInput>> inputs;
  std::vector<SchemaPtr> outputs;
  std::vector<StreamProps> outputProps;
  Diagnostics diagnostics;

  void error(std::string path, std::string message) {
    diagnostics.push_back({nodeId, std::move(path), std::move(message)});
  }
  const nlohmann::json& param(std::string_view name) const;
  bool failed() const { return !diagnostics.empty(); }
};

using DeriveSchemas = std::function<void(SchemaDerivation&)>;

struct OperatorSpec {
  std::string type;                  // "source.file"
  OperatorCategory category = OperatorCategory::Transform;
  std::string title;                 // "File source"
  std::string doc;                   // one paragraph for the workbench
  std::string outputDoc;             // how the output schema follows, in words
  std::vector<PortSpec> inputs;      // none for a source
  std::vector<PortSpec> outputs;     // none for a sink
  std::vector<KeyedInput> keyed;
  std::vector<ParamSpec> params;
  /// 0: any parallelism. Otherwise the most subtasks the operator can run as; a node that
  /// inherits a larger job parallelism gets this, one that asks for more is an error.
  int maxParallelism = 0;
  /// Output schemas from input schemas and params; checks what only the operator knows
  /// (expressions type-check, key fields exist, ...).
  DeriveSchemas derive;

  const ParamSpec* param(std::string_view name) const;
  /// Index of the port with this name, or -1.
  int inputIndex(std::string_view port) const;
  int outputIndex(std::string_view port) const;
  /// The key param of an input port, or nullptr when the port is not keyed.
  const KeyedInput* keyedInput(std::string_view port) const;
};

class Catalog {
 public:
  /// Every built-in operator, in the order of DESIGN.md §3's table.
  static const Catalog& builtin();

  /// Adds a type (a plugin's); replaces one of the same name.
  void add(OperatorSpec spec);
  const OperatorSpec* find(std::string_view type) const;
  const std::vector<OperatorSpec>& operators() const { return operators_; }
  /// The catalog as JSON (docs/operators.md, "Catalog JSON").
  nlohmann::json toJson() const;

 private:
  std::vector<OperatorSpec> operators_;
};

/// Catalog::builtin().toJson(): what `weir catalog --json` prints.
nlohmann::json catalogToJson();

/// The params of the job-level `checkpoint` and `restart` objects, checked and normalized
/// like operator params (the job's own inspector is generated from them too).
const std::vector<ParamSpec>& checkpointParams();
const std::vector<ParamSpec>& restartParams();

/// One ParamSpec as catalog JSON ({"name", "kind", "required", "default"?, ...}).
nlohmann::json paramSpecToJson(const ParamSpec& p);

/// The candidate closest to `word` (edit distance, case-insensitive), if one is close
/// enough to be a likely typo; for "did you mean 'x'?" messages.
std::optional<std::string> closestName(std::string_view word,
                                       const std::vector<std::string>& candidates);
/// " (did you mean 'x'?)" or "".
std::string didYouMean(std::string_view word, const std::vector<std::string>& candidates);

/// The output schema of source.generator for `table` ("bid", "auction", "person"), or
/// nullptr for another name.
SchemaPtr generatorSchema(std::string_view table);

}  // namespace weir
