#pragma once
// Subtask: one parallel instance of a chain of operators, run on its own thread.
//
// A chain is a sequence of plan nodes joined by forward edges of equal parallelism where
// the upstream has one outgoing edge and the downstream one incoming edge (Flink's
// operator chaining): records pass between chained operators by a direct call, never
// through a queue. The chain's head reads from an InputGate (unless it is a source); the
// chain's tail writes to RecordWriters, one per outgoing plan edge.
//
// The deployment layer (LocalExecutor here; the TaskManager in the cluster issue) builds
// the gate and the writers and hands them over; a Subtask does not know whether its
// channels are in memory or on the network.
//
// Loop, on the subtask's thread:
//   open every operator (tail first, so a head's first emit finds its successors open)
//   source head: emitNext until EndOfInput;  other head: take elements from the gate:
//     batch      -> head.processBatch(port of that channel)
//     watermark  -> WatermarkValve (runtime/watermarks.h): per-channel watermark; when the
//                   minimum over active channels rises, head.processWatermark (in-band: it
//                   never overtakes earlier records)
//     status     -> idle channels stop holding the minimum back; when every open channel
//                   is idle the watermark moves to the largest any channel reached (as
//                   Flink's StatusWatermarkValve), and the subtask sends
//                   WatermarkStatus{idle} downstream itself ({active} when one wakes up)
//     barrier    -> BarrierAligner (runtime/barriers.h); see "Checkpoints" below
//     mail       -> between two elements, the mailbox's triggers, completions and aborts
//     end        -> the channel's watermark becomes +inf; endInput(port) when a port's
//                   channels have all ended; leave the loop when all have
//   after every element (and on a wait that timed out): processing time, see operator.h:
//     members whose processingDeadline() has passed get onProcessingTime; waiting for input
//     never outlasts the earliest deadline
//   finish: head.finish, then for each next member endInput(0) and finish, in order
//   writers send EndOfPartition on every channel; close every operator (also on failure)
//
// Time accounting (metrics, as Flink defines them): idle = waiting for input (or a source
// with nothing available); backpressured = blocked writing to a full downstream queue;
// busy = the rest.
//
// Edge accounting (metrics): per plan edge, a producing subtask counts the records and
// bytes it handed to that edge's channels (EdgeWriter; a broadcast record counts once per
// channel), a consuming subtask the records and bytes it took from that edge's gate
// channels. A chained edge (a direct call) counts the same batch on both sides. Summed
// over subtasks, sent == received once the job has ended. Counters are relaxed atomics
// written by the subtask's own thread only: no lock on the record path.
//
// Checkpoints (docs/fault-tolerance.md), when setCheckpointing() gave the subtask a
// responder: a source takes checkpoint n when its trigger arrives in the mailbox (between
// two emitNext calls): it snapshots every chain member, sends barrier n on its outputs and
// hands the snapshots to the uploader, which writes the files and acknowledges. A subtask
// with inputs does the same when BarrierAligner says barrier n is aligned. The snapshot is
// the synchronous part (on this thread, before any further element); writing is not.
// Completions and aborts arrive as mail and reach every member. A restore (restore source
// set) fills every member from the checkpoint after open(), before the first element.
// End of input: the subtask finishes its chain, sends EndOfData (not EndOfPartition), and
// waits, still answering barriers and triggers, until a checkpoint it took after finishing
// has completed: only then is its end durable (a sink has published its last output), and
// it sends EndOfPartition and leaves. A subtask restored as finished does not run again.
//
// Taps (runtime/tap.h): once attachTaps() has wired a subtask to the deployment's JobTaps,
// every batch it sends into a plan edge (through an EdgeWriter or a chained call) is
// offered to that edge's tap when the tap is enabled; a disabled tap costs one relaxed
// atomic load per batch.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/barriers.h"
#include "runtime/channel.h"
#include "runtime/checkpoint_storage.h"
#include "runtime/mailbox.h"
#include "runtime/operator.h"
#include "runtime/plan.h"
#include "runtime/tap.h"

namespace weir {

/// Times and watermarks of one subtask, written by its thread, read by others.
struct SubtaskMetrics {
  std::atomic<std::int64_t> startNs{0};     // steady clock at start, 0 before
  std::atomic<std::int64_t> endNs{0};       // steady clock at end, 0 while running
  std::atomic<std::int64_t> idleNs{0};
  std::atomic<std::int64_t> backpressuredNs{0};
  std::atomic<std::int64_t> inputWatermark{INT64_MIN};
  std::atomic<std::int64_t> outputWatermark{INT64_MIN};
  static void add(std::atomic<std::int64_t>& c, std::int64_t n) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
};

/// Records and bytes one subtask sent into, or took from, one plan edge. One writer
/// thread (the subtask's), any number of readers.
struct EdgeCounters {
  std::atomic<std::int64_t> records{0};
  std::atomic<std::int64_t> bytes{0};
  void add(const RecordBatch& batch, std::int64_t times = 1) {
    SubtaskMetrics::add(records, static_cast<std::int64_t>(batch.numRows()) * times);
    SubtaskMetrics::add(bytes, static_cast<std::int64_t>(batch.byteSize()) * times);
  }
};

/// A snapshot of one subtask's traffic on one plan edge (index into JobPlan::edges).
struct EdgeTraffic {
  int edge = 0;
  std::int64_t records = 0;
  std::int64_t bytes = 0;
};

/// Writes a chain tail's output for one plan edge to the channels of its consumers
/// (index = consumer subtask; a forward edge has exactly one).
class EdgeWriter {
 public:
  /// `edge` indexes plan.edges.
  EdgeWriter(const JobPlan& plan, int edge, std::vector<std::unique_ptr<ChannelWriter>> channels,
             SubtaskMetrics& metrics);
  void write(const RecordBatch& batch);
  /// Sends an event to every channel (watermarks, end of partition).
  void broadcastEvent(const StreamElement& event);
  double usage() const;
  int edge() const { return edge_; }
  /// Records and bytes handed to the channels so far.
  const EdgeCounters& sent() const { return sent_; }
  /// Offers every batch written from now on to `tap` (when enabled) as producer `subtask`.
  void setTap(EdgeTap* tap, int subtask) { tap_ = tap; tapSubtask_ = subtask; }

 private:
  void send(std::size_t channel, StreamElement element);

  int edge_;
  EdgeCounters sent_;
  Partition partition_;
  std::vector<int> keys_;
  int maxParallelism_;
  std::vector<std::unique_ptr<ChannelWriter>> channels_;
  SubtaskMetrics& metrics_;
  std::size_t nextChannel_ = 0;
  std::vector<std::vector<std::uint32_t>> rows_;
  EdgeTap* tap_ = nullptr;
  int tapSubtask_ = 0;
};

/// Why a subtask stopped early.
struct SubtaskFailure {
  std::string node;      // the operator that failed
  int subtask = 0;
  int parallelism = 1;
  std::string message;
  std::string toString() const;  // "node[2/4]: message"
};

class OperatorRegistry;

/// How a subtask takes part in checkpoints; the default (no responder) takes none.
struct SubtaskCheckpointing {
  bool exactlyOnce = true;                 // align barriers (else at_least_once)
  std::string job;                         // names for acknowledgements: the job, its attempt,
  int attempt = 0;                         //   and the subtask's execution vertex id
  std::string vertex;
  std::filesystem::path jobDir;            // the job's checkpoint directory (chk-N below it)
  CheckpointResponder* responder = nullptr;
  SnapshotUploader* uploader = nullptr;
  const RestoreSource* restore = nullptr;  // restore from this checkpoint first; outlives run()
};

class Subtask {
 public:
  using FailureHandler = std::function<void(const SubtaskFailure&)>;

  /// Subtask `index` of the chain `chain` (indices into plan.nodes, head to tail). `gate`
  /// is null for a source head; channelPorts[c] is the head's input port of gate channel
  /// c and channelEdges[c] the plan edge it belongs to (for edge metrics). Operators are
  /// created from `registry` when run() starts, on the subtask's thread. `plan`,
  /// `registry` and `deadLetters` must outlive the subtask.
  Subtask(const JobPlan& plan, std::vector<int> chain, int index, std::unique_ptr<InputGate> gate,
          std::vector<int> channelPorts, std::vector<int> channelEdges, const OperatorRegistry& registry,
          DeadLetterSink* deadLetters);
  ~Subtask();
  Subtask(const Subtask&) = delete;
  Subtask& operator=(const Subtask&) = delete;

  /// Adds a writer for one outgoing plan edge of the chain's tail, from its output `port`.
  void addOutput(int port, std::unique_ptr<EdgeWriter> writer);
  /// Wires every plan edge this subtask produces into (chained ones and those of its
  /// writers) to its tap in `taps`, which must outlive the subtask. Call after the last
  /// addOutput and before run().
  void attachTaps(JobTaps& taps);
  /// The gate (for wiring local writers before start); null for sources.
  InputGate* gate() { return gate_.get(); }
  const InputGate* gate() const { return gate_.get(); }

  /// Makes the subtask take part in checkpoints (before run()).
  void setCheckpointing(SubtaskCheckpointing cp);
  /// Any thread: asks the subtask to take checkpoint `id` (sources, and subtasks that
  /// have finished; others take it when the barriers arrive).
  void triggerCheckpoint(std::int64_t id, std::int64_t timestamp);
  /// Any thread: checkpoint `id` (and every earlier one) completed, or `id` was aborted.
  void notifyCheckpointComplete(std::int64_t id);
  void notifyCheckpointAborted(std::int64_t id);

  /// Runs the loop; returns when done, canceled or failed (calling onFailure first).
  void run(const std::atomic<bool>& canceled, const FailureHandler& onFailure);

  int index() const { return index_; }
  const std::string& name() const { return name_; }      // "a -> b -> c"
  SubtaskMetrics& metrics() { return metrics_; }
  const SubtaskMetrics& metrics() const { return metrics_; }
  /// Counters of chain member i (records in/out, dead letters).
  const OperatorCounters& counters(std::size_t member) const;
  std::size_t chainLength() const { return members_.size(); }
  const PlanNode& node(std::size_t member) const;
  /// Usage 0..1 of the fullest outgoing channel (network: the share of the credit in use).
  double outputUsage() const;
  /// Traffic per plan edge this subtask produces into (chained edges included), and per
  /// plan edge it consumes from, in plan edge order. Safe from any thread.
  std::vector<EdgeTraffic> edgesOut() const;
  std::vector<EdgeTraffic> edgesIn() const;

 private:
  class MemberOutput;
  struct MemberState;

  void createOperators();
  void runSource(const std::atomic<bool>& canceled);
  void runInputs(const std::atomic<bool>& canceled);
  void finishChain();
  void closeAll() noexcept;
  void runMail();
  bool restoreMembers();
  void performCheckpoint(const CheckpointBarrier& barrier, std::int64_t alignmentStartNs);
  void handleBarrier(int ch, const CheckpointBarrier& barrier);
  /// An acknowledgement (or a decline's identity) of checkpoint `checkpointId`: this
  /// subtask's job, attempt, vertex and index.
  SubtaskAck ackFor(std::int64_t checkpointId) const;
  void handleClosed(int ch);
  void waitForFinalCheckpoint(const std::atomic<bool>& canceled);
  void broadcastFromTail(const StreamElement& event);
  void deliverBatch(std::size_t member, int port, const RecordBatch& batch);
  void deliverWatermark(std::size_t member, Watermark wm);
  std::int64_t nextProcessingDeadline() const;
  void pollProcessingTime();

  const JobPlan& plan_;
  const OperatorRegistry& registry_;
  DeadLetterSink* deadLetters_;
  std::string name_;
  int index_;
  std::unique_ptr<InputGate> gate_;
  std::vector<int> channelPorts_;
  // Incoming edge counters: inEdges_[channelSlot_[c]] counts gate channel c's plan edge.
  std::vector<int> inEdgeIds_;
  std::unique_ptr<EdgeCounters[]> inEdges_;
  std::vector<std::size_t> channelSlot_;
  std::vector<std::unique_ptr<MemberState>> members_;
  SubtaskMetrics metrics_;
  std::size_t current_ = 0;  // the member being called (for failure messages)

  SubtaskCheckpointing cp_;
  Mailbox mailbox_;
  std::unique_ptr<BarrierAligner> aligner_;
  bool dataEnded_ = false;             // finish() ran: later snapshots are of a finished subtask
  std::int64_t lastSnapshot_ = -1;     // the newest checkpoint taken here
  std::int64_t finishedSnapshot_ = -1; // the first checkpoint taken after finishing
  std::int64_t completedUpTo_ = -1;    // the newest completion notified
};

}  // namespace weir
