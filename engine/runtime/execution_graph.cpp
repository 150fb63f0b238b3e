#include "runtime/execution_graph.h"

#include <algorithm>
#include <map>

#include "runtime/channel.h"
#include "runtime/task.h"

namespace weir {

using nlohmann::json;

namespace {

/// Groups plan nodes into chains (head to tail), in plan order of their heads: a node
/// joins its successor's chain when the edge between them is forward, the parallelism is
/// equal, the producer has one outgoing edge and the consumer one incoming edge, both on
/// their main ports (Flink's operator chaining).
std::vector<std::vector<int>> chainNodes(const JobPlan& plan) {
  const auto n = plan.nodes.size();
  std::vector<int> outDegree(n, 0), inDegree(n, 0);
  for (const auto& e : plan.edges) {
    ++outDegree[static_cast<std::size_t>(e.from)];
    ++inDegree[static_cast<std::size_t>(e.to)];
  }
  std::vector<int> next(n, -1);  // the node each one chains into
  std::vector<bool> chainedInto(n, false);
  for (const auto& e : plan.edges) {
    const auto from = static_cast<std::size_t>(e.from), to = static_cast<std::size_t>(e.to);
    if (e.partition == Partition::Forward && plan.nodes[from].parallelism == plan.nodes[to].parallelism &&
        outDegree[from] == 1 && inDegree[to] == 1 && e.fromPort == 0 && e.toPort == 0) {
      next[from] = e.to;
      chainedInto[to] = true;
    }
  }
  std::vector<std::vector<int>> chains;
  for (std::size_t i = 0; i < n; ++i) {
    if (chainedInto[i]) continue;
    std::vector<int> chain{static_cast<int>(i)};
    for (int j = next[i]; j >= 0; j = next[static_cast<std::size_t>(j)]) chain.push_back(j);
    chains.push_back(std::move(chain));
  }
  return chains;
}

}  // namespace

ExecutionGraph ExecutionGraph::build(const JobPlan& plan) {
  ExecutionGraph g;
  g.vertexOfNode.assign(plan.nodes.size(), -1);
  for (auto& nodes : chainNodes(plan)) {
    ExecutionVertex v;
    v.id = plan.nodes[static_cast<std::size_t>(nodes.front())].id;
    v.parallelism = plan.nodes[static_cast<std::size_t>(nodes.front())].parallelism;
    for (int n : nodes) g.vertexOfNode[static_cast<std::size_t>(n)] = static_cast<int>(g.vertices.size());
    v.nodes = std::move(nodes);
    g.vertices.push_back(std::move(v));
  }
  for (std::size_t e = 0; e < plan.edges.size(); ++e) {
    const PlanEdge& edge = plan.edges[e];
    const int from = g.vertexOfNode[static_cast<std::size_t>(edge.from)];
    const int to = g.vertexOfNode[static_cast<std::size_t>(edge.to)];
    ExecutionVertex& consumer = g.vertices[static_cast<std::size_t>(to)];
    if (consumer.nodes.front() != edge.to) continue;  // inside a chain: a direct call
    const int producers = g.vertices[static_cast<std::size_t>(from)].parallelism;
    const int first = consumer.gateChannels();
    const bool forward = edge.partition == Partition::Forward;
    for (int i = 0; i < (forward ? 1 : producers); ++i) {
      consumer.gatePorts.push_back(edge.toPort);
      consumer.gateEdges.push_back(static_cast<int>(e));
    }
    for (int s = 0; s < producers; ++s) {
      if (forward) {
        g.channels.push_back({static_cast<int>(g.channels.size()), static_cast<int>(e), from, s, to, s, first});
        continue;
      }
      for (int t = 0; t < consumer.parallelism; ++t)
        g.channels.push_back({static_cast<int>(g.channels.size()), static_cast<int>(e), from, s, to, t, first + s});
    }
  }
  return g;
}

int ExecutionGraph::slotsNeeded() const {
  int n = 0;
  for (const auto& v : vertices) n = std::max(n, v.parallelism);
  return n;
}

int ExecutionGraph::vertexIndex(const std::string& id) const {
  for (std::size_t i = 0; i < vertices.size(); ++i)
    if (vertices[i].id == id) return static_cast<int>(i);
  return -1;
}

std::string ExecutionGraph::name(const JobPlan& plan, int vertex) const {
  std::string s;
  for (int n : vertices.at(static_cast<std::size_t>(vertex)).nodes)
    s += (s.empty() ? "" : " -> ") + plan.nodes[static_cast<std::size_t>(n)].id;
  return s;
}

json ExecutionGraph::toJson() const {
  json vs = json::array();
  for (const auto& v : vertices)
    vs.push_back({{"id", v.id}, {"nodes", v.nodes}, {"parallelism", v.parallelism}, {"gate_ports", v.gatePorts},
                  {"gate_edges", v.gateEdges}});
  json cs = json::array();
  for (const auto& c : channels)  // compact: [edge, from, from_subtask, to, to_subtask, gate_channel]
    cs.push_back({c.edge, c.from, c.fromSubtask, c.to, c.toSubtask, c.gateChannel});
  return {{"vertices", vs}, {"channels", cs}};
}

std::optional<ExecutionGraph> ExecutionGraph::fromJson(const json& j, const JobPlan& plan, std::string& error) {
  auto fail = [&](std::string why) -> std::optional<ExecutionGraph> {
    error = "execution graph: " + std::move(why);
    return std::nullopt;
  };
  try {
    ExecutionGraph g;
    const int nodes = static_cast<int>(plan.nodes.size()), edges = static_cast<int>(plan.edges.size());
    g.vertexOfNode.assign(plan.nodes.size(), -1);
    for (const auto& jv : j.at("vertices")) {
      ExecutionVertex v;
      v.id = jv.at("id").get<std::string>();
      v.nodes = jv.at("nodes").get<std::vector<int>>();
      v.parallelism = jv.at("parallelism").get<int>();
      v.gatePorts = jv.at("gate_ports").get<std::vector<int>>();
      v.gateEdges = jv.at("gate_edges").get<std::vector<int>>();
      if (v.nodes.empty() || v.gatePorts.size() != v.gateEdges.size()) return fail("vertex " + v.id + " is malformed");
      for (int n : v.nodes) {
        if (n < 0 || n >= nodes || g.vertexOfNode[static_cast<std::size_t>(n)] >= 0)
          return fail("vertex " + v.id + ": node " + std::to_string(n) + " out of range or in two vertices");
        g.vertexOfNode[static_cast<std::size_t>(n)] = static_cast<int>(g.vertices.size());
      }
      const PlanNode& head = plan.nodes[static_cast<std::size_t>(v.nodes.front())];
      if (v.id != head.id || v.parallelism != head.parallelism)
        return fail("vertex " + v.id + " does not match its head node " + head.id);
      for (int e : v.gateEdges)
        if (e < 0 || e >= edges) return fail("vertex " + v.id + ": edge " + std::to_string(e) + " out of range");
      g.vertices.push_back(std::move(v));
    }
    if (std::find(g.vertexOfNode.begin(), g.vertexOfNode.end(), -1) != g.vertexOfNode.end())
      return fail("a plan node is in no vertex");
    // Every gate channel of every consumer subtask is fed by exactly one channel.
    std::map<std::tuple<int, int, int>, int> feeds;
    for (const auto& jc : j.at("channels")) {
      const auto a = jc.get<std::vector<int>>();
      if (a.size() != 6) return fail("a channel is malformed");
      ExecutionChannel c{static_cast<int>(g.channels.size()), a[0], a[1], a[2], a[3], a[4], a[5]};
      const int vs = static_cast<int>(g.vertices.size());
      if (c.edge < 0 || c.edge >= edges || c.from < 0 || c.from >= vs || c.to < 0 || c.to >= vs)
        return fail("channel " + std::to_string(c.index) + " out of range");
      const auto& from = g.vertices[static_cast<std::size_t>(c.from)];
      const auto& to = g.vertices[static_cast<std::size_t>(c.to)];
      const PlanEdge& pe = plan.edges[static_cast<std::size_t>(c.edge)];
      if (c.fromSubtask < 0 || c.fromSubtask >= from.parallelism || c.toSubtask < 0 ||
          c.toSubtask >= to.parallelism || c.gateChannel < 0 || c.gateChannel >= to.gateChannels() ||
          to.gateEdges[static_cast<std::size_t>(c.gateChannel)] != c.edge || from.nodes.back() != pe.from ||
          to.nodes.front() != pe.to)
        return fail("channel " + std::to_string(c.index) + " does not fit the plan");
      if (++feeds[{c.to, c.toSubtask, c.gateChannel}] > 1)
        return fail("channel " + std::to_string(c.index) + " feeds a gate channel fed already");
      g.channels.push_back(c);
    }
    for (std::size_t v = 0; v < g.vertices.size(); ++v)
      for (int s = 0; s < g.vertices[v].parallelism; ++s)
        for (int gc = 0; gc < g.vertices[v].gateChannels(); ++gc)
          if (!feeds.count({static_cast<int>(v), s, gc}))
            return fail("gate channel " + std::to_string(gc) + " of " + g.vertices[v].id + "[" + std::to_string(s) +
                        "] is fed by no channel");
    return g;
  } catch (const json::exception& e) {
    return fail(e.what());
  }
}

std::vector<std::vector<std::unique_ptr<Subtask>>> buildSubtasks(const JobPlan& plan, const ExecutionGraph& graph,
                                                                 int queueCapacity, const OperatorRegistry& registry,
                                                                 DeadLetterSink* deadLetters,
                                                                 const SubtaskWiring& wiring) {
  std::vector<std::vector<std::unique_ptr<Subtask>>> subtasks(graph.vertices.size());
  for (std::size_t v = 0; v < graph.vertices.size(); ++v) {
    const ExecutionVertex& vertex = graph.vertices[v];
    subtasks[v].resize(static_cast<std::size_t>(vertex.parallelism));
    for (int s = 0; s < vertex.parallelism; ++s) {
      if (!wiring.runsHere(static_cast<int>(v), s)) continue;
      std::unique_ptr<InputGate> gate;
      if (vertex.gateChannels() > 0) gate = std::make_unique<InputGate>(vertex.gateChannels(), queueCapacity);
      subtasks[v][static_cast<std::size_t>(s)] = std::make_unique<Subtask>(
          plan, vertex.nodes, s, std::move(gate), vertex.gatePorts, vertex.gateEdges, registry, deadLetters);
    }
  }
  auto at = [&](int v, int s) { return subtasks[static_cast<std::size_t>(v)][static_cast<std::size_t>(s)].get(); };
  // Channels come grouped by (edge, producer subtask), consumers in order: one EdgeWriter
  // per group whose producer runs here.
  const auto& channels = graph.channels;
  for (std::size_t i = 0; i < channels.size();) {
    std::size_t end = i;
    while (end < channels.size() && channels[end].edge == channels[i].edge &&
           channels[end].fromSubtask == channels[i].fromSubtask)
      ++end;
    const ExecutionChannel& first = channels[i];
    Subtask* producer = at(first.from, first.fromSubtask);
    std::vector<std::unique_ptr<ChannelWriter>> writers;
    for (std::size_t k = i; k < end; ++k) {
      Subtask* consumer = at(channels[k].to, channels[k].toSubtask);
      if (producer) writers.push_back(wiring.writer(channels[k], consumer));
      else if (consumer && wiring.remoteInput) wiring.remoteInput(channels[k], *consumer);
    }
    if (producer) {
      const PlanEdge& edge = plan.edges[static_cast<std::size_t>(first.edge)];
      producer->addOutput(edge.fromPort,
                          std::make_unique<EdgeWriter>(plan, first.edge, std::move(writers), producer->metrics()));
    }
    i = end;
  }
  return subtasks;
}

}  // namespace weir
