#pragma once
// ExecutionGraph: the physical layout of a job, worked out once from its JobPlan, and
// used unchanged by every deployment layer (the LocalExecutor in one process; the
// JobManager, which computes it and ships it with a deployment; the TaskManagers, which
// wire their part of it). It says:
//
//   - vertices: chains of plan nodes run by one subtask (Flink's operator chaining), each
//     named by its head node's id, with `parallelism` subtasks. A subtask is addressed by
//     (vertex id, subtask index), never by a chain's position, so a snapshot or a report
//     keeps its name whatever the chaining;
//   - the input gate of each vertex: one gate channel per incoming edge and producer
//     subtask (forward: one), in plan edge order, with the head's input port and the plan
//     edge of each gate channel;
//   - channels: every exchange between two subtasks of different vertices, numbered from 0
//     in plan edge order, then producer subtask, then consumer subtask. The number is the
//     channel's index in the attempt (with the job and attempt, its network key).
//
// Pure data and pure functions: no threads, no I/O.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/plan.h"

namespace weir {

class ChannelWriter;
class DeadLetterSink;
class OperatorRegistry;
class Subtask;

struct ExecutionVertex {
  std::string id;          // the head node's id
  std::vector<int> nodes;  // plan node indices, head to tail
  int parallelism = 1;
  std::vector<int> gatePorts;  // per gate channel: the head's input port
  std::vector<int> gateEdges;  // per gate channel: the plan edge it carries
  int gateChannels() const { return static_cast<int>(gatePorts.size()); }
};

struct ExecutionChannel {
  int index = 0;        // in this graph (and attempt): 0, 1, 2, ...
  int edge = 0;         // plan edge
  int from = 0;         // producer vertex
  int fromSubtask = 0;
  int to = 0;           // consumer vertex
  int toSubtask = 0;
  int gateChannel = 0;  // in the consumer subtask's gate
};

struct ExecutionGraph {
  std::vector<ExecutionVertex> vertices;  // in plan order of their heads
  std::vector<ExecutionChannel> channels;
  std::vector<int> vertexOfNode;          // plan node -> the vertex it runs in

  /// Works the layout out from a plan (deterministic: the same plan gives the same graph).
  static ExecutionGraph build(const JobPlan& plan);

  /// Slots a deployment needs with slot sharing (slot s holds subtask s of every vertex).
  int slotsNeeded() const;
  /// The vertex with this id, or -1.
  int vertexIndex(const std::string& id) const;
  /// "a -> b -> c": the vertex's nodes.
  std::string name(const JobPlan& plan, int vertex) const;

  nlohmann::json toJson() const;
  /// Reads toJson()'s form and checks it against the plan (every index in range, every
  /// gate channel of every consumer subtask fed by exactly one channel); nullopt and
  /// `error` set when it does not fit.
  static std::optional<ExecutionGraph> fromJson(const nlohmann::json& j, const JobPlan& plan, std::string& error);
};

/// Which of a graph's subtasks this process runs, and how one of their channels is written.
struct SubtaskWiring {
  /// Does this process run subtask `subtask` of vertex `vertex`?
  std::function<bool(int vertex, int subtask)> runsHere;
  /// The writer of `channel`, whose producer runs here. `consumer` is the consumer subtask
  /// when it runs here too (wire a LocalChannelWriter into its gate), else null (a network
  /// writer). Called in channel order.
  std::function<std::unique_ptr<ChannelWriter>(const ExecutionChannel& channel, Subtask* consumer)> writer;
  /// Called for each channel whose consumer runs here and whose producer does not (a
  /// network input into `consumer`'s gate), in channel order. May be empty when every
  /// subtask runs here.
  std::function<void(const ExecutionChannel& channel, Subtask& consumer)> remoteInput;
};

/// The subtasks of `graph` that run here, by vertex and subtask index (null where they run
/// elsewhere), with their gates (queueCapacity elements per gate channel) and their
/// outputs wired as `wiring` says. The one wiring of the LocalExecutor and the TaskManager.
std::vector<std::vector<std::unique_ptr<Subtask>>> buildSubtasks(const JobPlan& plan, const ExecutionGraph& graph,
                                                                 int queueCapacity, const OperatorRegistry& registry,
                                                                 DeadLetterSink* deadLetters,
                                                                 const SubtaskWiring& wiring);

}  // namespace weir
