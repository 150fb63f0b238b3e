#include "core/validate.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>
#include <map>
#include <queue>
#include <set>

#include "core/text.h"

namespace weir {

using json = nlohmann::json;

const ValidatedNode* ValidatedJob::node(std::string_view id) const {
  for (const ValidatedNode& n : nodes)
    if (n.id == id) return &n;
  return nullptr;
}

namespace {

using Report = std::function<void(std::string path, std::string message)>;

std::string join(const std::vector<std::string>& items, std::string_view sep = ", ") {
  std::string s;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) s += sep;
    s += items[i];
  }
  return s;
}

std::string inQuotes(std::string_view s) { return "'" + std::string(s) + "'"; }

/// "a string", "an integer", ... for "must be X, not Y" messages.
std::string kindOf(const json& v) {
  switch (v.type()) {
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a bool";
    case json::value_t::null: return "null";
    case json::value_t::number_float: return "a number with a fraction";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    default: return "something else";
  }
}

std::string mustBe(std::string_view what, const json& v) {
  return "must be " + std::string(what) + ", not " + kindOf(v);
}

/// For a member that should have been an int: its kind, or that it is out of range.
std::string intMessage(const json& v) {
  if (v.is_number_integer()) return "out of range (" + v.dump() + ")";
  return mustBe("an integer", v);
}

std::string parallelismTooLarge(int p) {
  return std::to_string(p) + " is more than the " + std::to_string(kMaxParallelism) +
         " subtasks a node may have (the number of key groups, which every keyed operator's subtasks share)";
}

std::string numberText(double d) {
  if (std::floor(d) == d && std::fabs(d) < 1e15) return std::to_string(static_cast<long long>(d));
  return formatDouble(d);
}

std::string oneOf(std::string_view value, const std::vector<std::string>& allowed) {
  return inQuotes(value) + " is not one of " + join(allowed) + didYouMean(value, allowed);
}

/// Suggestions for type names people often write instead of Weir's.
std::string typeHint(const std::string& name) {
  static const std::map<std::string, std::string> aliases = {
      {"int", "int64"},      {"integer", "int64"}, {"long", "int64"},   {"bigint", "int64"},
      {"float", "double"},   {"real", "double"},   {"number", "double"}, {"str", "string"},
      {"text", "string"},    {"varchar", "string"}, {"boolean", "bool"}, {"datetime", "timestamp"},
      {"date", "timestamp"}, {"time", "timestamp"}};
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (auto it = aliases.find(lower); it != aliases.end()) return " (did you mean '" + it->second + "'?)";
  return didYouMean(name, {"int64", "double", "string", "bool", "timestamp"});
}

// ---- params ----------------------------------------------------------------------------------

json checkObject(const std::vector<ParamSpec>& specs, const json& obj, const std::string& prefix,
                 std::string_view noun, const Report& report);

void checkSchemaValue(const json& v, const std::string& path, const Report& report) {
  if (!v.is_array()) {
    report(path, mustBe("an array of {\"name\", \"type\"} objects", v));
    return;
  }
  if (v.empty()) report(path, "needs at least one field");
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::string at = path + "[" + std::to_string(i) + "]";
    const json& f = v[i];
    if (!f.is_object()) {
      report(at, mustBe("an object {\"name\", \"type\"}", f));
      continue;
    }
    for (const auto& [key, member] : f.items()) {
      if (key != "name" && key != "type")
        report(at + "." + key, "unknown field" + didYouMean(key, {"name", "type"}));
    }
    if (!f.contains("name")) {
      report(at + ".name", "missing");
    } else if (!f["name"].is_string()) {
      report(at + ".name", mustBe("a string", f["name"]));
    } else {
      std::string name = f["name"].get<std::string>();
      if (name.empty()) {
        report(at + ".name", "must not be empty");
      } else if (auto [it, fresh] = seen.emplace(name, i); !fresh) {
        report(at + ".name", "duplicate field name " + inQuotes(name) + " (also " + path + "[" +
                                 std::to_string(it->second) + "])");
      }
    }
    if (!f.contains("type")) {
      report(at + ".type", "missing");
    } else if (!f["type"].is_string()) {
      report(at + ".type", mustBe("a string", f["type"]));
    } else {
      std::string type = f["type"].get<std::string>();
      if (!parseType(type)) {
        std::string hint = typeHint(type);
        report(at + ".type", "unknown type " + inQuotes(type) +
                                 (hint.empty() ? "; types are int64, double, string, bool, "
                                                 "timestamp"
                                               : hint));
      }
    }
  }
}

/// Checks one param value; returns its normalized form.
json checkValue(const ParamSpec& p, const json& v, const std::string& path, std::string_view noun,
                const Report& report) {
  auto bounds = [&](double d) {
    if (p.min && d < *p.min)
      report(path, "must be at least " + numberText(*p.min) + ", not " + numberText(d));
    else if (p.max && d > *p.max)
      report(path, "must be at most " + numberText(*p.max) + ", not " + numberText(d));
  };
  auto nonEmptyString = [&]() {
    if (!v.is_string()) report(path, mustBe("a string", v));
    else if (v.get<std::string>().empty()) report(path, "must not be empty");
  };
  switch (p.kind) {
    case ParamKind::Int:
      if (!v.is_number_integer()) report(path, mustBe("an integer", v));
      else bounds(v.get<double>());
      return v;
    case ParamKind::Double:
      if (!v.is_number()) report(path, mustBe("a number", v));
      else bounds(v.get<double>());
      return v;
    case ParamKind::Bool:
      if (!v.is_boolean()) report(path, mustBe("true or false", v));
      return v;
    case ParamKind::String:
      if (!v.is_string()) report(path, mustBe("a string", v));
      return v;
    case ParamKind::Path:
    case ParamKind::Expression:
    case ParamKind::Field:
      nonEmptyString();
      return v;
    case ParamKind::Enum:
      if (!v.is_string()) report(path, mustBe("a string", v));
      else if (std::find(p.enumValues.begin(), p.enumValues.end(), v.get<std::string>()) ==
               p.enumValues.end())
        report(path, oneOf(v.get<std::string>(), p.enumValues));
      return v;
    case ParamKind::Timestamp:
      if (v.is_number_integer()) return v;
      if (!v.is_string()) report(path, mustBe("a timestamp (ISO-8601 text or milliseconds)", v));
      else if (!parseTimestamp(v.get<std::string>()))
        report(path, inQuotes(v.get<std::string>()) +
                         " is not a timestamp (ISO-8601 such as 2026-01-01T00:00:00Z, or "
                         "integer milliseconds since the epoch)");
      return v;
    case ParamKind::FieldList: {
      if (!v.is_array()) {
        report(path, mustBe("an array of field names", v));
        return v;
      }
      std::map<std::string, std::size_t> seen;
      for (std::size_t i = 0; i < v.size(); ++i) {
        std::string at = path + "[" + std::to_string(i) + "]";
        if (!v[i].is_string()) {
          report(at, mustBe("a field name (a string)", v[i]));
        } else if (v[i].get<std::string>().empty()) {
          report(at, "must not be empty");
        } else if (auto [it, fresh] = seen.emplace(v[i].get<std::string>(), i); !fresh) {
          report(at, "duplicate field " + inQuotes(it->first));
        }
      }
      return v;
    }
    case ParamKind::Schema:
      checkSchemaValue(v, path, report);
      return v;
    case ParamKind::Object:
      if (!v.is_object()) {
        report(path, mustBe("an object", v));
        return v;
      }
      return checkObject(p.children, v, path + ".", noun, report);
    case ParamKind::ObjectList: {
      if (!v.is_array()) {
        report(path, mustBe("an array of objects", v));
        return v;
      }
      json out = json::array();
      for (std::size_t i = 0; i < v.size(); ++i) {
        std::string at = path + "[" + std::to_string(i) + "]";
        if (!v[i].is_object()) {
          report(at, mustBe("an object", v[i]));
          out.push_back(v[i]);
        } else {
          out.push_back(checkObject(p.children, v[i], at + ".", noun, report));
        }
      }
      return out;
    }
    case ParamKind::Json:
      return v;
  }
  return v;
}

json checkObject(const std::vector<ParamSpec>& specs, const json& obj, const std::string& prefix,
                 std::string_view noun, const Report& report) {
  std::vector<std::string> names;
  for (const ParamSpec& p : specs) names.push_back(p.name);
  json out = json::object();
  for (const auto& [key, v] : obj.items()) {
    auto it = std::find_if(specs.begin(), specs.end(), [&](const ParamSpec& p) { return p.name == key; });
    if (it == specs.end()) {
      report(prefix + key, "unknown " + std::string(noun) + didYouMean(key, names));
      out[key] = v;
    }
  }
  for (const ParamSpec& p : specs) {
    auto it = obj.find(p.name);
    if (it != obj.end()) {
      out[p.name] = checkValue(p, *it, prefix + p.name, noun, report);
    } else if (p.required) {
      report(prefix + p.name, "missing required " + std::string(noun));
    } else if (!p.defaultValue.is_null()) {
      out[p.name] = p.kind == ParamKind::Object && p.defaultValue.is_object()
                        ? checkObject(p.children, p.defaultValue, prefix + p.name + ".", noun,
                                      report)
                        : p.defaultValue;
    }
  }
  return out;
}

// ---- the validator -----------------------------------------------------------------------------

const std::vector<std::string> kJobFields = {"weir",       "name",       "description", "mode",
                                             "parallelism", "on_bad_record", "dead_letter",
                                             "checkpoint", "restart",    "nodes",       "edges"};
const std::vector<std::string> kNodeFields = {"id", "type", "params", "parallelism", "ui",
                                              "description"};
const std::vector<std::string> kEdgeFields = {"from", "from_port", "to", "to_port", "partition"};

/// The members of `unread`: known fields in their documented order, then unknown ones.
std::vector<std::pair<std::string, json>> inFieldOrder(const json& unread,
                                                       const std::vector<std::string>& known) {
  std::vector<std::pair<std::string, json>> out;
  for (const std::string& k : known)
    if (unread.contains(k)) out.emplace_back(k, unread[k]);
  for (const auto& [k, v] : unread.items())
    if (std::find(known.begin(), known.end(), k) == known.end()) out.emplace_back(k, v);
  return out;
}

class Validator final {
 public:
  Validator(const JobGraph& job, const Catalog& catalog) : job_(job), catalog_(catalog) {}

  ValidatedJob run(Diagnostics& diags) {
    out_.name = job_.name;
    out_.mode = job_.mode;
    out_.baseDir = job_.baseDir;
    out_.deadLetter = job_.deadLetter;
    checkJobFields();
    checkNodes();
    checkEdges();
    checkPorts();
    checkCycles();
    topologicalOrder();
    resolvePartitions();
    deriveSchemas();
    checkRestartable();

    std::stable_sort(found_.begin(), found_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [rank, d] : found_) diags.push_back(std::move(d));
    out_.ok = found_.empty();
    return std::move(out_);
  }

 private:
  // -- reporting: rank -1 is the job, otherwise the node's index in the file.

  void report(int rank, std::string node, std::string path, std::string message) {
    found_.push_back({rank, {std::move(node), std::move(path), std::move(message)}});
  }
  void jobError(std::string path, std::string message) {
    report(-1, "job", std::move(path), std::move(message));
  }
  void nodeError(std::size_t i, std::string path, std::string message) {
    report(static_cast<int>(i), label(i), std::move(path), std::move(message));
  }
  /// Edge problems are reported at the `to` node when it exists, else at the job.
  void edgeError(std::size_t e, std::string sub, std::string message) {
    std::string path = "edges[" + std::to_string(e) + "]" + sub;
    int to = nodeIndex(job_.edges[e].to);
    if (to < 0) jobError(std::move(path), std::move(message));
    else report(to, label(static_cast<std::size_t>(to)), std::move(path), std::move(message));
  }
  std::string label(std::size_t i) const {
    const std::string& id = job_.nodes[i].id;
    return id.empty() ? "nodes[" + std::to_string(i) + "]" : id;
  }
  /// The first node with this id, or -1.
  int nodeIndex(std::string_view id) const {
    if (id.empty()) return -1;
    auto it = index_.find(std::string(id));
    return it == index_.end() ? -1 : static_cast<int>(it->second);
  }
  std::string typeOf(std::size_t i) const { return job_.nodes[i].type; }

  // -- job-level fields

  void checkJobFields() {
    if (job_.version == 0 && !job_.present.count("weir") && !job_.unread.contains("weir"))
      jobError("weir", "missing; a job file starts with \"weir\": 1");
    else if (job_.version != 1 && !job_.unread.contains("weir"))
      jobError("weir", "unsupported version " + std::to_string(job_.version) +
                           "; this Weir reads version 1");
    for (const auto& [key, v] : inFieldOrder(job_.unread, kJobFields)) {
      if (key == "weir") jobError(key, v.is_number_integer()
                                           ? "unsupported version " + v.dump() +
                                                 "; this Weir reads version 1"
                                           : "must be the integer 1, not " + kindOf(v));
      else if (key == "name" || key == "description" || key == "on_bad_record" ||
               key == "dead_letter")
        jobError(key, mustBe("a string", v));
      else if (key == "mode" && v.is_string())
        jobError(key, oneOf(v.get<std::string>(), {"streaming", "batch"}));
      else if (key == "mode") jobError(key, mustBe("a string", v));
      else if (key == "parallelism") jobError(key, intMessage(v));
      else if (key == "checkpoint" || key == "restart") jobError(key, mustBe("an object", v));
      else if (key == "nodes" || key == "edges") jobError(key, mustBe("an array", v));
      else jobError(key, "unknown field" + didYouMean(key, kJobFields));
    }
    if (job_.parallelism < 1)
      jobError("parallelism", "must be at least 1, not " + std::to_string(job_.parallelism));
    else if (job_.parallelism > kMaxParallelism)
      jobError("parallelism", parallelismTooLarge(job_.parallelism));
    if (job_.onBadRecord != "skip" && job_.onBadRecord != "fail")
      jobError("on_bad_record", oneOf(job_.onBadRecord, {"skip", "fail"}));
    if (job_.nodes.empty() && !job_.unread.contains("nodes"))
      jobError("nodes", "the job has no nodes");

    Report jobReport = [&](std::string path, std::string message) {
      jobError(std::move(path), std::move(message));
    };
    if (!job_.checkpoint.is_null()) {
      out_.checkpoint = checkObject(checkpointParams(), job_.checkpoint, "checkpoint.", "field",
                                    jobReport);
      // As in Flink: a batch job takes no checkpoints; it restarts whole by its restart
      // strategy and its sinks publish at its end (docs/fault-tolerance.md).
      if (job_.mode == JobMode::Batch)
        jobError("checkpoint",
                 "a batch job takes no checkpoints (a failed batch job restarts whole by its restart strategy): "
                 "remove the checkpoint object, or run the job in streaming mode");
    }
    json restart = job_.restart.is_null() ? json{{"strategy", "none"}} : job_.restart;
    out_.restart = checkObject(restartParams(), restart, "restart.", "field", jobReport);
  }

  /// A restart starts the job over from its sources (docs/fault-tolerance.md): a sink that
  /// would keep what an earlier attempt wrote and add it again must not be offered one.
  /// sink.file replaces its output at the end and sink.sqlite with a key upserts, so both
  /// are safe; sink.sqlite without a key would insert every row again.
  void checkRestartable() {
    if (out_.restart.value("strategy", "none") == "none") return;
    // With checkpoints a restart resumes from the last completed one, and sink.sqlite
    // commits each checkpoint's rows once (two-phase commit, recorded in _weir_commits).
    if (!job_.checkpoint.is_null()) return;
    for (std::size_t i = 0; i < out_.nodes.size(); ++i) {
      const ValidatedNode& vn = out_.nodes[i];
      if (vn.type != "sink.sqlite") continue;
      const json& key = vn.params.contains("key") ? vn.params["key"] : json();
      if (key.is_array() && !key.empty()) continue;
      nodeError(i, "key",
                "a restart starts the job over, and sink.sqlite without a key would insert the rows of "
                "every attempt: give it a key (its rows are then upserted), or set restart.strategy to none");
    }
  }

  // -- nodes

  void checkNodes() {
    std::size_t n = job_.nodes.size();
    broken_.assign(n, false);
    out_.nodes.resize(n);
    std::vector<std::string> types;
    for (const OperatorSpec& s : catalog_.operators()) types.push_back(s.type);
    int jobParallelism = std::clamp(job_.parallelism, 1, kMaxParallelism);  // refused above when outside

    for (std::size_t i = 0; i < n; ++i) {
      const JobNode& node = job_.nodes[i];
      ValidatedNode& vn = out_.nodes[i];
      vn.id = node.id;
      vn.type = node.type;

      if (node.id.empty()) {
        if (!node.unread.contains("id"))
          nodeError(i, "id", node.present.count("id") ? "must not be empty" : "missing");
      } else if (auto [it, fresh] = index_.emplace(node.id, i); !fresh) {
        nodeError(i, "id", "duplicate node id (nodes[" + std::to_string(it->second) +
                               "] has it too)");
      }
      for (const auto& [key, v] : inFieldOrder(node.unread, kNodeFields)) {
        if (key == "id" || key == "type" || key == "description")
          nodeError(i, key, mustBe("a string", v));
        else if (key == "params" || key == "ui") nodeError(i, key, mustBe("an object", v));
        else if (key == "parallelism") nodeError(i, key, intMessage(v));
        else nodeError(i, key, "unknown field" + didYouMean(key, kNodeFields));
      }

      if (node.type.empty()) {
        if (!node.unread.contains("type")) nodeError(i, "type", "missing");
      } else {
        vn.spec = catalog_.find(node.type);
        if (!vn.spec)
          nodeError(i, "type", "unknown operator type " + inQuotes(node.type) +
                                   didYouMean(node.type, types));
      }

      // Parallelism: the node's own, else the job's capped at what the operator allows.
      int maxPar = vn.spec ? vn.spec->maxParallelism : 0;
      if (node.parallelism) {
        vn.parallelism = std::max(1, *node.parallelism);
        if (*node.parallelism < 1)
          nodeError(i, "parallelism", "must be at least 1, not " +
                                          std::to_string(*node.parallelism));
        else if (*node.parallelism > kMaxParallelism)
          nodeError(i, "parallelism", parallelismTooLarge(*node.parallelism));
        else if (maxPar > 0 && *node.parallelism > maxPar)
          nodeError(i, "parallelism", node.type + " runs as at most " + std::to_string(maxPar) +
                                          " subtask" + (maxPar == 1 ? "" : "s"));
      } else {
        vn.parallelism = maxPar > 0 ? std::min(jobParallelism, maxPar) : jobParallelism;
      }

      if (!vn.spec) continue;
      // A node without a usable id cannot be reached by edges; checkPorts skips it.
      for (const PortSpec& p : vn.spec->inputs) vn.inputPorts.push_back(p.name);
      for (const PortSpec& p : vn.spec->outputs) vn.outputPorts.push_back(p.name);
      vn.inputSchemas.resize(vn.inputPorts.size());
      vn.inputProps.resize(vn.inputPorts.size());
      vn.inputEdges.resize(vn.inputPorts.size());
      vn.outputSchemas.resize(vn.outputPorts.size());
      vn.outputProps.resize(vn.outputPorts.size());
      vn.outputEdges.resize(vn.outputPorts.size());
      if (node.unread.contains("params")) {
        broken_[i] = true;  // reported above; the params cannot be checked
      } else {
        bool paramErrors = false;
        vn.params = checkObject(vn.spec->params, node.params, "", "param",
                                [&](std::string path, std::string message) {
                                  nodeError(i, std::move(path), std::move(message));
                                  paramErrors = true;
                                });
        if (paramErrors) broken_[i] = true;
      }
      const json& obr = vn.params.contains("on_bad_record") ? vn.params["on_bad_record"]
                                                             : json(job_.onBadRecord);
      vn.failOnBadRecord = obr == "fail";
    }
  }

  // -- edges

  void checkEdges() {
    std::size_t n = job_.edges.size();
    out_.edges.resize(n);
    badIn_.assign(job_.nodes.size(), false);
    badOut_.assign(job_.nodes.size(), false);
    std::vector<std::string> ids;
    for (const JobNode& node : job_.nodes)
      if (!node.id.empty()) ids.push_back(node.id);
    std::map<std::tuple<std::string, std::string, std::string, std::string>, std::size_t> seen;

    for (std::size_t e = 0; e < n; ++e) {
      const JobEdge& edge = job_.edges[e];
      ValidatedEdge& ve = out_.edges[e];
      ve.from = edge.from;
      ve.fromPort = edge.fromPort;
      ve.to = edge.to;
      ve.toPort = edge.toPort;
      bool ok = true;
      int from = nodeIndex(edge.from);
      int to = nodeIndex(edge.to);

      for (const auto& [key, v] : inFieldOrder(edge.unread, kEdgeFields)) {
        if (key == "partition" && v == "hash")
          edgeError(e, "." + key, "'hash' is chosen automatically for keyed inputs; use auto, "
                                  "forward, rebalance or broadcast");
        else if (key == "partition" && v.is_string())
          edgeError(e, "." + key, oneOf(v.get<std::string>(),
                                        {"auto", "forward", "rebalance", "broadcast"}));
        else if (key == "from" || key == "to" || key == "from_port" || key == "to_port" ||
                 key == "partition")
          edgeError(e, "." + key, mustBe("a string", v));
        else
          edgeError(e, "." + key, "unknown field" + didYouMean(key, kEdgeFields));
        if (key == "from" || key == "from_port") ok = false;
        if (key == "to" || key == "to_port") ok = false;
      }

      for (bool isFrom : {true, false}) {
        const std::string& id = isFrom ? edge.from : edge.to;
        const char* field = isFrom ? "from" : "to";
        int idx = isFrom ? from : to;
        if (edge.unread.contains(field)) continue;
        if (id.empty()) {
          edgeError(e, std::string(".") + field, "missing");
          ok = false;
        } else if (idx < 0) {
          edgeError(e, std::string(".") + field,
                    "unknown node " + inQuotes(id) + didYouMean(id, ids));
          ok = false;
        }
      }

      const OperatorSpec* fs = from >= 0 ? out_.nodes[from].spec : nullptr;
      const OperatorSpec* ts = to >= 0 ? out_.nodes[to].spec : nullptr;
      if (from >= 0 && !fs) ok = false;  // unknown type: reported at the node
      if (to >= 0 && !ts) ok = false;
      if (fs && !edge.unread.contains("from_port")) {
        ve.fromPortIndex = fs->outputIndex(edge.fromPort);
        if (fs->outputs.empty()) {
          edgeError(e, ".from", fs->type + " " + inQuotes(edge.from) + " has no outputs");
        } else if (ve.fromPortIndex < 0) {
          edgeError(e, ".from_port", portMessage(*fs, edge.from, edge.fromPort, false));
        }
        if (ve.fromPortIndex < 0) ok = false;
      }
      if (ts && !edge.unread.contains("to_port")) {
        ve.toPortIndex = ts->inputIndex(edge.toPort);
        if (ts->inputs.empty()) {
          edgeError(e, ".to", ts->type + " " + inQuotes(edge.to) + " has no inputs");
        } else if (ve.toPortIndex < 0) {
          edgeError(e, ".to_port", portMessage(*ts, edge.to, edge.toPort, true));
        }
        if (ve.toPortIndex < 0) ok = false;
      }
      if (!ok) {
        if (from >= 0) badOut_[from] = true;
        if (to >= 0) badIn_[to] = true;
        continue;
      }
      auto key = std::make_tuple(edge.from, edge.fromPort, edge.to, edge.toPort);
      if (auto [it, fresh] = seen.emplace(key, e); !fresh) {
        edgeError(e, "", "duplicate of edges[" + std::to_string(it->second) + "]");
        continue;
      }
      ve.valid = true;
      ve.fromNode = from;
      ve.toNode = to;
      out_.nodes[from].outputEdges[ve.fromPortIndex].push_back(e);
      out_.nodes[to].inputEdges[ve.toPortIndex].push_back(e);
    }
  }

  static std::string portMessage(const OperatorSpec& s, const std::string& id,
                                 const std::string& port, bool input) {
    std::vector<std::string> names;
    for (const PortSpec& p : input ? s.inputs : s.outputs) names.push_back(p.name);
    return s.type + " " + inQuotes(id) + " has no " + (input ? "input" : "output") + " port " +
           inQuotes(port) + " (its " + (input ? "inputs" : "outputs") + ": " + join(names) + ")";
  }

  // -- ports

  void checkPorts() {
    for (std::size_t i = 0; i < out_.nodes.size(); ++i) {
      ValidatedNode& vn = out_.nodes[i];
      // A node that edges cannot name (no id, or a second one with the same id) would only
      // repeat its id problem here.
      if (!vn.spec || nodeIndex(vn.id) != static_cast<int>(i)) {
        broken_[i] = true;
        continue;
      }
      for (std::size_t p = 0; p < vn.inputPorts.size(); ++p) {
        const PortSpec& port = vn.spec->inputs[p];
        const auto& edges = vn.inputEdges[p];
        if (edges.empty() && port.required && !badIn_[i]) {
          nodeError(i, "", "input port " + inQuotes(port.name) + " is not connected");
        } else if (edges.size() > 1 && !port.multiple) {
          for (std::size_t k = 1; k < edges.size(); ++k)
            edgeError(edges[k], "", "input port " + inQuotes(port.name) + " of " + inQuotes(vn.id) +
                                        " already has edges[" + std::to_string(edges[0]) +
                                        "]; merge streams with a union");
          broken_[i] = true;
        }
        if (edges.empty() && port.required) broken_[i] = true;
      }
      for (std::size_t p = 0; p < vn.outputPorts.size(); ++p) {
        const PortSpec& port = vn.spec->outputs[p];
        if (vn.outputEdges[p].empty() && port.required && !badOut_[i])
          nodeError(i, "", "output port " + inQuotes(port.name) +
                               " is not connected (end the branch with a sink, e.g. "
                               "sink.discard)");
      }
    }
  }

  // -- cycles (Tarjan's strongly connected components)

  void checkCycles() {
    std::size_t n = out_.nodes.size();
    succ_.assign(n, {});
    for (const ValidatedEdge& e : out_.edges)
      if (e.valid) succ_[e.fromNode].push_back(static_cast<std::size_t>(e.toNode));
    std::vector<int> index(n, -1), low(n, 0);
    std::vector<bool> onStack(n, false);
    std::vector<std::size_t> stack;
    int counter = 0;
    std::vector<std::vector<std::size_t>> components;
    std::function<void(std::size_t)> visit = [&](std::size_t v) {
      index[v] = low[v] = counter++;
      stack.push_back(v);
      onStack[v] = true;
      for (std::size_t w : succ_[v]) {
        if (index[w] < 0) {
          visit(w);
          low[v] = std::min(low[v], low[w]);
        } else if (onStack[w]) {
          low[v] = std::min(low[v], index[w]);
        }
      }
      if (low[v] == index[v]) {
        std::vector<std::size_t> comp;
        std::size_t w;
        do {
          w = stack.back();
          stack.pop_back();
          onStack[w] = false;
          comp.push_back(w);
        } while (w != v);
        components.push_back(std::move(comp));
      }
    };
    for (std::size_t v = 0; v < n; ++v)
      if (index[v] < 0) visit(v);

    std::vector<std::vector<std::size_t>> cycles;
    for (auto& comp : components) {
      std::size_t v = comp[0];
      bool selfLoop = std::count(succ_[v].begin(), succ_[v].end(), v) > 0;
      if (comp.size() > 1 || selfLoop) {
        std::sort(comp.begin(), comp.end());
        cycles.push_back(comp);
      }
    }
    std::sort(cycles.begin(), cycles.end());
    for (const auto& comp : cycles) {
      std::vector<std::size_t> path = cycleThrough(comp);
      std::vector<std::string> names;
      for (std::size_t v : path) names.push_back(label(v));
      names.push_back(label(path[0]));
      nodeError(comp[0], "", "cycle: " + join(names, " -> "));
      for (std::size_t v : comp) broken_[v] = true;
    }
  }

  /// The shortest cycle through the first node of a strongly connected component.
  std::vector<std::size_t> cycleThrough(const std::vector<std::size_t>& comp) {
    std::size_t start = comp[0];
    std::set<std::size_t> members(comp.begin(), comp.end());
    std::map<std::size_t, std::size_t> parent;
    std::deque<std::size_t> queue{start};
    std::set<std::size_t> visited{start};
    while (!queue.empty()) {
      std::size_t v = queue.front();
      queue.pop_front();
      for (std::size_t w : succ_[v]) {
        if (w == start) {
          std::vector<std::size_t> path{v};
          while (path.back() != start) path.push_back(parent[path.back()]);
          std::reverse(path.begin(), path.end());
          return path;
        }
        if (members.count(w) && visited.insert(w).second) {
          parent[w] = v;
          queue.push_back(w);
        }
      }
    }
    return {start};
  }

  // -- order

  void topologicalOrder() {
    std::size_t n = out_.nodes.size();
    std::vector<int> indegree(n, 0);
    for (std::size_t v = 0; v < n; ++v)
      for (std::size_t w : succ_[v]) ++indegree[w];
    std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> ready;
    for (std::size_t v = 0; v < n; ++v)
      if (indegree[v] == 0) ready.push(v);
    while (!ready.empty()) {
      std::size_t v = ready.top();
      ready.pop();
      out_.order.push_back(v);
      for (std::size_t w : succ_[v])
        if (--indegree[w] == 0) ready.push(w);
    }
  }

  // -- partitioning

  void resolvePartitions() {
    for (std::size_t e = 0; e < out_.edges.size(); ++e) {
      ValidatedEdge& ve = out_.edges[e];
      if (!ve.valid) continue;
      const ValidatedNode& from = out_.nodes[ve.fromNode];
      const ValidatedNode& to = out_.nodes[ve.toNode];
      Partition asked = job_.edges[e].partition;
      const KeyedInput* keyed = to.spec->keyedInput(ve.toPort);
      if (keyed) {
        ve.partition = Partition::Hash;
        const json& key = to.params.contains(keyed->param) ? to.params[keyed->param] : json();
        if (key.is_array())
          for (const json& k : key)
            if (k.is_string()) ve.keyFields.push_back(k.get<std::string>());
        if (asked != Partition::Auto)
          edgeError(e, ".partition",
                    inQuotes(partitionName(asked)) + " cannot feed keyed input " +
                        inQuotes(ve.toPort) + " of " + to.type + " " + inQuotes(to.id) +
                        ", which is hash-partitioned on " + keyed->param +
                        "; remove partition");
      } else if (asked == Partition::Auto) {
        ve.partition =
            from.parallelism == to.parallelism ? Partition::Forward : Partition::Rebalance;
      } else {
        ve.partition = asked;
        if (asked == Partition::Forward && from.parallelism != to.parallelism)
          edgeError(e, ".partition",
                    "forward needs equal parallelism, but " + inQuotes(from.id) + " has " +
                        std::to_string(from.parallelism) + " and " + inQuotes(to.id) + " has " +
                        std::to_string(to.parallelism));
      }
    }
  }

  // -- schemas

  static bool outputsAreInputs(const SchemaDerivation& d) {
    for (const SchemaPtr& out : d.outputs) {
      bool found = false;
      for (const auto& port : d.inputs)
        for (const PortInput& in : port)
          if (out && in.schema && (out == in.schema || *out == *in.schema)) found = true;
      if (!found) return false;
    }
    return !d.outputs.empty();
  }

  void deriveSchemas() {
    for (std::size_t i : out_.order) {
      ValidatedNode& vn = out_.nodes[i];
      if (broken_[i] || !vn.spec) continue;
      SchemaDerivation d;
      d.job = &job_;
      d.nodeId = vn.id;
      d.params = &vn.params;
      d.inputs.resize(vn.inputPorts.size());
      bool inputsKnown = true;
      for (std::size_t p = 0; p < vn.inputPorts.size(); ++p) {
        for (std::size_t e : vn.inputEdges[p]) {
          const ValidatedEdge& ve = out_.edges[e];
          const ValidatedNode& up = out_.nodes[ve.fromNode];
          if (!up.derived) {
            inputsKnown = false;
            break;
          }
          d.inputs[p].push_back({e, up.outputSchemas[ve.fromPortIndex],
                                 up.outputProps[ve.fromPortIndex]});
        }
      }
      if (!inputsKnown) continue;  // not re-reported: the problem is upstream
      for (std::size_t p = 0; p < d.inputs.size(); ++p) {
        if (d.inputs[p].empty()) continue;
        vn.inputSchemas[p] = d.inputs[p][0].schema;
        vn.inputProps[p] = d.inputs[p][0].props;
      }
      if (vn.spec->derive) {
        try {
          vn.spec->derive(d);
        } catch (const std::exception& e) {
          // A derivation relies on checked params; this is a bug (or a plugin's), but one
          // that should be reported at the node rather than end the program.
          d.error("", std::string("internal error while deriving schemas: ") + e.what());
        }
      } else {
        // A type without a derivation passes its first input on (plugin default).
        if (!d.inputs.empty() && !d.inputs[0].empty()) {
          d.outputs.assign(vn.outputPorts.size(), d.inputs[0][0].schema);
          d.outputProps.assign(vn.outputPorts.size(), d.inputs[0][0].props);
        }
      }
      for (Diagnostic& diag : d.diagnostics)
        report(static_cast<int>(i), label(i), std::move(diag.path), std::move(diag.message));
      if (d.outputs.size() != vn.outputPorts.size()) continue;
      // A derivation with errors gives no outputs to trust, except where every output is
      // one of its inputs unchanged (a filter with a broken condition still passes its
      // input's records): then the nodes downstream are checked too, so all problems show
      // at once instead of the first broken node hiding the rest.
      if (d.failed() && !outputsAreInputs(d)) continue;
      vn.outputSchemas = d.outputs;
      vn.outputProps = d.outputProps;
      vn.outputProps.resize(vn.outputSchemas.size());
      // A multiple-edge port (union) carries the common schema; its props are the merge.
      for (std::size_t p = 0; p < d.inputs.size(); ++p) {
        for (const PortInput& in : d.inputs[p]) {
          vn.inputProps[p].updates = vn.inputProps[p].updates || in.props.updates;
          vn.inputProps[p].bounded = vn.inputProps[p].bounded && in.props.bounded;
        }
      }
      vn.derived = true;
      for (std::size_t p = 0; p < vn.outputEdges.size(); ++p)
        for (std::size_t e : vn.outputEdges[p]) out_.edges[e].schema = vn.outputSchemas[p];
    }
  }

  const JobGraph& job_;
  const Catalog& catalog_;
  ValidatedJob out_;
  std::vector<std::pair<int, Diagnostic>> found_;
  std::map<std::string, std::size_t> index_;  // id -> first node with it
  std::vector<bool> broken_;                  // not derivable: own errors, or upstream's
  std::vector<bool> badIn_, badOut_;          // has an edge that could not be resolved
  std::vector<std::vector<std::size_t>> succ_;
};

}  // namespace

ValidatedJob validateJob(const JobGraph& job, const Catalog& catalog, Diagnostics& diags) {
  return Validator(job, catalog).run(diags);
}

ValidatedJob validateJob(const JobGraph& job, Diagnostics& diags) {
  return validateJob(job, Catalog::builtin(), diags);
}

json checkParams(const std::vector<ParamSpec>& specs, const json& value, const std::string& prefix,
                 const std::function<void(std::string path, std::string message)>& report) {
  if (!value.is_object()) {
    report(prefix.empty() ? "params" : prefix.substr(0, prefix.size() - 1),
           mustBe("an object", value));
    return value;
  }
  return checkObject(specs, value, prefix, "param", report);
}

}  // namespace weir
