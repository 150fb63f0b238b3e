#include "cluster/plan_json.h"

#include <algorithm>
#include <map>

#include "cluster/limits.h"
#include "core/json_limits.h"
#include "core/types.h"

namespace weir::cluster {
namespace {

using nlohmann::json;

json schemaToJson(const SchemaPtr& s) {
  json a = json::array();
  if (!s) return a;
  for (const auto& f : s->fields()) a.push_back({{"name", f.name}, {"type", std::string(typeName(f.type))}});
  return a;
}

SchemaPtr schemaFromJson(const json& a) {
  std::vector<Field> fields;
  for (const auto& f : a) {
    const std::string t = f.at("type").get<std::string>();
    auto type = parseType(t);
    if (!type) throw std::runtime_error("plan: unknown field type '" + t + "'");
    fields.push_back(Field{f.at("name").get<std::string>(), *type});
  }
  return makeSchema(std::move(fields));
}

Partition partitionFromName(const std::string& n) {
  if (n == "hash") return Partition::Hash;
  auto p = parsePartition(n);
  if (!p || *p == Partition::Auto) throw std::runtime_error("plan: bad partition '" + n + "'");
  return *p;
}

}  // namespace

json planToJson(const JobPlan& plan) {
  json nodes = json::array();
  for (const auto& n : plan.nodes) {
    json in = json::array(), out = json::array();
    for (std::size_t i = 0; i < n.inputPorts.size(); ++i)
      in.push_back({{"port", n.inputPorts[i]},
                    {"schema", schemaToJson(i < n.inputSchemas.size() ? n.inputSchemas[i] : nullptr)}});
    for (std::size_t i = 0; i < n.outputPorts.size(); ++i)
      out.push_back({{"port", n.outputPorts[i]},
                     {"schema", schemaToJson(i < n.outputSchemas.size() ? n.outputSchemas[i] : nullptr)}});
    nodes.push_back({{"id", n.id}, {"type", n.type}, {"params", n.params}, {"parallelism", n.parallelism},
                     {"fail_on_bad_record", n.failOnBadRecord}, {"inputs", in}, {"outputs", out}});
  }
  json edges = json::array();
  for (const auto& e : plan.edges)
    edges.push_back({{"from", e.from}, {"from_port", e.fromPort}, {"to", e.to}, {"to_port", e.toPort},
                     {"partition", std::string(partitionName(e.partition))}, {"key_fields", e.keyFields}});
  return {{"name", plan.name},
          {"batch_mode", plan.batchMode},
          {"base_dir", plan.baseDir.string()},
          {"dead_letter_path", plan.deadLetterPath.string()},
          {"max_parallelism", plan.maxParallelism},
          {"restart", plan.restart},
          {"checkpoint", plan.checkpoint},
          {"nodes", nodes},
          {"edges", edges}};
}

JobPlan planFromJson(const json& j) {
  try {
    JobPlan p;
    p.name = j.at("name").get<std::string>();
    p.batchMode = j.at("batch_mode").get<bool>();
    p.baseDir = j.at("base_dir").get<std::string>();
    p.deadLetterPath = j.at("dead_letter_path").get<std::string>();
    p.maxParallelism = j.at("max_parallelism").get<int>();
    p.restart = j.value("restart", json{{"strategy", "none"}});
    p.checkpoint = j.value("checkpoint", json());
    if (!p.checkpoint.is_null() && !p.checkpoint.is_object()) throw std::runtime_error("checkpoint must be an object or null");
    for (const auto& jn : j.at("nodes")) {
      PlanNode n;
      n.id = jn.at("id").get<std::string>();
      n.type = jn.at("type").get<std::string>();
      n.params = jn.at("params");
      n.parallelism = jn.at("parallelism").get<int>();
      n.failOnBadRecord = jn.at("fail_on_bad_record").get<bool>();
      for (const auto& port : jn.at("inputs")) {
        n.inputPorts.push_back(port.at("port").get<std::string>());
        n.inputSchemas.push_back(schemaFromJson(port.at("schema")));
      }
      for (const auto& port : jn.at("outputs")) {
        n.outputPorts.push_back(port.at("port").get<std::string>());
        n.outputSchemas.push_back(schemaFromJson(port.at("schema")));
      }
      p.nodes.push_back(std::move(n));
    }
    const int n = static_cast<int>(p.nodes.size());
    for (const auto& je : j.at("edges")) {
      PlanEdge e;
      e.from = je.at("from").get<int>();
      e.fromPort = je.at("from_port").get<int>();
      e.to = je.at("to").get<int>();
      e.toPort = je.at("to_port").get<int>();
      e.partition = partitionFromName(je.at("partition").get<std::string>());
      e.keyFields = je.at("key_fields").get<std::vector<int>>();
      if (e.from < 0 || e.from >= n || e.to < 0 || e.to >= n) throw std::runtime_error("plan: edge node out of range");
      p.edges.push_back(std::move(e));
    }
    return p;
  } catch (const json::exception& e) {
    throw std::runtime_error(std::string("plan: ") + e.what());
  }
}

std::size_t deployMessageBound(const JobPlan& plan, const ExecutionGraph& graph, std::size_t pluginBytes) {
  constexpr std::size_t kNameBytes = kMaxNodeName * 6 + 8;  // a quoted name, every byte escaped at worst
  std::size_t bytes = dumpJson(planToJson(plan)).size() + dumpJson(graph.toJson()).size() + 1024;
  for (const auto& v : graph.vertices) bytes += static_cast<std::size_t>(v.parallelism) * kNameBytes + 16;  // placement
  bytes += static_cast<std::size_t>(graph.slotsNeeded()) * (kNameBytes + 64);  // taskmanagers
  return bytes + (pluginBytes + 2) / 3 * 4 + 4096;
}

}  // namespace weir::cluster
