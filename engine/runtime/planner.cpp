#include "runtime/planner.h"

#include <map>

#include "core/catalog.h"
#include "core/expr.h"
#include "runtime/io/split.h"
#include "runtime/operator.h"
#include "core/validate.h"
#include "runtime/partition.h"

namespace weir {

void applyOverrides(JobGraph& job, const JobOverrides& overrides, Diagnostics& diags) {
  if (overrides.parallelism) job.parallelism = *overrides.parallelism;
  for (const std::string& s : overrides.sets) {
    const auto eq = s.find('=');
    const auto dot = s.find('.');
    if (eq == std::string::npos || dot == std::string::npos || dot > eq || dot == 0 || dot + 1 == eq) {
      diags.push_back({"job", "--set", "'" + s + "' is not node.param=value"});
      continue;
    }
    const std::string nodeId = s.substr(0, dot);
    const std::string path = s.substr(dot + 1, eq - dot - 1);
    const std::string text = s.substr(eq + 1);
    JobNode* node = job.node(nodeId);
    if (!node) {
      std::vector<std::string> ids;
      for (const auto& n : job.nodes) ids.push_back(n.id);
      diags.push_back({"job", "--set", "no node '" + nodeId + "' in this job" + didYouMean(nodeId, ids)});
      continue;
    }
    // A value that parses as JSON is taken as such (numbers, true, objects); anything else
    // is a string, so --set out.path=x.csv needs no quotes.
    nlohmann::json value = nlohmann::json::parse(text, nullptr, false);
    if (value.is_discarded()) value = text;
    if (path == "parallelism" && value.is_number_integer()) {
      node->parallelism = value.get<int>();
      continue;
    }
    // "window.size_ms" sets a member of an object param, creating objects on the way.
    nlohmann::json* at = &node->params;
    std::size_t from = 0;
    while (true) {
      const auto next = path.find('.', from);
      const std::string key = path.substr(from, next == std::string::npos ? std::string::npos : next - from);
      if (!at->is_object()) *at = nlohmann::json::object();
      at = &(*at)[key];
      if (next == std::string::npos) break;
      from = next + 1;
    }
    *at = std::move(value);
  }
}

std::filesystem::path defaultDeadLetterPath(const JobGraph& job) {
  const std::string file = (job.name.empty() ? std::string("job") : job.name) + ".dead-letters.jsonl";
  for (const auto& n : job.nodes) {
    if (n.type != "sink.file" || !n.params.is_object()) continue;
    auto it = n.params.find("path");
    if (it == n.params.end() || !it->is_string()) continue;
    std::filesystem::path out = it->get<std::string>();
    if (out.is_relative()) out = job.baseDir / out;
    return (out.parent_path() / file).lexically_normal();
  }
  return (job.baseDir / file).lexically_normal();
}

}  // namespace weir

namespace weir {

// Validation refuses keyed operators with more subtasks than key groups (kKeyGroups);
// the runtime partitions into this many.
static_assert(kDefaultMaxParallelism == kKeyGroups);

JobPlan planJob(const JobGraph& job, const ValidatedJob& v) {
  JobPlan plan;
  plan.name = v.name;
  plan.batchMode = v.mode == JobMode::Batch;
  if (v.restart.is_object()) plan.restart = v.restart;
  if (v.checkpoint.is_object() && !plan.batchMode) plan.checkpoint = v.checkpoint;
  plan.baseDir = v.baseDir;
  plan.deadLetterPath = v.deadLetter.empty() ? defaultDeadLetterPath(job)
                                             : (std::filesystem::path(v.deadLetter).is_absolute()
                                                    ? std::filesystem::path(v.deadLetter)
                                                    : v.baseDir / v.deadLetter);
  // Nodes in topological order: the plan's indices are positions in that order.
  std::vector<int> planIndex(v.nodes.size(), -1);
  for (std::size_t i : v.order) {
    const ValidatedNode& n = v.nodes[i];
    planIndex[i] = static_cast<int>(plan.nodes.size());
    PlanNode p;
    p.id = n.id;
    p.type = n.type;
    p.params = n.params;
    p.parallelism = n.parallelism;
    p.inputPorts = n.inputPorts;
    p.inputSchemas = n.inputSchemas;
    p.outputPorts = n.outputPorts;
    p.outputSchemas = n.outputSchemas;
    p.failOnBadRecord = n.failOnBadRecord;
    // A file sink of an update stream (an aggregate, a window with allowed lateness)
    // writes the `op` column from the first row on, whatever the first batch holds.
    if ((p.type == "sink.file" || p.type == "sink.stdout") && !n.inputProps.empty() && n.inputProps[0].updates)
      p.params["changelog"] = true;
    plan.nodes.push_back(std::move(p));
  }
  for (const ValidatedEdge& e : v.edges) {
    if (!e.valid) continue;
    PlanEdge p;
    p.from = planIndex[static_cast<std::size_t>(e.fromNode)];
    p.to = planIndex[static_cast<std::size_t>(e.toNode)];
    p.fromPort = e.fromPortIndex;
    p.toPort = e.toPortIndex;
    p.partition = e.partition;
    if (e.partition == Partition::Hash) {
      const Schema& schema = *plan.nodes[static_cast<std::size_t>(p.from)].outputSchemas.at(static_cast<std::size_t>(p.fromPort));
      for (const auto& k : e.keyFields) p.keyFields.push_back(schema.indexOf(k));
    }
    plan.edges.push_back(std::move(p));
  }
  pushProjectionsIntoFilters(plan);
  planFileSplits(plan);
  return plan;
}

void planFileSplits(JobPlan& plan) {
  for (PlanNode& n : plan.nodes) {
    if (n.type != "source.file" || !n.params.contains("path") || !n.params["path"].is_string()) continue;
    std::filesystem::path path = n.params["path"].get<std::string>();
    if (path.is_relative()) path = plan.baseDir / path;
    SplitOptions options;
    options.wholeFiles = n.params.value("follow", false);
    std::vector<FileSplit> splits;
    try {
      splits = splitFiles(path.string(), n.parallelism, options);
    } catch (const JobError&) {
      continue;  // no such file: the source reports it when it opens, naming its subtask
    }
    nlohmann::json list = nlohmann::json::array();
    for (const auto& s : splits)
      list.push_back({{"path", s.path}, {"start", s.start}, {"end", s.end}, {"index", s.index},
                      {"subtask", s.subtask}});
    n.params["_splits"] = std::move(list);
  }
}

void pushProjectionsIntoFilters(JobPlan& plan) {
  std::vector<int> outDegree(plan.nodes.size(), 0), inDegree(plan.nodes.size(), 0);
  for (const auto& e : plan.edges) {
    ++outDegree[static_cast<std::size_t>(e.from)];
    ++inDegree[static_cast<std::size_t>(e.to)];
  }
  for (const auto& e : plan.edges) {
    PlanNode& f = plan.nodes[static_cast<std::size_t>(e.from)];
    PlanNode& m = plan.nodes[static_cast<std::size_t>(e.to)];
    if (f.type != "filter" || m.type != "map" || m.params.value("keep_input", false) ||
        outDegree[static_cast<std::size_t>(e.from)] != 1 || inDegree[static_cast<std::size_t>(e.to)] != 1 ||
        e.partition == Partition::Hash)
      continue;
    const Schema& in = *f.inputSchemas.at(0);
    std::vector<bool> used(in.size(), false);
    for (const auto& field : m.params.at("fields")) {
      for (const auto& name : expressionFields(field.at("expr").get<std::string>())) {
        const int i = in.indexOf(name);
        if (i >= 0) used[static_cast<std::size_t>(i)] = true;
      }
    }
    std::vector<Field> kept;
    nlohmann::json project = nlohmann::json::array();
    for (std::size_t i = 0; i < in.size(); ++i) {
      if (!used[i]) continue;
      kept.push_back(in.field(i));
      project.push_back(in.field(i).name);
    }
    if (kept.size() == in.size()) continue;
    f.params["_project"] = std::move(project);
    f.outputSchemas[0] = makeSchema(std::move(kept));
    m.inputSchemas[0] = f.outputSchemas[0];
  }
}

std::optional<JobPlan> prepareJob(const std::filesystem::path& file, const JobOverrides& overrides,
                                  Diagnostics& diags) {
  auto job = loadJobFile(file, diags);
  if (!job) return std::nullopt;
  applyOverrides(*job, overrides, diags);
  const ValidatedJob v = validateJob(*job, diags);
  if (!v.ok || !diags.empty()) return std::nullopt;
  return planJob(*job, v);
}

}  // namespace weir
