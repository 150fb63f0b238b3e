#include "core/job.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/json_limits.h"
#include "core/text.h"

namespace weir {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

std::string Diagnostic::toString() const {
  std::string s = node;
  s += ": ";
  if (!path.empty()) {
    s += path;
    s += ": ";
  }
  s += message;
  return s;
}

std::string_view jobModeName(JobMode m) {
  return m == JobMode::Batch ? "batch" : "streaming";
}

std::string_view partitionName(Partition p) {
  switch (p) {
    case Partition::Auto: return "auto";
    case Partition::Forward: return "forward";
    case Partition::Rebalance: return "rebalance";
    case Partition::Broadcast: return "broadcast";
    case Partition::Hash: return "hash";
  }
  return "?";
}

std::optional<Partition> parsePartition(std::string_view name) {
  if (name == "auto") return Partition::Auto;
  if (name == "forward") return Partition::Forward;
  if (name == "rebalance") return Partition::Rebalance;
  if (name == "broadcast") return Partition::Broadcast;
  return std::nullopt;
}

const JobNode* JobGraph::node(std::string_view id) const {
  for (const JobNode& n : nodes)
    if (n.id == id) return &n;
  return nullptr;
}

JobNode* JobGraph::node(std::string_view id) {
  for (JobNode& n : nodes)
    if (n.id == id) return &n;
  return nullptr;
}

namespace {

// ---- reading ---------------------------------------------------------------------------

/// Line and column (both 1-based; the column counts UTF-8 characters) of a byte offset.
std::pair<std::size_t, std::size_t> lineColumn(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line;
      column = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++column;
    }
  }
  return {line, column};
}

/// nlohmann's parse_error text without its "[json.exception...] parse error at line L,
/// column C: " prefix (its own column is off by one line after a newline).
std::string parseErrorText(const json::parse_error& e) {
  std::string what = e.what();
  for (const char* marker : {"syntax error", "invalid", "unexpected"}) {
    if (auto pos = what.find(marker); pos != std::string::npos) return what.substr(pos);
  }
  if (auto pos = what.rfind(": "); pos != std::string::npos) return what.substr(pos + 2);
  return what;
}

/// Where the token nlohmann stopped at begins: it reports the offset after the token's last
/// character read, and "unexpected string literal" should point at the string's quote.
std::size_t tokenStart(std::string_view text, std::size_t byte, const std::string& message) {
  if (byte == 0) return 0;
  std::size_t off = std::min(byte - 1, text.size());
  if (off >= text.size()) return off;
  if (text[off] == '"' && message.find("string literal") != std::string::npos) {
    while (off > 0) {
      --off;
      if (text[off] == '"' && (off == 0 || text[off - 1] != '\\')) break;
    }
    return off;
  }
  auto tokenChar = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '+' || c == '-';
  };
  if (tokenChar(text[off]) && message.find("literal") != std::string::npos)
    while (off > 0 && tokenChar(text[off - 1])) --off;
  return off;
}

/// Finds the first duplicate object key while nlohmann parses (it would silently keep the
/// last value), remembering where it was as a path ("nodes[1].params.where").
class DuplicateKeyFinder final {
 public:
  bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
    using E = json::parse_event_t;
    switch (event) {
      case E::object_start: frames_.push_back({true, {}, {}, 0}); break;
      case E::array_start: frames_.push_back({false, {}, {}, 0}); break;
      case E::key: {
        Frame& f = frames_.back();
        f.key = parsed.get<std::string>();
        if (!f.keys.insert(f.key).second && !found_) found_ = pathHere() ;
        break;
      }
      case E::object_end:
      case E::array_end:
        frames_.pop_back();
        elementDone();
        break;
      case E::value: elementDone(); break;
    }
    return true;
  }
  const std::optional<std::string>& found() const { return found_; }

 private:
  struct Frame {
    bool object;
    std::set<std::string> keys;
    std::string key;
    std::size_t index;
  };
  void elementDone() {
    if (!frames_.empty() && !frames_.back().object) ++frames_.back().index;
  }
  std::string pathHere() const {
    std::string p;
    for (const Frame& f : frames_) {
      if (f.object) {
        if (!p.empty()) p += '.';
        p += f.key;
      } else {
        p += '[' + std::to_string(f.index) + ']';
      }
    }
    return p;
  }
  std::vector<Frame> frames_;
  std::optional<std::string> found_;
};

std::optional<int> readInt(const json& v) {
  if (!v.is_number_integer()) return std::nullopt;
  if (v.is_number_unsigned()) {
    auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) return std::nullopt;
    return static_cast<int>(u);
  }
  auto i = v.get<std::int64_t>();
  if (i < std::numeric_limits<int>::min() || i > std::numeric_limits<int>::max())
    return std::nullopt;
  return static_cast<int>(i);
}

/// Reads `v` into `out` when it is a string; false otherwise.
bool readString(const json& v, std::string& out) {
  if (!v.is_string()) return false;
  out = v.get<std::string>();
  return true;
}

JobNode readNode(const json& obj) {
  JobNode n;
  for (const auto& [key, v] : obj.items()) {
    bool ok = false;
    if (key == "id") {
      ok = readString(v, n.id);
    } else if (key == "type") {
      ok = readString(v, n.type);
    } else if (key == "params") {
      if ((ok = v.is_object())) n.params = v;
    } else if (key == "parallelism") {
      if (auto p = readInt(v)) n.parallelism = *p, ok = true;
    } else if (key == "ui") {
      if ((ok = v.is_object())) n.ui = v;
    } else if (key == "description") {
      ok = readString(v, n.description);
    }
    if (ok) n.present.insert(key);
    else n.unread[key] = v;
  }
  return n;
}

JobEdge readEdge(const json& obj) {
  JobEdge e;
  for (const auto& [key, v] : obj.items()) {
    bool ok = false;
    if (key == "from") {
      ok = readString(v, e.from);
    } else if (key == "from_port") {
      ok = readString(v, e.fromPort);
    } else if (key == "to") {
      ok = readString(v, e.to);
    } else if (key == "to_port") {
      ok = readString(v, e.toPort);
    } else if (key == "partition" && v.is_string()) {
      if (auto p = parsePartition(v.get<std::string>())) e.partition = *p, ok = true;
    }
    if (ok) e.present.insert(key);
    else e.unread[key] = v;
  }
  return e;
}

Diagnostic parseFailure(const std::string& fileName, std::string message) {
  return {"job", "", fileName + ": " + std::move(message)};
}

// ---- writing ---------------------------------------------------------------------------

ordered_json toOrdered(const JobGraph& job) {
  ordered_json j = ordered_json::object();
  auto has = [&](std::string_view k) { return job.present.count(k) > 0; };
  if (job.version != 0 || has("weir")) j["weir"] = job.version;
  if (!job.name.empty() || has("name")) j["name"] = job.name;
  if (!job.description.empty() || has("description")) j["description"] = job.description;
  if (job.mode != JobMode::Streaming || has("mode")) j["mode"] = jobModeName(job.mode);
  if (job.parallelism != 1 || has("parallelism")) j["parallelism"] = job.parallelism;
  if (job.onBadRecord != "skip" || has("on_bad_record")) j["on_bad_record"] = job.onBadRecord;
  if (!job.deadLetter.empty() || has("dead_letter")) j["dead_letter"] = job.deadLetter;
  if (!job.checkpoint.is_null()) j["checkpoint"] = job.checkpoint;
  if (!job.restart.is_null()) j["restart"] = job.restart;
  for (const auto& [k, v] : job.unread.items())
    if (!j.contains(k) && k != "nodes" && k != "edges") j[k] = v;

  ordered_json nodes = ordered_json::array();
  for (const JobNode& n : job.nodes) {
    ordered_json o = ordered_json::object();
    auto nhas = [&](std::string_view k) { return n.present.count(k) > 0; };
    if (!n.id.empty() || nhas("id")) o["id"] = n.id;
    if (!n.type.empty() || nhas("type")) o["type"] = n.type;
    if (!n.description.empty() || nhas("description")) o["description"] = n.description;
    if (n.parallelism) o["parallelism"] = *n.parallelism;
    if (!n.params.empty() || nhas("params")) o["params"] = n.params;
    if (!n.ui.is_null()) o["ui"] = n.ui;
    for (const auto& [k, v] : n.unread.items())
      if (!o.contains(k)) o[k] = v;
    nodes.push_back(std::move(o));
  }
  if (job.unread.contains("nodes") && job.nodes.empty()) j["nodes"] = job.unread["nodes"];
  else if (!job.nodes.empty() || has("nodes")) j["nodes"] = std::move(nodes);

  ordered_json edges = ordered_json::array();
  for (const JobEdge& e : job.edges) {
    ordered_json o = ordered_json::object();
    auto ehas = [&](std::string_view k) { return e.present.count(k) > 0; };
    if (!e.from.empty() || ehas("from")) o["from"] = e.from;
    if (e.fromPort != "out" || ehas("from_port")) o["from_port"] = e.fromPort;
    if (!e.to.empty() || ehas("to")) o["to"] = e.to;
    if (e.toPort != "in" || ehas("to_port")) o["to_port"] = e.toPort;
    if (e.partition != Partition::Auto || ehas("partition"))
      o["partition"] = partitionName(e.partition);
    for (const auto& [k, v] : e.unread.items())
      if (!o.contains(k)) o[k] = v;
    edges.push_back(std::move(o));
  }
  if (job.unread.contains("edges") && job.edges.empty()) j["edges"] = job.unread["edges"];
  else if (!job.edges.empty() || has("edges")) j["edges"] = std::move(edges);
  return j;
}

std::string dumpScalar(const ordered_json& v) {
  return v.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

/// One-line form with a space after ':' and ',' ({"a": 1, "b": [1, 2]}).
void appendCompact(const ordered_json& v, std::string& out) {
  if (v.is_object()) {
    out += '{';
    bool first = true;
    for (const auto& [k, m] : v.items()) {
      if (!first) out += ", ";
      first = false;
      out += dumpScalar(ordered_json(k));
      out += ": ";
      appendCompact(m, out);
    }
    out += '}';
  } else if (v.is_array()) {
    out += '[';
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i) out += ", ";
      appendCompact(v[i], out);
    }
    out += ']';
  } else {
    out += dumpScalar(v);
  }
}

constexpr std::size_t kWidth = 100;

/// Appends `v`, whose first character goes at column `used` of a line indented by
/// `indent`; `tail` is what follows it on the line (a comma).
void appendPretty(const ordered_json& v, std::size_t indent, std::size_t used, std::size_t tail,
                  std::string& out) {
  std::string compact;
  appendCompact(v, compact);
  if (!v.is_structured() || v.empty() || used + compact.size() + tail <= kWidth) {
    out += compact;
    return;
  }
  std::string pad(indent + 2, ' ');
  std::size_t n = v.size(), i = 0;
  if (v.is_object()) {
    out += "{\n";
    for (const auto& [k, m] : v.items()) {
      std::string key = dumpScalar(ordered_json(k)) + ": ";
      out += pad;
      out += key;
      bool last = ++i == n;
      appendPretty(m, indent + 2, pad.size() + key.size(), last ? 0 : 1, out);
      out += last ? "\n" : ",\n";
    }
    out += std::string(indent, ' ') + '}';
  } else {
    out += "[\n";
    for (const auto& m : v) {
      out += pad;
      bool last = ++i == n;
      appendPretty(m, indent + 2, pad.size(), last ? 0 : 1, out);
      out += last ? "\n" : ",\n";
    }
    out += std::string(indent, ' ') + ']';
  }
}

}  // namespace

std::optional<JobGraph> parseJob(std::string_view text, const std::string& fileName,
                                 Diagnostics& diags) {
  json root;
  DuplicateKeyFinder duplicates;
  // Before parsing: what is copied and written back must not recurse past the stack.
  if (std::string deep = jsonDepthError(text); !deep.empty()) {
    diags.push_back(parseFailure(fileName, std::move(deep)));
    return std::nullopt;
  }
  try {
    root = json::parse(text.begin(), text.end(), std::ref(duplicates));
  } catch (const json::parse_error& e) {
    std::string message = toValidUtf8(parseErrorText(e));  // it quotes the bytes it stopped at
    auto [line, column] = lineColumn(text, tokenStart(text, e.byte, message));
    diags.push_back({"job", "",
                     fileName + ":" + std::to_string(line) + ":" + std::to_string(column) +
                         ": " + message});
    return std::nullopt;
  } catch (const json::exception& e) {
    // A number out of range ("number overflow parsing '1e400'"): nlohmann gives no position.
    std::string what = e.what();
    if (auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
    diags.push_back(parseFailure(fileName, toValidUtf8(what)));
    return std::nullopt;
  }
  if (duplicates.found()) {
    diags.push_back(parseFailure(fileName, *duplicates.found() + ": duplicate key"));
    return std::nullopt;
  }
  if (!root.is_object()) {
    diags.push_back(parseFailure(fileName, "a job file must hold one JSON object"));
    return std::nullopt;
  }

  JobGraph job;
  job.version = 0;
  bool failed = false;
  for (const auto& [key, v] : root.items()) {
    bool ok = false;
    if (key == "weir") {
      if (auto i = readInt(v)) job.version = *i, ok = true;
    } else if (key == "name") {
      ok = readString(v, job.name);
    } else if (key == "description") {
      ok = readString(v, job.description);
    } else if (key == "mode" && v.is_string()) {
      if (v == "streaming") job.mode = JobMode::Streaming, ok = true;
      if (v == "batch") job.mode = JobMode::Batch, ok = true;
    } else if (key == "parallelism") {
      if (auto i = readInt(v)) job.parallelism = *i, ok = true;
    } else if (key == "on_bad_record") {
      ok = readString(v, job.onBadRecord);
    } else if (key == "dead_letter") {
      ok = readString(v, job.deadLetter);
    } else if (key == "checkpoint") {
      if ((ok = v.is_object())) job.checkpoint = v;
    } else if (key == "restart") {
      if ((ok = v.is_object())) job.restart = v;
    } else if (key == "nodes" || key == "edges") {
      if (v.is_array()) {
        ok = true;
        for (std::size_t i = 0; i < v.size(); ++i) {
          if (!v[i].is_object()) {
            diags.push_back(parseFailure(fileName, key + "[" + std::to_string(i) +
                                                       "]: must be a JSON object"));
            failed = true;
          } else if (key == "nodes") {
            job.nodes.push_back(readNode(v[i]));
          } else {
            job.edges.push_back(readEdge(v[i]));
          }
        }
      }
    }
    if (ok) job.present.insert(key);
    else job.unread[key] = v;
  }
  if (failed) return std::nullopt;
  return job;
}

std::optional<JobGraph> loadJobFile(const std::filesystem::path& path, Diagnostics& diags) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    diags.push_back({"job", "", path.string() + ": cannot open: " + std::strerror(errno)});
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    diags.push_back({"job", "", path.string() + ": cannot read: " + std::strerror(errno)});
    return std::nullopt;
  }
  auto job = parseJob(text.str(), path.string(), diags);
  if (job) {
    std::error_code ec;
    std::filesystem::path abs = std::filesystem::absolute(path, ec);
    job->baseDir = (ec ? path : abs).lexically_normal().parent_path();
  }
  return job;
}

json jobToJson(const JobGraph& job) { return json(toOrdered(job)); }

std::string formatJob(const JobGraph& job) {
  std::string out;
  appendPretty(toOrdered(job), 0, 0, 0, out);
  out += '\n';
  return out;
}

}  // namespace weir
