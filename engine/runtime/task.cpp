#include "runtime/task.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "core/file_util.h"
#include "runtime/partition.h"
#include "runtime/registry.h"
#include "runtime/watermarks.h"

namespace weir {
namespace {

std::int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

// ---------------------------------------------------------------------------------------
// EdgeWriter

EdgeWriter::EdgeWriter(const JobPlan& plan, int edge, std::vector<std::unique_ptr<ChannelWriter>> channels,
                       SubtaskMetrics& metrics)
    : edge_(edge), partition_(plan.edges[static_cast<std::size_t>(edge)].partition),
      keys_(plan.edges[static_cast<std::size_t>(edge)].keyFields), maxParallelism_(plan.maxParallelism),
      channels_(std::move(channels)), metrics_(metrics), rows_(channels_.size()) {}

void EdgeWriter::send(std::size_t channel, StreamElement element) {
  const std::int64_t blocked = channels_[channel]->write(std::move(element));
  if (blocked > 0) SubtaskMetrics::add(metrics_.backpressuredNs, blocked);
}

void EdgeWriter::write(const RecordBatch& batch) {
  if (batch.empty()) return;
  if (tap_ && tap_->enabled()) tap_->offer(tapSubtask_, batch);
  const std::size_t n = channels_.size();
  switch (partition_) {
    case Partition::Forward:
    case Partition::Auto:
      send(0, batch);
      sent_.add(batch);
      break;
    case Partition::Rebalance:
      // Whole batches round robin: cheap, and batches are small enough to balance well.
      send(nextChannel_, batch);
      sent_.add(batch);
      nextChannel_ = (nextChannel_ + 1) % n;
      break;
    case Partition::Broadcast:
      for (std::size_t c = 0; c < n; ++c) send(c, batch);
      sent_.add(batch, static_cast<std::int64_t>(n));
      break;
    case Partition::Hash:
      if (n == 1) {
        send(0, batch);
        sent_.add(batch);
        break;
      }
      partitionByKey(batch, keys_, maxParallelism_, rows_);
      for (std::size_t c = 0; c < n; ++c) {
        if (rows_[c].empty()) continue;
        if (rows_[c].size() == batch.numRows()) {
          send(c, batch);
          sent_.add(batch);
        } else {
          RecordBatch part = batch.select(rows_[c]);
          sent_.add(part);
          send(c, std::move(part));
        }
      }
      break;
  }
}

void EdgeWriter::broadcastEvent(const StreamElement& event) {
  for (std::size_t c = 0; c < channels_.size(); ++c) send(c, event);
}

double EdgeWriter::usage() const {
  double u = 0;
  for (const auto& c : channels_) u = std::max(u, c->usage());
  return u;
}

std::string SubtaskFailure::toString() const {
  return node + "[" + std::to_string(subtask) + "/" + std::to_string(parallelism) + "]: " + message;
}

// ---------------------------------------------------------------------------------------
// Subtask

struct Subtask::MemberState {
  const PlanNode* node = nullptr;
  OperatorContext ctx;
  OperatorCounters counters;
  std::unique_ptr<MemberOutput> out;
  std::vector<std::vector<EdgeWriter*>> writersByPort;  // tail only
  std::vector<std::unique_ptr<EdgeWriter>> writers;     // tail only
  int chainedPort = 0;                                  // output port chained to the next
  int chainedEdge = -1;                                 // the plan edge of that direct call
  EdgeCounters chained;                                 // its traffic (sent == received)
  EdgeTap* chainedTap = nullptr;                        // that edge's tap (attachTaps)
  bool opened = false;
  // Declared last, so destroyed first: the operator may use its context until it dies.
  std::unique_ptr<Operator> op;
};

class Subtask::MemberOutput final : public Output {
 public:
  MemberOutput(Subtask& task, std::size_t member) : task_(task), member_(member) {}

  void collect(int port, RecordBatch batch) override {
    if (batch.empty()) return;
    auto& m = *task_.members_[member_];
    OperatorCounters::add(m.counters.recordsOut, static_cast<std::int64_t>(batch.numRows()));
    OperatorCounters::add(m.counters.bytesOut, static_cast<std::int64_t>(batch.byteSize()));
    if (member_ + 1 < task_.members_.size()) {
      // Only the port of the chained edge leads on; another port (a side output such as
      // a window's `late` left unconnected) has no consumer.
      if (port == m.chainedPort) {
        m.chained.add(batch);
        if (m.chainedTap && m.chainedTap->enabled()) m.chainedTap->offer(task_.index_, batch);
        task_.deliverBatch(member_ + 1, 0, batch);
      }
      return;
    }
    if (port < 0 || static_cast<std::size_t>(port) >= m.writersByPort.size()) return;
    for (EdgeWriter* w : m.writersByPort[static_cast<std::size_t>(port)]) w->write(batch);
  }

  void emitWatermark(Watermark wm) override {
    if (member_ + 1 < task_.members_.size()) {
      task_.deliverWatermark(member_ + 1, wm);
      return;
    }
    task_.metrics_.outputWatermark.store(wm.timestamp, std::memory_order_relaxed);
    for (auto& w : task_.members_[member_]->writers) w->broadcastEvent(wm);
  }

  void emitWatermarkStatus(WatermarkStatus status) override {
    // Straight to the chain's outgoing channels: operators do not handle idleness.
    for (auto& w : task_.members_.back()->writers) w->broadcastEvent(status);
  }

 private:
  Subtask& task_;
  std::size_t member_;
};

Subtask::Subtask(const JobPlan& plan, std::vector<int> chain, int index,
                 std::unique_ptr<InputGate> gate, std::vector<int> channelPorts, std::vector<int> channelEdges,
                 const OperatorRegistry& registry, DeadLetterSink* deadLetters)
    : plan_(plan), registry_(registry), deadLetters_(deadLetters), index_(index),
      gate_(std::move(gate)), channelPorts_(std::move(channelPorts)) {
  for (std::size_t i = 0; i < chain.size(); ++i) {
    auto m = std::make_unique<MemberState>();
    m->node = &plan.nodes[static_cast<std::size_t>(chain[i])];
    m->out = std::make_unique<MemberOutput>(*this, i);
    if (i > 0) name_ += " -> ";
    name_ += m->node->id;
    if (i + 1 < chain.size())
      for (std::size_t e = 0; e < plan.edges.size(); ++e)
        if (plan.edges[e].from == chain[i] && plan.edges[e].to == chain[i + 1]) {
          m->chainedPort = plan.edges[e].fromPort;
          m->chainedEdge = static_cast<int>(e);
        }
    members_.push_back(std::move(m));
  }
  members_.back()->writersByPort.resize(members_.back()->node->outputPorts.size());
  // One counter per distinct incoming edge, in plan edge order.
  channelSlot_.resize(channelPorts_.size(), 0);
  std::vector<int> ids = channelEdges;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  inEdgeIds_ = ids;
  inEdges_ = std::make_unique<EdgeCounters[]>(std::max<std::size_t>(1, ids.size()));
  for (std::size_t c = 0; c < channelEdges.size() && c < channelSlot_.size(); ++c)
    channelSlot_[c] = static_cast<std::size_t>(std::lower_bound(ids.begin(), ids.end(), channelEdges[c]) - ids.begin());
}

Subtask::~Subtask() = default;

void Subtask::addOutput(int port, std::unique_ptr<EdgeWriter> writer) {
  auto& tail = *members_.back();
  tail.writersByPort[static_cast<std::size_t>(port)].push_back(writer.get());
  tail.writers.push_back(std::move(writer));
}

void Subtask::attachTaps(JobTaps& taps) {
  for (auto& m : members_) {
    if (m->chainedEdge < 0) continue;
    m->chainedTap = taps.edge(m->chainedEdge);
    if (m->chainedTap) m->chainedTap->attachProducer();
  }
  for (auto& w : members_.back()->writers) {
    EdgeTap* tap = taps.edge(w->edge());
    if (!tap) continue;
    w->setTap(tap, index_);
    tap->attachProducer();
  }
}

const OperatorCounters& Subtask::counters(std::size_t member) const { return members_[member]->counters; }
const PlanNode& Subtask::node(std::size_t member) const { return *members_[member]->node; }

double Subtask::outputUsage() const {
  double u = 0;
  for (const auto& w : members_.back()->writers) u = std::max(u, w->usage());
  return u;
}

std::vector<EdgeTraffic> Subtask::edgesOut() const {
  std::vector<EdgeTraffic> out;
  for (const auto& m : members_)
    if (m->chainedEdge >= 0)
      out.push_back({m->chainedEdge, m->chained.records.load(std::memory_order_relaxed),
                     m->chained.bytes.load(std::memory_order_relaxed)});
  for (const auto& w : members_.back()->writers)
    out.push_back({w->edge(), w->sent().records.load(std::memory_order_relaxed),
                   w->sent().bytes.load(std::memory_order_relaxed)});
  std::sort(out.begin(), out.end(), [](const EdgeTraffic& a, const EdgeTraffic& b) { return a.edge < b.edge; });
  return out;
}

std::vector<EdgeTraffic> Subtask::edgesIn() const {
  std::vector<EdgeTraffic> in;
  for (std::size_t i = 0; i < inEdgeIds_.size(); ++i)
    in.push_back({inEdgeIds_[i], inEdges_[i].records.load(std::memory_order_relaxed),
                  inEdges_[i].bytes.load(std::memory_order_relaxed)});
  for (std::size_t i = 0; i + 1 < members_.size(); ++i) {
    const auto& m = *members_[i];
    if (m.chainedEdge >= 0)
      in.push_back({m.chainedEdge, m.chained.records.load(std::memory_order_relaxed),
                    m.chained.bytes.load(std::memory_order_relaxed)});
  }
  std::sort(in.begin(), in.end(), [](const EdgeTraffic& a, const EdgeTraffic& b) { return a.edge < b.edge; });
  return in;
}

void Subtask::createOperators() {
  for (std::size_t i = 0; i < members_.size(); ++i) {
    current_ = i;
    auto& m = *members_[i];
    const PlanNode& n = *m.node;
    m.ctx.nodeId = n.id;
    m.ctx.type = n.type;
    m.ctx.subtask = index_;
    m.ctx.parallelism = n.parallelism;
    m.ctx.params = n.params;
    m.ctx.baseDir = plan_.baseDir;
    m.ctx.inputSchemas = n.inputSchemas;
    m.ctx.inputPorts = n.inputPorts;
    m.ctx.outputSchemas = n.outputSchemas;
    m.ctx.outputPorts = n.outputPorts;
    m.ctx.failOnBadRecord = n.failOnBadRecord;
    m.ctx.batchMode = plan_.batchMode;
    m.ctx.checkpointing = plan_.checkpointing();
    m.ctx.counters = &m.counters;
    m.ctx.deadLetters = deadLetters_;
    m.ctx.maxParallelism = plan_.maxParallelism;
    m.ctx.keyGroups = keyGroupRangeForSubtask(plan_.maxParallelism, n.parallelism, index_);
    const OperatorFactory* factory = registry_.find(n.type);
    if (!factory) throw JobError("operator type '" + n.type + "' cannot run yet in this version");
    m.op = (*factory)(m.ctx);
  }
  if (!gate_ && !dynamic_cast<SourceOperator*>(members_.front()->op.get())) {
    current_ = 0;
    throw JobError("operator has no input");
  }
}

void Subtask::deliverBatch(std::size_t member, int port, const RecordBatch& batch) {
  auto& m = *members_[member];
  const std::size_t saved = current_;
  current_ = member;
  OperatorCounters::add(m.counters.recordsIn, static_cast<std::int64_t>(batch.numRows()));
  OperatorCounters::add(m.counters.bytesIn, static_cast<std::int64_t>(batch.byteSize()));
  m.op->processBatch(port, batch, *m.out);
  current_ = saved;
}

void Subtask::deliverWatermark(std::size_t member, Watermark wm) {
  auto& m = *members_[member];
  const std::size_t saved = current_;
  current_ = member;
  m.op->processWatermark(wm, *m.out);
  current_ = saved;
}

std::int64_t Subtask::nextProcessingDeadline() const {
  std::int64_t d = kNoDeadline;
  for (const auto& m : members_) d = std::min(d, m->op->processingDeadline());
  return d;
}

void Subtask::pollProcessingTime() {
  std::int64_t now = 0;
  for (std::size_t i = 0; i < members_.size(); ++i) {
    auto& m = *members_[i];
    if (m.op->processingDeadline() == kNoDeadline) continue;
    if (now == 0) now = wallClockMs();
    if (m.op->processingDeadline() > now) continue;
    const std::size_t saved = current_;
    current_ = i;
    m.op->onProcessingTime(now, *m.out);
    current_ = saved;
  }
}

void Subtask::run(const std::atomic<bool>& canceled, const FailureHandler& onFailure) {
  metrics_.startNs.store(nowNs());
  try {
    createOperators();
    // Open tail first: a head may emit from open() (rarely), and its successors must be ready.
    for (std::size_t i = members_.size(); i-- > 0;) {
      current_ = i;
      members_[i]->op->open(members_[i]->ctx);
      members_[i]->opened = true;
    }
    bool restoredFinished = false;
    if (cp_.responder) {
      if (gate_) aligner_ = std::make_unique<BarrierAligner>(*gate_, cp_.exactlyOnce);
      if (cp_.restore) restoredFinished = restoreMembers();
    }
    if (!restoredFinished) {
      if (gate_) runInputs(canceled);
      else runSource(canceled);
      if (!canceled.load()) finishChain();
    }
    if (!canceled.load()) {
      if (cp_.responder) {
        dataEnded_ = true;
        broadcastFromTail(EndOfData{});
        if (!restoredFinished) waitForFinalCheckpoint(canceled);
      }
      if (!canceled.load()) broadcastFromTail(EndOfPartition{});
    }
  } catch (const ChannelCanceled&) {
    // The job was canceled (or another subtask failed): stop quietly.
  } catch (const std::exception& e) {
    const PlanNode& n = *members_[std::min(current_, members_.size() - 1)]->node;
    onFailure(SubtaskFailure{n.id, index_, n.parallelism, e.what()});
  } catch (...) {
    // Plugins may throw anything; it still fails the job, never the process.
    const PlanNode& n = *members_[std::min(current_, members_.size() - 1)]->node;
    onFailure(SubtaskFailure{n.id, index_, n.parallelism, "unknown exception (not a std::exception)"});
  }
  closeAll();
  metrics_.endNs.store(nowNs());
}

void Subtask::runSource(const std::atomic<bool>& canceled) {
  auto& head = *members_.front();
  auto* source = static_cast<SourceOperator*>(head.op.get());
  while (!canceled.load(std::memory_order_relaxed)) {
    if (mailbox_.hasMail()) runMail();
    current_ = 0;
    const SourceStatus s = source->emitNext(*head.out);
    pollProcessingTime();
    if (s == SourceStatus::EndOfInput) break;
    if (s == SourceStatus::NothingAvailable) {
      const std::int64_t t0 = nowNs();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      SubtaskMetrics::add(metrics_.idleNs, nowNs() - t0);
    }
  }
  if (canceled.load()) return;
  // A bounded source that ended holds back no event time: as Flink, it emits the
  // maximum watermark before finishing, so downstream event-time work completes.
  metrics_.inputWatermark.store(kMaxWatermark, std::memory_order_relaxed);
  head.op->processWatermark(Watermark{kMaxWatermark}, *head.out);
}

void Subtask::runInputs(const std::atomic<bool>& canceled) {
  const int channels = gate_->numChannels();
  auto& head = *members_.front();
  const int ports = static_cast<int>(head.node->inputPorts.size());
  WatermarkValve valve(channels);
  std::vector<bool> ended(static_cast<std::size_t>(channels), false);
  std::vector<int> openPerPort(static_cast<std::size_t>(std::max(ports, 1)), 0);
  for (int c = 0; c < channels; ++c) ++openPerPort[static_cast<std::size_t>(channelPorts_[static_cast<std::size_t>(c)])];
  int open = channels;

  auto advance = [&](std::optional<std::int64_t> wm) {
    if (!wm) return;
    metrics_.inputWatermark.store(*wm, std::memory_order_relaxed);
    current_ = 0;
    head.op->processWatermark(Watermark{*wm}, *head.out);
  };

  // A port with no channels at all (e.g. an unconnected optional input) has ended.
  for (int p = 0; p < ports; ++p)
    if (openPerPort[static_cast<std::size_t>(p)] == 0) head.op->endInput(p, *head.out);

  // A subtask whose open input channels are all idle is idle itself: it tells its
  // consumers, so that it does not hold back their watermarks either (Flink does the same).
  bool outputIdle = false;
  auto updateIdleness = [&] {
    const bool nowIdle = valve.allIdle();
    if (nowIdle != outputIdle) {
      outputIdle = nowIdle;
      head.out->emitWatermarkStatus(WatermarkStatus{nowIdle});
    }
  };

  while (open > 0) {
    if (canceled.load(std::memory_order_relaxed)) return;
    // Wait for input, but not past the chain's next processing-time deadline.
    std::chrono::milliseconds wait(100);
    if (const std::int64_t deadline = nextProcessingDeadline(); deadline != kNoDeadline)
      wait = std::min(wait, std::chrono::milliseconds(std::max<std::int64_t>(0, deadline - wallClockMs())));
    const std::int64_t t0 = nowNs();
    auto next = gate_->next(wait);
    SubtaskMetrics::add(metrics_.idleNs, nowNs() - t0);
    if (!next) {
      if (mailbox_.hasMail()) runMail();
      pollProcessingTime();
      continue;
    }
    const auto ch = static_cast<std::size_t>(next->channel);
    const int port = channelPorts_[ch];
    auto endOfData = [&] {
      if (ended[ch]) return;
      ended[ch] = true;
      --open;
      if (--openPerPort[static_cast<std::size_t>(port)] == 0) {
        current_ = 0;
        head.op->endInput(port, *head.out);
      }
      advance(valve.onEnded(next->channel));
      updateIdleness();
    };
    if (auto* batch = std::get_if<RecordBatch>(&next->element)) {
      if (!inEdgeIds_.empty()) inEdges_[channelSlot_[ch]].add(*batch);
      deliverBatch(0, port, *batch);
    } else if (auto* wm = std::get_if<Watermark>(&next->element)) {
      advance(valve.onWatermark(next->channel, wm->timestamp));
    } else if (auto* st = std::get_if<WatermarkStatus>(&next->element)) {
      if (!st->idle) {
        // Active before any watermark it causes.
        auto rose = valve.onStatus(next->channel, false);
        updateIdleness();
        advance(rose);
      } else {
        advance(valve.onStatus(next->channel, true));
        updateIdleness();
      }
    } else if (std::holds_alternative<EndOfData>(next->element)) {
      endOfData();
    } else if (std::holds_alternative<EndOfPartition>(next->element)) {
      endOfData();
      handleClosed(next->channel);
    } else if (auto* barrier = std::get_if<CheckpointBarrier>(&next->element)) {
      handleBarrier(next->channel, *barrier);
    }
    if (mailbox_.hasMail()) runMail();
    pollProcessingTime();
  }
}

void Subtask::broadcastFromTail(const StreamElement& event) {
  for (auto& w : members_.back()->writers) w->broadcastEvent(event);
}

void Subtask::setCheckpointing(SubtaskCheckpointing cp) {
  cp_ = std::move(cp);
  if (gate_) mailbox_.setWakeup([g = gate_.get()] { g->interrupt(); });
}

void Subtask::triggerCheckpoint(std::int64_t id, std::int64_t timestamp) {
  mailbox_.post([this, id, timestamp] {
    // A subtask with inputs that still runs takes checkpoints from its barriers only.
    if (gate_ && !dataEnded_) return;
    performCheckpoint(CheckpointBarrier{id, timestamp}, 0);
  });
}

void Subtask::notifyCheckpointComplete(std::int64_t id) {
  mailbox_.post([this, id] {
    if (id <= completedUpTo_) return;
    completedUpTo_ = id;
    for (std::size_t i = 0; i < members_.size(); ++i) {
      current_ = i;
      members_[i]->op->notifyCheckpointComplete(id);
    }
  });
}

void Subtask::notifyCheckpointAborted(std::int64_t id) {
  mailbox_.post([this, id] {
    if (aligner_) aligner_->abort(id);
    for (std::size_t i = 0; i < members_.size(); ++i) {
      current_ = i;
      members_[i]->op->notifyCheckpointAborted(id);
    }
  });
}

void Subtask::runMail() {
  const std::size_t saved = current_;
  mailbox_.drain();
  current_ = saved;
}

SubtaskAck Subtask::ackFor(std::int64_t checkpointId) const {
  SubtaskAck ack;
  ack.checkpointId = checkpointId;
  ack.job = cp_.job;
  ack.attempt = cp_.attempt;
  ack.vertex = cp_.vertex;
  ack.subtask = index_;
  return ack;
}

void Subtask::handleBarrier(int ch, const CheckpointBarrier& barrier) {
  if (!aligner_) return;  // the job takes no checkpoints: nothing sends barriers
  const std::int64_t start = aligner_->aligning() >= 0 ? aligner_->alignmentStartNs() : nowNs();
  auto done = aligner_->onBarrier(ch, barrier);
  if (auto abandoned = aligner_->takeAbandoned())
    cp_.responder->decline(ackFor(*abandoned), "the barrier of checkpoint " + std::to_string(barrier.id) +
                                                   " arrived before this one's was aligned on every input");
  if (done) performCheckpoint(*done, start);
}

void Subtask::handleClosed(int ch) {
  if (!aligner_) return;
  const std::int64_t start = aligner_->alignmentStartNs();
  if (auto done = aligner_->onClosed(ch)) performCheckpoint(*done, start);
}

void Subtask::performCheckpoint(const CheckpointBarrier& barrier, std::int64_t alignmentStartNs) {
  if (!cp_.responder || barrier.id <= lastSnapshot_) return;
  lastSnapshot_ = barrier.id;
  const std::int64_t t0 = nowNs();
  std::vector<OperatorSnapshot> snapshots;
  std::string failure;
  try {
    for (std::size_t i = 0; i < members_.size(); ++i) {
      current_ = i;
      snapshots.push_back(snapshotOperator(*members_[i]->op, members_[i]->ctx, barrier.id));
    }
  } catch (const std::exception& e) {
    const PlanNode& n = *members_[current_]->node;
    failure = n.id + "[" + std::to_string(index_) + "/" + std::to_string(n.parallelism) + "]: " + e.what();
  }
  const std::int64_t syncNs = nowNs() - t0;
  // The barrier goes on at once, also when this subtask declines: downstream must not
  // wait for it.
  broadcastFromTail(barrier);
  if (dataEnded_ && finishedSnapshot_ < 0) finishedSnapshot_ = barrier.id;
  SubtaskAck ack = ackFor(barrier.id);
  if (!failure.empty()) {
    cp_.responder->decline(ack, failure);
    return;
  }
  ack.finished = dataEnded_;
  ack.syncMs = syncNs / 1000000;
  ack.alignmentMs = alignmentStartNs > 0 ? (t0 - alignmentStartNs) / 1000000 : 0;
  const std::filesystem::path dir = checkpointDir(cp_.jobDir, barrier.id);
  auto write = [dir, ack = std::move(ack), snapshots = std::move(snapshots), responder = cp_.responder]() mutable {
    const std::int64_t start = nowNs();
    try {
      std::filesystem::create_directories(dir);
      for (const OperatorSnapshot& snap : snapshots) {
        const std::string name = snapshotFileName(snap.nodeId, snap.subtask);
        const std::string bytes = snap.encode();
        writeFileAtomically(dir / name, bytes);
        ack.files.push_back({snap.nodeId, name, static_cast<std::int64_t>(bytes.size()), snap.stateBytes()});
        ack.stateBytes += static_cast<std::int64_t>(bytes.size());
      }
    } catch (const std::exception& e) {
      responder->decline(ack, std::string("writing its snapshot: ") + e.what());
      return;
    }
    ack.asyncMs = (nowNs() - start) / 1000000;
    responder->acknowledge(ack);
  };
  if (cp_.uploader) cp_.uploader->post(std::move(write));
  else write();
}

bool Subtask::restoreMembers() {
  const RestoreSource& from = *cp_.restore;
  for (std::size_t i = 0; i < members_.size(); ++i) {
    current_ = i;
    auto& m = *members_[i];
    std::vector<OperatorSnapshot> old = readNodeSnapshots(from.dir, from.metadata, m.node->id);
    if (old.empty()) continue;  // a node the checkpoint does not know starts empty
    restoreOperator(*m.op, m.ctx, old);
  }
  auto it = from.metadata.nodes.find(members_.front()->node->id);
  const bool sameShape = it != from.metadata.nodes.end() && it->second.parallelism == members_.front()->node->parallelism;
  if (sameShape && from.metadata.isFinished(cp_.vertex, index_)) {
    dataEnded_ = true;
    return true;
  }
  return false;
}

void Subtask::waitForFinalCheckpoint(const std::atomic<bool>& canceled) {
  while (!canceled.load(std::memory_order_relaxed)) {
    if (mailbox_.hasMail()) runMail();
    if (finishedSnapshot_ >= 0 && completedUpTo_ >= finishedSnapshot_) return;
    if (!gate_) {
      mailbox_.wait(std::chrono::milliseconds(50));
      continue;
    }
    auto next = gate_->next(std::chrono::milliseconds(50));
    if (!next) continue;
    if (auto* barrier = std::get_if<CheckpointBarrier>(&next->element)) handleBarrier(next->channel, *barrier);
    else if (std::holds_alternative<EndOfPartition>(next->element)) handleClosed(next->channel);
  }
}

void Subtask::finishChain() {
  for (std::size_t i = 0; i < members_.size(); ++i) {
    current_ = i;
    auto& m = *members_[i];
    if (i > 0) m.op->endInput(0, *m.out);
    m.op->finish(*m.out);
  }
}

void Subtask::closeAll() noexcept {
  for (auto& m : members_) {
    if (!m->opened) continue;
    try {
      m->op->close();
    } catch (...) {
      // close() must not throw; a failure to release is not worth a second error.
    }
    m->opened = false;
  }
}

}  // namespace weir
