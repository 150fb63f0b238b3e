#pragma once
// Operators: what a subtask runs, one instance per subtask.
//
// Lifecycle, in this order, all on the subtask's own thread:
//   constructed by the factory registered for its type (runtime/registry.h)
//   open(ctx)                       once, before any record; may open files
//   processBatch / processWatermark any number of times, interleaved as they arrive
//     (sources instead: emitNext, called repeatedly by the task loop)
//   onProcessingTime(now)           whenever the wall clock has reached
//                                   processingDeadline(), interleaved with the calls above
//                                   (never during one); see "Processing time" below
//   endInput(port)                  once per input port, when all its channels ended
//   finish(out)                     once, after every input ended (or a bounded source
//                                   returned EndOfInput): emit what is buffered
//   close()                         always, also after a failure; releases resources
//
// Threading: an operator instance is only ever called from its subtask's thread, so it
// needs no locking. Calls may block only where they wait on their own output (Output::collect
// blocks while the downstream queue is full: that is backpressure) or on a file.
//
// Errors (docs/architecture.md, "error policy"):
//   - a bad record is a value: report it with ctx.deadLetter(...), go on;
//   - a condition that must end the job (file missing, disk full, on_bad_record=fail):
//     throw JobError; the task catches it and fails the job naming the operator,
//     the subtask and the message;
//   - a broken invariant is a bug: assert.
//
// Processing time: the task loop asks every operator of its chain for processingDeadline()
// (ms since the epoch, runtime/watermarks.h wallClockMs; kNoDeadline = none) after each
// element it handled (a batch, an event, one emitNext) and while it waits for input (a
// wait never outlasts the earliest deadline), and calls onProcessingTime(now, out) on the
// subtask's thread once now >= the deadline. So processing-time timers (windows), the
// idleness check of sources and any periodic work run on the operator's own thread, with
// no locking, at most a few milliseconds late (a source that has nothing to read polls
// every millisecond; a busy subtask checks between elements).
//
// Keyed state and timers: a keyed operator (window, aggregate, join) gets its state
// backend from ctx.keyedState() (runtime/state/keyed_state.h): the key groups this
// subtask owns and the tables and timers scoped to them. The backend outlives the
// operator; a checkpoint snapshots it per key group.
//
// Ownership: batches are immutable and share their columns, so passing one on is cheap;
// an operator may keep a batch it was given.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/batch.h"
#include "core/stream_element.h"
#include "runtime/state/keyed_state.h"
#include "runtime/state/snapshot_io.h"

namespace weir {

/// A failure that ends the job. The message should name the place (file, line, offset).
class JobError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A malformed input record, kept rather than lost: written as one JSON line to the job's
/// dead-letter file and counted per operator.
struct DeadLetter {
  std::string file;          // input file (or source description)
  std::int64_t line = 0;     // 1-based line number, 0 if none
  std::int64_t offset = -1;  // byte offset of the record's start in `file`, -1 if none
  std::string reason;        // "field 'price': 'abc' is not an int64"
  std::string record;        // the raw text (truncated to a few KB)
};

/// Where an operator sends what it produces. Implemented by the runtime: either the next
/// operator of the chain (a direct call) or the partitioner that writes to channels.
class Output {
 public:
  virtual ~Output() = default;
  /// Sends a batch on output port `port` (index into OperatorContext::outputPorts). (Named
  /// as Flink's Collector; not `emit`, which is a macro wherever Qt is included.)
  /// May block while downstream queues are full (backpressure). Empty batches are ignored.
  virtual void collect(int port, RecordBatch batch) = 0;
  /// Sends a watermark downstream on every output port.
  virtual void emitWatermark(Watermark wm) = 0;
  /// Marks this subtask's output channels idle (they stop holding back downstream
  /// watermarks) or active again. Sources send it (runtime/watermarks.h); the task loop
  /// sends it for a subtask whose inputs are all idle. It goes to the chain's outgoing
  /// channels directly: chained operators have no use for it. Default: dropped.
  virtual void emitWatermarkStatus(WatermarkStatus) {}
};

/// Counters of one operator instance. The runtime updates records/bytes around the
/// operator's calls and ctx.deadLetter() counts dead letters; other threads (progress,
/// metrics) read them, hence relaxed atomics (one writer, so no contention).
struct OperatorCounters {
  std::atomic<std::int64_t> recordsIn{0};
  std::atomic<std::int64_t> recordsOut{0};
  std::atomic<std::int64_t> bytesIn{0};
  std::atomic<std::int64_t> bytesOut{0};
  std::atomic<std::int64_t> deadLetters{0};
  std::atomic<std::int64_t> lateRecords{0};  // event-time operators: records too late to use
  static void add(std::atomic<std::int64_t>& c, std::int64_t n) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
};

class DeadLetterSink;  // runtime/dead_letter.h

/// What an operator knows about where it runs. Owned by the task; outlives the operator.
struct OperatorContext {
  std::string nodeId;
  std::string type;
  int subtask = 0;                        // 0-based index of this parallel instance
  int parallelism = 1;
  nlohmann::json params;                  // normalized: defaults filled in by validation
  std::filesystem::path baseDir;          // the job file's folder; relative paths resolve here
  std::vector<SchemaPtr> inputSchemas;    // per input port, in catalog order
  std::vector<std::string> inputPorts;
  std::vector<SchemaPtr> outputSchemas;   // per output port, in catalog order
  std::vector<std::string> outputPorts;
  bool failOnBadRecord = false;           // job/operator "on_bad_record": "fail"
  bool batchMode = false;                 // job "mode": "batch"
  bool checkpointing = false;             // the job takes checkpoints: a sink stages its output
                                          // and publishes it when a checkpoint completes
  OperatorCounters* counters = nullptr;
  DeadLetterSink* deadLetters = nullptr;
  int maxParallelism = 128;               // the job's number of key groups
  KeyGroupRange keyGroups{0, 128};        // the key groups this subtask owns

  /// The keyed state backend of this operator instance, for keys of `keyTypes` (created on
  /// the first call, in open(); later calls return the same backend). It covers
  /// keyGroups and lives as long as the context (longer than the operator), so that a
  /// checkpoint can read it after the operator returned.
  KeyedStateBackend& keyedState(std::vector<Type> keyTypes);
  KeyedStateBackend* keyedStateIfAny() const { return keyedState_.get(); }

  /// Resolves a path from params against baseDir.
  std::filesystem::path resolve(const std::string& path) const;
  /// Reports a malformed record: counts it and writes it to the dead-letter file, or
  /// throws JobError when the job says on_bad_record = fail.
  void deadLetter(const DeadLetter& d) const;
  /// "node[subtask/parallelism]", for messages.
  std::string where() const;

 private:
  std::unique_ptr<KeyedStateBackend> keyedState_;
};

class Operator {
 public:
  Operator() = default;
  Operator(const Operator&) = delete;
  Operator& operator=(const Operator&) = delete;
  virtual ~Operator() = default;

  virtual void open(OperatorContext& ctx) { ctx_ = &ctx; }
  /// A batch arrived on input port `port`.
  virtual void processBatch(int port, const RecordBatch& batch, Output& out) = 0;
  /// The combined input watermark advanced (minimum over active input channels). The
  /// default passes it on.
  virtual void processWatermark(Watermark wm, Output& out) { out.emitWatermark(wm); }
  /// Every channel of input port `port` has ended.
  virtual void endInput(int /*port*/, Output& /*out*/) {}
  /// All input has ended: emit anything buffered.
  virtual void finish(Output& /*out*/) {}
  /// When onProcessingTime is next due, in ms since the epoch; kNoDeadline (INT64_MAX,
  /// the default) when never. Cheap: called after every element the subtask handles.
  virtual std::int64_t processingDeadline() const { return INT64_MAX; }
  /// The wall clock reached processingDeadline(): fire what is due.
  virtual void onProcessingTime(std::int64_t /*nowMs*/, Output& /*out*/) {}
  virtual void close() {}

  // ---- Checkpoints (docs/fault-tolerance.md). On the subtask's thread, between elements.
  //
  // A checkpoint's barrier cuts the stream: everything before it is in the snapshot,
  // nothing after it is. When it reaches this operator (all input channels aligned, or the
  // trigger of a source), the runtime calls snapshotState, then writes the keyed state
  // backend's key groups itself (timers included: they live in the backend), then sends
  // the barrier on. Restore happens after open() and before the first element: the runtime
  // fills the backend with the key groups this subtask owns now, then calls restoreState.

  /// Writes this instance's non-keyed state: a source's read position, a sink's staged
  /// files. Keep it short: processing waits for it. Default: none.
  virtual void snapshotState(std::int64_t /*checkpointId*/, ByteWriter& /*out*/) {}
  /// Restores from the operator states written by this node's subtasks in the snapshot
  /// restored from: states[i] is old subtask i's (empty when it wrote none). Called on every
  /// restore, also when states are all empty, after the keyed state is back (an operator
  /// may rebuild derived indexes here). When the parallelism changed, the operator decides
  /// what it takes (a source: the splits that now fall to ctx.subtask). Throw
  /// SnapshotError for state it cannot read.
  virtual void restoreState(const std::vector<std::string>& /*states*/) {}
  /// Checkpoint `checkpointId` completed: every subtask's state up to its barrier is
  /// durable. A two-phase-commit sink publishes what it staged up to that checkpoint.
  virtual void notifyCheckpointComplete(std::int64_t /*checkpointId*/) {}
  /// Checkpoint `checkpointId` was abandoned; what was staged for it stays staged and is
  /// published with the next one that completes.
  virtual void notifyCheckpointAborted(std::int64_t /*checkpointId*/) {}

 protected:
  OperatorContext* ctx_ = nullptr;
};

/// What one call of SourceOperator::emitNext achieved (named, not a bool).
enum class SourceStatus {
  MoreAvailable,     // emitted something, or will have more at once: call again
  NothingAvailable,  // nothing right now (unbounded source waiting, rate limit): the task
                     // waits a little, handling control events, then calls again
  EndOfInput,        // bounded input is exhausted: the task calls finish() and ends
};

/// A source: no inputs; the task loop pulls it with emitNext.
class SourceOperator : public Operator {
 public:
  /// Emits at most one batch (so the task can react to control events in between).
  virtual SourceStatus emitNext(Output& out) = 0;
  void processBatch(int, const RecordBatch&, Output&) final {}
};

/// A one-input, one-output operator that turns each batch into at most one batch
/// (filter, map, projections): implement transform().
class SimpleTransform : public Operator {
 public:
  void processBatch(int, const RecordBatch& batch, Output& out) final {
    RecordBatch result = transform(batch);
    if (!result.empty()) out.collect(0, std::move(result));
  }
  virtual RecordBatch transform(const RecordBatch& batch) = 0;
};

}  // namespace weir
